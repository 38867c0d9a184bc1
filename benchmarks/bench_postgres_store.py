"""The ``Memory`` API over the PostgreSQL store beside SQLite: per-call latency of the writes and
reads an application makes (issue 14), in the same run, on the same machine.

Each back end gets a fresh store (a private ``LocalPostgres`` in a temporary folder, stopped at
the end, and an SQLite file) and a ``Memory`` on the hash embedder (64 dimensions: the figures
are the store's, not a model's). In one scope of ``--size`` memories it times, call by call:
``add(infer=False)`` of one message, ``get``, ``get_all`` (100 newest), ``update`` (new text:
a new version), ``history``, ``search`` (top 10) and ``delete``. Then 4 processes add at once
to one scope (the figure PostgreSQL is for: several writers). Figures only, no assertions.

    python benchmarks/bench_postgres_store.py                 # 1,000 memories, 200 calls each
    python benchmarks/bench_postgres_store.py --size 5000 --calls 500
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_core import table, time_calls  # benchmarks/ is on sys.path

from memlane import Memory
from memlane.store.postgres.server import LocalPostgres

os.environ.setdefault("HF_HUB_OFFLINE", "1")

USER = "bench-user"
WRITERS = 4


def config(store: dict[str, Any]) -> dict[str, Any]:
    return {"embedder": {"provider": "hash", "config": {"embedding_dims": 64}}, "vector_store": store}


def percentiles(seconds: list[float]) -> tuple[str, str]:
    ms = np.asarray(seconds) * 1000.0
    return f"{np.percentile(ms, 50):.2f}", f"{np.percentile(ms, 95):.2f}"


def measure(memory: Memory, size: int, calls: int) -> dict[str, list[float]]:
    """Per-call seconds of each operation, in one scope that holds ``size`` memories."""
    rng = random.Random(7)
    words = [f"w{i}" for i in range(2000)]

    def text() -> str:
        return " ".join(rng.choices(words, k=10))

    for start in range(0, size, 100):
        memory.add(
            [{"role": "user", "content": text()} for _ in range(min(100, size - start))],
            user_id=USER,
            infer=False,
        )
    ids: list[str] = []
    out: dict[str, list[float]] = {}
    steps: list[tuple[str, Callable[[int], object]]] = [
        (
            "add (1 message)",
            lambda i: ids.append(memory.add(text(), user_id=USER, infer=False)["results"][0]["id"]),
        ),
        ("get", lambda i: memory.get(ids[i])),
        ("get_all (100 newest)", lambda i: memory.get_all(user_id=USER, top_k=100)),
        ("update (new version)", lambda i: memory.update(ids[i], text=text())),
        ("history", lambda i: memory.history(ids[i])),
        ("search (top 10)", lambda i: memory.search(text(), user_id=USER, top_k=10)),
        ("delete", lambda i: memory.delete(ids[i])),
    ]
    for name, call in steps:
        out[name] = time_calls(call, calls)
    return out


def _writer(store: dict[str, Any], proc: int, count: int, go: Any, out: Any) -> None:
    memory = Memory(config(store))
    done = 0
    try:
        out.put("ready")
        go.wait(120)
        for i in range(count):
            memory.add(f"writer {proc} memory {i}", user_id="shared", infer=False)
            done += 1
    finally:
        memory.close()
        out.put(done)


def concurrent_adds(store: dict[str, Any], count: int) -> float:
    """Adds per second of ``WRITERS`` processes adding ``count`` memories each to one scope."""
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(store, p, count, go, out)) for p in range(WRITERS)]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert out.get(timeout=120) == "ready"
    start = time.perf_counter()
    go.set()
    done = sum(int(out.get(timeout=600)) for _ in procs)
    seconds = time.perf_counter() - start
    for proc in procs:
        proc.join(30)
    if done != WRITERS * count:
        print(f"warning: the writers finished {done} of {WRITERS * count} adds (see their errors above)")
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1000, help="memories in the scope before timing")
    parser.add_argument("--calls", type=int, default=200, help="calls timed per operation")
    parser.add_argument("--writer-adds", type=int, default=250, help="adds per concurrent writer")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="memlane-bench-pg-"))
    server = LocalPostgres(folder / "pg")
    try:
        server.start()
        stores = {
            "postgres": {"provider": "postgres", "config": {"url": server.database("bench")}},
            "sqlite": {"provider": "sqlite", "config": {"path": str(folder / "bench.db")}},
        }
        concurrent = {
            "postgres": {
                "provider": "postgres",
                "config": {"url": server.database("writers"), "max_size": 2},
            },
            "sqlite": {"provider": "sqlite", "config": {"path": str(folder / "writers.db")}},
        }
        figures: dict[str, dict[str, list[float]]] = {}
        rates: dict[str, float] = {}
        for name, store in stores.items():
            memory = Memory(config(store))
            try:
                figures[name] = measure(memory, args.size, args.calls)
            finally:
                memory.close()
            rates[name] = concurrent_adds(concurrent[name], args.writer_adds)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"memlane Memory API, PostgreSQL store beside SQLite (Python {platform.python_version()}, ", end="")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")
    print(
        f"one scope of {args.size:,} memories, {args.calls} calls per operation, hash embedder; ms per call\n"
    )
    rows = []
    for operation in figures["postgres"]:
        pg50, pg95 = percentiles(figures["postgres"][operation])
        sq50, sq95 = percentiles(figures["sqlite"][operation])
        rows.append([operation, pg50, pg95, sq50, sq95])
    print(table(["operation", "postgres p50", "p95", "sqlite p50", "p95"], rows))
    print(
        f"\n{WRITERS} processes adding {args.writer_adds} each to one scope at once: "
        f"postgres {rates['postgres']:,.0f} adds/s, sqlite {rates['sqlite']:,.0f} adds/s"
    )


if __name__ == "__main__":
    main()
