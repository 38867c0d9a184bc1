"""What the model is asked for a graph question: the graph's shape, the rules, the scope's
names, and a bounded answer."""

from __future__ import annotations

from memlane.errors import InvalidInputError
from memlane.llm.parse import parse_output
from memlane.llm.schema import GRAMMAR_MAX_LENGTH, response_schema
from memlane.prompts.graph_query import (
    MAX_CYPHER_CHARS,
    MAX_KNOWN_NAMES,
    CypherAnswer,
    GraphQueryInput,
    build_cypher_messages,
    build_plan_messages,
    repair_messages,
)

DATA = GraphQueryInput(
    question="Where does my manager live?",
    user_name="alice",
    relationships=["works_at", "manages"],
    entities=[f"entity {i}" for i in range(60)],
)


def test_the_cypher_prompt_states_the_shape_the_rules_and_the_names() -> None:
    system, user = (m["content"] for m in build_cypher_messages(DATA))
    assert isinstance(system, str) and user == "Question: Where does my manager live?"
    rules = [
        "(s:Entity)-[r:RELATES", "r.invalidated_at IS NULL", "never filter on user_id", "*1..3",
        'the entity named "alice"', "Relationship names in this graph: works_at, manages",
    ]  # fmt: skip
    for rule in rules:
        assert rule in system, rule
    assert f"entity {MAX_KNOWN_NAMES - 1}" in system and f"entity {MAX_KNOWN_NAMES}," not in system


def test_the_plan_prompt_names_every_field() -> None:
    system = str(build_plan_messages(DATA)[0]["content"])
    for field in ('"start"', '"relationships"', '"direction"', '"hops"', '"end_names"', '"include_history"'):
        assert field in system
    assert "Relationship names in this graph: works_at, manages" in system


def test_an_empty_graph_is_said_plainly() -> None:
    system = str(build_plan_messages(GraphQueryInput(question="q", user_name="bob"))[0]["content"])
    assert "Relationship names in this graph: (none yet)" in system


def test_the_answer_is_bounded_for_grammar_engines() -> None:
    schema = response_schema(CypherAnswer).schema
    assert schema["properties"]["cypher"]["maxLength"] == MAX_CYPHER_CHARS <= GRAMMAR_MAX_LENGTH
    assert parse_output('{"cypher": "MATCH (a) RETURN a"}', CypherAnswer).cypher == "MATCH (a) RETURN a"


def test_a_refused_query_goes_back_with_the_reason() -> None:
    messages = build_cypher_messages(DATA)
    reason = str(InvalidInputError("DETACH is not allowed"))
    repaired = repair_messages(messages, "MATCH (n) DETACH DELETE n", reason)
    assert repaired[:2] == messages and repaired[2] == {
        "role": "assistant",
        "content": "MATCH (n) DETACH DELETE n",
    }
    assert "cannot run: DETACH is not allowed" in str(repaired[3]["content"])
