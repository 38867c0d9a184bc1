"""The memory browser's reads: scopes with counts, one memory's whole story, a bounded graph,
and the explain parts that add up to a search score."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane import AddResult, InvalidInputError, Memory, NotFoundError
from memlane.llm import FakeLLM
from tests.memory.test_graph_memory import add, answer, config


def _ids(result: AddResult) -> list[str]:
    return [r["id"] for r in result["results"] if r["event"] == "ADD"]


@pytest.fixture
def moved(tmp_path: Path) -> tuple[Memory, str, str]:
    """alice lived in Delhi, then moved to Bangalore (the Delhi relation is invalidated)."""
    llm = FakeLLM(
        [
            answer([add("ADD", "Lives in Delhi")], [("user", "lives_in", "Delhi")]),
            answer([add("ADD", "Moved to Bangalore")], [("user", "lives_in", "Bangalore")], replaces=True),
        ]
    )
    memory = Memory(config(tmp_path / "g.db"), llm=llm)
    delhi = _ids(memory.add("I live in Delhi", user_id="alice"))[0]
    bangalore = _ids(memory.add("I moved to Bangalore", user_id="alice"))[0]
    return memory, delhi, bangalore


def test_scopes_count_current_memories_and_last_activity(tmp_path: Path) -> None:
    memory = Memory(config(tmp_path / "s.db"))
    first = _ids(memory.add("likes tea", user_id="alice", infer=False))[0]
    memory.add("likes jazz", user_id="alice", agent_id="helper", infer=False)
    gone = _ids(memory.add("likes rock", user_id="bob", infer=False))[0]
    memory.add("a step", run_id="r1", infer=False)
    memory.delete(gone)
    memory.update(first, "likes green tea")
    found = {(s["type"], s["id"]): s for s in memory.scopes()}
    assert list(found) == [("user", "alice"), ("agent", "helper"), ("run", "r1")]
    alice = found[("user", "alice")]
    assert alice["total_memories"] == 2
    assert alice["last_activity"] == memory.get(first)["updated_at"]  # type: ignore[index]
    assert alice["created_at"] is not None and alice["created_at"] <= str(alice["last_activity"])
    assert found[("agent", "helper")]["total_memories"] == 1


def test_memory_details_tell_the_whole_story(tmp_path: Path) -> None:
    memory = Memory(config(tmp_path / "d.db"))
    memory_id = _ids(memory.add("I like tea", user_id="alice", infer=False))[0]
    memory.update(memory_id, "I like green tea")
    details = memory.memory_details(memory_id)
    assert details["memory"] is not None and details["memory"]["memory"] == "I like green tea"
    assert not details["deleted"]
    versions = [(v["version"], v["text"]) for v in details["versions"]]
    assert versions == [(1, "I like tea"), (2, "I like green tea")]
    assert details["versions"][0]["expired_at"] is not None and details["versions"][1]["expired_at"] is None
    assert [h["event"] for h in details["history"]] == ["ADD", "UPDATE"]
    assert [(s["role"], s["content"]) for s in details["sources"]] == [("user", "I like tea")]
    assert details["relations"] == [] and details["entities"] == []
    memory.delete(memory_id)
    deleted = memory.memory_details(memory_id)
    assert deleted["deleted"] and deleted["memory"] is None
    assert [h["event"] for h in deleted["history"]] == ["ADD", "UPDATE", "DELETE"]
    memory.purge(memory_id)
    with pytest.raises(NotFoundError):
        memory.memory_details(memory_id)
    with pytest.raises(NotFoundError):
        memory.memory_details("never-stored")


def test_memory_details_give_the_relations_a_memory_supports(moved: tuple[Memory, str, str]) -> None:
    memory, delhi, bangalore = moved
    old = memory.memory_details(delhi)
    assert [(r["relationship"], r["destination"]) for r in old["relations"]] == [("lives_in", "Delhi")]
    assert old["relations"][0]["invalidated_at"] is not None  # superseded, still shown
    assert {e["name"] for e in old["entities"]} == {"alice", "Delhi"}
    new = memory.memory_details(bangalore)
    assert [r["destination"] for r in new["relations"]] == ["Bangalore"]
    assert new["relations"][0]["invalidated_at"] is None and new["relations"][0]["memory_ids"] == [bangalore]


def test_graph_view_draws_current_and_invalidated_relations(moved: tuple[Memory, str, str]) -> None:
    memory, delhi, bangalore = moved
    view = memory.graph_view(user_id="alice")
    assert view["enabled"] and not view["truncated"]
    assert view["total_relations"] == 2 and view["total_entities"] == 3
    by_place = {r["destination"]: r for r in view["relations"]}
    assert by_place["Delhi"]["invalidated_at"] is not None and by_place["Delhi"]["memory_ids"] == [delhi]
    assert by_place["Bangalore"]["invalidated_at"] is None
    assert by_place["Bangalore"]["memory_ids"] == [bangalore]
    assert view["entities"][0] == {"id": by_place["Delhi"]["source_id"], "name": "alice", "degree": 2}
    current = memory.graph_view(user_id="alice", include_invalidated=False)
    assert [r["destination"] for r in current["relations"]] == ["Bangalore"]
    assert memory.graph_view(user_id="bob")["relations"] == []


def test_graph_view_is_bounded(tmp_path: Path) -> None:
    things = "tea jazz rock chess Berlin Paris cats dogs Python Rust".split()
    llm = FakeLLM([answer([add("ADD", "Likes many things")], [("user", "likes", thing) for thing in things])])
    memory = Memory(config(tmp_path / "b.db"), llm=llm)
    memory.add("I like many things", user_id="alice")
    view = memory.graph_view(user_id="alice", max_entities=5)
    assert len(view["entities"]) == 5 and len(view["relations"]) == 4  # alice and 4 of her things
    assert view["truncated"] and view["total_entities"] == 11 and view["total_relations"] == 10
    assert view["entities"][0]["name"] == "alice"


def test_graph_view_checks_its_arguments(tmp_path: Path) -> None:
    memory = Memory(config(tmp_path / "a.db"))
    with pytest.raises(InvalidInputError, match="needs a user_id"):
        memory.graph_view()
    for bad in (0, 1001, True, 2.5):
        with pytest.raises(InvalidInputError, match="max_entities"):
            memory.graph_view(user_id="alice", max_entities=bad)  # type: ignore[arg-type]
    off = Memory({**config(tmp_path / "off.db"), "enable_graph": False})
    assert off.graph_view(user_id="alice") == {
        "enabled": False, "entities": [], "relations": [], "total_entities": 0, "total_relations": 0,
        "truncated": False,
    }  # fmt: skip


def test_explain_parts_add_up_to_the_raw_score(moved: tuple[Memory, str, str]) -> None:
    memory, _, _ = moved
    memory.add("I drink tea every morning", user_id="alice", infer=False)
    memory.add("Tea with milk, no sugar", user_id="alice", infer=False)
    parts = ("dense_part", "keyword_part", "time_boost", "profile_boost", "entity_boost", "recency_boost",
             "neighbour_part")  # fmt: skip
    results = memory.search("where does alice live? tea", user_id="alice", explain=True)["results"]
    assert results
    for item in results:
        details = item["score_details"]
        assert sum(details[p] for p in parts) == pytest.approx(details["raw_score"])
        assert details["raw_score"] / details["max_possible_score"] == pytest.approx(item["score"])
    assert any(item["score_details"]["keyword_part"] > 0 for item in results)
    assert any(item["score_details"]["entity_boost"] > 0 for item in results)


@pytest.mark.integration
def test_the_browser_reads_work_on_postgresql(postgres_url: str) -> None:
    llm = FakeLLM(
        [
            answer([add("ADD", "Lives in Delhi")], [("user", "lives_in", "Delhi")]),
            answer([add("ADD", "Moved to Bangalore")], [("user", "lives_in", "Bangalore")], replaces=True),
        ]
    )
    pg = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "postgres", "config": {"url": postgres_url}},
        "enable_graph": True,
    }
    with Memory(pg, llm=llm) as memory:
        delhi = _ids(memory.add("I live in Delhi", user_id="alice"))[0]
        bangalore = _ids(memory.add("I moved to Bangalore", user_id="alice"))[0]
        memory.update(bangalore, "Moved to Bangalore in June")
        assert [(s["type"], s["id"], s["total_memories"]) for s in memory.scopes()] == [("user", "alice", 2)]
        details = memory.memory_details(bangalore)
        assert [v["text"] for v in details["versions"]] == [
            "Moved to Bangalore",
            "Moved to Bangalore in June",
        ]
        assert [s["content"] for s in details["sources"]] == ["I moved to Bangalore"]
        assert [r["destination"] for r in details["relations"]] == ["Bangalore"]
        view = memory.graph_view(user_id="alice")
        assert {(r["destination"], r["invalidated_at"] is None) for r in view["relations"]} == {
            ("Delhi", False), ("Bangalore", True)
        }  # fmt: skip
        assert memory.memory_details(delhi)["relations"][0]["invalidated_at"] is not None
