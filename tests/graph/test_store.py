"""``OpsGraphStore``: every back end shares one ``apply``, ``search`` and the deletes."""

from __future__ import annotations

import pytest

from memlane.graph.base import GraphStore
from memlane.graph.store import OpsGraphStore
from memlane.store.falkordb.graph import FalkorDBGraphStore
from memlane.store.sqlite.graph import SQLiteGraphStore

SHARED = ("apply", "search", "list_relations", "remove_memories", "delete_scope", "purge", "reset")


@pytest.mark.parametrize("back_end", [SQLiteGraphStore, FalkorDBGraphStore])
def test_back_ends_implement_only_the_operations(back_end: type[OpsGraphStore]) -> None:
    for name in SHARED:
        assert getattr(back_end, name) is getattr(OpsGraphStore, name), name
    for name in ("reading", "writing", "close"):
        assert getattr(back_end, name) is not getattr(OpsGraphStore, name), name


def test_the_shared_store_is_a_graph_store() -> None:
    graph: GraphStore = SQLiteGraphStore(":memory:")
    assert isinstance(graph, OpsGraphStore)
    graph.close()
