"""Process workers for the PostgreSQL tests of issue 14 (a module of their own so 'spawn' can
import them): the same idempotent adds from several processes, and adds racing deletes."""

from __future__ import annotations

import time
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from memlane import Memory
from memlane.llm import FakeLLM
from memlane.llm.fake import FakeCall
from tests.store.postgres._workers import pg_memory_config

__all__ = ["KEYED_SCOPE", "adder_deleter", "keyed_adder"]

KEYED_SCOPE: dict[str, Any] = {"user_id": "keyed"}


def _slow_fact(call: FakeCall) -> Any:
    """The model's answer after 0.2 s, so the other processes' repeats arrive while it runs."""
    time.sleep(0.2)
    text = call.messages[-1]["content"]
    fact = "Fact " + text.rsplit("<<", 1)[-1].split(">>", 1)[0] if "<<" in text else "Fact"
    return {"memory": [{"event": "ADD", "id": None, "text": fact}]}


def keyed_adder(url: str, proc: int, keys: int, go: Event, out: Queue[dict[str, Any]]) -> None:
    """Wait for ``go``, then add ``keys`` conversations, each with its own idempotency key (the
    same keys and texts in every process); report every answer, the LLM calls made, the errors."""
    answers: dict[str, Any] = {}
    errors: list[str] = []
    memory = Memory(pg_memory_config(url), llm=FakeLLM([_slow_fact] * keys))
    try:
        out.put({"kind": "ready", "proc": proc})
        go.wait(300)
        for k in range(keys):
            try:
                answers[f"key-{k}"] = memory.add(f"note <<{k}>>", idempotency_key=f"key-{k}", **KEYED_SCOPE)
            except Exception:  # noqa: BLE001 - reported to the parent, which asserts on it
                errors.append(traceback.format_exc())
        calls = memory.llm_usage.calls
    finally:
        memory.close()
    out.put({"kind": "result", "proc": proc, "answers": answers, "calls": calls, "errors": errors})


def adder_deleter(
    url: str, proc: int, rounds: int, go: Event, out: Queue[dict[str, Any]], *, profile: bool = True
) -> None:
    """Wait for ``go``, then ``rounds`` times: add a fact to one scope (through the LLM, with the
    profile and the graph on: a relation and a profile slot each), and every other round delete
    the memory just added (its relation goes, its profile slot is cleared); report the errors."""
    errors: list[str] = []
    added = deleted = 0
    config = {**pg_memory_config(url), "enable_graph": True, "profile": {"enabled": profile}}
    replies = [_fact_with_relation(proc, r) for r in range(rounds)]
    memory = Memory(config, llm=FakeLLM(replies))
    try:
        out.put({"kind": "ready", "proc": proc})
        go.wait(300)
        for r in range(rounds):
            try:
                result = memory.add(f"p{proc} round {r}", user_id="racing")
                added += len(result["results"])
                if r % 2:  # the memory that wrote the current profile slot, while others add
                    memory.delete(result["results"][0]["id"])
                    deleted += 1
            except Exception:  # noqa: BLE001 - reported to the parent, which asserts on it
                errors.append(traceback.format_exc())
    finally:
        memory.close()
    out.put({"kind": "result", "proc": proc, "added": added, "deleted": deleted, "errors": errors})


def _fact_with_relation(proc: int, r: int) -> dict[str, Any]:
    return {
        "memory": [{"event": "ADD", "id": None, "text": f"p{proc} likes city {r % 3} since round {r}"}],
        "entities": [{"name": "racing", "type": "person"}, {"name": f"city {r % 3}", "type": "city"}],
        "relations": [{"source": "racing", "relationship": "likes", "destination": f"city {r % 3}"}],
        "profile": [{"key": "home_city", "value": f"city {proc}-{r}"}],
    }
