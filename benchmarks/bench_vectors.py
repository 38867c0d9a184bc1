"""Exact against approximate vector search in the SQLite store, at growing sizes of one scope.

For each size it writes N unit vectors (384 dimensions) into a fresh SQLite file, all in one
scope, and opens the file twice: once exact (``ann_threshold=None``, the numpy scan) and once
approximate (``ann_threshold=1``, the usearch index with exact re-scoring, as every selection of
``ann_threshold`` memories or more is searched by default). It prints:

- ``load``: the exact store's first search (reads every vector from the table);
- ``build``: the approximate store's first search (reads them, builds the index, saves it);
- ``restore``: the first search of a third store opened afterwards (reads the vectors and the
  saved index file, and checks one against the other);
- query latency p50/p95 of ``SQLiteStore.vector_search`` for ``--limits`` (10 is a top_k, 200
  the candidate pool one ``Memory.search`` asks for), exact and approximate;
- recall@limit of the approximate results against the exact ones.

Data: ``clustered`` = deterministic Gaussian clusters (N/50 centres, cosine ~0.7 within a
cluster; queries are new draws, so not copies of stored rows); ``minilm`` = sentences of
``bench_core.py`` embedded with all-MiniLM-L6-v2 (about 600 sentences/s here, so keep it to
10k-20k), queried with its question templates.

    python benchmarks/bench_vectors.py                          # 10k and 100k, clustered
    python benchmarks/bench_vectors.py --sizes 1000000 --queries 100
    python benchmarks/bench_vectors.py --data minilm --sizes 10000

It prints figures and never asserts timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from memlane.filters import Cond
from memlane.models import MemoryRecord, Scope, Vectors, new_id
from memlane.store.sqlite import SQLiteStore

DIMS = 384
AT = "2026-01-01T00:00:00+00:00"
WHERE = Cond("user_id", "eq", "bench")


def clustered(count: int, queries: int, seed: int) -> tuple[Vectors, Vectors]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, count // 50), DIMS)).astype(np.float32)

    def draw(n: int) -> Vectors:
        out = np.empty((n, DIMS), dtype=np.float32)
        for start in range(0, n, 50_000):
            stop = min(n, start + 50_000)
            rows = centres[rng.integers(0, len(centres), stop - start)]
            rows = rows + 0.6 * rng.standard_normal((stop - start, DIMS)).astype(np.float32)
            out[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return out

    return draw(count), draw(queries)


def minilm(count: int, queries: int, seed: int) -> tuple[Vectors, Vectors]:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_core import queries as question_texts
    from bench_core import sentences

    from memlane.embed.local import LocalEmbedder

    embedder = LocalEmbedder()
    return embedder.embed(sentences(count, seed)), embedder.embed(question_texts(queries, seed))


def fill(path: Path, rows: Vectors) -> float:
    store = SQLiteStore(path, ann_threshold=None)
    store.ensure_dimension(DIMS)
    start = time.perf_counter()
    for begin in range(0, len(rows), 10_000):
        with store.transaction() as tx:
            for row in rows[begin : begin + 10_000]:
                record = MemoryRecord(
                    id=new_id(), text="m", scope=Scope("bench", None, None), created_at=AT, updated_at=AT
                )
                tx.insert(record, row)
    store.close()
    return time.perf_counter() - start


def timed(store: SQLiteStore, queries: Vectors, limit: int) -> tuple[list[list[str]], list[float]]:
    results, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        results.append([memory_id for memory_id, _ in store.vector_search(query, WHERE, limit)])
        seconds.append(time.perf_counter() - start)
    return results, seconds


def ms(values: list[float], pct: float) -> str:
    return f"{1000 * float(np.percentile(values, pct)):.2f}"


def run(size: int, args: argparse.Namespace, folder: Path) -> None:
    make = minilm if args.data == "minilm" else clustered
    start = time.perf_counter()
    rows, queries = make(size, args.queries, args.seed)
    made = time.perf_counter() - start
    path = folder / f"vectors-{size}.db"
    inserted = fill(path, rows)
    del rows
    exact = SQLiteStore(path, ann_threshold=None)
    approximate = SQLiteStore(path, ann_threshold=1, ann_oversample=args.oversample)
    start = time.perf_counter()
    exact.vector_search(queries[0], WHERE, 10)
    load = time.perf_counter() - start
    start = time.perf_counter()
    approximate.vector_search(queries[0], WHERE, 10)
    build = time.perf_counter() - start
    reopened = SQLiteStore(path, ann_threshold=1, ann_oversample=args.oversample)
    start = time.perf_counter()
    reopened.vector_search(queries[0], WHERE, 10)
    restore = time.perf_counter() - start
    reopened.close()
    print(
        f"{args.data} n={size:,}: data {made:.1f} s, insert {inserted:.1f} s, exact load {load:.2f} s, "
        f"approximate load+build(+save) {build:.1f} s, a new process's load+read of the saved index "
        f"{restore:.2f} s"
    )
    for limit in args.limits:
        truth, exact_s = timed(exact, queries, limit)
        found, approx_s = timed(approximate, queries, limit)
        recall = np.mean([len(set(a) & set(t)) / max(1, len(t)) for a, t in zip(found, truth, strict=True)])
        print(
            f"  limit {limit:>4}: exact p50 {ms(exact_s, 50)} ms p95 {ms(exact_s, 95)} ms | approximate "
            f"p50 {ms(approx_s, 50)} ms p95 {ms(approx_s, 95)} ms | recall@{limit} {recall:.3f}"
        )
    exact.close()
    approximate.close()
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--data", choices=("clustered", "minilm"), default="clustered")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limits", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--oversample", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, oversample {args.oversample}")
    with tempfile.TemporaryDirectory(prefix="memlane-bench-vectors-") as folder:
        for size in args.sizes:
            run(size, args, Path(folder))


if __name__ == "__main__":
    main()
