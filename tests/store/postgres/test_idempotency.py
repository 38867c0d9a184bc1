"""Issue 14 on PostgreSQL with several processes: the same idempotent adds sent by 4 'spawn'
processes at once are done once each (one LLM call, one memory per key) and every process gets
the same answer."""

from __future__ import annotations

import multiprocessing
import queue
import time
from typing import Any

import pytest

from memlane import Memory
from memlane.filters import parse_filters
from tests.store.postgres._idem_workers import KEYED_SCOPE, keyed_adder
from tests.store.postgres._workers import pg_memory_config

pytestmark = pytest.mark.integration

PROCESSES = 4
KEYS = 6
TIMEOUT_S = 300.0


def run_workers(target: Any, args: tuple[Any, ...], processes: int = PROCESSES) -> list[dict[str, Any]]:
    """Start ``processes`` 'spawn' workers ``target(*args[:1], proc, *args[1:], go, out)``, let
    them go at once, and collect their results."""
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(args[0], p, *args[1:], go, out), daemon=True)
        for p in range(processes)
    ]
    results: list[dict[str, Any]] = []
    try:
        for proc in procs:
            proc.start()
        deadline = time.monotonic() + TIMEOUT_S
        ready = 0
        while len(results) < processes:
            try:
                message: dict[str, Any] = out.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{ready} ready, {len(results)} of {processes} workers done in time")
            if message["kind"] == "ready":
                ready += 1
                if ready == processes:
                    go.set()
            else:
                results.append(message)
        for proc in procs:
            proc.join(30)
        assert [p.exitcode for p in procs] == [0] * processes
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join(10)
        out.close()
        out.join_thread()
    return results


def test_four_processes_sending_the_same_keys_add_each_once(postgres_url: str) -> None:
    results = run_workers(keyed_adder, (postgres_url, KEYS))
    assert [r["errors"] for r in results] == [[]] * PROCESSES
    assert sum(r["calls"] for r in results) == KEYS  # one LLM call per key, whoever made it
    for k in range(KEYS):
        answers = [r["answers"][f"key-{k}"] for r in results]
        assert all(a == answers[0] for a in answers), answers
        assert [i["memory"] for i in answers[0]["results"]] == [f"Fact {k}"]
    memory = Memory(pg_memory_config(postgres_url))
    try:
        stored = memory.store.list_records(parse_filters(KEYED_SCOPE))
        assert sorted(r.text for r in stored) == sorted(f"Fact {k}" for k in range(KEYS))
        assert memory.store.pending() == []
    finally:
        memory.close()


ROUNDS = 40


def test_adds_and_deletes_racing_in_one_scope_never_fail(postgres_url: str) -> None:
    """Issue 14: adds (memories, graph relations, profile slots) and deletes of one scope from 4
    processes at once: no deadlock, no "retry" error, every acknowledged write stored."""
    from tests.store.postgres._idem_workers import adder_deleter

    results = run_workers(adder_deleter, (postgres_url, ROUNDS))
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[0]
    memory = Memory(pg_memory_config(postgres_url))
    try:
        live = memory.store.count(parse_filters({"user_id": "racing"}))
        assert live == sum(r["added"] - r["deleted"] for r in results) == PROCESSES * (ROUNDS // 2)
    finally:
        memory.close()
