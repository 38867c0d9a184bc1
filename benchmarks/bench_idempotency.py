"""The cost of ``add(idempotency_key=...)`` (issue 14) on SQLite and PostgreSQL.

Per back end, a fresh store (a SQLite file; a database on a private ``LocalPostgres`` in a
temporary folder, stopped at the end), the hash embedder (no model), ``infer=False`` (no LLM):
``N`` adds without a key alternated with ``N`` adds each with a new key (the claim, then the
answer kept in the add's transaction), then ``N`` replays of keys already used (the answer read
back, nothing written). Prints p50 / p95 milliseconds per call. Figures only, no assertions; the machine may
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


def _ms(work: Callable[[int], object], i: int) -> float:
    start = time.perf_counter()
    work(i)
    return (time.perf_counter() - start) * 1000


def _figures(seconds: list[float]) -> tuple[float, float]:
    seconds = sorted(seconds)
    return statistics.median(seconds), seconds[int(len(seconds) * 0.95) - 1]


def _run(name: str, memory: Memory, calls: int) -> None:
    def plain(i: int) -> object:
        return memory.add(f"plain note number {i}", user_id="u", infer=False)

    def keyed(i: int) -> object:
        return memory.add(f"keyed note number {i}", user_id="u", infer=False, idempotency_key=f"k{i}")

    timed: dict[str, list[float]] = {"no key": [], "new key": [], "replay": []}
    for i in range(calls):  # alternated, so both kinds see the same store size and machine load
        timed["no key"].append(_ms(plain, i))
        timed["new key"].append(_ms(keyed, i))
    timed["replay"] = [_ms(keyed, i) for i in range(calls)]
    for kind, seconds in timed.items():
        p50, p95 = _figures(seconds)
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
