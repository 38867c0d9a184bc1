"""No crash on bad input: every public call succeeds or raises a MemlaneError, and a call that
raises leaves the store exactly as it was.

Property-based over ``add``, ``search``, ``get_all``, ``update``, ``delete`` / ``get`` /
``history`` and ``delete_all`` with arbitrary arguments (any type, unicode with emoji, RTL
marks, NUL and lone surrogates, ~200 kB strings, metadata nested 3,000 deep, random filter
trees); then explicit SQL-injection attempts; then the minimal cases of every bug found here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from memlane import MemlaneError, Memory
from memlane.store.sqlite import SQLiteStore
from tests.stress import _strategies as s
from tests.stress._figures import record
from tests.stress._support import fingerprint, open_memory, sqlite_store, table_counts

EXAMPLES = 150
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the minimal cases are the KNOWN_BAD tests
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _state(store: SQLiteStore) -> tuple[dict[str, int], str]:
    """Row counts of every table and a digest of every memory row (text by its hash)."""
    rows = store.execute(
        "SELECT id, hash, length(metadata), deleted_at, updated_at, version, user_id, agent_id, run_id, "
        "actor_id, role, expiration_date FROM memories ORDER BY seq"
    )
    return table_counts(store), fingerprint(rows)


@dataclass
class Harness:
    """Runs calls, checks the property, and counts what happened."""

    memory: Memory
    calls: int = 0
    succeeded: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    escaped: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    partial_writes: int = 0

    def call(self, fn: Callable[[], object]) -> bool:
        """True if ``fn()`` returned; False if it raised a MemlaneError and changed nothing."""
        store = sqlite_store(self.memory)
        before = _state(store)
        self.calls += 1
        try:
            fn()
        except MemlaneError as exc:
            self.rejected[type(exc).__name__] += 1
            self.reasons[re.sub(r"\d+|['\"(:].*", "", str(exc))[:60].strip()] += 1
            after = _state(store)
            if after != before:
                self.partial_writes += 1
                raise AssertionError(
                    f"{type(exc).__name__} ({exc}) left the store changed: {before[0]} -> {after[0]}"
                ) from exc
            return False
        except Exception as exc:
            self.escaped[type(exc).__name__] += 1
            raise AssertionError(
                f"{type(exc).__name__} escaped instead of a MemlaneError: {exc!s:.300}"
            ) from exc
        self.succeeded += 1
        return True

    def report(self, api: str) -> None:
        rejected = sum(self.rejected.values())
        kinds = ", ".join(f"{n} {k}" for k, n in self.rejected.most_common(3))
        escaped = sum(self.escaped.values())
        ok = not escaped and not self.partial_writes
        record(
            f"bad_input_{api}",
            f"{self.calls} {api} calls: {self.succeeded} succeeded, {rejected} rejected with MemlaneError"
            f"{f' ({kinds})' if kinds else ''}, {escaped} other exceptions"
            f"{f' ({dict(self.escaped)})' if escaped else ''}, {self.partial_writes} partial writes",
            {
                "calls": self.calls,
                "succeeded": self.succeeded,
                "rejected": dict(self.rejected),
                "escaped": dict(self.escaped),
                "partial_writes": self.partial_writes,
                "top_rejections": dict(self.reasons.most_common(8)),
                "max_examples": EXAMPLES,
            },
            ok=ok,
        )


def _msgs(*texts: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": t} for t in texts]


def _seeded(path: Path) -> Memory:
    memory = open_memory(path)
    memory.add(_msgs("alice likes tea", "alice lives in Pune"), user_id="alice", infer=False)
    memory.add("bob likes jazz", user_id="bob", agent_id="agent-1", metadata={"category": "a"}, infer=False)
    memory.add("run note", run_id="run-1", metadata={"category": "b", "n": 3}, infer=False)
    return memory


def _live_ids(memory: Memory) -> list[str]:
    return [r[0] for r in sqlite_store(memory).execute("SELECT id FROM memories WHERE deleted_at IS NULL")]


def _pick(memory: Memory, existing: int | None, other_id: Any) -> Any:
    """A live memory id (chosen by ``existing``, so draws never depend on the store), or ``other_id``."""
    ids = _live_ids(memory)
    return ids[existing % len(ids)] if existing is not None and ids else other_id


@pytest.fixture
def harness(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Harness]:
    memory = _seeded(tmp_path / "bad.db")
    h = Harness(memory)
    try:
        yield h
    finally:
        h.report(request.node.name.removeprefix("test_").removesuffix("_bad_input"))
        memory.close()


# -- property-based, one public call each ------------------------------------------------------


@pytest.mark.stress
def test_add_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        messages=s.messages,
        user_id=s.any_id,
        agent_id=s.any_id,
        run_id=s.any_id,
        metadata=s.metadata,
        infer=s.mostly(st.sampled_from([None, False, 0]), st.sampled_from([True, "yes"]), weight=9),
        memory_type=s.mostly(st.none(), st.one_of(st.just("procedural_memory"), s.texts), weight=9),
        timestamp=s.timestamps,
        expiration_date=s.expirations,
        filters=s.mostly(st.none(), s.filters, weight=9),
    )
    def run(**kwargs: Any) -> None:
        harness.call(lambda: harness.memory.add(**kwargs))

    run()


@pytest.mark.stress
def test_search_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        query=s.mostly(
            s.nonblank_text, st.one_of(st.integers(), st.none(), st.lists(s.texts, max_size=2)), weight=6
        ),
        user_id=s.any_id,
        agent_id=s.optional_id,
        run_id=s.optional_id,
        filters=s.filters,
        top_k=s.top_ks,
        limit=s.mostly(st.none(), s.top_ks),
        threshold=s.thresholds,
        explain=st.booleans(),
        show_expired=st.booleans(),
    )
    def run(**kwargs: Any) -> None:
        harness.call(lambda: harness.memory.search(**kwargs))

    run()


@pytest.mark.stress
def test_get_all_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        user_id=s.any_id,
        agent_id=s.optional_id,
        run_id=s.optional_id,
        filters=s.filters,
        top_k=s.top_ks,
        limit=s.mostly(st.none(), s.top_ks),
        show_expired=st.booleans(),
    )
    def run(**kwargs: Any) -> None:
        harness.call(lambda: harness.memory.get_all(**kwargs))

    run()


@pytest.mark.stress
def test_update_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        existing=s.mostly(st.integers(0, 10**6), st.none()),
        other_id=s.any_id,
        text=s.mostly(s.nonblank_text, st.one_of(st.none(), st.integers())),
        use_data=st.booleans(),
        metadata=st.one_of(st.none(), s.metadata),
        expiration_date=s.mostly(st.just("unset"), s.expirations),
    )
    def run(
        existing: int | None, other_id: Any, text: Any, use_data: bool, metadata: Any, expiration_date: Any
    ) -> None:
        memory_id = _pick(harness.memory, existing, other_id)
        kwargs: dict[str, Any] = {"data" if use_data else "text": text, "metadata": metadata}
        if expiration_date != "unset":
            kwargs["expiration_date"] = expiration_date
        harness.call(lambda: harness.memory.update(memory_id, **kwargs))

    run()


@pytest.mark.stress
def test_delete_get_history_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        existing=st.one_of(st.none(), st.integers(0, 10**6)),
        other_id=s.any_id,
        which=st.sampled_from(["delete", "get", "history", "history", "get"]),
    )
    def run(existing: int | None, other_id: Any, which: str) -> None:
        if which == "delete" and len(_live_ids(harness.memory)) < 5:
            harness.memory.add(_msgs("refill one", "refill two"), user_id="refill", infer=False)
        memory_id = _pick(harness.memory, existing, other_id)
        method: Callable[[Any], object] = getattr(harness.memory, which)
        harness.call(lambda: method(memory_id))

    run()


@pytest.mark.stress
def test_delete_all_bad_input(harness: Harness) -> None:
    @SETTINGS
    @given(
        user_id=st.one_of(s.any_id, st.sampled_from(["victim-a", "victim-b"])),
        agent_id=s.optional_id,
        run_id=s.optional_id,
        filters=st.one_of(st.none(), s.filters),
    )
    def run(**kwargs: Any) -> None:
        if harness.memory.get_all(user_id="victim-a", top_k=1)["results"] == []:
            harness.memory.add(_msgs("victim one", "victim two"), user_id="victim-a", infer=False)
        harness.call(lambda: harness.memory.delete_all(**kwargs))

    run()


# -- SQL injection ---------------------------------------------------------------------------


def _schema(store: SQLiteStore) -> list[tuple[Any, ...]]:
    return store.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")


def _scope_rows(store: SQLiteStore, user_id: str) -> str:
    memories = store.execute("SELECT * FROM memories WHERE user_id = ? ORDER BY seq", (user_id,))
    ids = [r[1] for r in memories]
    marks = ", ".join("?" for _ in ids)
    history = store.execute(f"SELECT * FROM history WHERE memory_id IN ({marks}) ORDER BY seq", ids)
    messages = store.execute("SELECT * FROM messages WHERE user_id = ? ORDER BY seq", (user_id,))
    return fingerprint([*memories, *history, *messages])


def _injection_problems(path: Path, payload: str) -> tuple[int, list[str]]:
    """Try ``payload`` through 17 entry points; (attempts, problems found)."""
    problems: list[str] = []
    memory = open_memory(path)
    try:
        store = sqlite_store(memory)
        memory.add(
            _msgs("victim secret one", "victim secret two"), user_id="victim", metadata={"category": "a"}
        )
        mine = memory.add("attacker note", user_id="attacker", metadata={"category": "a"})["results"][0]["id"]
        schema, victim = _schema(store), _scope_rows(store, "victim")
        attempts = 0

        def attempt(what: str, fn: Callable[[], Mapping[str, Any]]) -> None:
            nonlocal attempts
            attempts += 1
            try:
                results = fn().get("results", [])
            except MemlaneError:
                return
            except Exception as exc:  # noqa: BLE001 - reported as a problem
                problems.append(f"{what}: {type(exc).__name__}: {exc}")
                return
            if any(r.get("user_id") == "victim" for r in results):
                problems.append(f"{what}: read the victim's memories")

        attempt("filter key", lambda: memory.get_all(user_id="attacker", filters={payload: 1}))
        attempt("filter value", lambda: memory.get_all(user_id="attacker", filters={"category": payload}))
        attempt(
            "in value",
            lambda: memory.get_all(user_id="attacker", filters={"category": {"in": [payload, "a"]}}),
        )
        attempt(
            "icontains",
            lambda: memory.get_all(user_id="attacker", filters={"category": {"icontains": payload}}),
        )
        attempt("operator", lambda: memory.get_all(user_id="attacker", filters={"category": {payload: "a"}}))
        attempt(
            "OR",
            lambda: memory.get_all(
                user_id="attacker", filters={"OR": [{payload: "a"}, {"user_id": payload}]}
            ),
        )
        attempt("search key", lambda: memory.search(payload, user_id="attacker", filters={payload: payload}))
        attempt(
            "search value", lambda: memory.search(payload, user_id="attacker", filters={"category": payload})
        )
        attempt(
            "metadata key", lambda: memory.add("attacker", user_id="attacker", metadata={payload: payload})
        )
        attempt("text", lambda: memory.add(payload, user_id="attacker", metadata={"category": payload}))
        attempt("user_id add", lambda: memory.add("attacker", user_id=payload))
        attempt("user_id read", lambda: memory.get_all(user_id=payload))
        attempt("profile scope", lambda: memory.get_profile(user_id=payload))
        attempt("profile key", lambda: {"results": memory.profile_history(payload, user_id="attacker")})
        attempts += 1
        try:
            memory.update(mine, text=payload, metadata={payload: [payload]})
        except MemlaneError:
            pass  # refusing a text or key is fine; storing it wrongly is not
        else:
            stored = memory.get(mine)
            # (update merges metadata, as mem0 does: earlier payloads' keys stay beside this one)
            if (
                stored is None
                or stored["memory"] != payload
                or (stored["metadata"] or {}).get(payload) != [payload]
            ):
                problems.append(f"update: text or metadata key did not round-trip: {stored}")
        try:
            found = [
                r["memory"]
                for r in memory.get_all(user_id="attacker", filters={"category": payload})["results"]
            ]
        except MemlaneError:
            found = [payload]  # refusing the value is fine; silently matching nothing is not
        if found != [payload]:
            problems.append(f"a filter on the stored value {payload!r} found {found}")
        attempt(
            "delete_all value", lambda: memory.delete_all(user_id="attacker", filters={"category": payload})
        )
        attempt("delete_all key", lambda: memory.delete_all(user_id="attacker", filters={payload: "x"}))
        if _schema(store) != schema:
            problems.append("the schema changed")
        if _scope_rows(store, "victim") != victim or len(memory.get_all(user_id="victim")["results"]) != 2:
            problems.append("the victim's rows changed")
    finally:
        memory.close()
    return attempts, problems


@pytest.mark.stress
def test_sql_injection_is_inert(tmp_path: Path) -> None:
    """Each payload through filter keys, values and operators, metadata keys, texts and ids: the
    schema and the victim's rows stay as they were, and stored values round-trip exactly."""
    attempts = 0
    problems: dict[str, list[str]] = {}
    for index, payload in enumerate(s.INJECTIONS):
        tried, found = _injection_problems(tmp_path / f"inject-{index}.db", payload)
        attempts += tried
        if found:
            problems[payload] = found
    record(
        "sql_injection",
        f"{len(s.INJECTIONS)} payloads x {attempts // len(s.INJECTIONS)} entry points ({attempts} calls): "
        f"schema unchanged, other scope untouched, {sum(map(len, problems.values()))} problems",
        {"payloads": list(s.INJECTIONS), "calls": attempts, "problems": problems},
        ok=not problems,
    )
    assert not problems, problems


# -- minimal cases of the bugs found by the properties above ------------------------------------------

_DEEP: dict[str, Any] = {}
_node = _DEEP
for _ in range(3_000):
    _node["k"] = {}
    _node = _node["k"]


def _deep_filter(logical: str, depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"category": "a"}
    for _ in range(depth):
        node = {logical: [node, {"category": "b"}] if logical == "OR" else [node]}
    return node


KNOWN_BAD: dict[str, Callable[[Memory, str], object]] = {
    "add-metadata-nested-3000-deep": lambda m, i: m.add("x", user_id="u", metadata={"deep": _DEEP}),
    "update-metadata-nested-3000-deep": lambda m, i: m.update(i, metadata={"deep": _DEEP}),
    "add-metadata-mixed-int-str-keys": lambda m, i: m.add(
        "x", user_id="u", metadata={"a": {1: "x", "b": "y"}}
    ),
    "update-metadata-mixed-int-str-keys": lambda m, i: m.update(i, metadata={"a": {1: "x", "b": "y"}}),
    "add-text-lone-surrogate": lambda m, i: m.add("bad \ud800 text", user_id="u"),
    "add-user-id-lone-surrogate": lambda m, i: m.add("x", user_id="u\ud800"),
    "add-metadata-lone-surrogate": lambda m, i: m.add("x", user_id="u", metadata={"k": "\udc80"}),
    "add-role-lone-surrogate": lambda m, i: m.add({"role": "\ud800", "content": "x"}, user_id="u"),
    "add-name-lone-surrogate": lambda m, i: m.add(
        {"role": "user", "name": "\ud800", "content": "x"}, user_id="u"
    ),
    "update-text-lone-surrogate": lambda m, i: m.update(i, text="\ud800"),
    "search-filter-value-lone-surrogate": lambda m, i: m.search("x", user_id="u", filters={"k": "\ud800"}),
    "get_all-filter-int-over-64-bits": lambda m, i: m.get_all(user_id="u", filters={"k": 2**63}),
    "search-filter-in-int-over-64-bits": lambda m, i: m.search(
        "x", user_id="u", filters={"k": {"in": [10**20]}}
    ),
    "get_all-filter-AND-1500-deep": lambda m, i: m.get_all(user_id="u", filters=_deep_filter("AND", 1_500)),
    "get_all-filter-NOT-1500-deep": lambda m, i: m.get_all(user_id="u", filters=_deep_filter("NOT", 1_500)),
    "get_all-filter-NOT-50-deep": lambda m, i: m.get_all(user_id="u", filters=_deep_filter("NOT", 50)),
    "search-filter-OR-100-deep": lambda m, i: m.search("x", user_id="u", filters=_deep_filter("OR", 100)),
    "add-timestamp-year-9999-minus-offset": lambda m, i: m.add(
        "x", user_id="u", timestamp="9999-12-31T23:59:59-23:59"
    ),
    "add-timestamp-datetime-max-with-offset": lambda m, i: m.add(
        "x", user_id="u", timestamp=datetime.fromisoformat("9999-12-31T23:00:00-05:00")
    ),
}


KNOWN_OUTCOMES: dict[str, str] = {}


@pytest.mark.stress
@pytest.mark.parametrize("case", sorted(KNOWN_BAD))
def test_known_bad_input_raises_memlane_error(tmp_path: Path, case: str) -> None:
    """Each input that once escaped as another exception type: a MemlaneError, store unchanged."""
    memory = _seeded(tmp_path / "known.db")
    harness = Harness(memory)
    KNOWN_OUTCOMES[case] = "running"
    try:
        memory_id = _live_ids(memory)[0]
        harness.call(lambda: KNOWN_BAD[case](memory, memory_id))
        KNOWN_OUTCOMES[case] = "ok"
    finally:
        if KNOWN_OUTCOMES[case] != "ok":
            KNOWN_OUTCOMES[case] = next(iter(harness.escaped), "partial write")
        memory.close()
        failing = {k: v for k, v in KNOWN_OUTCOMES.items() if v != "ok"}
        kinds = Counter(failing.values())
        record(
            "bad_input_known_cases",
            f"{len(KNOWN_OUTCOMES) - len(failing)} of {len(KNOWN_OUTCOMES)} known hostile inputs raise a "
            "MemlaneError and write nothing"
            + (
                f"; {len(failing)} escape as {', '.join(f'{k} x{n}' for k, n in kinds.items())}"
                if failing
                else ""
            ),
            {"cases": dict(KNOWN_OUTCOMES)},
            ok=not failing,
        )
