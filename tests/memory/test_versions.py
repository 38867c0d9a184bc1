"""Nothing is lost: every text a memory had, its history and the messages it came from."""

from __future__ import annotations

import itertools
from datetime import datetime

from memlane import Memory
from memlane.models import Message
from memlane.store.sqlite import SQLiteStore
from tests.conftest import sqlite_of


def add(memory: Memory, content: str, **kwargs: object) -> str:
    kwargs.setdefault("user_id", "alice")
    mid: str = memory.add(content, infer=False, **kwargs)["results"][0]["id"]  # type: ignore[arg-type]
    return mid


def store(memory: Memory) -> SQLiteStore:
    return sqlite_of(memory)


def test_a_new_memory_has_one_current_version(memory: Memory) -> None:
    mid = add(memory, "I live in Delhi")
    [version] = store(memory).versions(mid)
    item = memory.get(mid)
    assert item is not None
    assert (version.memory_id, version.version, version.text, version.hash) == (
        mid,
        1,
        "I live in Delhi",
        item["hash"],
    )
    assert version.recorded_at == item["created_at"]
    assert version.expired_at is None


def test_each_text_change_adds_a_version_and_expires_the_last(memory: Memory) -> None:
    mid = add(memory, "v1")
    for text in ("v2", "v3", "v4"):
        memory.update(mid, text=text)
    versions = store(memory).versions(mid)
    assert [(v.version, v.text) for v in versions] == [(1, "v1"), (2, "v2"), (3, "v3"), (4, "v4")]
    assert all(v.expired_at is not None for v in versions[:-1])
    assert versions[-1].expired_at is None
    for older, newer in itertools.pairwise(versions):
        assert older.expired_at == newer.recorded_at
        assert datetime.fromisoformat(older.recorded_at) <= datetime.fromisoformat(newer.recorded_at)
    record = store(memory).get(mid)
    assert record is not None and record.version == 4 and record.text == "v4"


def test_metadata_or_expiry_changes_add_no_version(memory: Memory) -> None:
    mid = add(memory, "same text", metadata={"a": 1})
    memory.update(mid, metadata={"a": 2})
    memory.update(mid, expiration_date="2999-01-01")
    assert len(store(memory).versions(mid)) == 1
    assert [h["event"] for h in memory.history(mid)] == ["ADD", "UPDATE", "UPDATE"]


def test_updating_to_the_same_text_adds_no_version(memory: Memory) -> None:
    mid = add(memory, "same text")
    memory.update(mid, text="same text")
    assert len(store(memory).versions(mid)) == 1


def test_delete_keeps_the_versions_and_the_history(memory: Memory) -> None:
    mid = add(memory, "v1")
    memory.update(mid, text="v2")
    memory.delete(mid)
    versions = store(memory).versions(mid)
    assert [v.text for v in versions] == ["v1", "v2"]
    assert all(v.expired_at is not None for v in versions)
    assert [h["event"] for h in memory.history(mid)] == ["ADD", "UPDATE", "DELETE"]
    assert memory.get(mid) is None


def test_delete_all_keeps_history(memory: Memory) -> None:
    ids = [add(memory, f"fact {i}") for i in range(3)]
    memory.delete_all(user_id="alice")
    for mid in ids:
        assert [h["event"] for h in memory.history(mid)] == ["ADD", "DELETE"]
        assert store(memory).versions(mid)[0].expired_at is not None


def test_verbatim_memories_point_at_their_messages(memory: Memory) -> None:
    result = memory.add(
        [
            {"role": "system", "content": "not kept"},
            {"role": "user", "content": "I moved to Bangalore", "name": "alice"},
            {"role": "assistant", "content": "Nice!"},
        ],
        user_id="alice",
        infer=False,
    )["results"]
    first, second = (store(memory).sources(item["id"]) for item in result)
    assert [(m.role, m.content, m.name) for m in first] == [("user", "I moved to Bangalore", "alice")]
    assert [(m.role, m.content, m.name) for m in second] == [("assistant", "Nice!", None)]
    assert all(isinstance(m, Message) for m in first + second)
    rows = store(memory).execute("SELECT role, content, user_id FROM messages ORDER BY seq")
    assert rows == [("user", "I moved to Bangalore", "alice"), ("assistant", "Nice!", "alice")]


def test_the_observation_time_is_kept(memory: Memory) -> None:
    mid = add(memory, "it rained", timestamp="2024-05-01T10:00:00Z")
    record = store(memory).get(mid)
    assert record is not None
    assert record.valid_from == "2024-05-01T10:00:00+00:00"
    assert store(memory).execute("SELECT observed_at FROM messages") == [("2024-05-01T10:00:00+00:00",)]
    # created_at is when memlane learned it, not when it happened
    item = memory.get(mid)
    assert item is not None and item["created_at"] > "2025"


def test_without_a_timestamp_the_memory_is_valid_from_its_creation(memory: Memory) -> None:
    mid = add(memory, "now")
    record = store(memory).get(mid)
    assert record is not None and record.valid_from == record.created_at


def test_an_update_keeps_the_scope_actor_and_creation_time(memory: Memory) -> None:
    mid = memory.add(
        {"role": "user", "content": "v1", "name": "alice"}, user_id="alice", agent_id="bot", infer=False
    )["results"][0]["id"]
    before = memory.get(mid)
    memory.update(mid, text="v2")
    after = memory.get(mid)
    assert before is not None and after is not None
    for key in ("user_id", "agent_id", "actor_id", "role", "created_at"):
        assert after[key] == before[key], key
