"""A process worker for the PostgreSQL concurrency test (a module of its own so 'spawn' can
import it): adds to one scope and updates shared memories through its own ``Memory``."""

from __future__ import annotations

import time
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from memlane import Memory
from tests.stress._workers import text_of

__all__ = ["SCOPE", "pg_memory_config", "writer"]

SCOPE: dict[str, Any] = {"user_id": "shared"}


def pg_memory_config(url: str) -> dict[str, Any]:
    """A Memory on the hash embedder and the PostgreSQL database at ``url``."""
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "postgres", "config": {"url": url, "max_size": 2}},
    }


def writer(url: str, proc: int, adds: int, shared: list[str], go: Event, out: Queue[dict[str, Any]]) -> None:
    """Wait for ``go``, then ``adds`` times: add a new text to ``SCOPE``; every other time also
    give one of the ``shared`` memories a new text. Reports every acknowledged add (text, id),
    every acknowledged update (id, text) and every exception."""
    added: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    errors: list[str] = []
    seconds = 0.0
    try:
        memory = Memory(pg_memory_config(url))
    except Exception:  # noqa: BLE001 - reported to the parent, which asserts on it
        out.put(
            {"kind": "result", "proc": proc, "added": [], "updated": [], "errors": [traceback.format_exc()]}
        )
        return
    try:
        out.put({"kind": "ready", "proc": proc})
        if not go.wait(300):
            errors.append("never got the start signal")
        start = time.perf_counter()
        for sequence in range(adds):
            try:
                result = memory.add(text_of(f"p{proc}", sequence), infer=False, **SCOPE)
                added.extend((item["memory"], item["id"]) for item in result["results"])
                if sequence % 2 == 0:
                    target = shared[(proc + sequence) % len(shared)]
                    text = f"p{proc} rewrote it at {sequence}"
                    memory.update(target, text=text)
                    updated.append((target, text))
            except Exception:  # noqa: BLE001 - reported to the parent, which asserts on it
                errors.append(traceback.format_exc())
        seconds = time.perf_counter() - start
    finally:
        memory.close()
        out.put(
            {
                "kind": "result",
                "proc": proc,
                "added": added,
                "updated": updated,
                "errors": errors,
                "seconds": seconds,
            }
        )
