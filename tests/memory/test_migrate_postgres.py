"""``migrate`` and ``reindex`` with a real PostgreSQL (``postgres_url``: a new database per test)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import memlane
from memlane import DimensionMismatchError, EmbedderMismatchError, Memory
from memlane.memory.migration import PROGRESS_KEY
from memlane.models import Scope
from tests.memory._copies import export_lines, fill, graph_memory

pytestmark = pytest.mark.integration


def postgres_memory(url: str, dims: int = 64, tenant: str | None = None) -> Memory:
    config: dict[str, Any] = {"url": url, **({"tenant": tenant} if tenant else {})}
    return Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "postgres", "config": config},
            "enable_graph": True,
        }
    )


def exported_sqlite(path: Path, tmp_path: Path) -> list[str]:
    with graph_memory(path) as m:
        return export_lines(m, tmp_path / f"{path.stem}.jsonl")


def test_sqlite_to_postgres_to_sqlite_gives_the_same_export_byte_for_byte(
    tmp_path: Path, postgres_url: str
) -> None:
    source, back = tmp_path / "source.db", tmp_path / "back.db"
    with graph_memory(source) as m:
        ids = fill(m)
    there = memlane.migrate(str(source), postgres_url, batch_size=10)
    assert there["ok"], there["verification"]
    assert there["copied"]["relation"] == 3 and there["copied"]["pending"] == 1
    with postgres_memory(postgres_url) as pg:
        assert export_lines(pg, tmp_path / "pg.jsonl") == exported_sqlite(source, tmp_path)
        assert pg.search("Bangalore", user_id="alice")["results"][0]["id"] == ids["alice"]
        assert (
            pg.graph is not None
            and len(pg.graph.list_relations(Scope(user_id="alice"), include_invalidated=True)) == 3
        )
        assert pg.store.meta(PROGRESS_KEY) is None
    assert memlane.migrate(postgres_url, str(back))["ok"]
    assert exported_sqlite(back, tmp_path) == exported_sqlite(source, tmp_path)


class Interrupt(Exception):
    pass


def test_an_interrupted_migration_to_postgres_resumes(tmp_path: Path, postgres_url: str) -> None:
    source = tmp_path / "source.db"
    with graph_memory(source) as m:
        fill(m)

    def stop(done: int, total: int) -> None:
        if done >= 20:
            raise Interrupt

    with pytest.raises(Interrupt):
        memlane.migrate(str(source), postgres_url, batch_size=10, progress=stop)
    with postgres_memory(postgres_url) as pg:
        assert json.loads(pg.store.meta(PROGRESS_KEY) or "{}")["copied"] == 20
    report = memlane.migrate(str(source), postgres_url, batch_size=10)
    assert report["ok"] and report["resumed"]
    with postgres_memory(postgres_url) as pg:
        assert export_lines(pg, tmp_path / "pg.jsonl") == exported_sqlite(source, tmp_path)


def test_a_tenant_named_by_a_config_file_is_migrated_alone(tmp_path: Path, postgres_url: str) -> None:
    with (
        postgres_memory(postgres_url, tenant="acme") as acme,
        postgres_memory(postgres_url, tenant="other") as other,
    ):
        fill(acme, memories=3)
        other.add("another tenant's memory", user_id="zed")
        expected = export_lines(acme, tmp_path / "acme.jsonl")
    config = tmp_path / "acme.json"
    store = {"provider": "postgres", "config": {"url": postgres_url, "tenant": "acme"}}
    config.write_text(json.dumps({"vector_store": store, "enable_graph": True}))
    target = tmp_path / "acme.db"
    assert memlane.migrate(str(config), str(target))["ok"]
    assert exported_sqlite(target, tmp_path) == expected


def test_reindex_on_postgres_under_concurrent_searches(postgres_url: str) -> None:
    with postgres_memory(postgres_url) as m:
        ids = fill(m, memories=40)
        problems: list[str] = []
        counts: list[int] = []
        stop = threading.Event()

        def search_loop() -> None:
            while not stop.is_set():
                try:
                    hits = m.search("likes item", user_id="carol", top_k=3)["results"]
                except Exception as exc:  # noqa: BLE001 - any error is the failure under test
                    problems.append(repr(exc))
                    return
                counts.append(len(hits))
                if not hits:
                    problems.append("empty result")

        def wait_for_searches(more: int) -> None:
            goal = len(counts) + more
            for _ in range(2000):
                if len(counts) >= goal or problems:
                    return
                time.sleep(0.005)

        threads = [threading.Thread(target=search_loop) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            report = m.reindex({"provider": "hash", "config": {"embedding_dims": 32}}, batch_size=8,
                               progress=lambda d, t: wait_for_searches(1))  # fmt: skip
            wait_for_searches(4)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        assert problems == []
        assert report["reindexed"] == 39 and report["entities"] == 4 and report["dimension"] == 32
        assert m.store.vectors([ids["alice"]])[ids["alice"]].shape == (32,)
        assert m.search("where does alice live", user_id="alice")["relations"]
    with postgres_memory(postgres_url, dims=32) as again:
        assert again.search("Bangalore", user_id="alice")["results"][0]["id"] == ids["alice"]


def test_another_process_on_the_old_embedder_gets_a_clear_error_on_postgres(postgres_url: str) -> None:
    with postgres_memory(postgres_url) as m, postgres_memory(postgres_url) as other:
        fill(m, memories=3)
        assert other.search("likes item", user_id="alice")["results"]
        m.reindex({"provider": "hash", "config": {"embedding_dims": 32}})
        # the graph may notice the new vector size first: DimensionMismatchError, the parent class
        with pytest.raises(DimensionMismatchError, match="32"):
            other.search("likes item", user_id="alice")
        assert other.graph is not None
        other.graph.close()
        other.backends.graph = None  # without the graph, the store's own check speaks
        with pytest.raises(EmbedderMismatchError, match="re-indexed with the embedder 'hash:32'"):
            other.search("likes item", user_id="alice")
        with pytest.raises(EmbedderMismatchError):
            other.add("written with the old model", user_id="alice")
        assert m.search("likes item", user_id="alice")["results"]
        m.delete(m.get_all(user_id="alice")["results"][0]["id"])  # the reindexing process goes on
