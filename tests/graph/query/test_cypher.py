"""The Cypher validator: the hostile corpus is refused (each for its reason), the legitimate
one accepted, and what runs is the model's query with the scope bound and the rows limited."""

from __future__ import annotations

import re

import pytest

from memlane.errors import InvalidInputError
from memlane.graph.query import validate_cypher
from memlane.models import Scope
from tests.graph.query.corpus import HOSTILE, LEGITIMATE

ALICE = Scope(user_id="alice")

REASONS = {
    "writes": r"is not allowed: graph questions are read-only",
    "load csv": r"LOAD is not allowed",
    "procedures and functions": (
        r"namespaced functions|CALL is not allowed|function \w+\(\) is not allowed|embedding"
    ),
    "comments": r"comments are not allowed",
    "string tricks": r"not allowed|never closed",
    "scope overrides": (
        r"may not appear|parameters \(\$\w+\) are not allowed|reserved|dynamic property access"
    ),
    "unbounded paths": (
        r"upper bound of at most 3|at most 3 hops|whole numbers|shortestPath\(\) is not allowed"
    ),
    "multiple statements": r"one statement only|UNION is not allowed|RETURN must be the last clause",
    "unicode look-alikes": r"is not allowed outside a string literal",
    "subqueries and patterns outside MATCH": r"subqueries|patterns are allowed in MATCH only",
    "outside the graph's shape": r"one label, :Entity|one type, :RELATES|one direction",
    "malformed or unbounded": r".",
}

CASES = [
    pytest.param(query, REASONS[category], id=f"{category}-{index}")
    for category, queries in HOSTILE.items()
    for index, query in enumerate(queries)
]


def validate(query: str, scope: Scope = ALICE, limit: int = 20) -> str:
    return validate_cypher(query, scope, limit=limit, max_hops=3).text


def test_the_hostile_corpus_has_more_than_fifty_queries_in_every_category_asked_for() -> None:
    assert len(CASES) >= 50
    asked = {"writes", "load csv", "procedures and functions", "comments", "string tricks",
             "scope overrides", "unbounded paths", "multiple statements", "unicode look-alikes"}  # fmt: skip
    assert asked <= set(HOSTILE)


@pytest.mark.parametrize(("query", "reason"), CASES)
def test_a_hostile_query_is_refused_for_its_reason(query: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate(query)
    assert re.search(reason, str(info.value)), str(info.value)


@pytest.mark.parametrize("query", LEGITIMATE)
def test_a_legitimate_query_is_accepted_with_the_scope_bound(query: str) -> None:
    text = validate(query)
    assert "$user_id" in text and re.search(r"LIMIT \d+$", text)
    # every node pattern carries the scope (relationships join nodes of one scope only)
    assert not re.search(r"(?<!\w)\(\w*(:Entity)?\)", text), text
    nodes = re.findall(r"(?<!\w)\(\w*(?::Entity)?\s*\{[^}]*\}\)", text)
    assert nodes and all("user_id: $user_id" in node for node in nodes), text
    assert all("$" not in rel for rel in re.findall(r"-\[[^\]]*\]", text)), text


def test_the_scope_joins_an_existing_map_and_bare_relationships_get_a_name() -> None:
    text = validate("MATCH (a:Entity {name: 'Acme'})--(b)<-[r]-(c) RETURN a.name")
    assert text.startswith(
        "MATCH (a:Entity {name: 'Acme', user_id: $user_id})-[_ml_r1]-(b {user_id: $user_id})"
        "<-[r]-(c {user_id: $user_id}) RETURN a.name"
    )
    grouped = validate("MATCH (a)--(b) WITH a RETURN a.name")
    assert grouped.startswith("MATCH (a {user_id: $user_id})--(b {user_id: $user_id}) WITH a")


def test_every_id_of_the_scope_is_bound_as_a_parameter() -> None:
    scope = Scope(user_id="alice", agent_id="helper")
    checked = validate_cypher("MATCH (a)-[r:RELATES]->(b) RETURN b.name", scope, limit=5, max_hops=3)
    assert checked.parameters == {"user_id": "alice", "agent_id": "helper"}
    assert checked.text.count("{user_id: $user_id, agent_id: $agent_id}") == 2


def test_the_row_limit_is_enforced() -> None:
    assert validate("MATCH (a) RETURN a.name LIMIT 1000", limit=20).endswith("LIMIT 20")
    assert validate("MATCH (a) RETURN a.name LIMIT 3", limit=20).endswith("LIMIT 3")
    assert validate("MATCH (a) RETURN a.name;", limit=20).endswith("RETURN a.name LIMIT 20")
    with_inner = validate("MATCH (a) WITH a LIMIT 500 RETURN a.name", limit=7)
    assert with_inner.endswith("WITH a LIMIT 500 RETURN a.name LIMIT 7")


def test_relationships_are_returned_in_added_columns_while_they_are_in_scope() -> None:
    plain = validate_cypher("MATCH (a)-[r]->(b)-->(c) RETURN c.name", ALICE, limit=5, max_hops=3)
    assert plain.relation_columns == ("_ml_rels1", "_ml_rels2")
    assert "RETURN c.name, r AS _ml_rels1, _ml_r2 AS _ml_rels2 LIMIT 5" in plain.text
    counted = validate("MATCH (a)-[r]->(b) RETURN b.name, count(*) AS n")
    assert "count(*) AS n, collect(DISTINCT r) AS _ml_rels1" in counted
    grouped = validate_cypher("MATCH (a)-[r]->(b) WITH b RETURN b.name", ALICE, limit=5, max_hops=3)
    assert grouped.relation_columns == () and "_ml_" not in grouped.text


def test_skip_and_limit_take_one_whole_number() -> None:
    for bad in ("LIMIT 1 + 1000000", "LIMIT 2.5", "SKIP 1 * 5", "LIMIT toInteger('9')"):
        with pytest.raises(InvalidInputError, match="takes one whole number"):
            validate(f"MATCH (a) RETURN a.name {bad}")


def test_hops_up_to_the_bound_are_accepted() -> None:
    for hops in ("*1..3", "*..3", "*2", "*3..3", "*0..2"):
        assert hops in validate(f"MATCH (a)-[r:RELATES{hops}]->(b) RETURN b.name")


def test_starts_with_is_an_operator_not_a_clause() -> None:
    text = validate("MATCH (a) WHERE a.name STARTS WITH 'Al' AND a.name ENDS WITH 'ce' RETURN a.name")
    assert "STARTS WITH 'Al' AND a.name ENDS WITH 'ce' RETURN a.name" in text


def test_strings_keep_their_content() -> None:
    text = validate("MATCH (a) WHERE a.name = 'DELETE; // \\'x\\' CREATE' RETURN a.name")
    assert "'DELETE; // \\'x\\' CREATE'" in text


def test_an_empty_scope_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="user_id, agent_id or run_id"):
        validate("MATCH (a) RETURN a", scope=Scope())
