"""One app scenario, run unchanged on ``Memory``, ``AsyncMemory``, ``Client`` and ``AsyncClient``.

Each step is ``(method name, function of the results so far -> (args, kwargs))``; a runner calls
the method on its target (awaiting it for the async ones) and records the result, or the error's
class and message. ``normalized`` replaces what differs between two runs by nature (ids, clocks) with
placeholders, so two runs compare with ``==``.
"""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memlane import MemlaneError

Args = tuple[tuple[Any, ...], dict[str, Any]]
Step = tuple[str, Callable[[list[Any]], Args]]

CONFIG: dict[str, Any] = {"embedder": {"provider": "hash", "config": {"embedding_dims": 64}}}
"""The config of both sides: the server's (tests.server.process.HASH_CONFIG) and in-process."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STATUS = re.compile(r" \(HTTP \d+\)$")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")


def _first_id(results: list[Any], at: int) -> str:
    memory_id: str = results[at]["results"][0]["id"]
    return memory_id


def _call(*args: Any, **kwargs: Any) -> Callable[[list[Any]], Args]:
    return lambda _results: (args, kwargs)


def _on(at: int, *args: Any, **kwargs: Any) -> Callable[[list[Any]], Args]:
    """Arguments that start with the id of the first memory step ``at`` added."""
    return lambda results: ((_first_id(results, at), *args), kwargs)


def _added(text: str) -> Callable[[list[Any]], Args]:
    """Arguments that are the id of the memory the latest add of ``text`` wrote."""

    def find(results: list[Any]) -> Args:
        for result in reversed(results):
            items = result.get("results") if isinstance(result, dict) else None
            if items and isinstance(items, list) and items[0].get("memory") == text:
                return (items[0]["id"],), {}
        raise AssertionError(f"no add of {text!r} so far")

    return find


def steps(folder: Path) -> list[Step]:
    """Every method of the clients, with the arguments an app passes, errors included."""
    conversation = [
        {"role": "user", "content": "I moved from Delhi to Bangalore", "name": "alice"},
        {"role": "assistant", "content": "Nice, how do you like it?"},
        {"role": "system", "content": "dropped"},
    ]
    return [
        ("add", _call("I love green tea", user_id="alice", metadata={"topic": "drinks"})),  # 0
        ("add", _call(conversation, user_id="alice", agent_id="helper", timestamp="2024-05-01T10:00:00Z")),
        ("add", _call({"role": "user", "content": "Bob plays chess"}, user_id="bob", infer=False)),  # 2
        ("add", _call("expiring", user_id="alice", expiration_date="2001-01-01")),
        ("add", _call("x", user_id="alice", infer=True)),  # ConfigError: no LLM
        ("add", _call("x")),  # InvalidInputError: no scope
        ("get", _on(0)),
        ("get", _call("00000000-0000-4000-8000-000000000000")),
        ("get_all", _call(filters={"user_id": "alice"})),
        ("get_all", _call(user_id="alice", show_expired=True, page=1, page_size=2)),
        ("get_all", _call(filters={"user_id": "alice", "topic": "drinks"}, top_k=5)),
        ("get_all", _call(filters={"AND": [{"user_id": "alice"}, {"topic": "drinks"}]})),  # InvalidFilter
        ("search", _call("where does alice live?", filters={"user_id": "alice"}, explain=True)),
        ("search", _call("tea", user_id="alice", top_k=1, threshold=0.0, reference_date="2024-06-01")),
        ("search", _call("   ", user_id="alice")),  # InvalidInputError
        ("get_context", _call("green tea", user_id="alice", max_tokens=25)),  # one memory fits: no tie on ids
        ("get_context", _call("tea", user_id="alice", max_tokens=0)),  # InvalidInputError
        ("chat", _call("what does alice drink?", user_id="alice")),  # ConfigError: no LLM
        ("update", _on(0, text="I love jasmine tea")),
        ("update", _on(0, metadata={"mood": "calm"}, expiration_date="2099-01-01")),
        ("update", _on(0, expiration_date=None)),
        ("update", _call("00000000-0000-4000-8000-000000000000", text="nobody")),  # NotFoundError
        ("update", _on(0)),  # InvalidInputError: nothing to change
        ("history", _on(0)),
        ("resolve_id", lambda results: ((_first_id(results, 0)[:8],), {})),
        ("resolve_id", _call("zz")),
        ("get_profile", _call(user_id="alice")),
        ("profile_history", _call("name", user_id="alice")),
        ("describe_llm", _call()),
        ("reprocess", _call(user_id="alice")),  # ConfigError: no LLM
        ("add", _call("Gate B12", user_id="alice", run_id="trip", infer=False, memory_type="episodic")),
        ("search", _call("gate", user_id="alice", run_id="trip", long_term=True, memory_type=["episodic"])),
        ("search", _call("gate", user_id="alice", long_term=True)),  # InvalidInputError: no run
        ("get_all", _call(user_id="alice", memory_type="semantic", long_term=False)),
        ("search", _call("tea", user_id="alice", as_of="2001-01-01")),
        ("get_all", _call(user_id="alice", as_of="2001-01-01")),
        ("get_all", _call(user_id="alice", as_of="2099-01-01", show_expired=True, page=1, page_size=2)),
        ("promote", _added("Gate B12")),
        ("promote", _call("00000000-0000-4000-8000-000000000000")),  # NotFoundError
        ("prune", _call(user_id="alice", dry_run=True)),
        ("prune", _call(user_id="alice")),
        ("delete", _on(2)),
        ("delete", _on(2)),  # NotFoundError: already deleted
        ("export", _call(folder / "export.jsonl")),
        ("purge", _on(0)),
        ("purge", _call()),  # InvalidInputError
        ("delete_all", _call(user_id="alice")),
        ("delete_all", _call(filters={"user_id": {"in": ["a", "b"]}})),  # InvalidInputError
        ("get_all", _call(user_id="alice")),
        ("reset", _call()),
        ("import_data", _call(folder / "export.jsonl")),
        ("get_all", _call(user_id="alice", show_expired=True)),
        ("import_data", _call(io.StringIO("not an export\n"))),  # InvalidInputError
    ]


def _error(exc: MemlaneError) -> dict[str, str]:
    """An error as a result: its class and message (without the client's "(HTTP status)")."""
    return {"error": type(exc).__name__, "message": _STATUS.sub("", str(exc))}


def run(target: Any, folder: Path) -> list[Any]:
    """The scenario on a ``Memory`` or a ``Client``: each step's result or error class name."""
    results: list[Any] = []
    for name, arguments in steps(folder):
        args, kwargs = arguments(results)
        try:
            results.append(getattr(target, name)(*args, **kwargs))
        except MemlaneError as exc:
            results.append(_error(exc))
    return results


async def run_async(target: Any, folder: Path) -> list[Any]:
    """The scenario on an ``AsyncMemory`` or an ``AsyncClient``."""
    results: list[Any] = []
    for name, arguments in steps(folder):
        args, kwargs = arguments(results)
        try:
            outcome = getattr(target, name)(*args, **kwargs)
            results.append(await outcome if inspect.isawaitable(outcome) else outcome)
        except MemlaneError as exc:
            results.append(_error(exc))
    return results


def normalized(value: Any, names: dict[str, str] | None = None) -> Any:
    """``value`` with every UUID named by its order of appearance and every time as ``<time>``."""
    names = {} if names is None else names
    if isinstance(value, dict):
        return {key: normalized(item, names) for key, item in value.items() if key != "exported_at"}
    if isinstance(value, list):
        return [normalized(item, names) for item in value]
    if isinstance(value, str):
        value = _UUID.sub(lambda m: names.setdefault(m.group(0), f"<id{len(names)}>"), value)
        return _TIME.sub("<time>", value)
    return value
