"""``Memory.graph_query`` over the SQLite graph and the PostgreSQL graph with the scripted
FakeLLM: one call writes the plan, memlane runs it, and the relations come back with the
memories that support them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, ConfigError, InvalidInputError, LLMError, Memory
from memlane.graph.query import GraphQuery, GraphQueryOutcome, QueryPlan
from memlane.graph.store import OpsGraphStore
from memlane.llm import FakeLLM
from memlane.models import Scope
from memlane.store.sqlite.graph import SQLiteGraphStore
from tests.memory.test_graph_memory import add, answer, config

PLAN = {"start": ["user"], "relationships": [], "direction": "outgoing", "hops": 2}


def postgres_config(url: str) -> dict[str, Any]:
    """A PostgreSQL Memory: the graph in the same database (and tenant) by default."""
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "postgres", "config": {"url": url}},
        "enable_graph": True,
    }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Memory]:
    llm = FakeLLM(
        [
            answer([add("ADD", "Works at Acme")], [("user", "works_at", "Acme")]),
            answer([add("ADD", "Acme is based in Berlin")], [("Acme", "located_in", "Berlin")]),
            answer([add("ADD", "Bob works at Globex")], [("user", "works_at", "Globex")]),
        ]
    )
    if request.param == "sqlite":
        settings = config(tmp_path / "g.db")
    else:
        settings = postgres_config(request.getfixturevalue("postgres_url"))
    memory = Memory(settings, llm=llm)
    try:
        memory.add("I work at Acme", user_id="alice")
        memory.add("Acme is based in Berlin", user_id="alice")
        memory.add("I work at Globex", user_id="bob")
        yield memory
    finally:
        memory.close()


def fake(memory: Memory) -> FakeLLM:
    assert isinstance(memory.llm, FakeLLM)
    return memory.llm


def test_a_question_is_answered_from_the_graph_with_citations(memory: Memory) -> None:
    llm = fake(memory)
    llm.add(PLAN)
    before = memory.llm_usage.calls
    found = memory.graph_query("Where is the company I work for?", user_id="alice")
    assert found["dialect"] == "plan" and found["model_query"] == {
        **PLAN, "end_names": [], "end_types": [], "include_history": False,
    }  # fmt: skip
    assert sorted(row["end"] for row in found["rows"]) == ["Acme", "Berlin"]
    assert [(r["source"], r["relationship"], r["destination"]) for r in found["relations"]] == [
        ("alice", "works_at", "Acme"),
        ("Acme", "located_in", "Berlin"),
    ]
    cited = {mid: memory.get(mid) for ids in found["citations"].values() for mid in ids}
    assert sorted(item["memory"] for item in cited.values() if item) == [
        "Acme is based in Berlin",
        "Works at Acme",
    ]
    assert set(found["citations"]) == {r["id"] for r in found["relations"]}
    assert "WITH RECURSIVE" in found["query"] and found["warnings"] == []
    assert found["usage"]["calls"] == 1 and memory.llm_usage.calls == before + 1
    asked = llm.calls[-1]
    assert asked.response_model == "QueryPlan"
    assert "Where is the company I work for?" in asked.text and "works_at" in asked.text
    assert 'The user is the entity "alice"' in asked.text and "Globex" not in asked.text


def test_a_plan_out_of_bounds_is_repaired_once(memory: Memory) -> None:
    llm = fake(memory)
    llm.add({**PLAN, "hops": 9}, PLAN)
    found = memory.graph_query("Where is my company?", user_id="alice")
    assert len(found["rows"]) == 2 and found["usage"]["calls"] == 2 and llm.calls[-1].repair


def test_a_plan_that_stays_wrong_is_an_llm_error_never_an_empty_answer(memory: Memory) -> None:
    llm = fake(memory)
    llm.add({"start": []}, {"hops": 0})
    with pytest.raises(LLMError, match="QueryPlan") as info:
        memory.graph_query("Where is my company?", user_id="alice")
    assert info.value.usage is not None and info.value.usage.calls == 2


def test_an_empty_answer_says_so(memory: Memory) -> None:
    fake(memory).add({"start": ["Mars"]})
    found = memory.graph_query("Who lives on Mars?", user_id="alice")
    assert found["rows"] == [] and found["warnings"] == ["no entity of this scope is named 'Mars'"]


def test_without_an_llm_the_same_config_error_as_add_infer(tmp_path: Path) -> None:
    memory = Memory(config(tmp_path / "g.db"))
    with pytest.raises(ConfigError, match="graph_query\\(\\) needs an LLM"):
        memory.graph_query("Where do I work?", user_id="alice")
    with pytest.raises(ConfigError):
        memory.add("I work at Acme", user_id="alice", infer=True)


def test_without_the_graph_a_config_error(tmp_path: Path) -> None:
    memory = Memory({**config(tmp_path / "g.db"), "enable_graph": False}, llm=FakeLLM())
    with pytest.raises(ConfigError, match="needs the graph"):
        memory.graph_query("Where do I work?", user_id="alice")


class NoQueries(SQLiteGraphStore):
    """A graph back end that answers no graph questions (the contract's default)."""

    query_dialect = None

    def read_query(self, scope: Scope, query: GraphQuery, **kwargs: Any) -> GraphQueryOutcome:
        return OpsGraphStore.read_query(self, scope, query, **kwargs)


def test_a_back_end_without_graph_questions_says_so(tmp_path: Path) -> None:
    graph = NoQueries(tmp_path / "n.db")
    memory = Memory(config(tmp_path / "g.db"), llm=FakeLLM([PLAN]), graph=graph)
    with pytest.raises(ConfigError, match="not supported on this graph back end \\(NoQueries\\)"):
        memory.graph_query("Where do I work?", user_id="alice")
    with pytest.raises(ConfigError, match="not supported"):
        graph.read_query(Scope(user_id="alice"), QueryPlan.model_validate(PLAN))


@pytest.mark.parametrize(
    ("question", "kwargs", "message"),
    [
        ("", {"user_id": "alice"}, "must not be empty"),
        ("Where?", {}, "user_id, agent_id or run_id"),
        ("Where?", {"user_id": "alice", "limit": 0}, "limit must be an int from 1 to 200"),
        ("Where?", {"user_id": "alice", "limit": 201}, "limit must be an int"),
        ("Where?", {"user_id": "alice", "limit": True}, "limit must be an int"),
        ("Where?", {"user_id": "alice", "timeout_ms": 0}, "timeout_ms must be a positive int"),
        ("Where?", {"user_id": " "}, "user_id"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(
    memory: Memory, question: str, kwargs: dict[str, Any], message: str
) -> None:
    calls = len(fake(memory).calls)
    with pytest.raises(InvalidInputError, match=message):
        memory.graph_query(question, **kwargs)
    assert len(fake(memory).calls) == calls


def test_the_limit_bounds_the_rows(memory: Memory) -> None:
    fake(memory).add(PLAN)
    assert len(memory.graph_query("Where?", user_id="alice", limit=1)["rows"]) == 1


def test_async_memory_has_graph_query(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        llm = FakeLLM([answer([add("ADD", "Works at Acme")], [("user", "works_at", "Acme")]), PLAN])
        async with AsyncMemory(config(tmp_path / "a.db"), llm=llm) as memory:
            await memory.add("I work at Acme", user_id="alice")
            return dict(await memory.graph_query("Where do I work?", user_id="alice"))

    found = asyncio.run(main())
    assert [row["end"] for row in found["rows"]] == ["Acme"]
