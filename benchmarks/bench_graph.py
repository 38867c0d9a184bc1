"""Graph search latency at scale: 10k entities and 50k relations in ONE scope (by default).

For each back end (SQLite, the embedded default; FalkorDB when its extra is installed and its
server starts; PostgreSQL on a private local server, from the postgres extra) it builds a
synthetic graph through ``GraphStore.apply`` in batches, then times
``search()`` (p50/p95/mean, milliseconds) for:

- ``named, 1 hop`` / ``named, 2 hops``: queries naming a person ("where does Alice Kumar work?"),
  so the seeds come from exact name matches; the query vector is passed too, as Memory does;
- ``vector only, 2 hops``: queries that name nobody, so the seeds come from name similarity
  (every entity vector of the scope is scored);
- ``hub, 2 hops``: queries about the scope's user, an entity with ~500 relations;

and ``apply()`` of one small extraction (3 relations, new and repeated) at that size.
Entity names are embedded by the hash embedder (``--embedder hash``, default), so the figures
are the store's; ``--embedder local`` uses all-MiniLM-L6-v2. It prints figures, asserts nothing.

    python benchmarks/bench_graph.py
    python benchmarks/bench_graph.py --entities 2000 --relations 10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from memlane.embed.base import Embedder
from memlane.embed.hash import HashEmbedder
from memlane.errors import MemlaneError
from memlane.graph.base import GraphStore
from memlane.graph.models import ExtractedRelation
from memlane.graph.settings import GraphSettings
from memlane.models import Scope
from memlane.store.sqlite.graph import SQLiteGraphStore

USER = "bench"
SCOPE = Scope(user_id=USER)
FIRST = (
    "Alice Bob Chitra Dev Emma Farhan Gita Hiro Ines Jonas Kavya Liam Mei Nikhil Olga Priya Quentin "
    "Rahul Sofia Tariq Uma Victor Wen Ximena Yusuf Zara Arjun Bea Carlos Dana Eitan Fatima Goran Hana "
    "Ivan Julia Kenji Lara Mateo Nora Omar Paula Raj Sara Tomas Ursula Vera Will Yara Zoe"
).split()
LAST = (
    "Kumar Tanaka Smith Garcia Muller Rossi Silva Novak Kim Nguyen Okafor Haddad Larsen Ivanova "
    "Sato Patel Chen Lopez Dubois Costa Jensen Moreau Fischer Weber Romano Alves Horvat Park Tran "
    "Mensah Farah Berg Petrova Ito Shah Wang Diaz Laurent Pereira Nielsen Lambert Keller Ricci "
    "Santos Kovac Cho Pham Adeyemi Nasser Lund"
).split()
PLACES = "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Cyberdyne Soylent Tyrell Aperture".split()
CITIES = "Bangalore Delhi Tokyo Osaka Berlin Lisbon Madrid Paris Toronto Austin Nairobi Lagos Seoul".split()
THINGS = "chess tea jazz hiking pottery sushi tennis poetry cycling baking opera kayaking".split()
RELATIONSHIPS = (
    "knows friend_of colleague_of mentors neighbour_of sibling_of follows admires met works_with "
    "studied_with plays_with".split()
)
QUESTIONS = ("where does {} work?", "who does {} know?", "what does {} like?", "tell me about {}")
VAGUE = ("who works at a big company?", "which people like music?", "anyone from the north?")


def names(count: int) -> list[str]:
    pairs = [f"{f} {last}" for last in LAST for f in FIRST]
    extra = [f"{f} {last} {i}" for i in range(count // len(pairs) + 1) for last in LAST for f in FIRST]
    return (pairs + extra)[:count]


def synthetic(entities: int, relations: int, seed: int) -> tuple[list[str], list[ExtractedRelation]]:
    """People with relations to each other, to places, companies and things; a hub user."""
    rng = random.Random(seed)
    people = names(entities - len(PLACES) - len(CITIES) - len(THINGS) - 1)
    out: dict[tuple[str, str, str], None] = {}
    for person in people:
        out[(person, "works_at", rng.choice(PLACES))] = None
        out[(person, "lives_in", rng.choice(CITIES))] = None
    for i in range(500):
        out[("I", rng.choice(RELATIONSHIPS), people[i % len(people)])] = None
    for company in PLACES:
        out[(company, "located_in", rng.choice(CITIES))] = None
    while len(out) < relations:
        a = rng.choice(people)
        if rng.random() < 0.25:
            out[(a, "likes", rng.choice(THINGS))] = None
        else:
            out[(a, rng.choice(RELATIONSHIPS), rng.choice(people))] = None
    triples = [ExtractedRelation(source=s, relationship=r, destination=d) for s, r, d in out if s != d]
    rng.shuffle(triples)
    return people, triples[:relations]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "mean": statistics.fmean(times)}


def build(graph: GraphStore, triples: list[ExtractedRelation], embedder: Embedder, batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(triples), batch):
        graph.apply(SCOPE, [], triples[i : i + batch], memory_ids=[f"m{i // batch}"], embedder=embedder)
    return time.perf_counter() - start


def measure(graph: GraphStore, people: list[str], embedder: Embedder, queries: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    named = [rng.choice(QUESTIONS).format(rng.choice(people)) for _ in range(queries)]
    texts = named + list(VAGUE)
    vectors = dict(zip(texts, embedder.embed(texts, purpose="search"), strict=True))
    hub = ["what do I do?", "who do I know?", "who are my friends?"]
    hub_vectors = dict(zip(hub, embedder.embed(hub, purpose="search"), strict=True))
    cycle = iter(range(10**9))

    def search(pool: list[str], vecs: dict[str, Any], hops: int) -> Callable[[], Any]:
        def run() -> Any:
            query = pool[next(cycle) % len(pool)]
            return graph.search(SCOPE, query, vecs[query], hops=hops, limit=10)

        return run

    rows = {
        "named, 1 hop": timed(search(named, vectors, 1), queries),
        "named, 2 hops": timed(search(named, vectors, 2), queries),
        "vector only, 2 hops": timed(search(list(VAGUE), vectors, 2), queries),
        "hub, 2 hops": timed(search(hub, hub_vectors, 2), max(queries // 4, 10)),
    }
    small = [
        ExtractedRelation(source="I", relationship="likes", destination="green tea"),
        ExtractedRelation(source=people[1], relationship="works_at", destination=PLACES[0]),
        ExtractedRelation(source=people[2], relationship="knows", destination="A New Person"),
    ]
    rows["apply (3 relations)"] = timed(
        lambda: graph.apply(SCOPE, [], small, memory_ids=["x"], embedder=embedder), max(queries // 4, 10)
    )
    print(f"  {'operation':<22} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9}")
    for name, row in rows.items():
        print(f"  {name:<22} {row['p50']:>9.2f} {row['p95']:>9.2f} {row['mean']:>9.2f}")
    sample = graph.search(SCOPE, named[0], vectors[named[0]], hops=2, limit=3)
    print(f"  e.g. {named[0]!r} -> {[s.relation.triple() for s in sample.relations]}")


def limit_threads(count: int) -> None:
    """Cap the BLAS pools numpy uses (threadpoolctl, if installed): on a busy machine a
    multi-threaded BLAS makes each small similarity product wait for busy cores."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        print("note: threadpoolctl is not installed; numpy's BLAS threads are not limited", file=sys.stderr)
        return
    threadpool_limits(count, user_api="blas")


@contextmanager
def sqlite_backend(folder: Path, settings: GraphSettings) -> Iterator[GraphStore]:
    graph = SQLiteGraphStore(folder / "graph.db", settings)
    try:
        yield graph
    finally:
        graph.close()


@contextmanager
def postgres_backend(folder: Path, settings: GraphSettings) -> Iterator[GraphStore]:
    from memlane.store.postgres.graph import PostgresGraphStore
    from memlane.store.postgres.server import LocalPostgres

    with LocalPostgres(folder / "pg") as server:
        graph = PostgresGraphStore(server.database("bench"), settings)
        try:
            yield graph
        finally:
            graph.close()


@contextmanager
def falkordb_backend(folder: Path, settings: GraphSettings) -> Iterator[GraphStore]:
    from memlane.store.falkordb.graph import FalkorDBGraphStore
    from memlane.store.falkordb.server import LocalFalkorDB

    with LocalFalkorDB(folder / "fk") as server:
        graph = FalkorDBGraphStore(unix_socket_path=server.socket_path, graph_name="bench", settings=settings)
        try:
            yield graph
        finally:
            graph.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--relations", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2000, help="relations per apply() while building")
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "falkordb", "postgres"],
        choices=["sqlite", "falkordb", "postgres"],
    )
    parser.add_argument("--embedder", choices=["hash", "local"], default="hash")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, help="cap numpy's BLAS thread pools at N; default: as is")
    args = parser.parse_args(argv)
    if args.threads:
        limit_threads(args.threads)

    embedder: Embedder = HashEmbedder(384)
    if args.embedder == "local":
        from memlane.embed.local import LocalEmbedder

        embedder = LocalEmbedder()
    people, triples = synthetic(args.entities, args.relations, args.seed)
    print(
        f"graph: {len(people)} people, {len(triples)} extracted relations, one scope, {args.embedder} names"
    )
    backends = {"sqlite": sqlite_backend, "falkordb": falkordb_backend, "postgres": postgres_backend}
    for name in args.backends:
        folder = Path(tempfile.mkdtemp(prefix="memlane-bench-graph-"))
        try:
            with backends[name](folder, GraphSettings()) as graph:
                seconds = build(graph, triples, embedder, args.batch)
                stored = len(graph.list_relations(SCOPE, limit=None))
                print(f"\n{name}: built in {seconds:.1f} s ({len(triples) / seconds:.0f} relations/s), "
                      f"{stored} current relations")  # fmt: skip
                measure(graph, people, embedder, args.queries, args.seed)
        except (MemlaneError, ImportError, OSError) as exc:
            print(f"\n{name}: skipped ({exc})")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
