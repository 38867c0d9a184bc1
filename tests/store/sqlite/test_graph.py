"""What only the SQLite graph does: one file and one transaction with the memories, erasure on
disk, several connections, the migration, and the walk's row limit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memlane.errors import DimensionMismatchError
from memlane.filters import All
from memlane.graph.models import ExtractedRelation
from memlane.models import MemoryRecord, Scope, now_iso
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.graph import SQLiteGraphStore
from memlane.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from tests.graph.conftest import EMBED, vec

ALICE = Scope(user_id="alice")


class Boom(Exception):
    pass


def rel(source: str, relationship: str, destination: str) -> ExtractedRelation:
    return ExtractedRelation(source=source, relationship=relationship, destination=destination)


def memory(text: str) -> MemoryRecord:
    now = now_iso()
    return MemoryRecord(id=f"id-{text}", text=text, scope=ALICE, created_at=now, updated_at=now)


def test_graph_writes_join_the_memory_transaction(db_dir: Path) -> None:
    store = SQLiteStore(db_dir / "m.db")
    graph = SQLiteGraphStore(store)
    try:
        with pytest.raises(Boom), store.transaction() as tx:
            tx.insert(memory("works at acme"), vec("works at acme"))
            graph.apply(
                ALICE, [], [rel("I", "works_at", "Acme")], memory_ids=["id-works at acme"], embedder=EMBED
            )
            raise Boom
        assert store.count(All()) == 0 and graph.list_relations(ALICE) == []
        assert graph.search(ALICE, "the company", vec("Acme"), hops=1).relations == []
        with store.transaction() as tx:
            tx.insert(memory("works at acme"), vec("works at acme"))
            graph.apply(
                ALICE, [], [rel("I", "works_at", "Acme")], memory_ids=["id-works at acme"], embedder=EMBED
            )
        assert store.count(All()) == 1 and len(graph.list_relations(ALICE)) == 1
        assert len(graph.search(ALICE, "the company", vec("Acme"), hops=1).relations) == 1
        graph.close()  # the shared store stays open
        assert store.count(All()) == 1
    finally:
        store.close()


def test_purge_leaves_no_copy_of_a_name_in_the_files(db_dir: Path) -> None:
    path = db_dir / "g.db"
    graph = SQLiteGraphStore(path)
    graph.apply(ALICE, [], [rel("I", "knows", "Quokkasecret Person")], memory_ids=["m1"], embedder=EMBED)
    graph.apply(Scope(user_id="bob"), [], [rel("I", "likes", "tea")], embedder=EMBED)
    assert graph.purge(scope=ALICE) == 1
    graph.close()
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()
    assert b"quokkasecret" not in data and b"tea" in data


def test_another_connection_sees_new_entities(db_dir: Path) -> None:
    first, second = SQLiteGraphStore(db_dir / "g.db"), SQLiteGraphStore(db_dir / "g.db")
    try:
        second.apply(ALICE, [], [rel("I", "likes", "tea")], embedder=EMBED)  # loads second's cache
        first.apply(ALICE, [], [rel("I", "knows", "Robert James Smith")], embedder=EMBED)
        changes = second.apply(ALICE, [], [rel("I", "admires", "Robert James Smith Jr")], embedder=EMBED)
        assert changes.entities_added == []
        assert len(second.search(ALICE, "who?", vec("Robert James Smith"), hops=1).relations) == 2
    finally:
        first.close()
        second.close()


def test_an_old_database_gets_the_graph_tables(db_dir: Path) -> None:
    path = db_dir / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    conn.close()
    graph = SQLiteGraphStore(path)
    try:
        graph.apply(ALICE, [], [rel("I", "likes", "tea")])
        assert len(graph.list_relations(ALICE)) == 1
    finally:
        graph.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()


def test_the_walk_stops_at_its_row_limit(db_dir: Path) -> None:
    store = SQLiteStore(":memory:")
    graph = SQLiteGraphStore(store)
    graph.settings = graph.settings.model_copy(update={"walk_limit": 10})
    hub = [rel("I", "knows", f"person {i}") for i in range(30)]
    far = [rel(f"person {i}", "lives_in", f"city {i}") for i in range(30)]
    graph.apply(ALICE, [], [*hub, *far, rel("I", "works_at", "Acme")])
    result = graph.search(ALICE, "where does alice work?", limit=100)
    assert len(result.relations) == 10
    assert result.relations[0].relation.destination == "Acme"
    store.close()


def test_a_query_vector_of_another_size_is_refused(db_dir: Path) -> None:
    graph = SQLiteGraphStore(db_dir / "g.db")
    try:
        graph.apply(ALICE, [], [rel("I", "likes", "tea")], embedder=EMBED)
        with pytest.raises(DimensionMismatchError):
            graph.search(ALICE, "what?", vec("tea")[:32])
    finally:
        graph.close()
