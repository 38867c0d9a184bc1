"""Graph questions on a real FalkorDB server: every accepted query of the corpus runs and stays
in its scope, the server refuses writes and stops long queries too, and ``Memory.graph_query``
sends a refused query back to the model once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from memlane import LLMError, Memory, StoreError
from memlane.embed import HashEmbedder
from memlane.errors import InvalidInputError
from memlane.graph.query import CypherQuery, QueryPlan, ValidatedCypher
from memlane.llm import FakeLLM
from memlane.store.falkordb.graph import FalkorDBGraphStore
from memlane.store.falkordb.query import run_cypher
from tests.graph.query.corpus import LEGITIMATE
from tests.graph.query.data import ALICE, BOB_ONLY, fill, rel
from tests.memory.test_graph_memory import add, answer

pytestmark = pytest.mark.integration


@pytest.fixture
def graph(falkordb_socket: str) -> Iterator[FalkorDBGraphStore]:
    store = FalkorDBGraphStore(unix_socket_path=falkordb_socket, graph_name=f"gq-{uuid.uuid4().hex}")
    try:
        fill(store)
        yield store
    finally:
        store.drop()
        store.close()


def count(graph: FalkorDBGraphStore) -> int:
    return int(graph.query("MATCH (n) RETURN count(n)")[0][0])


@pytest.mark.parametrize("text", LEGITIMATE)
def test_every_accepted_query_runs_and_stays_in_its_scope(graph: FalkorDBGraphStore, text: str) -> None:
    found = graph.read_query(ALICE, CypherQuery(text), limit=20)
    shown = json.dumps([found.rows, [r.as_dict() for r in found.relations]])
    assert not any(name in shown for name in BOB_ONLY), shown
    assert all(r.scope.user_id == "alice" for r in found.relations)
    assert len(found.rows) <= 20 and found.query.endswith(tuple(f"LIMIT {n}" for n in range(21)))


def test_a_query_answers_with_its_relations_and_their_memories(graph: FalkorDBGraphStore) -> None:
    found = graph.read_query(ALICE, CypherQuery(LEGITIMATE[0]))
    assert found.dialect == "cypher" and found.parameters == {"user_id": "alice"}
    triple = {"source": "alice", "relationship": "works_at", "destination": "Acme"}
    assert found.rows == [{"c.name": "Acme", "r": triple}]
    assert [(r.relationship, r.memory_ids) for r in found.relations] == [("works_at", ("m1",))]
    counted = graph.read_query(ALICE, CypherQuery("MATCH (a)-[r]->(b) RETURN count(r) AS n"))
    assert counted.rows == [{"n": 7}]  # all of alice's: her helper agent's and the replaced one too
    kinds = {r.relationship for r in counted.relations}
    assert kinds == {"works_at", "located_in", "manages", "lives_in", "likes"}


def test_a_chain_of_relationships_joins_correctly(graph: FalkorDBGraphStore) -> None:
    found = graph.read_query(ALICE, CypherQuery(LEGITIMATE[-1]))
    assert found.rows == [{"c.name": "Acme", "d.name": "Berlin"}]
    assert [(r.source, r.destination) for r in found.relations] == [("alice", "Acme"), ("Acme", "Berlin")]


def test_a_refused_query_never_reaches_the_server(graph: FalkorDBGraphStore) -> None:
    nodes = count(graph)
    with pytest.raises(InvalidInputError, match="DETACH is not allowed"):
        graph.read_query(ALICE, CypherQuery("MATCH (n) DETACH DELETE n"))
    with pytest.raises(InvalidInputError, match="Cypher queries"):
        graph.read_query(ALICE, QueryPlan(start=["user"]))
    assert count(graph) == nodes


def test_the_server_refuses_writes_and_stops_long_queries_too(graph: FalkorDBGraphStore) -> None:
    nodes = count(graph)
    write = ValidatedCypher("CREATE (n:Entity {name: 'x'}) RETURN n", {}, "", limit=5)
    with pytest.raises(InvalidInputError, match="read-only"):
        run_cypher(graph._graph, lambda ids: [], write, ALICE, 1000)
    assert count(graph) == nodes
    slow = ValidatedCypher("UNWIND range(1, 100000000) AS x RETURN sum(x)", {}, "", limit=5)
    with pytest.raises(StoreError, match="ran longer than 5 ms"):
        run_cypher(graph._graph, lambda ids: [], slow, ALICE, 5)


def test_a_query_the_server_cannot_run_is_an_input_error(graph: FalkorDBGraphStore) -> None:
    with pytest.raises(InvalidInputError, match="FalkorDB could not run the query"):
        graph.read_query(ALICE, CypherQuery("MATCH (a) RETURN toInteger(a.name, 1, 2, 3)"))


@pytest.fixture
def memory(falkordb_socket: str, tmp_path: Path) -> Iterator[Memory]:
    config: dict[str, Any] = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
        "graph_store": {
            "provider": "falkordb",
            "config": {"unix_socket_path": falkordb_socket, "graph_name": f"gq-{uuid.uuid4().hex}"},
        },
    }
    llm = FakeLLM([answer([add("ADD", "Works at Acme")], [("user", "works_at", "Acme")])])
    memory = Memory(config, llm=llm)
    try:
        memory.add("I work at Acme", user_id="alice")
        yield memory
    finally:
        cast(FalkorDBGraphStore, memory.graph).drop()
        memory.close()


WHERE = (
    "MATCH (u:Entity)-[r:RELATES]->(c:Entity) WHERE toLower(u.name) = 'alice' AND r.name = 'works_at' "
    "RETURN c.name AS company, r"
)


def test_graph_query_sends_a_refused_query_back_once(memory: Memory) -> None:
    llm = cast(FakeLLM, memory.llm)
    llm.add({"cypher": "MATCH (n) DETACH DELETE n"}, {"cypher": WHERE})
    found = memory.graph_query("Where do I work?", user_id="alice")
    assert [row["company"] for row in found["rows"]] == ["Acme"]
    (memory_id,) = found["citations"][found["relations"][0]["id"]]
    assert cast(dict[str, Any], memory.get(memory_id))["memory"] == "Works at Acme"
    assert "{user_id: $user_id}" in found["query"] and found["model_query"] == WHERE
    assert "DETACH is not allowed" in llm.calls[-1].text and found["usage"]["calls"] == 2
    assert "Relationship names in this graph: works_at" in llm.calls[-2].text


def test_graph_query_refused_twice_is_an_llm_error_and_nothing_changed(memory: Memory) -> None:
    llm = cast(FakeLLM, memory.llm)
    llm.add(
        {"cypher": "MATCH (n) SET n.name = 'x' RETURN n"}, {"cypher": "MATCH (n {user_id: 'bob'}) RETURN n"}
    )
    with pytest.raises(LLMError, match=r"refused twice.*SET is not allowed.*user_id may not appear"):
        memory.graph_query("Where do I work?", user_id="alice")
    assert [r["target"] for r in memory.get_all(user_id="alice")["relations"]] == ["Acme"]


def test_memlanes_own_columns_and_name_vectors_stay_out_of_the_rows(graph: FalkorDBGraphStore) -> None:
    graph.apply(ALICE, [], [rel("I", "owns", "a bike")], embedder=HashEmbedder(64))  # name vectors
    stored = graph.query("MATCH (e:Entity {name: 'a bike'}) RETURN e.embedding IS NOT NULL")
    assert stored == [[True]]
    star = graph.read_query(ALICE, CypherQuery("MATCH (a)-->(b) WHERE b.name = 'Acme' RETURN *"))
    assert star.rows and all(not key.startswith("_ml_") for row in star.rows for key in row)
    assert {r.relationship for r in star.relations} == {"works_at"}
    props = graph.read_query(ALICE, CypherQuery("MATCH (a:Entity) RETURN properties(a) AS p, a {.*} AS q"))
    assert props.rows and all(
        "embedding" not in row["p"] and "embedding" not in row["q"] for row in props.rows
    )
