"""The ``sqlite`` graph_store provider: its config, and a builder bound to the memory store."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from pydantic import ValidationError

from memlane import providers
from memlane.errors import ConfigError
from memlane.graph.base import build_graph_store
from memlane.graph.models import ExtractedRelation
from memlane.models import Scope
from memlane.store.base import MemoryStore
from memlane.store.falkordb.provider import FalkorDBGraphConfig
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.graph import SQLiteGraphStore
from memlane.store.sqlite.provider import SQLiteGraphConfig

ALICE = Scope(user_id="alice")
OTHER_STORE = cast(MemoryStore, object())
"""A memory store that is not an SQLite one."""
TEA = [ExtractedRelation(source="I", relationship="likes", destination="tea")]


def test_both_back_ends_are_registered() -> None:
    assert {"falkordb", "sqlite"} <= set(providers.names("graph_store"))


def test_the_sqlite_graph_shares_an_sqlite_memory_store() -> None:
    store = SQLiteStore(":memory:")
    graph = build_graph_store("sqlite", {"match_threshold": 0.9}, store)
    assert isinstance(graph, SQLiteGraphStore) and graph.settings.match_threshold == 0.9
    graph.apply(ALICE, [], TEA)
    assert store.execute("SELECT count(*) FROM graph_relations") == [(1,)]
    graph.close()
    store.close()


def test_the_sqlite_graph_opens_its_own_path(tmp_path: Path) -> None:
    graph = build_graph_store("sqlite", {"path": str(tmp_path / "graph.db")}, OTHER_STORE)
    graph.apply(ALICE, [], TEA)
    graph.close()
    assert (tmp_path / "graph.db").exists()
    with pytest.raises(ConfigError, match=r"graph_store\.config\.path"):
        build_graph_store("sqlite", {}, OTHER_STORE)


def test_configs_are_validated() -> None:
    with pytest.raises(ValidationError):
        SQLiteGraphConfig.model_validate({"match_threshold": 1.5})
    with pytest.raises(ValidationError):
        SQLiteGraphConfig.model_validate({"nope": 1})
    with pytest.raises(ValidationError):
        FalkorDBGraphConfig.model_validate({"graph_name": "bad name"})
    assert "lives_in" in SQLiteGraphConfig().single_valued
