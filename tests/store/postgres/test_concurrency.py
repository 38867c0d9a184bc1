"""Many processes on one PostgreSQL database: 4 'spawn' processes, each with its own ``Memory``,
add to one scope and rewrite the same few memories at once. Afterwards: no call raised, every
acknowledged add is stored once with its text, and every acknowledged update is a version of
its memory (numbered without gaps or repeats) with its history row: nothing lost, nothing
duplicated."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from typing import Any

import pytest

from memlane import Memory
from memlane.filters import parse_filters
from memlane.store.postgres.store import PostgresStore
from tests.store.postgres._workers import SCOPE, pg_memory_config, writer

pytestmark = pytest.mark.integration

PROCESSES = 4
ADDS_PER_PROCESS = 60
SHARED = 3
TIMEOUT_S = 300.0


def _collect(out: Any, kind: str, deadline: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < PROCESSES:
        try:
            message: dict[str, Any] = out.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"only {len(got)} of {PROCESSES} workers sent {kind!r} in time")
        if message["kind"] == "result" and kind == "ready":
            pytest.fail(f"worker {message['proc']} failed before it was ready:\n{message['errors']}")
        if message["kind"] == kind:
            got.append(message)
    return got


def _run(url: str, shared: list[str]) -> tuple[list[dict[str, Any]], float]:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(target=writer, args=(url, p, ADDS_PER_PROCESS, shared, go, out), daemon=True)
        for p in range(PROCESSES)
    ]
    try:
        for proc in procs:
            proc.start()
        deadline = time.monotonic() + TIMEOUT_S
        _collect(out, "ready", deadline)
        start = time.perf_counter()
        go.set()
        results = _collect(out, "result", deadline)
        seconds = time.perf_counter() - start
        for proc in procs:
            proc.join(30)
        assert [p.exitcode for p in procs] == [0] * PROCESSES
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join(10)
        out.close()
        out.join_thread()
    return results, seconds


def test_four_processes_adding_and_updating_one_scope_lose_nothing(postgres_url: str) -> None:
    parent = Memory(pg_memory_config(postgres_url))
    try:
        shared = [
            parent.add(f"shared memory {i}", infer=False, **SCOPE)["results"][0]["id"] for i in range(SHARED)
        ]
        results, seconds = _run(postgres_url, shared)
        errors = [e for r in results for e in r["errors"]]
        added = [tuple(a) for r in results for a in r["added"]]
        updates = [tuple(u) for r in results for u in r["updated"]]
        store = parent.store
        assert isinstance(store, PostgresStore)
        stored = {r.id: r.text for r in store.list_records(parse_filters(SCOPE))}
        lost = [mid for text, mid in added if stored.get(mid) != text]
        texts = Counter(stored.values())
        duplicated = sum(n - 1 for n in texts.values() if n > 1)
        print(
            f"\npostgres concurrency: {PROCESSES} processes, {len(added)} adds + {len(updates)} updates "
            f"of {SHARED} shared memories in {seconds:.1f} s ({(len(added) + len(updates)) / seconds:.0f} "
            f"writes/s, machine shared with other jobs): {len(errors)} errors, {len(lost)} lost, "
            f"{duplicated} duplicated"
        )
        assert not errors, f"{len(errors)} calls raised; first ones:\n" + "\n".join(errors[:3])
        assert len(added) == PROCESSES * ADDS_PER_PROCESS
        assert not lost, f"acknowledged adds missing or changed: {lost[:5]}"
        assert duplicated == 0 and len(stored) == len(added) + SHARED
        for memory_id in shared:
            mine = [text for target, text in updates if target == memory_id]
            versions = store.versions(memory_id)
            assert [v.version for v in versions] == list(range(1, len(mine) + 2))
            assert sorted(v.text for v in versions[1:]) == sorted(mine)
            events = [h.event for h in store.history(memory_id)]
            assert events == ["ADD"] + ["UPDATE"] * len(mine)
            current = store.get(memory_id)
            assert current is not None and current.text == versions[-1].text
    finally:
        parent.close()
