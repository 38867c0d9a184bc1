"""The cost of ``add(idempotency_key=...)`` (issue 14) on SQLite and PostgreSQL.

Per back end, a fresh store (a SQLite file; a database on a private ``LocalPostgres`` in a
temporary folder, stopped at the end), the hash embedder (no model), ``infer=False`` (no LLM):
``N`` adds without a key, ``N`` adds each with a new key (the claim, then the answer kept in
the add's transaction), and ``N`` replays of keys already used (the answer read back, nothing
written). Prints p50 / p95 milliseconds per call. Figures only, no assertions; the machine may
be shared, so compare the rows of one run.

    python benchmarks/bench_idempotency.py            # 300 calls of each kind
    python benchmarks/bench_idempotency.py --calls 1000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memlane import Memory
from memlane.store.postgres.server import LocalPostgres


def _config(store: dict[str, Any]) -> dict[str, Any]:
    return {"embedder": {"provider": "hash", "config": {"embedding_dims": 384}}, "vector_store": store}


def _timed(calls: int, work: Callable[[int], object]) -> tuple[float, float]:
    seconds = []
    for i in range(calls):
        start = time.perf_counter()
        work(i)
        seconds.append((time.perf_counter() - start) * 1000)
    seconds.sort()
    return statistics.median(seconds), seconds[int(len(seconds) * 0.95) - 1]


def _run(name: str, memory: Memory, calls: int) -> None:
    def plain(i: int) -> object:
        return memory.add(f"plain note number {i}", user_id="u", infer=False)

    def keyed(i: int) -> object:
        return memory.add(f"keyed note number {i}", user_id="u", infer=False, idempotency_key=f"k{i}")

    rows = [
        ("no key", _timed(calls, plain)),
        ("new key", _timed(calls, keyed)),
        ("replay", _timed(calls, keyed)),
    ]
    for kind, (p50, p95) in rows:
        print(f"{name:<12} {kind:<8} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="memlane-idem-") as folder:
        with Memory(_config({"provider": "sqlite", "config": {"path": str(Path(folder) / "m.db")}})) as m:
            _run("sqlite", m, args.calls)
        with LocalPostgres(Path(folder) / "pg") as server:
            url = server.database("bench")
            with Memory(_config({"provider": "postgres", "config": {"url": url}})) as m:
                _run("postgresql", m, args.calls)


if __name__ == "__main__":
    main()
