"""No leaks across tenants: whatever scope A does, it never reads, changes or deletes scope B.

A Hypothesis state machine runs random sequences of add / update / delete / delete_all /
search / get_all in tenant A (any combination of A's user, agent and run ids, given as
arguments or inside ``filters``; extra filters that name B's ids; metadata that tries to set
``user_id`` / ``agent_id`` / ``run_id`` / ``actor_id`` to B's). After every step:

- every memory a read returned carries the A ids it was asked for, and no B id; a profile read
  returns none of B's profile values;
- B's memories, versions, history, sources, messages and profile slots are byte-for-byte what
  they were;
- every stored memory of A has exactly the identity its arguments gave (metadata never wins),
  and the set of A's live memories is exactly what the model expects.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from memlane import MemlaneError
from memlane.models import IDENTITY_KEYS, Scope, now_iso
from tests.stress import _strategies as s
from tests.stress._figures import record
from tests.stress._support import fingerprint, open_memory, sqlite_store

EXAMPLES = 50
STEPS = 40
A = {"user_id": "alice", "agent_id": "agent-a", "run_id": "run-a"}
B = {"user_id": "bob", "agent_id": "agent-b", "run_id": "run-b"}
KEYS = ("user_id", "agent_id", "run_id")
B_PROFILE = {"home_city": "bob town", "employer": "bob corp", "diet": "bob diet"}
A_PROFILE = {"home_city": "alice town", "diet": "alice diet"}
COMBOS = [c for n in (1, 2, 3) for c in itertools.combinations(KEYS, n)]
"""Every non-empty combination of scope keys: a user, an agent, a run, and their pairs and triple."""

STATS: Counter[str] = Counter()

_combos = st.sampled_from(COMBOS)
_texts = st.one_of(
    st.sampled_from(["alice likes tea", "bob likes jazz", "run notes"]), s.clean_texts.filter(str.strip)
)
"""Texts without lone surrogates: hostile text is the bad-input test's job; this one is about scopes."""
_poison = st.dictionaries(
    st.sampled_from(IDENTITY_KEYS), st.sampled_from([*B.values(), "bob", None, 7]), min_size=1
).map(lambda d: {**d, "category": "poison"})
"""Metadata that tries to set identity keys to B's ids (plus one ordinary key)."""
_metadata = st.one_of(st.none(), _poison, st.fixed_dictionaries({"category": st.sampled_from(["a", "b"])}))
_cross = st.sampled_from(
    [
        {"user_id": "bob"},
        {"agent_id": "agent-b"},
        {"run_id": "run-b"},
        {"user_id": {"in": ["alice", "bob"]}},
        {"agent_id": {"in": ["agent-a", "agent-b"]}},
        {"OR": [{"user_id": "bob"}, {"agent_id": "agent-b"}, {"run_id": "run-b"}]},
        {"NOT": [{"user_id": "alice"}]},
        {"user_id": "*"},
        {"user_id": {"ne": "alice"}},
        {"run_id": {"nin": ["run-a"]}},
        {"OR": [{"category": "a"}, {"user_id": {"eq": "bob"}}]},
    ]
)
"""Extra filters that name B's ids; ANDed with A's scope they must still only reach A."""
_extra = st.one_of(st.none(), _cross, s.plain_filters)


@dataclass(frozen=True)
class Identity:
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    actor_id: str | None
    role: str


def _scope(combo: tuple[str, ...]) -> dict[str, Any]:
    return {k: A[k] for k in combo}


def _call_args(combo: tuple[str, ...], extra: dict[str, Any] | None, in_filters: bool) -> dict[str, Any]:
    """A's ids as arguments or inside ``filters``, with ``extra`` filter conditions."""
    scope = _scope(combo)
    if in_filters:
        return {"filters": {**(extra or {}), **scope}}
    return {**scope, "filters": extra}


class TenantMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="memlane-tenants-"))
        self.memory = open_memory(self.dir / "tenants.db")
        self.store = sqlite_store(self.memory)
        self.model: dict[str, Identity] = {}
        self._seed_b()
        self.b_before = self._b_rows()
        STATS["examples"] += 1

    def _seed_b(self) -> None:
        ids: list[str] = []
        for combo in COMBOS:
            scope: dict[str, Any] = {k: B[k] for k in combo}
            result = self.memory.add(
                [
                    {"role": "user", "content": f"bob secret {combo}"},
                    {"role": "assistant", "content": "noted"},
                ],
                metadata={"category": "a"},
                infer=False,
                **scope,
            )
            ids.extend(r["id"] for r in result["results"])
        self.memory.update(ids[0], text="bob secret, updated")
        self.memory.delete(ids[1])
        self.b_ids = ids
        now = now_iso()
        with self.store.transaction() as tx:  # B's profiles (user, agent, run), and alice's
            for n, key in enumerate(KEYS):
                for slot, value in B_PROFILE.items():
                    owner = Scope(**{key: B[key]})
                    tx.set_profile(owner, slot, value, observed_at=now, at=now, memory_id=ids[n + 2])
            for slot, value in A_PROFILE.items():
                tx.set_profile(Scope(user_id=A["user_id"]), slot, value, observed_at=now, at=now)

    def teardown(self) -> None:
        self.memory.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- what B owns --------------------------------------------------------------------------

    def _b_rows(self) -> str:
        marks = ", ".join("?" for _ in self.b_ids)
        rows: list[tuple[Any, ...]] = []
        for table, column in (
            ("memories", "id"),
            ("memory_versions", "memory_id"),
            ("history", "memory_id"),
            ("memory_sources", "memory_id"),
        ):
            rows += self.store.execute(
                f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY 1, 2", self.b_ids
            )
        for table in ("messages", "profile_slots"):
            rows += self.store.execute(
                f"SELECT * FROM {table} WHERE user_id = 'bob' OR agent_id = 'agent-b' OR run_id = 'run-b' "
                "ORDER BY seq"
            )
        return fingerprint(rows)

    # -- reads --------------------------------------------------------------------------------

    def _check_results(self, results: Sequence[Mapping[str, Any]], combo: tuple[str, ...]) -> None:
        STATS["reads"] += 1
        for item in results:
            STATS["results_checked"] += 1
            assert item["id"] not in self.b_ids, f"A read one of B's memories: {item}"
            assert item["id"] in self.model, f"A read a memory that is not A's: {item}"
            for key in KEYS:
                assert item.get(key) in (None, A[key]), f"A read a memory with {key}={item.get(key)!r}"
            for key in combo:
                assert item.get(key) == A[key], f"a read scoped to {combo} returned {item}"

    @rule(combo=_combos, query=_texts, extra=_extra, in_filters=st.booleans(), top_k=st.integers(1, 50))
    def search(
        self, combo: tuple[str, ...], query: str, extra: dict[str, Any] | None, in_filters: bool, top_k: int
    ) -> None:
        try:
            results = self.memory.search(query, top_k=top_k, **_call_args(combo, extra, in_filters))[
                "results"
            ]
        except MemlaneError:
            STATS["rejected"] += 1
            return
        self._check_results(results, combo)

    @rule(combo=_combos, in_filters=st.booleans(), history=st.booleans())
    def get_profile(self, combo: tuple[str, ...], in_filters: bool, history: bool) -> None:
        scope = _scope(combo)
        args: dict[str, Any] = {"filters": scope} if in_filters else dict(scope)
        if history:
            values = {v["value"] for k in B_PROFILE for v in self.memory.profile_history(k, **args)}
        else:
            values = set(self.memory.get_profile(**args)["profile"].values())
        STATS["profile_reads"] += 1
        assert values <= set(A_PROFILE.values()), f"a profile read of {combo} returned {values}"

    @rule(combo=_combos, extra=_extra, in_filters=st.booleans())
    def get_all(self, combo: tuple[str, ...], extra: dict[str, Any] | None, in_filters: bool) -> None:
        try:
            results = self.memory.get_all(top_k=1_000, **_call_args(combo, extra, in_filters))["results"]
        except MemlaneError:
            STATS["rejected"] += 1
            return
        self._check_results(results, combo)
        if extra is None:
            expected = {i for i, who in self.model.items() if all(getattr(who, k) == A[k] for k in combo)}
            assert {r["id"] for r in results} == expected, "get_all of a scope missed or added memories"

    # -- writes -------------------------------------------------------------------------------

    @rule(
        combo=_combos,
        text=_texts,
        metadata=_metadata,
        name=st.sampled_from([None, "alice-assistant"]),
        role=st.sampled_from(["user", "assistant"]),
        in_filters=st.booleans(),
    )
    def add(
        self,
        combo: tuple[str, ...],
        text: str,
        metadata: dict[str, Any] | None,
        name: str | None,
        role: str,
        in_filters: bool,
    ) -> None:
        message: dict[str, Any] = {"role": role, "content": text}
        if name is not None:
            message["name"] = name
        scope = _scope(combo)
        ids: dict[str, Any] = {"filters": scope} if in_filters else dict(scope)
        result = self.memory.add([message], metadata=metadata, infer=False, **ids)
        STATS["adds"] += 1
        for item in result["results"]:
            who = Identity(scope.get("user_id"), scope.get("agent_id"), scope.get("run_id"), name, role)
            self.model[item["id"]] = who

    @initialize(combo=_combos, texts=st.lists(_texts, min_size=2, max_size=5), metadata=_metadata)
    def start_with_some(
        self, combo: tuple[str, ...], texts: list[str], metadata: dict[str, Any] | None
    ) -> None:
        self.add_many(combo, texts, metadata)

    @rule(combo=_combos, texts=st.lists(_texts, min_size=2, max_size=5), metadata=_metadata)
    def add_many(self, combo: tuple[str, ...], texts: list[str], metadata: dict[str, Any] | None) -> None:
        scope = _scope(combo)
        messages = [{"role": "user", "content": t} for t in texts]
        result = self.memory.add(messages, metadata=metadata, infer=False, **scope)
        STATS["adds"] += 1
        for item in result["results"]:
            who = Identity(scope.get("user_id"), scope.get("agent_id"), scope.get("run_id"), None, "user")
            self.model[item["id"]] = who

    # Rules take no preconditions on the model (its size can differ between replays when ids are
    # random), and pick by insertion order, never by the random UUIDs: replays stay deterministic.
    @rule(pick=st.integers(0, 10**6), text=st.one_of(st.none(), _texts), metadata=_metadata)
    def update(self, pick: int, text: str | None, metadata: dict[str, Any] | None) -> None:
        if not self.model:
            return
        memory_id = list(self.model)[pick % len(self.model)]
        try:
            self.memory.update(memory_id, text=text, metadata=metadata)
        except MemlaneError:
            assert text is None and metadata is None  # "update() needs text, metadata or expiration_date"
            STATS["rejected"] += 1
            return
        STATS["updates"] += 1

    @rule(pick=st.integers(0, 10**6))
    def delete(self, pick: int) -> None:
        if not self.model:
            return
        memory_id = list(self.model)[pick % len(self.model)]
        self.memory.delete(memory_id)
        del self.model[memory_id]
        STATS["deletes"] += 1

    @rule(combo=_combos, extra=st.one_of(st.none(), _cross), in_filters=st.booleans())
    def delete_all(self, combo: tuple[str, ...], extra: dict[str, Any] | None, in_filters: bool) -> None:
        if len(self.model) < 8:
            return
        try:
            self.memory.delete_all(**_call_args(combo, extra, in_filters))
        except MemlaneError:
            STATS["rejected"] += 1
            return
        STATS["delete_alls"] += 1
        live = {r[0] for r in self.store.execute("SELECT id FROM memories WHERE deleted_at IS NULL")}
        for memory_id, who in list(self.model.items()):
            in_scope = all(getattr(who, k) == A[k] for k in combo)
            if memory_id not in live:
                assert in_scope, f"delete_all scoped to {combo} deleted {memory_id} ({who})"
                del self.model[memory_id]
            elif extra is None:
                assert not in_scope, f"delete_all scoped to {combo} left {memory_id} ({who})"

    # -- after every step ---------------------------------------------------------------------

    @invariant()
    def b_is_untouched(self) -> None:
        assert self._b_rows() == self.b_before, "B's memories, history, messages or profile changed"

    @invariant()
    def identities_come_from_arguments(self) -> None:
        marks = ", ".join("?" for _ in self.b_ids)
        rows = self.store.execute(
            "SELECT id, user_id, agent_id, run_id, actor_id, role, metadata FROM memories "
            f"WHERE deleted_at IS NULL AND id NOT IN ({marks})",
            self.b_ids,
        )
        assert {r[0] for r in rows} == set(self.model), "A's live memories differ from the model"
        for memory_id, user_id, agent_id, run_id, actor_id, role, metadata in rows:
            assert Identity(user_id, agent_id, run_id, actor_id, role) == self.model[memory_id]
            assert not any(f'"{k}"' in metadata for k in IDENTITY_KEYS), f"identity key kept in {metadata}"
        mixed = self.store.execute(
            "SELECT id FROM memories WHERE (user_id = 'alice' OR agent_id = 'agent-a' OR run_id = 'run-a') "
            "AND (user_id = 'bob' OR agent_id = 'agent-b' OR run_id = 'run-b')"
        )
        assert not mixed, f"memories with both A's and B's ids: {mixed}"


@pytest.mark.stress
def test_tenant_a_never_reaches_tenant_b() -> None:
    STATS.clear()
    ok = False
    try:
        run_state_machine_as_test(
            TenantMachine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                phases=(Phase.explicit, Phase.generate),  # no shrinking: keeps a failing run short
                print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        ok = True
    finally:
        writes = STATS["adds"] + STATS["updates"] + STATS["deletes"] + STATS["delete_alls"]
        record(
            "tenant_isolation",
            f"{STATS['examples']} random sequences of up to {STEPS} steps in scope A: {writes} writes "
            f"({STATS['adds']} adds, {STATS['updates']} updates, {STATS['deletes']} deletes, "
            f"{STATS['delete_alls']} delete_alls), {STATS['reads']} reads returning "
            f"{STATS['results_checked']} memories, 0 of B's read or changed, 0 identity keys overwritten",
            dict(STATS),
            ok=ok,
        )


@pytest.mark.stress
@pytest.mark.parametrize(
    "filters",
    [
        {"user_id": "*"},
        {"user_id": {"ne": "nobody"}},
        {"user_id": {"in": ["alice", "bob"]}},
        {"agent_id": "*", "run_id": {"nin": ["x"]}},
    ],
)
def test_delete_all_without_a_plain_id_deletes_nothing(tmp_path: Path, filters: dict[str, Any]) -> None:
    """A pattern on a scope key is no scope: ``delete_all`` refuses it instead of wiping every tenant."""
    memory = open_memory(tmp_path / "patterns.db")
    try:
        memory.add("alice fact", user_id="alice", agent_id="agent-a", run_id="run-a")
        memory.add("bob fact", user_id="bob", agent_id="agent-b", run_id="run-b")
        before = sqlite_store(memory).execute("SELECT id, deleted_at FROM memories ORDER BY seq")
        with pytest.raises(MemlaneError):
            memory.delete_all(filters=filters)
        assert sqlite_store(memory).execute("SELECT id, deleted_at FROM memories ORDER BY seq") == before
    finally:
        memory.close()
