"""The PostgreSQL graph beside a ``PostgresStore``: one transaction with the memories, the
default graph of a postgres Memory (same database and tenant), and tenants kept apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from memlane import Memory
from memlane.errors import ConfigError, DimensionMismatchError
from memlane.filters import All
from memlane.graph.base import build_graph_store
from memlane.graph.models import ExtractedRelation
from memlane.llm import FakeLLM
from memlane.models import MemoryRecord, Scope, now_iso
from memlane.store.postgres.graph import PostgresGraphStore
from memlane.store.postgres.graph_ops import PostgresOps
from memlane.store.postgres.store import PostgresStore
from tests.graph.conftest import EMBED, vec

pytestmark = pytest.mark.integration

ALICE = Scope(user_id="alice")
ACME = [ExtractedRelation(source="I", relationship="works_at", destination="Acme")]


class Boom(Exception):
    pass


def record(text: str) -> MemoryRecord:
    now = now_iso()
    return MemoryRecord(id=f"id-{text}", text=text, scope=ALICE, created_at=now, updated_at=now)


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    s = PostgresStore(postgres_url, tenant="acme", max_size=3)
    yield s
    s.close()


def test_a_graph_write_rolls_back_with_the_store_transaction(store: PostgresStore) -> None:
    graph = build_graph_store("postgres", {}, store)
    assert isinstance(graph, PostgresGraphStore) and graph.tenant == "acme"
    with pytest.raises(Boom), store.transaction() as tx:
        tx.insert(record("works at acme"), vec("works at acme"))
        graph.apply(ALICE, [], ACME, memory_ids=["id-works at acme"], embedder=EMBED)
        assert len(graph.list_relations(ALICE)) == 1  # the graph reads the open transaction
        raise Boom
    assert store.count(All()) == 0 and graph.list_relations(ALICE) == []
    assert graph.search(ALICE, "the company", vec("Acme"), hops=1).relations == []
    with store.transaction() as tx:
        tx.insert(record("works at acme"), vec("works at acme"))
        graph.apply(ALICE, [], ACME, memory_ids=["id-works at acme"], embedder=EMBED)
        with pytest.raises(DimensionMismatchError):  # a failed graph unit leaves the transaction usable
            graph.apply(
                ALICE,
                [],
                [ExtractedRelation(source="I", relationship="likes", destination="Acne")],
                vectors={"Acne": vec("Acne")[:8]},
            )
    assert store.count(All()) == 1 and len(graph.list_relations(ALICE)) == 1
    assert len(graph.search(ALICE, "the company", vec("Acme"), hops=1).relations) == 1
    graph.close()  # the shared store stays open
    assert store.count(All()) == 1


def test_a_shared_graph_keeps_the_stores_tenant(store: PostgresStore) -> None:
    with pytest.raises(ConfigError, match="tenant"):
        build_graph_store("postgres", {"tenant": "globex"}, store)
    graph = build_graph_store("postgres", {"tenant": "acme"}, store)
    graph.close()


def reply(text: str, relations: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "memory": [{"event": "ADD", "id": None, "text": text}],
        "entities": [],
        "relations": [{"source": s, "relationship": r, "destination": d} for s, r, d in relations],
    }


def pg_memory(url: str, tenant: str, *replies: dict[str, Any]) -> Memory:
    config = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "postgres", "config": {"url": url, "tenant": tenant, "max_size": 3}},
        "enable_graph": True,
    }
    return Memory(config, llm=FakeLLM(list(replies)))


def test_enable_graph_keeps_the_graph_in_the_memory_database(postgres_url: str) -> None:
    acme = pg_memory(postgres_url, "acme", reply("Works at Acme", [("user", "works_at", "Acme")]))
    globex = pg_memory(postgres_url, "globex", reply("Likes tea", [("user", "likes", "tea")]))
    try:
        assert isinstance(acme.graph, PostgresGraphStore) and acme.graph.tenant == "acme"
        [added] = acme.add("I work at Acme", user_id="alice")["results"]
        globex.add("I like tea", user_id="alice")
        found = acme.search("where does alice work?", user_id="alice")
        assert found["relations"] == [{"source": "alice", "relationship": "works_at", "destination": "Acme"}]
        assert [
            r["relationship"] for r in globex.search("what does alice like?", user_id="alice")["relations"]
        ] == ["likes"]
        acme.delete(added["id"])  # the relation goes with its only memory, in the same transaction
        assert acme.get_all(user_id="alice")["relations"] == []
        assert len(globex.get_all(user_id="alice")["relations"]) == 1
    finally:
        acme.close()
        globex.close()


def test_a_failed_graph_write_leaves_no_memory(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = pg_memory(postgres_url, "acme", reply("Works at Acme", [("user", "works_at", "Acme")]))
    real = PostgresOps.insert_relations

    def fail_after_writing(self: PostgresOps, items: Any) -> None:
        real(self, items)
        raise Boom

    monkeypatch.setattr(PostgresOps, "insert_relations", fail_after_writing)
    try:
        with pytest.raises(Boom):
            memory.add("I work at Acme", user_id="alice")
        monkeypatch.undo()
        assert memory.get_all(user_id="alice") == {"results": [], "relations": []}
    finally:
        memory.close()
