"""What only the PostgreSQL graph does: tenants, the schema's keys, joining a caller's
real deletes, vector sizes, and its errors. (The graph contract suite runs over it
too: ``tests/graph/conftest.py``.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from memlane.errors import ConfigError, DimensionMismatchError, StoreError
from memlane.graph.models import ExtractedRelation
from memlane.models import Scope
from memlane.store.postgres.graph import PostgresGraphStore
from memlane.store.postgres.graph_schema import GRAPH_STEPS, GRAPH_TABLES
from memlane.store.postgres.schema import version_of
from tests.graph.conftest import EMBED, vec

pytestmark = pytest.mark.integration

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")


class Boom(Exception):
    pass


def rel(source: str, relationship: str, destination: str) -> ExtractedRelation:
    return ExtractedRelation(source=source, relationship=relationship, destination=destination)


def triples(graph: PostgresGraphStore, scope: Scope) -> set[tuple[str, str, str]]:
    return {
        (r.source, r.relationship, r.destination)
        for r in graph.list_relations(scope, include_invalidated=True)
    }


def count(url: str, table: str, where: str = "true", params: tuple[Any, ...] = ()) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def graphs(postgres_url: str) -> Iterator[tuple[PostgresGraphStore, PostgresGraphStore]]:
    """Two graphs on one database: tenants "acme" and "globex"."""
    first = PostgresGraphStore(postgres_url, tenant="acme", max_connections=2)
    second = PostgresGraphStore(postgres_url, tenant="globex", max_connections=2)
    yield first, second
    first.close()
    second.close()


def test_tenants_share_nothing(
    graphs: tuple[PostgresGraphStore, PostgresGraphStore], postgres_url: str
) -> None:
    acme, globex = graphs
    acme.apply(
        ALICE, [], [rel("I", "works_at", "Acme"), rel("I", "likes", "tea")], memory_ids=["m1"], embedder=EMBED
    )
    globex.apply(ALICE, [], [rel("I", "works_at", "Globex")], memory_ids=["m1"], embedder=EMBED)
    assert triples(acme, ALICE) == {("alice", "works_at", "Acme"), ("alice", "likes", "tea")}
    assert triples(globex, ALICE) == {("alice", "works_at", "Globex")}  # not invalidated by acme's
    hits = globex.search(ALICE, "where does alice work?", vec("Acme"))
    assert {s.relation.destination for s in hits.relations} == {"Globex"}
    # the same memory id and scope in the other tenant are untouched by deletes
    assert globex.remove_memories(["m1"]) == 1
    assert len(triples(acme, ALICE)) == 2
    globex.apply(ALICE, [], [rel("I", "works_at", "Globex")], embedder=EMBED)
    assert acme.delete_scope(ALICE) == 2
    assert triples(globex, ALICE) == {("alice", "works_at", "Globex")}
    acme.apply(BOB, [], [rel("I", "likes", "coffee")], embedder=EMBED)
    globex.reset()
    assert triples(globex, ALICE) == set() and triples(acme, BOB) == {("bob", "likes", "coffee")}
    assert count(postgres_url, "graph_entities", "tenant = %s", ("acme",)) == 2


def test_tenant_leads_every_key_index_and_foreign_key(graphs: Any, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        indexes = conn.execute(
            "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = t.oid "
            "AND a.attnum = i.indkey[0] WHERE t.relname = ANY(%s)",
            (list(GRAPH_TABLES),),
        ).fetchall()
        foreign = conn.execute(
            "SELECT conname, conkey[1] = (SELECT attnum FROM pg_attribute WHERE attrelid = conrelid "
            "AND attname = 'tenant') FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            (list(GRAPH_TABLES),),
        ).fetchall()
        assert version_of(conn, "graph") == len(GRAPH_STEPS)
    assert len(indexes) >= 4 + 4 and {column for _, column in indexes} == {"tenant"}
    assert len(foreign) == 4 and all(leads for _, leads in foreign)


def test_a_second_store_on_a_migrated_database_migrates_nothing(postgres_url: str) -> None:
    stores = [PostgresGraphStore(postgres_url, max_connections=1) for _ in range(2)]
    stores[0].apply(ALICE, [], [rel("I", "likes", "tea")])
    assert triples(stores[1], ALICE) == {("alice", "likes", "tea")}
    for store in stores:
        store.close()


def test_purge_deletes_the_rows(postgres_url: str) -> None:
    graph = PostgresGraphStore(postgres_url, max_connections=1)
    try:
        graph.apply(ALICE, [], [rel("I", "knows", "Quokkasecret Person")], memory_ids=["m1"], embedder=EMBED)
        graph.apply(BOB, [], [rel("I", "likes", "tea")], memory_ids=["m1"], embedder=EMBED)
        assert graph.purge(["m1"], scope=ALICE) == 2
        assert count(postgres_url, "graph_names", "norm LIKE %s", ("%quokka%",)) == 0
        assert count(postgres_url, "graph_entities", "name ILIKE %s", ("%quokka%",)) == 0
        assert (
            count(postgres_url, "graph_entities") == 0 and count(postgres_url, "graph_relation_memories") == 0
        )
    finally:
        graph.close()


def test_a_query_vector_of_another_size_is_refused(postgres_url: str) -> None:
    graph = PostgresGraphStore(postgres_url, max_connections=1)
    try:
        graph.apply(ALICE, [], [rel("I", "likes", "tea")], embedder=EMBED)
        with pytest.raises(DimensionMismatchError) as info:
            graph.search(ALICE, "what?", vec("tea")[:32])
        assert (info.value.stored, info.value.embedder) == (64, 32)
        assert len(graph.search(ALICE, "what?", vec("tea")).relations) == 1
    finally:
        graph.close()


def test_bad_tenants_and_unreachable_servers_are_typed_errors(postgres_url: str) -> None:
    with pytest.raises(ConfigError, match="tenant"):
        PostgresGraphStore(postgres_url, tenant="Bad Tenant")
    with pytest.raises(StoreError) as info:
        PostgresGraphStore("postgresql://u:s3cret@/nowhere?host=/nonexistent-dir")
    assert "s3cret" not in str(info.value)


def test_names_with_nul_round_trip(postgres_url: str) -> None:
    graph = PostgresGraphStore(postgres_url, max_connections=1)
    try:
        graph.apply(
            ALICE, [], [rel("I", "knows", "Nul\x00Person \uffff")], memory_ids=["m\x00"], embedder=EMBED
        )
        [stored] = graph.list_relations(ALICE)
        assert (stored.destination, stored.memory_ids) == ("Nul\x00Person \uffff", ("m\x00",))
        assert graph.remove_memories(["m\x00"]) == 1
    finally:
        graph.close()
