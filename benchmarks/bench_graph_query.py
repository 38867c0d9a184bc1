"""Graph questions: what checking and running the model's query costs (no LLM call is timed).

- ``validate_cypher``: microseconds per query, for short and long legitimate queries and for
  hostile ones (refused);
- ``GraphStore.read_query`` at scale, on the synthetic graph of ``bench_graph`` (10k entities,
  50k relations in one scope by default): the Cypher a model writes for typical questions on
  FalkorDB (validated, scope bound, run read-only with a time limit), and the ``QueryPlan`` of
  the same questions on the SQLite and PostgreSQL graphs (one recursive query, the same for
  both: ``memlane.store.graph_plan``; PostgreSQL on a private local server, from the postgres
  extra). p50/p95/mean in milliseconds.

It prints figures and asserts nothing.

    python benchmarks/bench_graph_query.py
    python benchmarks/bench_graph_query.py --entities 2000 --relations 10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_graph import (
    SCOPE,
    USER,
    build,
    falkordb_backend,
    postgres_backend,
    sqlite_backend,
    synthetic,
    timed,
)

from memlane.embed.hash import HashEmbedder
from memlane.errors import InvalidInputError, MemlaneError
from memlane.graph.base import GraphStore
from memlane.graph.query import MAX_HOPS, CypherQuery, GraphQuery, QueryPlan, validate_cypher
from memlane.graph.settings import GraphSettings

SHORT = "MATCH (a:Entity)-[r:RELATES]->(b:Entity) WHERE 'alice kumar' IN a.names RETURN b.name, r"
LONG = (
    "MATCH p = (a:Entity)-[r:RELATES*1..3]->(b:Entity) WHERE toLower(a.name) = 'alice kumar' "
    "AND all(x IN relationships(p) WHERE x.invalidated_at IS NULL) OPTIONAL MATCH (b)-[s:RELATES]->(c) "
    "WITH a, b, collect(DISTINCT c.name) AS around, length(p) AS hops WHERE size(around) >= 0 "
    "RETURN b.name, hops, around, CASE WHEN hops > 1 THEN 'far' ELSE 'near' END AS how "
    "ORDER BY hops, b.name LIMIT 50"
)
HOSTILE = "MATCH (n:Entity) WHERE n.name = 'x' WITH n MATCH (m) DETACH DELETE m RETURN count(n)"


def bench_validator(rounds: int) -> None:
    print(f"validate_cypher, {rounds} runs each (microseconds per query):")
    for label, text in (("short (85 chars)", SHORT), (f"long ({len(LONG)} chars)", LONG),
                        ("hostile, refused", HOSTILE)):  # fmt: skip
        start = time.perf_counter()
        for _ in range(rounds):
            with contextlib.suppress(InvalidInputError):
                validate_cypher(text, SCOPE, limit=20, max_hops=MAX_HOPS)
        print(f"  {label:<22} {(time.perf_counter() - start) / rounds * 1e6:>9.1f}")


def questions(people: list[str], rng: random.Random, dialect: str | None) -> dict[str, list[GraphQuery]]:
    """Per question kind, the queries a model would write for 20 people: Cypher on FalkorDB (in
    the form the prompt asks for), a ``QueryPlan`` on the SQL graphs."""
    sample = [rng.choice(people) for _ in range(20)]
    cypher = {
        "person, 1 hop": "MATCH (a:Entity)-[r:RELATES]->(b) WHERE '{p}' IN a.names "
        "AND r.invalidated_at IS NULL RETURN b.name, r",
        "person, 2 hops": "MATCH (a:Entity)-[r:RELATES*1..2]->(b) WHERE '{p}' IN a.names "
        "RETURN DISTINCT b.name",
        "works_at + located_in": "MATCH (a:Entity)-[:RELATES {{name: 'works_at'}}]->(c)"
        "-[:RELATES {{name: 'located_in'}}]->(city) WHERE '{p}' IN a.names RETURN city.name",
        "the user (hub), 1 hop": f"MATCH (u:Entity)-[r:RELATES]->(b) WHERE '{USER}' IN u.names "
        "RETURN b.name, r",
    }
    plans = {
        "person, 1 hop": {"direction": "outgoing", "hops": 1},
        "person, 2 hops": {"direction": "outgoing", "hops": 2},
        "works_at + located_in": {
            "relationships": ["works_at", "located_in"],
            "direction": "outgoing",
            "hops": 2,
        },
        "the user (hub), 1 hop": {"start": ["user"], "direction": "outgoing", "hops": 1},
    }
    out: dict[str, list[GraphQuery]] = {}
    for label, text in cypher.items():
        if dialect == "cypher":
            out[label] = [CypherQuery(text.format(p=p.lower())) for p in sample]
        else:
            out[label] = [QueryPlan.model_validate({"start": [p], **plans[label]}) for p in sample]
    return out


def cycling(graph: GraphStore, queries: list[GraphQuery]) -> Callable[[], int]:
    turn = iter(range(10**9))

    def ask() -> int:
        return len(graph.read_query(SCOPE, queries[next(turn) % len(queries)], limit=20).rows)

    return ask


def bench_queries(graph: GraphStore, people: list[str], runs: int, seed: int) -> None:
    print(f"  {'question':<24} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9} {'rows':>6}")
    for label, queries in questions(people, random.Random(seed), graph.query_dialect).items():
        ask = cycling(graph, queries)
        row = timed(ask, runs)
        print(f"  {label:<24} {row['p50']:>9.2f} {row['p95']:>9.2f} {row['mean']:>9.2f} {ask():>6}")


def analyze(graph: GraphStore, args: argparse.Namespace) -> str:
    """PostgreSQL: gather the planner's statistics, as autovacuum does a while after a bulk load
    (before that, the planner takes the new tables for empty and picks slow plans)."""
    if type(graph).__name__ != "PostgresGraphStore" or args.no_analyze:
        return ""
    with graph.reading() as ops:  # type: ignore[attr-defined]
        ops.conn.execute("ANALYZE")
    return ", tables analyzed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--relations", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--validations", type=int, default=2000)
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "falkordb", "postgres"],
        choices=["sqlite", "falkordb", "postgres"],
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: query the freshly loaded tables unanalyzed"
    )
    args = parser.parse_args(argv)
    bench_validator(args.validations)
    people, triples = synthetic(args.entities, args.relations, args.seed)
    print(f"\ngraph: {len(people)} people, {len(triples)} extracted relations, one scope")
    backends = {"sqlite": sqlite_backend, "falkordb": falkordb_backend, "postgres": postgres_backend}
    for name in args.backends:
        folder = Path(tempfile.mkdtemp(prefix="memlane-bench-gq-"))
        try:
            with backends[name](folder, GraphSettings()) as graph:
                seconds = build(graph, triples, HashEmbedder(384), 2000)
                print(f"\n{name} ({graph.query_dialect}): built in {seconds:.1f} s{analyze(graph, args)}")
                bench_queries(graph, people, args.queries, args.seed)
        except (MemlaneError, ImportError, OSError) as exc:
            print(f"\n{name}: skipped ({exc})")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
