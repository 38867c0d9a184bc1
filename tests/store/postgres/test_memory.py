"""``Memory`` over PostgreSQL end to end (hash embedder, scripted LLM): add, search, update,
history, delete, delete_all, profile, export/import between back ends, purge and reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane import Memory
from memlane.llm import FakeLLM
from memlane.store.postgres.store import PostgresStore

pytestmark = pytest.mark.integration


def pg_config(url: str, tenant: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "postgres", "config": {"url": url, "tenant": tenant, "max_size": 4}},
        **extra,
    }


@pytest.fixture
def memory(postgres_url: str) -> Iterator[Memory]:
    m = Memory(pg_config(postgres_url))
    yield m
    m.close()


def test_add_search_update_history_delete(memory: Memory) -> None:
    assert isinstance(memory.store, PostgresStore)
    added = memory.add("I moved from Delhi to Bangalore last month", user_id="alice", infer=False)
    [item] = added["results"]
    memory.add("Bob collects vintage stamps", user_id="bob", infer=False)
    hits = memory.search("where does alice live? Bangalore", filters={"user_id": "alice"})["results"]
    assert [h["id"] for h in hits] == [item["id"]]
    assert memory.update(item["id"], text="Alice lives in Bangalore") == {
        "message": "Memory updated successfully!"
    }
    got = memory.get(item["id"])
    assert got is not None and got["memory"] == "Alice lives in Bangalore" and got["user_id"] == "alice"
    assert [h["event"] for h in memory.history(item["id"])] == ["ADD", "UPDATE"]
    assert memory.search("Bangalore", user_id="alice")["results"][0]["memory"] == "Alice lives in Bangalore"
    assert memory.delete(item["id"]) == {"message": "Memory deleted successfully!"}
    assert memory.get(item["id"]) is None
    assert memory.get_all(user_id="alice")["results"] == []
    assert [h["event"] for h in memory.history(item["id"])] == ["ADD", "UPDATE", "DELETE"]
    assert len(memory.get_all(user_id="bob")["results"]) == 1


def test_delete_all_pages_past_a_hundred(memory: Memory) -> None:
    memory.add(
        [{"role": "user", "content": f"fact number {i}"} for i in range(120)], user_id="carol", infer=False
    )
    assert len(memory.get_all(user_id="carol", top_k=500)["results"]) == 120
    memory.delete_all(user_id="carol")
    assert memory.get_all(user_id="carol", top_k=500)["results"] == []


def test_an_inferred_add_writes_memories_and_the_profile_in_one_call(postgres_url: str) -> None:
    reply = {
        "memory": [{"event": "ADD", "id": None, "text": "Lives in Delhi"}],
        "profile": [{"key": "home_city", "value": "Delhi"}],
    }
    llm = FakeLLM([reply])
    m = Memory(pg_config(postgres_url, profile={"enabled": True}), llm=llm)
    try:
        out = m.add("I live in Delhi", user_id="alice")
        assert [r["memory"] for r in out["results"]] == ["Lives in Delhi"]
        assert m.get_profile(user_id="alice")["profile"] == {"home_city": "Delhi"}
        assert m.store.pending_count() == 0  # the pending add finished in the write's transaction
        assert [s.content for s in m.store.sources(out["results"][0]["id"])] == ["I live in Delhi"]
    finally:
        m.close()


def test_export_from_sqlite_imports_into_postgres(postgres_url: str, tmp_path: Path) -> None:
    sqlite_config = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
    }
    source = Memory(sqlite_config)
    target = Memory(pg_config(postgres_url, tenant="imported"))
    try:
        item = source.add("Dana prefers window seats", user_id="dana", infer=False)["results"][0]
        source.update(item["id"], text="Dana prefers aisle seats")
        counts = source.export(tmp_path / "export.jsonl")
        imported = target.import_data(tmp_path / "export.jsonl")
        assert {kind: n for kind, n in imported.items() if n} == counts
        assert target.get(item["id"]) == source.get(item["id"])
        assert target.history(item["id"]) == source.history(item["id"])
        assert target.search("aisle seats", user_id="dana")["results"][0]["id"] == item["id"]
        target.export(tmp_path / "again.jsonl")
        lines = [(tmp_path / name).read_text().splitlines()[1:] for name in ("export.jsonl", "again.jsonl")]
        assert lines[0] == lines[1]  # the same records, byte for byte (headers differ by time)
    finally:
        source.close()
        target.close()


def test_purge_and_reset_leave_other_tenants(postgres_url: str) -> None:
    mine, theirs = Memory(pg_config(postgres_url, "mine")), Memory(pg_config(postgres_url, "theirs"))
    try:
        for m in (mine, theirs):
            m.add("Erin's phone number is 555-0100", user_id="erin", infer=False)
        assert mine.purge(user_id="erin")["purged"] == 1
        assert mine.get_all(user_id="erin")["results"] == []
        mine.reset()
        assert [r["memory"] for r in theirs.get_all(user_id="erin")["results"]] == [
            "Erin's phone number is 555-0100"
        ]
        assert theirs.search("phone", user_id="erin")["results"]
    finally:
        mine.close()
        theirs.close()
