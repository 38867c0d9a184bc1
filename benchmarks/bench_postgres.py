"""PostgreSQL (pgvector, tsvector) beside SQLite at scale: bulk ingest and scoped search (issue 14).

Two data sets, each loaded into a fresh PostgreSQL database (a private ``LocalPostgres`` in a
temporary folder, stopped at the end) and a fresh SQLite file, in the same run:

- ``spread``: 1,000,000 memories over 1,000 scopes (users) of 1,000 each;
- ``single``: 100,000 memories in one scope.

Memories are ``benchmarks/bench_scale.py``'s synthetic 12-word texts (Zipf-like 20,000-word
vocabulary, 30 % name the user) with precomputed random unit vectors (384 dimensions).
PostgreSQL ingests by binary COPY (``memlane.store.postgres.search_copy.copy_memories``: the
memories rows and their search rows, 20,000 per transaction); SQLite through its store's
transactions (20,000 inserts each). The HNSW index is built after the COPY (its build time is
printed) on the ``single`` set, where searches use it, then 10,000 more memories are copied in
with the index live; the ``spread`` set has none, since its scopes (1,000 memories) are below
``EXACT_ROWS`` and are searched exactly through the scope's btree.

Search is timed per store call with the pool ``Memory.search`` asks each signal for (200):
``vector_search``, ``keyword_search`` (scope-local BM25), and both one after the other
("search", on the benchmark's one connection; "store": through ``PostgresStore``, its pool
and its snapshot for BM25, as ``Memory.search`` asked before; "at once": its ``hybrid_search``,
the two on two pooled connections, what ``Memory.search`` asks now), with
the query's vector precomputed ("without embedding") and with it embedded in the timed call by
the hash embedder ("with embedding": the hash embedder, not a model). Queries are
``bench_scale.py``'s (3-6 words, a third with the user's name), each in another scope.
Figures only, no assertions.

    python benchmarks/bench_postgres.py                    # 1M over 1,000 scopes, and 100k in one
    python benchmarks/bench_postgres.py --quick            # 10k over 10 scopes, 5k in one: ~1 min
    python benchmarks/bench_postgres.py --sizes 200000 50000 --scopes 200
    python benchmarks/bench_postgres.py --only single --no-sqlite   # 100k in one scope only
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from bench_core import time_calls  # benchmarks/ is on sys.path
from bench_scale import memories, percentiles, queries

import memlane
from memlane.embed.hash import HashEmbedder
from memlane.filters import Cond
from memlane.models import MemoryRecord, Scope, Vectors
from memlane.store.postgres.schema import migrate
from memlane.store.postgres.search import (
    EXACT_ROWS,
    SEARCH_STEPS,
    keyword_search,
    prepare_dimension,
    vector_search,
)
from memlane.store.postgres.search_copy import copy_memories, text_index_after
from memlane.store.postgres.server import LocalPostgres
from memlane.store.postgres.store import PostgresStore
from memlane.store.postgres.store_schema import STORE_STEPS
from memlane.store.sqlite import SQLiteStore
from memlane.tokenizer import keywords

DIMS = 384
BATCH = 20_000
SETTINGS = {
    "shared_buffers": "1GB", "work_mem": "64MB", "maintenance_work_mem": "1GB",
    "max_parallel_maintenance_workers": "2", "effective_cache_size": "4GB", "max_wal_size": "4GB",
    "random_page_cost": "1.1",
}  # fmt: skip
"""The benchmark server's settings (LocalPostgres's defaults: 128 MB of shared buffers)."""
LIVE_EXTRA = 2_000
"""Memories copied into the single set with its HNSW index live (another scope)."""
POOL = 200
TENANT = "default"
STAMP = "2026-01-01T00:00:00+00:00"

Rows = list[tuple[MemoryRecord, Vectors]]


def batches(count: int, scopes: int, seed: int, offset: int = 0, user: str = "u") -> list[Rows]:
    """``count`` memories (user ``u{i % scopes}``) with random unit vectors, ``BATCH`` at a time."""
    texts = memories(count, seed, 0.3)
    rng = np.random.default_rng(seed)
    return [_batch(texts, start, scopes, (offset, user), rng) for start in range(0, count, BATCH)]


def _batch(
    texts: list[str], start: int, scopes: int, label: tuple[int, str], rng: np.random.Generator
) -> Rows:
    offset, user = label
    chunk = texts[start : start + BATCH]
    vecs = rng.standard_normal((len(chunk), DIMS)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [
        (
            MemoryRecord(
                id=f"m{offset + start + i:08d}", text=text,
                scope=Scope(user_id=f"{user}{(start + i) % scopes}"), created_at=STAMP, updated_at=STAMP,
            ),
            vecs[i],
        )
        for i, text in enumerate(chunk)
    ]  # fmt: skip


def load_postgres(conn: psycopg.Connection[Any], data: list[Rows]) -> tuple[int, float]:
    done, seconds = 0, 0.0
    for rows in data:
        start = time.perf_counter()
        with conn.transaction():
            done += copy_memories(conn, TENANT, rows)
        seconds += time.perf_counter() - start
    return done, seconds


def load_sqlite(store: SQLiteStore, data: list[Rows]) -> tuple[int, float]:
    done, seconds = 0, 0.0
    for rows in data:
        start = time.perf_counter()
        with store.transaction() as tx:
            for record, vector in rows:
                tx.insert(record, vector)
        seconds += time.perf_counter() - start
        done += len(rows)
    return done, seconds


Search = Callable[[Vectors, list[str], str], object]


def timings(
    vector: Search, keyword: Search, qs: list[str], scopes: int, store: PostgresStore | None = None
) -> dict[str, tuple[float, float]]:
    """p50/p95 (ms) of each signal and of both one after the other, without and with the
    query's (hash) embedding; with ``store``, of its two legs one after the other and of its
    ``hybrid_search``, the two at once."""
    embedder = HashEmbedder(DIMS)
    vecs = embedder.embed(qs, purpose="search")
    terms = [keywords(q) for q in qs]
    users = [f"u{(i * 7919) % scopes}" for i in range(len(qs))]

    def both(i: int) -> None:
        vector(vecs[i], terms[i], users[i])
        keyword(vecs[i], terms[i], users[i])

    def embedded(i: int) -> None:
        query = embedder.embed([qs[i]], purpose="search")[0]
        vector(query, terms[i], users[i])
        keyword(query, terms[i], users[i])

    for i in range(min(5, len(qs))):  # warm-up: caches, the SQLite store's vector copy
        both(i)
    figures = {
        "vectors": percentiles(time_calls(lambda i: vector(vecs[i], terms[i], users[i]), len(qs))),
        "bm25": percentiles(time_calls(lambda i: keyword(vecs[i], terms[i], users[i]), len(qs))),
        "search": percentiles(time_calls(both, len(qs))),
        "search+embed": percentiles(time_calls(embedded, len(qs))),
    }
    if store is not None:
        wheres = [Cond("user_id", "eq", user) for user in users]

        def legs(i: int) -> None:
            store.vector_search(vecs[i], wheres[i], POOL)
            store.keyword_search(terms[i], wheres[i], POOL)

        figures["store"] = percentiles(time_calls(legs, len(qs)))
        figures["hybrid"] = percentiles(
            time_calls(lambda i: store.hybrid_search(vecs[i], terms[i], wheres[i], POOL), len(qs))
        )
    return figures


def ingest(conn: psycopg.Connection[Any], data: list[Rows], scopes: int, notes: list[str]) -> int:
    """COPY the set with the GIN index built after it, VACUUM ANALYZE, and the HNSW index
    when the searches will read it (scopes above ``EXACT_ROWS``): each step timed."""
    with text_index_after(conn):
        count, copied = load_postgres(conn, data)
        start = time.perf_counter()
    indexed = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("VACUUM ANALYZE memories")
    conn.execute("VACUUM ANALYZE memory_search")
    conn.execute("VACUUM ANALYZE memory_search_text")
    vacuumed = time.perf_counter() - start
    hnsw = 0.0
    if count // scopes > EXACT_ROWS:  # searches read the HNSW index: build it now
        start = time.perf_counter()
        prepare_dimension(conn, TENANT, DIMS)
        hnsw = time.perf_counter() - start
    total = copied + indexed + vacuumed + hnsw
    notes.append(
        f"COPY {count:,} memories in {copied:.1f} s: {count / copied:,.0f}/s; GIN index {indexed:.1f} s; "
        f"VACUUM ANALYZE {vacuumed:.1f} s; HNSW index "
        + (f"{hnsw:.1f} s" if hnsw else "not built (every scope is searched exactly)")
        + f"; in all {total:.1f} s: {count / total:,.0f}/s"
    )
    return count


def run_postgres(
    server: LocalPostgres, name: str, data: list[Rows], scopes: int, args: argparse.Namespace
) -> tuple[list[str], dict[str, tuple[float, float]]]:
    url = server.database(name)
    notes: list[str] = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        migrate(conn, "store", STORE_STEPS)
        migrate(conn, "search", SEARCH_STEPS)
        count = ingest(conn, data, scopes, notes)
        if count // scopes > EXACT_ROWS:
            extra = min(LIVE_EXTRA, count)
            done, seconds = load_postgres(conn, batches(extra, 1, args.seed + 1, offset=count, user="x"))
            conn.execute("ANALYZE memories")
            notes.append(f"COPY {done:,} more with the indexes live: {done / seconds:,.0f}/s (another scope)")
        qs = queries(args.queries, args.seed)

        def vector(vec: Vectors, _: list[str], user: str) -> object:
            return vector_search(conn, TENANT, vec, Cond("user_id", "eq", user), POOL)

        def keyword(_: Vectors, terms: list[str], user: str) -> object:
            return keyword_search(conn, TENANT, terms, Cond("user_id", "eq", user), POOL)

        store = PostgresStore(url, tenant=TENANT)  # hybrid_search: both legs at once
        try:
            figures = timings(vector, keyword, qs, scopes, store)
        finally:
            store.close()
    server.drop(name)
    return notes, figures


def run_sqlite(
    folder: Path, data: list[Rows], scopes: int, args: argparse.Namespace
) -> tuple[list[str], dict[str, tuple[float, float]]]:
    path = folder / f"bench-{scopes}.db"
    store = SQLiteStore(path)
    try:
        store.ensure_dimension(DIMS)
        done, seconds = load_sqlite(store, data)
        notes = [f"inserted {done:,} memories in {seconds:.1f} s: {done / seconds:,.0f}/s"]
        qs = queries(args.queries, args.seed)
        figures = timings(
            lambda vec, _, user: store.vector_search(vec, Cond("user_id", "eq", user), POOL),
            lambda _, terms, user: store.keyword_search(terms, Cond("user_id", "eq", user), POOL),
            qs,
            scopes,
        )
    finally:
        store.close()
        path.unlink(missing_ok=True)
    return notes, figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs=2, metavar=("SPREAD", "SINGLE"), default=[1_000_000, 100_000],
        help="memories of the spread set (over --scopes scopes) and of the single-scope set",
    )  # fmt: skip
    parser.add_argument("--scopes", type=int, default=1000, help="scopes of the spread set")
    parser.add_argument(
        "--quick", action="store_true", help="10,000 over 10 scopes and 5,000 in one, 30 queries"
    )
    parser.add_argument("--queries", type=int, default=100, help="timed queries per set and store")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--only", choices=["spread", "single"], help="run one of the two sets only")
    args = parser.parse_args(argv)
    spread, single = (10_000, 5_000) if args.quick else args.sizes
    scopes = 10 if args.quick else args.scopes
    if args.quick:
        args.queries = 30
    began = time.perf_counter()
    print("memlane PostgreSQL benchmark (random vectors; hash embedder for 'with embedding')")
    print(f"  memlane {memlane.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPU cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="memlane-pgb-"))
    server = LocalPostgres(folder / "pg", SETTINGS)
    print("  PostgreSQL settings: " + ", ".join(f"{k}={v}" for k, v in SETTINGS.items()))
    results: list[tuple[str, str, list[str], dict[str, tuple[float, float]]]] = []
    try:
        server.start()
        sets = [(f"spread: {spread:,} over {scopes:,} scopes", "spread", spread, scopes),
                (f"single: {single:,} in one scope", "single", single, 1)]  # fmt: skip
        for label, name, count, n_scopes in [s for s in sets if args.only in (None, s[1])]:
            start = time.perf_counter()
            data = batches(count, n_scopes, args.seed)
            print(f"  {label}: generated in {time.perf_counter() - start:.0f} s", flush=True)
            notes, figures = run_postgres(server, name, data, n_scopes, args)
            results.append((label, "postgres", notes, figures))
            print(f"  {label} postgres: " + "; ".join(notes), flush=True)
            if not args.no_sqlite:
                notes, figures = run_sqlite(folder, data, n_scopes, args)
                results.append((label, "sqlite", notes, figures))
                print(f"  {label} sqlite: " + "; ".join(notes), flush=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(f"{'set':<36} {'store':<9} | {'search p50':>10} {'p95':>7} | {'store p50':>11} {'p95':>7} | "
          f"{'at once p50':>11} {'p95':>7} | "
          f"{'+embed p50':>10} {'p95':>7} | {'vectors p50':>11} {'p95':>7} | {'BM25 p50':>8} {'p95':>7}"
          f"   (ms, pool {POOL})")  # fmt: skip
    for label, store, _, f in results:
        s, e, v, k = f["search"], f["search+embed"], f["vectors"], f["bm25"]
        st, h = (
            (f"{f[key][0]:>11.1f} {f[key][1]:>7.1f}" if key in f else f"{'-':>11} {'-':>7}")
            for key in ("store", "hybrid")
        )
        print(f"{label:<36} {store:<9} | {s[0]:>10.1f} {s[1]:>7.1f} | {st} | {h} | "
              f"{e[0]:>10.1f} {e[1]:>7.1f} | {v[0]:>11.1f} {v[1]:>7.1f} | "
              f"{k[0]:>8.1f} {k[1]:>7.1f}")  # fmt: skip
    print(f"\ntotal {time.perf_counter() - began:.0f} s; load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
