"""The ``postgres`` graph_store provider: its config, its own pool or the memory store's, and the
default graph following the memory store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from memlane import Memory, providers
from memlane.config import GraphStoreSection
from memlane.errors import ConfigError
from memlane.graph.base import build_graph_store
from memlane.graph.models import ExtractedRelation
from memlane.llm import FakeLLM
from memlane.models import Scope
from memlane.store.postgres.graph import PostgresGraphStore
from memlane.store.postgres.graph_provider import PostgresGraphConfig
from memlane.store.sqlite import SQLiteStore

ALICE = Scope(user_id="alice")


class NamesItsGraph:
    """A memory store that keeps its graph with the ``postgres`` provider."""

    graph_provider = "postgres"


def test_the_provider_is_registered_and_validates_its_config() -> None:
    assert "postgres" in providers.names("graph_store")
    assert PostgresGraphConfig.model_validate({"tenant": "t-1", "hops": 3}).hops == 3
    for bad in ({"tenant": "Bad Tenant"}, {"tenant": ""}, {"max_connections": 0}, {"nope": 1}):
        with pytest.raises(ValidationError):
            PostgresGraphConfig.model_validate(bad)


def test_without_a_url_it_needs_a_postgres_memory_store() -> None:
    store = SQLiteStore(":memory:")
    try:
        with pytest.raises(ConfigError, match=r"graph_store\.config\.url"):
            build_graph_store("postgres", {}, store)
        with pytest.raises(ConfigError, match=r"graph_store\.config\.url"):
            build_graph_store("postgres", {}, None)
    finally:
        store.close()


def test_the_default_graph_follows_the_memory_store() -> None:
    assert GraphStoreSection().for_store(NamesItsGraph()).provider == "postgres"  # type: ignore[arg-type]
    sqlite = SQLiteStore(":memory:")
    try:
        assert GraphStoreSection().for_store(sqlite).provider == "sqlite"
        tuned = GraphStoreSection.model_validate({"config": {"match_threshold": 0.9}, "threshold": 0.8})
        moved = tuned.for_store(NamesItsGraph())  # type: ignore[arg-type]
        assert moved.provider == "postgres" and moved.parsed.match_threshold == 0.9  # type: ignore[attr-defined]
        named = GraphStoreSection(provider="sqlite")
        assert named.for_store(NamesItsGraph()) is named  # type: ignore[arg-type]
    finally:
        sqlite.close()


@pytest.mark.integration
def test_a_url_gives_the_graph_a_pool_and_tenant_of_its_own(postgres_url: str) -> None:
    graph = build_graph_store("postgres", {"url": postgres_url, "tenant": "t1", "match_threshold": 0.9}, None)
    try:
        assert isinstance(graph, PostgresGraphStore) and graph.tenant == "t1"
        assert graph.settings.match_threshold == 0.9
        graph.apply(ALICE, [], [ExtractedRelation(source="I", relationship="likes", destination="tea")])
        assert len(graph.list_relations(ALICE)) == 1
    finally:
        graph.close()


@pytest.mark.integration
def test_a_sqlite_memory_with_a_postgres_graph(tmp_path: Path, postgres_url: str) -> None:
    reply: dict[str, Any] = {
        "memory": [{"event": "ADD", "id": None, "text": "Works at Acme"}],
        "entities": [{"name": "Acme", "type": "organization"}],
        "relations": [{"source": "user", "relationship": "works_at", "destination": "Acme"}],
    }
    config = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
        "graph_store": {"provider": "postgres", "config": {"url": postgres_url}},
    }
    memory = Memory(config, llm=FakeLLM([reply]))
    try:
        added = memory.add("I work at Acme", user_id="alice")
        assert added["relations"]["added_entities"] == [
            [{"source": "alice", "relationship": "works_at", "target": "Acme"}]
        ]
        found = memory.search("where does alice work?", user_id="alice")
        assert found["relations"] == [{"source": "alice", "relationship": "works_at", "destination": "Acme"}]
    finally:
        memory.close()
