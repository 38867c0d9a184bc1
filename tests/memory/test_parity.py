"""Memory and AsyncMemory give the same results for the same calls (ids and times aside)."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, Memory

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_TIME_KEYS = {"created_at", "updated_at"}


@dataclass(frozen=True)
class Ref:
    """The id of the n-th memory that ``add`` returned so far in a case."""

    index: int


Step = tuple[str, tuple[Any, ...], dict[str, Any]]


def step(method: str, *args: Any, **kwargs: Any) -> Step:
    return (method, args, kwargs)


CASES: dict[str, list[Step]] = {
    "add-and-read": [
        step("add", "I like green tea", user_id="alice", infer=False),
        step(
            "add",
            [
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": "I moved to Bangalore", "name": "alice"},
                {"role": "assistant", "content": [{"type": "text", "text": "Nice city"}]},
            ],
            user_id="alice",
            metadata={"topic": "home", "user_id": "mallory"},
        ),
        step("add", "bob likes coffee", user_id="bob", agent_id="helper", run_id="r1", infer=False),
        step("get", Ref(0)),
        step("get_all", user_id="alice"),
        step("get_all", filters={"user_id": "alice"}, top_k=2),
        step("search", "green tea", user_id="alice", limit=5),
        step("search", "Bangalore", filters={"user_id": "alice"}, top_k=2, explain=True),
        step("search", "tea", filters={"user_id": "alice"}, threshold=0.4),
        step("search", "coffee", filters={"agent_id": "helper", "run_id": "r1"}),
        step("search", "tea", filters={"user_id": "alice"}, top_k=0),
    ],
    "update-and-history": [
        step("add", "I live in Delhi", user_id="alice", metadata={"k": 1}),
        step("update", Ref(0), text="I live in Bangalore"),
        step("update", Ref(0), metadata={"k": 2}),
        step("update", Ref(0), data="I live in Mumbai"),
        step("get", Ref(0)),
        step("history", Ref(0)),
        step("search", "Mumbai", user_id="alice", explain=True),
    ],
    "delete": [
        step("add", "one", user_id="alice"),
        step("add", "two", user_id="alice"),
        step("add", "three", user_id="alice", run_id="r"),
        step("delete", Ref(1)),
        step("get", Ref(1)),
        step("history", Ref(1)),
        step("delete_all", user_id="alice", run_id="r"),
        step("get_all", user_id="alice"),
        step("delete_all", user_id="alice"),
        step("get_all", user_id="alice"),
        step("history", Ref(0)),
    ],
    "filters": [
        step("add", "red apple", user_id="u", metadata={"color": "red", "n": 1}),
        step("add", "green pear", user_id="u", metadata={"color": "green", "n": 5}),
        step("add", "blue berry", user_id="u", metadata={"n": 10}),
        step("get_all", filters={"user_id": "u", "n": {"gte": 5}}),
        step("get_all", filters={"user_id": "u", "OR": [{"color": "red"}, {"n": 10}]}),
        step("get_all", filters={"user_id": "u", "NOT": [{"color": "red"}]}),
        step("search", "fruit", filters={"user_id": "u", "color": {"in": ["red", "green"]}}),
    ],
    "expiration": [
        step("add", "old sale", user_id="u", expiration_date="2001-01-01"),
        step("add", "new sale", user_id="u", expiration_date="2999-01-01"),
        step("get_all", user_id="u"),
        step("get_all", user_id="u", show_expired=True),
        step("search", "sale", user_id="u"),
        step("search", "sale", user_id="u", show_expired=True),
    ],
    "errors": [
        step("add", "seed", user_id="alice"),
        step("add", "no owner"),
        step("add", "x", user_id="alice", infer=True),
        step("add", 42, user_id="alice"),
        step("add", "x", user_id="a b"),
        step("search", "x"),
        step("search", "x", user_id="alice", filters={"k": {"regex": "."}}),
        step("search", "x", user_id="alice", top_k=3, limit=4),
        step("search", "x", user_id="alice", threshold=2),
        step("get_all", user_id="alice", top_k=-1),
        step("update", Ref(0)),
        step("update", "no-such-id", text="x"),
        step("delete", "no-such-id"),
        step("history", "no-such-id"),  # [] as mem0 returns
        step("history", "*"),
        step("delete_all"),
        step("get_all", user_id="alice"),
    ],
    "profile": [
        step("add", "I live in Delhi", user_id="alice"),
        step("get_profile", user_id="alice"),
        step("get_profile", filters={"user_id": "alice"}, as_of="2001-01-01"),
        step("profile_history", "home_city", user_id="alice", agent_id="helper"),
        step("profile_history", "Home City", user_id="alice"),
        step("get_profile"),
    ],
    "reset": [
        step("add", "before", user_id="alice"),
        step("reset"),
        step("get_all", user_id="alice"),
        step("add", "after", user_id="alice"),
        step("get_all", user_id="alice"),
    ],
}


def resolve(value: Any, ids: list[str]) -> Any:
    if isinstance(value, Ref):
        return ids[value.index]
    if isinstance(value, tuple):
        return tuple(resolve(v, ids) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    return value


def record(method: str, result: Any, ids: list[str]) -> Any:
    if method == "add" and isinstance(result, dict):
        ids.extend(item["id"] for item in result["results"])
    return result


def failure(exc: Exception) -> tuple[str, str, str]:
    return ("raised", type(exc).__name__, str(exc))


def run_sync(memory: Memory, steps: list[Step]) -> list[Any]:
    ids: list[str] = []
    out: list[Any] = []
    for method, args, kwargs in steps:
        try:
            result = getattr(memory, method)(*resolve(args, ids), **resolve(kwargs, ids))
        except Exception as exc:  # noqa: BLE001 - compared below
            result = failure(exc)
        out.append(record(method, result, ids))
    return out


async def run_async(memory: AsyncMemory, steps: list[Step]) -> list[Any]:
    ids: list[str] = []
    out: list[Any] = []
    for method, args, kwargs in steps:
        try:
            result = await getattr(memory, method)(*resolve(args, ids), **resolve(kwargs, ids))
        except Exception as exc:  # noqa: BLE001 - compared below
            result = failure(exc)
        out.append(record(method, result, ids))
    return out


class Normaliser:
    """Replaces each UUID by its order of appearance and every timestamp by a marker."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self(v) for v in value)
        if isinstance(value, str):
            if key in _TIME_KEYS:
                return "<time>"
            return _UUID.sub(self._id, value)
        return value

    def _id(self, match: re.Match[str]) -> str:
        return self.seen.setdefault(match.group(0), f"<id{len(self.seen)}>")


@pytest.mark.parametrize("case", sorted(CASES))
def test_sync_and_async_agree(memory: Memory, async_memory: AsyncMemory, case: str) -> None:
    steps = CASES[case]
    sync_results = Normaliser()(run_sync(memory, steps))
    async_results = Normaliser()(asyncio.run(run_async(async_memory, steps)))
    assert len(sync_results) == len(steps)
    assert sync_results == async_results


def test_the_cases_exercise_successes_and_failures(memory: Memory) -> None:
    # guard against a parity test that only compares two identical lists of errors
    outcomes = [r for case in CASES.values() for r in run_sync_fresh(case)]
    raised = [r for r in outcomes if isinstance(r, tuple) and r[:1] == ("raised",)]
    assert 10 <= len(raised) < len(outcomes) // 2
    errors = Normaliser()(run_sync_fresh(CASES["errors"]))
    assert [e[1] for e in errors if isinstance(e, tuple)] == [
        "InvalidInputError",
        "ConfigError",
        "InvalidInputError",
        "InvalidInputError",
        "InvalidInputError",
        "InvalidFilterError",
        "InvalidInputError",
        "InvalidInputError",
        "InvalidInputError",
        "InvalidInputError",
        "NotFoundError",
        "NotFoundError",
        "InvalidInputError",
        "InvalidInputError",
    ]


def run_sync_fresh(steps: list[Step]) -> list[Any]:
    with Memory({"embedder": {"provider": "hash"}, "vector_store": {"config": {"path": ":memory:"}}}) as m:
        return run_sync(m, steps)


PUBLIC = sorted(
    name
    for name, value in inspect.getmembers(Memory, inspect.isfunction)  # inherited ones too
    if not name.startswith("_")
)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_method_has_an_async_twin(name: str) -> None:
    twin = getattr(AsyncMemory, name, None)
    assert twin is not None, f"AsyncMemory.{name} is missing"
    assert inspect.iscoroutinefunction(twin)
    assert inspect.signature(twin) == inspect.signature(getattr(Memory, name))


def test_the_constructors_take_the_same_arguments() -> None:
    assert inspect.signature(AsyncMemory) == inspect.signature(Memory)
    assert inspect.signature(AsyncMemory.__init__) == inspect.signature(Memory.__init__)
    for name in ("store", "embedder", "llm", "graph", "reranker"):
        assert name in inspect.signature(AsyncMemory).parameters, name


def test_from_config_takes_the_same_arguments() -> None:
    sync = inspect.signature(Memory.from_config).parameters
    assert list(inspect.signature(AsyncMemory.from_config).parameters.values()) == list(sync.values())


def test_async_memory_is_built_from_every_back_end_given(tmp_path: Path) -> None:
    from memlane.embed.hash import HashEmbedder
    from memlane.llm import FakeLLM
    from memlane.store.sqlite import SQLiteStore

    store, embedder, llm = SQLiteStore(tmp_path / "m.db"), HashEmbedder(16), FakeLLM([])
    reranker = _NoRerank()
    memory = AsyncMemory(store=store, embedder=embedder, llm=llm, reranker=reranker)
    try:
        assert memory.sync.store is store and memory.sync.embedder is embedder
        assert memory.sync.llm is llm and memory.sync.reranker is reranker
    finally:
        asyncio.run(_close(memory))


async def _close(memory: AsyncMemory) -> None:
    await memory.close()


class _NoRerank:
    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        return [0.0] * len(documents)


def test_async_context_manager(async_memory: AsyncMemory) -> None:
    async def main() -> list[str]:
        async with async_memory as m:
            await m.add("hello", user_id="u")
            result = await m.get_all(user_id="u")
            return [item["memory"] for item in result["results"]]

    assert asyncio.run(main()) == ["hello"]


def test_async_calls_can_run_concurrently(async_memory: AsyncMemory) -> None:
    async def main() -> int:
        await asyncio.gather(*(async_memory.add(f"memory {i}", user_id="u") for i in range(20)))
        result = await async_memory.get_all(user_id="u")
        return len(result["results"])

    assert asyncio.run(main()) == 20
