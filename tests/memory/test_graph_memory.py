"""Memory with the graph on: entities and relations from the same LLM call, mem0's shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memlane import AddResult, Memory
from memlane.llm import FakeLLM


def config(path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        "enable_graph": True,
        **extra,
    }


def answer(
    memory: list[dict[str, Any]], relations: list[tuple[str, str, str]], **flags: Any
) -> dict[str, Any]:
    rels = [{"source": s, "relationship": r, "destination": d, **flags} for s, r, d in relations]
    names = sorted({n for s, _, d in relations for n in (s, d)})
    return {"memory": memory, "entities": [{"name": n, "type": "thing"} for n in names], "relations": rels}


def add(event: str, text: str, id: str | None = None) -> dict[str, Any]:
    return {"event": event, "id": id, "text": text}


@pytest.fixture
def delhi_then_bangalore(tmp_path: Path) -> tuple[Memory, FakeLLM, AddResult, AddResult]:
    llm = FakeLLM(
        [
            answer([add("ADD", "Lives in Delhi")], [("user", "lives_in", "Delhi")]),
            answer([add("DELETE", "Lives in Bangalore", "0")], [("user", "lives_in", "Bangalore")]),
        ]
    )
    memory = Memory(config(tmp_path / "g.db"), llm=llm)
    first = memory.add("I live in Delhi", user_id="alice")
    second = memory.add("I moved to Bangalore", user_id="alice")
    return memory, llm, first, second


def test_one_call_gives_facts_and_relations(delhi_then_bangalore: Any) -> None:
    memory, llm, first, second = delhi_then_bangalore
    assert len(llm.calls) == 2 and memory.llm_usage.calls == 2
    assert 'Fill "entities" and "relations"' in llm.calls[0].text  # graph rides in the same call
    assert first["relations"] == {
        "deleted_entities": [],
        "added_entities": [[{"source": "alice", "relationship": "lives_in", "target": "Delhi"}]],
    }
    assert second["relations"]["deleted_entities"] == [
        [{"source": "alice", "relationship": "lives_in", "target": "Delhi"}]
    ]
    assert second["relations"]["added_entities"] == [
        [{"source": "alice", "relationship": "lives_in", "target": "Bangalore"}]
    ]


def test_search_and_get_all_return_current_relations(delhi_then_bangalore: Any) -> None:
    memory, _, _, _ = delhi_then_bangalore
    found = memory.search("where does alice live?", user_id="alice")
    assert found["relations"] == [{"source": "alice", "relationship": "lives_in", "destination": "Bangalore"}]
    assert found["results"][0]["memory"] == "Lives in Bangalore"
    listed = memory.get_all(user_id="alice")
    assert listed["relations"] == [{"source": "alice", "relationship": "lives_in", "target": "Bangalore"}]
    assert memory.search("where does bob live?", user_id="bob")["relations"] == []


def test_multi_hop_relations(tmp_path: Path) -> None:
    llm = FakeLLM(
        [
            answer(
                [add("ADD", "Works at Acme"), add("ADD", "Acme is in Berlin")],
                [("user", "works_at", "Acme"), ("Acme", "located_in", "Berlin")],
            )
        ]
    )
    memory = Memory(config(tmp_path / "g.db"), llm=llm)
    memory.add("I work at Acme, which is based in Berlin", user_id="alice")
    triples = {
        (r["source"], r["relationship"], r["destination"])
        for r in memory.search("where does alice work?", user_id="alice")["relations"]
    }
    assert ("alice", "works_at", "Acme") in triples and ("Acme", "located_in", "Berlin") in triples


def test_deletes_clear_the_graph(delhi_then_bangalore: Any) -> None:
    memory, _, _, second = delhi_then_bangalore
    bangalore = next(r["id"] for r in second["results"] if r["event"] == "ADD")
    memory.delete(bangalore)
    assert memory.get_all(user_id="alice")["relations"] == []
    memory.reset()
    assert memory.get_all(user_id="alice") == {"results": [], "relations": []}


def test_delete_all_clears_the_scope_graph_only(tmp_path: Path) -> None:
    llm = FakeLLM(
        [
            answer([add("ADD", "Likes jazz")], [("user", "likes", "jazz")]),
            answer([add("ADD", "Likes rock")], [("user", "likes", "rock")]),
        ]
    )
    memory = Memory(config(tmp_path / "g.db"), llm=llm)
    memory.add("I like jazz", user_id="alice")
    memory.add("I like rock", user_id="bob")
    memory.delete_all(user_id="alice")
    assert memory.get_all(user_id="alice")["relations"] == []
    assert memory.get_all(user_id="bob")["relations"] == [
        {"source": "bob", "relationship": "likes", "target": "rock"}
    ]


def test_classic_pipeline_spends_one_extra_call(tmp_path: Path) -> None:
    llm = FakeLLM(
        [
            {"facts": ["Likes jazz"]},
            {"memory": [add("ADD", "Likes jazz")]},
            {
                "entities": [{"name": "jazz", "type": "genre"}],
                "relations": [{"source": "user", "relationship": "likes", "destination": "jazz"}],
            },
        ]
    )
    memory = Memory(config(tmp_path / "g.db", pipeline="classic"), llm=llm)
    out = memory.add("I like jazz", user_id="alice")
    assert [c.response_model for c in llm.calls] == ["Facts", "MemoryUpdate", "GraphExtraction"]
    assert out["relations"]["added_entities"] == [
        [{"source": "alice", "relationship": "likes", "target": "jazz"}]
    ]


def test_verbatim_adds_return_empty_relations(tmp_path: Path) -> None:
    memory = Memory(config(tmp_path / "g.db"))
    out = memory.add("plain text", user_id="alice", infer=False)
    assert out["relations"] == {"deleted_entities": [], "added_entities": []}


def test_mem0_graph_store_section_is_accepted(tmp_path: Path) -> None:
    cfg = config(tmp_path / "g.db")
    del cfg["enable_graph"]
    cfg["graph_store"] = {"provider": "sqlite", "config": {}, "threshold": 0.9, "custom_prompt": "x"}
    memory = Memory(cfg)
    assert memory.graph is not None
    assert memory.config.graph_store is not None
    assert memory.config.graph_store.config["match_threshold"] == 0.9
