"""Several processes writing one scope of the PostgreSQL graph at once: each new name becomes
one entity (the scope's advisory lock serialises entity resolution), and no mention is lost."""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Any

import psycopg
import pytest

from memlane.graph.models import ExtractedRelation
from memlane.models import Scope
from memlane.store.postgres.graph import PostgresGraphStore

pytestmark = pytest.mark.integration

ALICE = Scope(user_id="alice")
PROCESSES = 4
ROUNDS = 15


def _writer(url: str, worker: int, barrier: Any, errors: Any) -> None:
    graph = PostgresGraphStore(url, max_connections=1)
    try:
        for n in range(ROUNDS):
            facts = [
                ExtractedRelation(source="I", relationship="visited", destination=f"Town{n}"),
                ExtractedRelation(source=f"Town{n}", relationship="located_in", destination=f"Region{n}"),
            ]
            barrier.wait(timeout=60)
            # exact names only: the hash embedder finds some of these names alike
            graph.apply(ALICE, [], facts, memory_ids=[f"w{worker}-{n}"])
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        errors.put(traceback.format_exc())
        barrier.abort()
    finally:
        graph.close()


def test_processes_adding_the_same_new_names_make_one_entity_each(postgres_url: str) -> None:
    PostgresGraphStore(postgres_url, max_connections=1).close()  # migrated before the race
    context = multiprocessing.get_context("spawn")
    barrier, errors = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_writer, args=(postgres_url, i, barrier, errors)) for i in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=180)
    problems = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert problems == [] and [p.exitcode for p in workers] == [0] * PROCESSES
    with psycopg.connect(postgres_url) as conn:
        per_name = conn.execute("SELECT norm, count(*) FROM graph_names GROUP BY norm").fetchall()
        entities = conn.execute("SELECT count(*) FROM graph_entities").fetchone()
        relations = conn.execute(
            "SELECT r.relationship, r.mentions, count(m.memory_id) FROM graph_relations r "
            "JOIN graph_relation_memories m ON m.tenant = r.tenant AND m.relation_id = r.id "
            "GROUP BY r.id, r.relationship, r.mentions"
        ).fetchall()
    assert len(per_name) == 1 + 2 * ROUNDS and {c for _, c in per_name} == {1}
    assert entities == (1 + 2 * ROUNDS,)
    assert len(relations) == 2 * ROUNDS
    assert {(mentions, memories) for _, mentions, memories in relations} == {(PROCESSES, PROCESSES)}
