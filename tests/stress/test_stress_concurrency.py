"""No lost writes under concurrency: 4 processes and 4 threads add to one SQLite file at once.

Each of 4 'spawn' processes opens its own Memory and adds 500 distinct texts; meanwhile, in this
process, 4 threads share one Memory and add 100 each while another thread searches in a loop.
Afterwards every returned id is in the store, each writer's count is exact, no text is stored
twice, history / messages / full text / vectors agree, and no call raised anywhere.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from memlane import Memory
from tests.stress._figures import record
from tests.stress._support import open_memory, sqlite_store, table_counts
from tests.stress._workers import USERS, add_worker, scope_of, text_of

PROCESSES = 4
ADDS_PER_PROCESS = 500
THREADS = 4
ADDS_PER_THREAD = 100
SEARCH_PAUSE_S = 0.01
"""The search thread sleeps this long between searches so it does not starve 2 busy cores."""
SAMPLED_LOOKUPS = 60
TIMEOUT_S = 240.0


class Searcher:
    """Searches a random user's scope in a loop until stopped; counts searches and exceptions."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.stop = threading.Event()
        self.searches = 0
        self.errors: list[str] = []
        self.leaks: list[str] = []

    def run(self) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            user = rng.choice(USERS)
            try:
                hits = self.memory.search(f"likes {rng.choice(['coffee', 'jazz', 'books'])}", user_id=user)
                self.leaks.extend(h["id"] for h in hits["results"] if h.get("user_id") != user)
                listed = self.memory.get_all(user_id=user, top_k=5)
                self.leaks.extend(h["id"] for h in listed["results"] if h.get("user_id") != user)
            except Exception:  # noqa: BLE001 - collected and asserted on below
                self.errors.append(traceback.format_exc())
            self.searches += 1
            time.sleep(SEARCH_PAUSE_S)


def _thread_adds(memory: Memory, thread: int, added: list[tuple[str, str]], errors: list[str]) -> None:
    for sequence in range(ADDS_PER_THREAD):
        text = text_of(f"t{thread}", sequence)
        try:
            result = memory.add(text, infer=False, **scope_of(PROCESSES + thread, sequence))
            added.extend((item["memory"], item["id"]) for item in result["results"])
        except Exception:  # noqa: BLE001 - collected and asserted on below
            errors.append(traceback.format_exc())


def _collect(out: Any, expected: int, kind: str, deadline: float) -> list[dict[str, Any]]:
    """``expected`` messages of ``kind`` from the workers' queue, or fail at ``deadline``."""
    got: list[dict[str, Any]] = []
    while len(got) < expected:
        try:
            message: dict[str, Any] = out.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"only {len(got)} of {expected} workers sent {kind!r} in time")
        if message["kind"] == "result" and kind == "ready":
            pytest.fail(f"worker {message['proc']} failed before it was ready:\n{message['errors']}")
        if message["kind"] == kind:
            got.append(message)
    return got


def _run_all(path: Path, parent: Memory) -> dict[str, Any]:
    """Run every writer at once; return what each one added and raised, and the searcher."""
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(target=add_worker, args=(str(path), p, ADDS_PER_PROCESS, go, out), daemon=True)
        for p in range(PROCESSES)
    ]
    thread_added: list[list[tuple[str, str]]] = [[] for _ in range(THREADS)]
    thread_errors: list[str] = []
    searcher = Searcher(parent)
    search_thread = threading.Thread(target=searcher.run, daemon=True)
    try:
        for proc in procs:
            proc.start()
        deadline = time.monotonic() + TIMEOUT_S
        _collect(out, PROCESSES, "ready", deadline)
        threads = [
            threading.Thread(target=_thread_adds, args=(parent, t, thread_added[t], thread_errors))
            for t in range(THREADS)
        ]
        start = time.perf_counter()
        go.set()
        search_thread.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT_S)
        results = _collect(out, PROCESSES, "result", deadline)
        seconds = time.perf_counter() - start
        for proc in procs:
            proc.join(30)
    finally:
        searcher.stop.set()
        if search_thread.is_alive():
            search_thread.join(30)
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join(10)
        out.close()
        out.join_thread()
    return {
        "procs": sorted(results, key=lambda r: int(r["proc"])),
        "thread_added": thread_added,
        "thread_errors": thread_errors,
        "searcher": searcher,
        "seconds": seconds,
        "exitcodes": [p.exitcode for p in procs],
    }


def _check_lookups(memory: Memory, added: list[tuple[str, str]], stored: dict[str, tuple[Any, ...]]) -> int:
    """Search a sample of exact texts: each must come first, with cosine ~1 (its own vector)."""
    misses = []
    for text, memory_id in random.Random(3).sample(added, SAMPLED_LOOKUPS):
        user_id = stored[memory_id][1]
        hits = memory.search(text, user_id=user_id, top_k=1, explain=True)["results"]
        if not hits or hits[0]["id"] != memory_id or hits[0]["score_details"]["semantic_score"] < 0.999:
            misses.append((text, memory_id, hits[:1]))
    assert not misses, f"exact-text searches that missed their memory: {misses[:3]}"
    return SAMPLED_LOOKUPS


@pytest.mark.stress
def test_concurrent_processes_and_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    parent = open_memory(path)
    try:
        run = _run_all(path, parent)
        procs: list[dict[str, Any]] = run["procs"]
        searcher: Searcher = run["searcher"]
        errors = [e for r in procs for e in r["errors"]] + run["thread_errors"] + searcher.errors
        added = [tuple(a) for r in procs for a in r["added"]] + [a for t in run["thread_added"] for a in t]
        store = sqlite_store(parent)
        rows = store.execute("SELECT id, user_id, agent_id, text FROM memories WHERE deleted_at IS NULL")
        stored = {r[0]: r for r in rows}
        lost = [memory_id for _, memory_id in added if memory_id not in stored]
        wrong_text = [
            memory_id for text, memory_id in added if memory_id in stored and stored[memory_id][3] != text
        ]
        dup_rows = store.execute("SELECT text, count(*) FROM memories GROUP BY text HAVING count(*) > 1")
        duplicated = sum(int(n) - 1 for _, n in dup_rows) + len(added) - len({i for _, i in added})
        per_writer = {
            origin: int(
                store.execute("SELECT count(*) FROM memories WHERE text LIKE ?", (f"{origin} %",))[0][0]
            )
            for origin in [f"p{p}" for p in range(PROCESSES)] + [f"t{t}" for t in range(THREADS)]
        }
        counts = table_counts(store)
        total = PROCESSES * ADDS_PER_PROCESS + THREADS * ADDS_PER_THREAD
        fresh = open_memory(path)
        try:
            lookups = _check_lookups(fresh, added, stored) + _check_lookups(parent, added, stored)
        finally:
            fresh.close()
        seconds: float = run["seconds"]
        rate = total / seconds
        figures = {
            "processes": PROCESSES,
            "adds_per_process": ADDS_PER_PROCESS,
            "threads": THREADS,
            "adds_per_thread": ADDS_PER_THREAD,
            "adds": total,
            "acknowledged": len(added),
            "errors": len(errors),
            "lost": len(lost),
            "duplicated": duplicated,
            "wrong_text": len(wrong_text),
            "searches": searcher.searches,
            "search_errors": len(searcher.errors),
            "search_scope_leaks": len(searcher.leaks),
            "exact_lookups": lookups,
            "seconds": round(seconds, 2),
            "adds_per_s": round(rate, 1),
            "per_writer": per_writer,
            "table_counts": counts,
        }
        ok = (
            not (errors or lost or duplicated or wrong_text or searcher.leaks) and counts["memories"] == total
        )
        record(
            "concurrency",
            f"{PROCESSES * ADDS_PER_PROCESS:,} adds in {PROCESSES} processes + "
            f"{THREADS * ADDS_PER_THREAD:,} in {THREADS} threads, {len(errors)} errors, {len(lost)} lost, "
            f"{duplicated} duplicated, {searcher.searches} concurrent searches "
            f"({len(searcher.errors)} raised), {rate:,.0f} adds/s",
            figures,
            ok=ok,
        )
        assert not errors, f"{len(errors)} calls raised; first ones:\n" + "\n".join(errors[:3])
        assert run["exitcodes"] == [0] * PROCESSES
        assert len(added) == total, f"{total - len(added)} adds returned no result"
        assert not lost, f"{len(lost)} acknowledged ids missing from the store: {lost[:5]}"
        assert not wrong_text, f"ids whose stored text differs from the added one: {wrong_text[:5]}"
        assert duplicated == 0, f"texts stored more than once: {dup_rows[:5]}"
        expected = {f"p{p}": ADDS_PER_PROCESS for p in range(PROCESSES)}
        expected.update({f"t{t}": ADDS_PER_THREAD for t in range(THREADS)})
        assert per_writer == expected
        assert counts == {
            "memories": total,
            "memory_versions": total,
            "history": total,
            "messages": total,
            "memory_sources": total,
            "profile_slots": 0,  # verbatim adds set no profile
            "live": total,
        }
        assert searcher.searches > 0
        assert not searcher.leaks, f"searches returned other users' memories: {searcher.leaks[:5]}"
    finally:
        parent.close()
