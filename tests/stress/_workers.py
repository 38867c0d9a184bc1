"""Process workers for the concurrency test (a module of their own so 'spawn' can import them)."""

from __future__ import annotations

import time
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from tests.stress._support import open_memory

__all__ = ["TOPICS", "USERS", "add_worker", "scope_of", "text_of"]

TOPICS = ("coffee", "hiking", "python", "jazz", "travel", "books", "tennis", "cooking")
USERS = ("user-0", "user-1", "user-2")


def text_of(origin: str, sequence: int) -> str:
    """A distinct text per writer and sequence number, with a unique token ``tok<origin>s<n>``."""
    topic = TOPICS[sequence % len(TOPICS)]
    return f"{origin} sequence {sequence} likes {topic} tok{origin}s{sequence}"


def scope_of(writer: int, sequence: int) -> dict[str, Any]:
    """A mix of scopes: three users, and every fifth add also under the writer's agent."""
    scope: dict[str, Any] = {"user_id": USERS[(writer + sequence) % len(USERS)]}
    if sequence % 5 == 0:
        scope["agent_id"] = f"agent-{writer}"
    return scope


def add_worker(path: str, proc: int, count: int, go: Event, out: Queue[dict[str, Any]]) -> None:
    """Open a Memory on ``path``, wait for ``go``, then ``add(infer=False)`` ``count`` times.

    Puts ``{"kind": "ready"}`` once open, then one result: the ``(text, id)`` of every add that
    returned, every exception as a traceback, and the seconds the loop took.
    """
    added: list[tuple[str, str]] = []
    errors: list[str] = []
    seconds = 0.0
    try:
        memory = open_memory(path)
    except Exception:  # noqa: BLE001 - every failure is collected and asserted on by the parent
        out.put({"kind": "result", "proc": proc, "added": added, "errors": [traceback.format_exc()]})
        return
    try:
        out.put({"kind": "ready", "proc": proc})
        if not go.wait(300):
            errors.append("never got the start signal")
        start = time.perf_counter()
        for sequence in range(count):
            text = text_of(f"p{proc}", sequence)
            try:
                result = memory.add(text, infer=False, **scope_of(proc, sequence))
                added.extend((item["memory"], item["id"]) for item in result["results"])
            except Exception:  # noqa: BLE001 - collected and asserted on by the parent
                errors.append(traceback.format_exc())
        seconds = time.perf_counter() - start
    finally:
        memory.close()
        out.put({"kind": "result", "proc": proc, "added": added, "errors": errors, "seconds": seconds})
