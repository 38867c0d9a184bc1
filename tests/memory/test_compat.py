"""mem0 compatibility: the 1.x and 2.x call forms, result shapes, item keys and messages."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memlane import (
    ConfigError,
    InvalidInputError,
    Memory,
    NotFoundError,
    UnknownProviderError,
)
from memlane.filters import All
from tests.conftest import Snapshot, hash_config, sqlite_of, table_counts

ITEM_KEYS = {"id", "memory", "hash", "metadata", "created_at", "updated_at"}
PROMOTED = {"user_id", "agent_id", "run_id", "actor_id", "role", "expiration_date"}
HISTORY_KEYS = {
    "id",
    "memory_id",
    "old_memory",
    "new_memory",
    "event",
    "created_at",
    "updated_at",
    "is_deleted",
    "actor_id",
    "role",
}


def is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


def utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    return moment


def add_one(memory: Memory, text: str, **kwargs: Any) -> str:
    kwargs.setdefault("user_id", "alice")
    result: str = memory.add(text, infer=False, **kwargs)["results"][0]["id"]
    return result


def memories(result: Mapping[str, Any]) -> list[str]:
    return [item["memory"] for item in result["results"]]


# -- add ---------------------------------------------------------------------------------


def test_add_a_string(memory: Memory) -> None:
    result = memory.add("I moved to Bangalore", user_id="alice", infer=False)
    assert set(result) == {"results"}
    [item] = result["results"]
    assert set(item) == {"id", "memory", "event", "actor_id", "role"}
    assert is_uuid4(item["id"])
    assert (item["memory"], item["event"], item["actor_id"], item["role"]) == (
        "I moved to Bangalore",
        "ADD",
        None,
        "user",
    )


def test_add_without_an_llm_stores_verbatim_by_default(memory: Memory) -> None:
    result = memory.add("I like tea", user_id="alice")
    assert memories(result) == ["I like tea"]
    assert memories(memory.get_all(user_id="alice")) == ["I like tea"]


def test_add_a_conversation(memory: Memory) -> None:
    conversation: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "I moved to Bangalore", "name": "alice"},
        {"role": "assistant", "content": "How is it?"},
        {"role": "user", "content": [{"type": "text", "text": "Great"}, {"type": "text", "text": "weather"}]},
    ]
    items = memory.add(conversation, user_id="alice", infer=False)["results"]
    assert [(i["memory"], i["role"], i["actor_id"]) for i in items] == [
        ("I moved to Bangalore", "user", "alice"),
        ("How is it?", "assistant", None),
        ("Great\nweather", "user", None),
    ]
    assert memory.store.count(All()) == 3  # the system message was not stored


def test_add_a_message_dict(memory: Memory) -> None:
    items = memory.add({"role": "assistant", "content": "Noted."}, agent_id="bot", infer=False)["results"]
    assert [(i["memory"], i["role"]) for i in items] == [("Noted.", "assistant")]


def test_images_are_dropped_without_vision_and_text_is_kept(memory: Memory) -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "text", "text": "this is my cat"},
        ],
    }
    assert memories(memory.add(message, user_id="alice", infer=False)) == ["this is my cat"]


def test_the_name_of_a_message_is_its_actor(memory: Memory) -> None:
    memory.add(
        [
            {"role": "user", "content": "I bring the cake", "name": "alice"},
            {"role": "user", "content": "I bring the drinks", "name": "bob"},
        ],
        run_id="party",
        infer=False,
    )
    bob = memory.get_all(filters={"run_id": "party", "actor_id": "bob"})["results"]
    assert [(i["memory"], i["actor_id"]) for i in bob] == [("I bring the drinks", "bob")]


def test_add_accepts_ids_in_filters(memory: Memory) -> None:
    memory.add("from filters", filters={"user_id": "alice"}, infer=False)
    assert memories(memory.get_all(user_id="alice")) == ["from filters"]


def test_add_needs_an_id(memory: Memory, snapshot: Snapshot) -> None:
    before = snapshot()
    with pytest.raises(ValueError, match="user_id"):
        memory.add("orphan", infer=False)
    assert snapshot() == before


@pytest.mark.parametrize(
    "filters",
    [{"user_id": {"exists": True}}, {"user_id": {"in": ["a", "b"]}}, {"agent_id": {"exists": True}}],
)
def test_add_needs_a_plain_id_not_a_pattern(
    memory: Memory, snapshot: Snapshot, filters: dict[str, Any]
) -> None:
    # a memory must belong to someone: a wildcard or an operator names no one
    before = snapshot()
    with pytest.raises(InvalidInputError):
        memory.add("whose memory is this?", filters=filters, infer=False)
    assert snapshot() == before


def test_infer_true_without_an_llm_explains_and_writes_nothing(memory: Memory, snapshot: Snapshot) -> None:
    before = snapshot()
    with pytest.raises(ConfigError) as info:
        memory.add("I like tea", user_id="alice", infer=True)
    message = str(info.value)
    assert "llm" in message.lower()
    assert "infer=False" in message
    assert isinstance(info.value, ValueError)
    assert snapshot() == before


def test_procedural_memory_without_an_llm_is_a_config_error(memory: Memory, snapshot: Snapshot) -> None:
    before = snapshot()
    with pytest.raises(ConfigError):
        memory.add("step 1, step 2", agent_id="bot", memory_type="procedural_memory")
    with pytest.raises(InvalidInputError):
        memory.add("x", agent_id="bot", memory_type="semantic_memory", infer=False)
    assert snapshot() == before


# -- item shapes -------------------------------------------------------------------------


def test_get_all_item_shape(memory: Memory) -> None:
    mid = add_one(memory, "I like tea", metadata={"topic": "drinks"})
    [item] = memory.get_all(user_id="alice")["results"]
    assert set(item) == ITEM_KEYS | {"user_id", "role"}
    assert item["id"] == mid
    assert item["memory"] == "I like tea"
    assert item["hash"] == hashlib.md5(b"I like tea").hexdigest()
    assert item["metadata"] == {"topic": "drinks"}
    assert item["user_id"] == "alice" and item["role"] == "user"
    assert utc(item["created_at"]) == utc(item["updated_at"])
    assert abs(utc(item["created_at"]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert "score" not in item


def test_promoted_keys_appear_only_when_present(memory: Memory) -> None:
    memory.add(
        {"role": "user", "content": "full scope", "name": "alice"},
        user_id="u",
        agent_id="a",
        run_id="r",
        infer=False,
        expiration_date="2999-01-01",
    )
    memory.add("agent only", agent_id="a2", infer=False)
    full = dict(memory.get_all(filters={"user_id": "u"})["results"][0])
    assert {k: full[k] for k in PROMOTED} == {
        "user_id": "u",
        "agent_id": "a",
        "run_id": "r",
        "actor_id": "alice",
        "role": "user",
        "expiration_date": "2999-01-01",
    }
    bare = memory.get_all(agent_id="a2")["results"][0]
    assert set(bare) == ITEM_KEYS | {"agent_id", "role"}


def test_metadata_is_none_when_empty(memory: Memory) -> None:
    add_one(memory, "no metadata")
    assert memory.get_all(user_id="alice")["results"][0]["metadata"] is None


def test_identity_keys_in_metadata_are_stripped(memory: Memory) -> None:
    mid = add_one(
        memory,
        "tenant data",
        metadata={"user_id": "mallory", "agent_id": "x", "run_id": "y", "actor_id": "z", "topic": "t"},
    )
    item = memory.get(mid)
    assert item is not None
    assert item["user_id"] == "alice"
    assert "agent_id" not in item and "run_id" not in item and "actor_id" not in item
    assert item["metadata"] == {"topic": "t"}
    assert memory.get_all(user_id="mallory")["results"] == []
    only_identity = add_one(memory, "only identity keys", metadata={"user_id": "mallory"})
    got = memory.get(only_identity)
    assert got is not None and got["metadata"] is None


def test_get_returns_the_item_with_score_none(memory: Memory) -> None:
    mid = add_one(memory, "I like tea")
    item = memory.get(mid)
    assert item is not None
    assert set(item) == ITEM_KEYS | {"user_id", "role", "score"}
    assert item["score"] is None
    assert item == {**memory.get_all(user_id="alice")["results"][0], "score": None}


def test_get_unknown_is_none(memory: Memory) -> None:
    assert memory.get(str(uuid.uuid4())) is None


# -- search and get_all call forms -------------------------------------------------------


@pytest.fixture
def seeded(memory: Memory) -> Memory:
    for text in ["I like green tea", "I moved to Bangalore", "my cat is called Tom", "I like black coffee"]:
        memory.add(text, user_id="alice", infer=False, metadata={"kind": "fact"})
    memory.add("I like green tea too", user_id="bob", infer=False)
    memory.add("agent note about tea", agent_id="helper", infer=False)
    return memory


def test_search_1x_and_2x_forms_agree(seeded: Memory) -> None:
    v1 = seeded.search("green tea", user_id="alice", limit=3)
    v2 = seeded.search("green tea", filters={"user_id": "alice"}, top_k=3)
    assert set(v1) == {"results"}
    assert v1 == v2
    assert len(v1["results"]) == 3
    assert v1["results"][0]["memory"] == "I like green tea"
    assert all(item["user_id"] == "alice" for item in v1["results"])


def test_get_all_1x_and_2x_forms_agree(seeded: Memory) -> None:
    v1 = seeded.get_all(user_id="alice", limit=10)
    v2 = seeded.get_all(filters={"user_id": "alice"}, top_k=10)
    assert set(v1) == {"results"}
    assert v1 == v2
    assert memories(v1) == [
        "I like black coffee",
        "my cat is called Tom",
        "I moved to Bangalore",
        "I like green tea",
    ]


def test_get_all_limit(seeded: Memory) -> None:
    assert len(seeded.get_all(user_id="alice", limit=2)["results"]) == 2
    assert len(seeded.get_all(user_id="alice", top_k=2, limit=2)["results"]) == 2
    assert seeded.get_all(user_id="alice", top_k=0)["results"] == []


def test_search_item_shape(seeded: Memory) -> None:
    item = seeded.search("green tea", user_id="alice")["results"][0]
    assert set(item) == ITEM_KEYS | {"user_id", "role", "score"}
    assert isinstance(item["score"], float) and 0.0 <= item["score"] <= 1.0


def test_explain_adds_score_details(seeded: Memory) -> None:
    item = seeded.search("green tea", user_id="alice", explain=True)["results"][0]
    assert set(item) == ITEM_KEYS | {"user_id", "role", "score", "score_details"}
    details = item["score_details"]
    assert {"semantic_score", "bm25_score", "final_score"} <= set(details)
    assert details["final_score"] == pytest.approx(item["score"])


def test_explain_has_mem0s_score_detail_keys(seeded: Memory) -> None:
    """mem0 2.x documents ``entity_boost``, ``raw_score`` and ``max_possible_score`` beside the
    scores: here ``raw_score`` is the sum of the weighted signals, ``max_possible_score`` the
    highest sum this search could give, ``final_score == score == raw / max_possible``, and
    ``entity_boost`` the graph's (entities') part of ``raw_score`` (0 with the graph off)."""
    results = seeded.search("green tea", user_id="alice", explain=True, threshold=0.0)["results"]
    for item in results:
        details = item["score_details"]
        assert {"entity_boost", "raw_score", "max_possible_score", "threshold"} <= set(details)
        assert details["max_possible_score"] >= 1.0
        assert 0.0 <= details["raw_score"] <= details["max_possible_score"]
        assert details["raw_score"] / details["max_possible_score"] == pytest.approx(item["score"])
        assert details["final_score"] == pytest.approx(item["score"])
        assert details["entity_boost"] == 0.0


def test_ids_scope_search_and_get_all(seeded: Memory) -> None:
    assert memories(seeded.search("tea", agent_id="helper")) == ["agent note about tea"]
    assert memories(seeded.get_all(filters={"user_id": "bob"})) == ["I like green tea too"]
    assert seeded.search("tea", filters={"user_id": "nobody"})["results"] == []


def test_filters_combine_ids_and_metadata(seeded: Memory) -> None:
    seeded.add("I like oolong tea", user_id="alice", metadata={"kind": "wish"}, infer=False)
    found: Mapping[str, Any] = seeded.search("tea", filters={"user_id": "alice", "kind": "wish"})
    assert memories(found) == ["I like oolong tea"]
    found = seeded.get_all(filters={"user_id": "alice", "kind": {"ne": "wish"}})
    assert len(found["results"]) == 4
    found = seeded.get_all(filters={"user_id": "alice", "OR": [{"kind": "wish"}, {"kind": "none"}]})
    assert memories(found) == ["I like oolong tea"]


def test_an_explicit_exists_on_an_id_spans_users(seeded: Memory) -> None:
    found = seeded.get_all(filters={"user_id": {"exists": True}})
    assert len(found["results"]) == 5


def test_search_and_get_all_need_an_id(seeded: Memory) -> None:
    with pytest.raises(ValueError, match="user_id"):
        seeded.search("tea")
    with pytest.raises(ValueError, match="user_id"):
        seeded.get_all()
    with pytest.raises(ValueError, match="user_id"):
        seeded.search("tea", filters={"kind": "fact"})


def test_top_k_zero_returns_nothing(seeded: Memory) -> None:
    assert seeded.search("tea", user_id="alice", top_k=0) == {"results": []}
    assert seeded.search("tea", user_id="alice", limit=0) == {"results": []}


def test_threshold_gates_the_reported_score(seeded: Memory) -> None:
    """``threshold`` is a minimum ``score`` (as in mem0): every hit returned scores at least the
    threshold, and no hit that does is dropped."""
    everything = seeded.search("green tea", user_id="alice", explain=True)["results"]
    scores = [item["score"] for item in everything]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) > 2
    for cut in (scores[1], (scores[0] + scores[1]) / 2, scores[-1], 0.5 * scores[0]):
        kept = seeded.search("green tea", user_id="alice", threshold=cut, explain=True)["results"]
        assert all(item["score"] >= cut for item in kept)
        assert [item["id"] for item in kept] == [item["id"] for item in everything if item["score"] >= cut]
        assert all(item["score_details"]["threshold"] == cut for item in kept)
    assert seeded.search("green tea", user_id="alice", threshold=1.0)["results"] == []
    assert len(seeded.search("green tea", user_id="alice", threshold=0.0)["results"]) == len(everything)


def test_expired_memories_are_hidden_unless_asked(memory: Memory) -> None:
    yesterday = date.today() - timedelta(days=2)
    old = add_one(memory, "the sale ends soon", expiration_date=yesterday)
    today = add_one(memory, "the sale is on today", expiration_date=datetime.now(UTC).date().isoformat())
    later = add_one(memory, "the sale is next month", expiration_date="2999-12-31")
    plain = add_one(memory, "the shop sells tea")
    visible = {i["id"] for i in memory.get_all(user_id="alice")["results"]}
    assert visible == {today, later, plain}
    found = {i["id"] for i in memory.search("sale", user_id="alice")["results"]}
    assert old not in found and later in found
    shown = {i["id"] for i in memory.get_all(user_id="alice", show_expired=True)["results"]}
    assert shown == {old, today, later, plain}
    assert old in {i["id"] for i in memory.search("sale", user_id="alice", show_expired=True)["results"]}
    item = memory.get(old)
    assert item is not None and item["expiration_date"] == yesterday.isoformat()


# -- update, delete, history -------------------------------------------------------------


def test_update_keeps_the_id_and_versions_the_text(memory: Memory) -> None:
    mid = add_one(memory, "I live in Delhi", metadata={"topic": "home"})
    before = memory.get(mid)
    assert before is not None
    assert memory.update(mid, text="I live in Bangalore") == {"message": "Memory updated successfully!"}
    after = memory.get(mid)
    assert after is not None
    assert after["id"] == mid
    assert after["memory"] == "I live in Bangalore"
    assert after["hash"] == hashlib.md5(b"I live in Bangalore").hexdigest()
    assert after["created_at"] == before["created_at"]
    assert utc(after["updated_at"]) >= utc(before["updated_at"])
    assert after["metadata"] == {"topic": "home"}
    assert after["user_id"] == "alice"
    versions = sqlite_of(memory).versions(mid)
    assert [(v.version, v.text) for v in versions] == [(1, "I live in Delhi"), (2, "I live in Bangalore")]
    assert versions[0].expired_at is not None and versions[1].expired_at is None
    assert memories(memory.get_all(user_id="alice")) == ["I live in Bangalore"]


def test_update_1x_positional_data_and_the_data_alias(memory: Memory) -> None:
    mid = add_one(memory, "one")
    memory.update(mid, "two")
    memory.update(mid, data="three")
    item = memory.get(mid)
    assert item is not None and item["memory"] == "three"
    assert [v.text for v in sqlite_of(memory).versions(mid)] == ["one", "two", "three"]


def test_update_metadata_only(memory: Memory) -> None:
    mid = add_one(memory, "tea", metadata={"a": 1})
    memory.update(mid, metadata={"b": 2, "user_id": "mallory"})
    item = memory.get(mid)
    assert item is not None
    # merged into the stored metadata, as mem0 does; identity keys still stripped
    assert item["memory"] == "tea" and item["metadata"] == {"a": 1, "b": 2} and item["user_id"] == "alice"
    assert len(sqlite_of(memory).versions(mid)) == 1


def test_update_expiration_date(memory: Memory) -> None:
    mid = add_one(memory, "tea")
    memory.update(mid, expiration_date="2001-01-01")
    assert memory.get_all(user_id="alice")["results"] == []
    memory.update(mid, expiration_date=None)
    assert memories(memory.get_all(user_id="alice")) == ["tea"]


def test_update_changes_what_search_finds(memory: Memory) -> None:
    mid = add_one(memory, "I live in Delhi")
    add_one(memory, "I like tea")
    memory.update(mid, text="I live in Bangalore")
    found = memory.search("Bangalore", user_id="alice", explain=True)["results"]
    assert found[0]["id"] == mid and found[0]["memory"] == "I live in Bangalore"
    delhi = memory.search("Delhi", user_id="alice", explain=True)["results"]
    assert all(i["score_details"]["bm25_score"] == 0 for i in delhi)


def test_delete(memory: Memory) -> None:
    mid = add_one(memory, "secret")
    assert memory.delete(mid) == {"message": "Memory deleted successfully!"}
    assert memory.get(mid) is None
    assert memory.get_all(user_id="alice")["results"] == []
    assert memory.search("secret", user_id="alice")["results"] == []


def test_delete_unknown_raises_not_found_which_is_a_value_error(memory: Memory) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as info:
        memory.delete(missing)
    assert isinstance(info.value, ValueError)
    assert missing in str(info.value)
    mid = add_one(memory, "x")
    memory.delete(mid)
    with pytest.raises(NotFoundError):
        memory.delete(mid)


def test_delete_all(memory: Memory) -> None:
    for i in range(3):
        add_one(memory, f"alice {i}")
    keep = add_one(memory, "bob's", user_id="bob")
    assert memory.delete_all(user_id="alice") == {"message": "Memories deleted successfully!", "deleted": 3}
    assert memory.get_all(user_id="alice")["results"] == []
    assert [i["id"] for i in memory.get_all(user_id="bob")["results"]] == [keep]


def test_delete_all_with_no_id_raises(memory: Memory, snapshot: Snapshot) -> None:
    add_one(memory, "x")
    before = snapshot()
    with pytest.raises(ValueError):
        memory.delete_all()
    assert snapshot() == before


def test_delete_all_removes_more_than_a_hundred(memory: Memory) -> None:
    memory.add(
        [{"role": "user", "content": f"fact number {i}"} for i in range(250)], user_id="alice", infer=False
    )
    add_one(memory, "bob keeps this", user_id="bob")
    assert memory.store.count(All()) == 251
    memory.delete_all(user_id="alice")
    assert memory.store.count(All()) == 1
    assert memory.get_all(user_id="alice", limit=1000)["results"] == []
    counts = table_counts(sqlite_of(memory))
    assert counts["history"] == 251 + 250  # every memory keeps its ADD, and each deleted one a DELETE


def test_delete_all_by_run_within_a_user(memory: Memory) -> None:
    add_one(memory, "run one", run_id="r1")
    add_one(memory, "run two", run_id="r2")
    memory.delete_all(user_id="alice", run_id="r1")
    assert memories(memory.get_all(user_id="alice")) == ["run two"]


def test_history_rows(memory: Memory) -> None:
    mid = memory.add({"role": "user", "content": "v1", "name": "alice"}, user_id="alice", infer=False)[
        "results"
    ][0]["id"]
    memory.update(mid, text="v2")
    memory.update(mid, text="v3")
    memory.delete(mid)
    rows = memory.history(mid)
    assert all(set(row) == HISTORY_KEYS for row in rows)
    assert [(r["event"], r["old_memory"], r["new_memory"], r["is_deleted"]) for r in rows] == [
        ("ADD", None, "v1", False),
        ("UPDATE", "v1", "v2", False),
        ("UPDATE", "v2", "v3", False),
        ("DELETE", "v3", None, True),
    ]
    assert all(r["memory_id"] == mid for r in rows)
    assert len({r["id"] for r in rows}) == 4
    assert all((r["actor_id"], r["role"]) == ("alice", "user") for r in rows)
    # mem0 #4467: the ADD row is updated when created; every later row keeps the memory's
    # created_at and has the time of its change as updated_at
    assert rows[0]["updated_at"] == rows[0]["created_at"]
    assert all(r["created_at"] == rows[0]["created_at"] for r in rows)
    changed = [utc(str(r["updated_at"])) for r in rows]
    assert changed == sorted(changed) and changed[3] > changed[0]


def test_history_of_an_unknown_id_is_empty(memory: Memory) -> None:
    # as mem0 does
    assert memory.history(str(uuid.uuid4())) == []
    assert memory.history("never-existed") == []


def test_reset(memory: Memory) -> None:
    mid = add_one(memory, "x")
    memory.update(mid, text="y")
    memory.reset()
    assert table_counts(sqlite_of(memory)) == dict.fromkeys(
        ["memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots", "live"], 0
    )
    add_one(memory, "after reset")
    assert memories(memory.get_all(user_id="alice")) == ["after reset"]


def test_chat_without_an_llm_is_a_config_error_not_mem0s_not_implemented(memory: Memory) -> None:
    with pytest.raises(ConfigError, match="needs an LLM"):
        memory.chat("hello", user_id="alice")


# -- construction ------------------------------------------------------------------------


def test_from_config_unknown_provider(db_dir: Path) -> None:
    with pytest.raises(UnknownProviderError) as info:
        Memory.from_config({"vector_store": {"provider": "pinecone-typo", "config": {}}})
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    assert "sqlite" in str(info.value)
    with pytest.raises(UnknownProviderError, match="hash"):
        Memory.from_config({"embedder": {"provider": "nope"}})


def test_context_manager_closes_and_data_persists(db_dir: Path) -> None:
    config = hash_config(db_dir / "persist.db")
    with Memory(config) as first:
        mid = add_one(first, "remember me")
    with Memory.from_config(config) as second:
        item = second.get(mid)
        assert item is not None and item["memory"] == "remember me"
        assert memories(second.search("remember", user_id="alice")) == ["remember me"]


# -- issue 11: ids, paging, times, sizes ---------------------------------------------------

SCOPE_KEYS = ("user_id", "agent_id", "run_id")


def _star_calls(key: str) -> list[Any]:
    """Every way an untrusted "*" could reach a read or a delete of ``key``."""
    return [
        lambda m: m.search("tea", **{key: "*"}),
        lambda m: m.search("tea", filters={key: "*"}),
        lambda m: m.search("tea", filters={key: " * "}),
        lambda m: m.get_all(**{key: "*"}),
        lambda m: m.get_all(filters={key: "*"}),
        lambda m: m.get_all(filters={key: {"in": ["*"]}}),
        lambda m: m.delete_all(**{key: "*"}),
        lambda m: m.delete_all(filters={key: "*"}),
        lambda m: m.delete_all(filters={key: {"exists": True}}),
        lambda m: m.add("mine now", infer=False, **{key: "*"}),
    ]


@pytest.mark.parametrize("key", SCOPE_KEYS)
def test_an_untrusted_star_never_widens_a_call_beyond_the_tenant(
    seeded: Memory, snapshot: Snapshot, key: str
) -> None:
    before = snapshot()
    everyone = seeded.get_all(filters={"user_id": {"exists": True}})["results"]
    for call in _star_calls(key):
        with pytest.raises(InvalidInputError, match=r"'\*'|exists"):
            call(seeded)
        # with the tenant's own id given as well, "*" still cannot reach further
        with pytest.raises(InvalidInputError):
            seeded.search(
                "tea", user_id="alice", filters={key: "*"} if key != "user_id" else {"agent_id": "*"}
            )
    assert snapshot() == before
    assert seeded.get_all(filters={"user_id": {"exists": True}})["results"] == everyone


def test_ids_with_invisible_characters_are_refused_everywhere(memory: Memory, snapshot: Snapshot) -> None:
    mid = add_one(memory, "tea")
    before = snapshot()
    calls: list[Any] = [
        lambda bad: memory.add("x", user_id=bad, infer=False),
        lambda bad: memory.search("x", filters={"user_id": bad}),
        lambda bad: memory.get_all(user_id=bad),
        lambda bad: memory.delete_all(user_id=bad),
        lambda bad: memory.add({"role": "user", "content": "x", "name": bad}, user_id="alice", infer=False),
        lambda bad: memory.get(mid + bad),
        lambda bad: memory.history(bad + mid),
    ]
    for char in ("\u200b", "\u202e", "\u2066", "\ufeff", "\u2060", "\x1b"):
        for call in calls:
            with pytest.raises(InvalidInputError, match="zero-width or bidi-override"):
                call(f"ali{char}ce")
    assert snapshot() == before


def test_int_ids_become_strings_and_ids_are_trimmed(memory: Memory) -> None:
    # as mem0 does
    mid = memory.add("tea", user_id=42, agent_id=" helper ", infer=False)["results"][0]["id"]
    item = memory.get(f" {mid}\n")
    assert item is not None and (item["user_id"], item["agent_id"]) == ("42", "helper")
    assert memories(memory.get_all(user_id="42")) == ["tea"]
    assert memories(memory.search("tea", filters={"user_id": 42, "agent_id": "helper "})) == ["tea"]
    memory.update(f"{mid} ", text="green tea")
    assert [h["event"] for h in memory.history(f" {mid}")] == ["ADD", "UPDATE"]
    assert memory.delete_all(user_id=42)["deleted"] == 1


def test_update_with_text_and_data_stores_text(memory: Memory) -> None:
    # data is mem0's deprecated alias: text wins
    mid = add_one(memory, "one")
    memory.update(mid, text="two", data="three")
    item = memory.get(mid)
    assert item is not None and item["memory"] == "two"


def test_update_metadata_merges_and_an_empty_dict_changes_nothing(memory: Memory) -> None:
    mid = add_one(memory, "tea", metadata={"a": 1, "b": 2})
    memory.update(mid, metadata={"b": 3, "c": 4})
    item = memory.get(mid)
    assert item is not None and item["metadata"] == {"a": 1, "b": 3, "c": 4}
    memory.update(mid, metadata={})
    again = memory.get(mid)
    assert again == item
    assert [h["event"] for h in memory.history(mid)] == ["ADD", "UPDATE"]


def test_metadata_created_at_becomes_the_memory_created_at(memory: Memory) -> None:
    # imports and migrations from mem0 give the original creation time this way
    old = add_one(memory, "from 2020", metadata={"created_at": "2020-05-01T10:00:00+02:00", "k": "v"})
    epoch = add_one(memory, "from 2021", metadata={"created_at": 1609459200})
    new = add_one(memory, "today")
    first = memory.get(old)
    assert first is not None
    assert (first["created_at"], first["updated_at"]) == ("2020-05-01T08:00:00+00:00",) * 2
    assert first["metadata"] == {"k": "v"}
    second = memory.get(epoch)
    assert second is not None and second["created_at"] == "2021-01-01T00:00:00+00:00"
    assert second["metadata"] is None
    listed = [i["id"] for i in memory.get_all(user_id="alice")["results"]]
    assert listed == [new, epoch, old]  # newest first, by the given times
    [added] = memory.history(old)
    assert (added["created_at"], added["updated_at"]) == ("2020-05-01T08:00:00+00:00",) * 2


@pytest.mark.parametrize("bad", ["last year", -5, "1800-01-01", True, [2020]])
def test_a_bad_metadata_created_at_is_refused(memory: Memory, snapshot: Snapshot, bad: Any) -> None:
    before = snapshot()
    with pytest.raises(InvalidInputError, match="created_at"):
        add_one(memory, "x", metadata={"created_at": bad})
    assert snapshot() == before


def test_metadata_created_at_applies_to_inferred_memories(tmp_path: Path) -> None:
    from memlane.llm import FakeLLM

    reply = {"memory": [{"event": "ADD", "id": None, "text": "Likes green tea"}]}
    m = Memory(hash_config(tmp_path / "infer.db"), llm=FakeLLM([reply]))
    try:
        out = m.add("I like green tea", user_id="alice", metadata={"created_at": "2019-03-04"})
        item = m.get(out["results"][0]["id"])
        assert item is not None
        assert (item["created_at"], item["updated_at"]) == ("2019-03-04T00:00:00+00:00",) * 2
        assert item["metadata"] is None
    finally:
        m.close()


def test_delete_history_row_keeps_the_memory_created_at(memory: Memory) -> None:
    mid = add_one(memory, "tea", metadata={"created_at": "2020-01-01"})
    memory.delete(mid)
    add_row, delete_row = memory.history(mid)
    assert delete_row["event"] == "DELETE"
    assert delete_row["created_at"] == "2020-01-01T00:00:00+00:00"
    assert utc(str(delete_row["updated_at"])) > utc(str(add_row["updated_at"]))


def test_delete_all_says_how_many_it_deleted(memory: Memory) -> None:
    for i in range(3):
        add_one(memory, f"alice {i}")
    assert memory.delete_all(user_id="nobody") == {"message": "Memories deleted successfully!", "deleted": 0}
    assert memory.delete_all(user_id="alice")["deleted"] == 3


@pytest.fixture
def many(memory: Memory) -> Memory:
    memory.add([{"role": "user", "content": f"fact {i}"} for i in range(250)], user_id="alice", infer=False)
    add_one(memory, "bob's", user_id="bob")
    return memory


def test_get_all_takes_a_large_limit(many: Memory) -> None:
    # mem0 code often passes a large limit to mean "all"
    assert len(many.get_all(user_id="alice", limit=100_000)["results"]) == 250
    assert len(many.get_all(filters={"user_id": "alice"}, top_k=10**30)["results"]) == 250


def test_limit_errors_name_the_parameter_given(many: Memory) -> None:
    with pytest.raises(InvalidInputError, match=r"^limit must be 0 or more, got -1$"):
        many.get_all(user_id="alice", limit=-1)
    with pytest.raises(InvalidInputError, match=r"^limit must be between 0 and 10,000"):
        many.search("fact", user_id="alice", limit=100_000)


def test_get_all_pages(many: Memory) -> None:
    everything = [i["id"] for i in many.get_all(user_id="alice", limit=1000)["results"]]
    first = many.get_all(user_id="alice", page=1, page_size=100)
    assert {k: v for k, v in first.items() if k != "results"} == {
        "count": 250, "page": 1, "page_size": 100, "next": 2, "previous": None
    }  # fmt: skip
    pages = [first, *(many.get_all(filters={"user_id": "alice"}, page=p, page_size=100) for p in (2, 3))]
    assert [len(p["results"]) for p in pages] == [100, 100, 50]
    assert [i["id"] for p in pages for i in p["results"]] == everything
    assert (pages[2]["next"], pages[2]["previous"]) == (None, 2)
    assert many.get_all(user_id="alice", page=4, page_size=100)["results"] == []
    assert len(many.get_all(user_id="alice", page=2)["results"]) == 100  # page_size defaults to 100
    assert many.get_all(user_id="alice", page=2, limit=30)["page_size"] == 30
    assert set(many.get_all(user_id="alice")) == {"results"}  # no paging asked: mem0's shape


@pytest.mark.parametrize(
    "kwargs", [{"page": 0}, {"page": "2"}, {"page_size": 0}, {"page": 1, "page_size": 10, "limit": 20}]
)
def test_bad_paging_is_refused(many: Memory, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        many.get_all(user_id="alice", **kwargs)


def test_unix_seconds_are_accepted_by_every_time_argument(memory: Memory) -> None:
    mid = add_one(memory, "tea", timestamp="1700000000", expiration_date="4102444800")
    item = memory.get(mid)
    assert item is not None and item["expiration_date"] == "2100-01-01"
    assert sqlite_of(memory).get(mid).valid_from == "2023-11-14T22:13:20+00:00"  # type: ignore[union-attr]
    assert memories(memory.search("tea", user_id="alice", reference_date=1700000000)) == ["tea"]
    assert memories(memory.search("tea", user_id="alice", reference_date="1700000000")) == ["tea"]


@pytest.mark.parametrize("bad", [-5, "-5", "1850-01-01"])
def test_times_before_the_range_are_refused(memory: Memory, snapshot: Snapshot, bad: Any) -> None:
    before = snapshot()
    with pytest.raises(InvalidInputError, match="timestamp"):
        add_one(memory, "x", timestamp=bad)
    with pytest.raises(InvalidInputError, match="reference_date"):
        memory.search("x", user_id="alice", reference_date=bad)
    assert snapshot() == before


def test_a_huge_add_is_refused_with_the_limit_and_what_to_do(memory: Memory, snapshot: Snapshot) -> None:
    before = snapshot()
    with pytest.raises(InvalidInputError, match=r"100,001 characters.*limit of 100,000.*split the text"):
        memory.add("x" * 100_001, user_id="alice", infer=False)
    mid = add_one(memory, "x")
    with pytest.raises(InvalidInputError, match="limit of 100,000"):
        memory.update(mid, text="y" * 100_001)
    assert snapshot()["memories"] == before["memories"] + 1
