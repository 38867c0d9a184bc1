"""Graph questions on the SQLite graph: a ``QueryPlan`` run as one recursive query, the scope
bound by the code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane.errors import InvalidInputError
from memlane.graph.query import CypherQuery, GraphQueryOutcome, QueryPlan
from memlane.models import Scope
from memlane.store.sqlite.graph import SQLiteGraphStore
from tests.graph.query.data import ALICE, ALICE_HELPER, BOB_ONLY, fill


@pytest.fixture
def graph(db_dir: Path) -> Iterator[SQLiteGraphStore]:
    store = SQLiteGraphStore(db_dir / "graph.db")
    fill(store)
    yield store
    store.close()


def run(graph: SQLiteGraphStore, scope: Scope = ALICE, limit: int = 20, **plan: Any) -> GraphQueryOutcome:
    return graph.read_query(scope, QueryPlan.model_validate(plan), limit=limit)


def ends(outcome: GraphQueryOutcome) -> list[str]:
    return [row["end"] for row in outcome.rows]


def test_one_hop_along_a_relationship(graph: SQLiteGraphStore) -> None:
    found = run(graph, start=["user"], relationships=["works_at"], direction="outgoing")
    assert found.dialect == "plan" and ends(found) == ["Acme"]
    assert found.rows[0]["path"] == [{"source": "alice", "relationship": "works_at", "destination": "Acme"}]
    assert [(r.relationship, r.memory_ids) for r in found.relations] == [("works_at", ("m1",))]
    assert "WITH RECURSIVE" in found.query and found.parameters["1"] == "alice"


def test_two_hops_chain_facts_and_never_leave_the_scope(graph: SQLiteGraphStore) -> None:
    found = run(graph, start=["alice"], direction="outgoing", hops=2)
    assert sorted(ends(found)) == ["Acme", "Bangalore", "Berlin", "tea"]  # tea: her helper agent's
    berlin = next(row for row in found.rows if row["end"] == "Berlin")
    assert berlin["hops"] == 2 and [step["relationship"] for step in berlin["path"]] == [
        "works_at",
        "located_in",
    ]
    names = {n for r in found.relations for n in (r.source, r.destination)}
    assert not names & BOB_ONLY


def test_direction_and_end_filters(graph: SQLiteGraphStore) -> None:
    assert ends(run(graph, start=["I"], direction="incoming")) == ["Bob"]
    both = run(graph, start=["Acme"], direction="both", end_names=["berlin"])
    assert ends(both) == ["Berlin"]
    typed = run(graph, start=["user"], direction="outgoing", hops=2, end_types=["nothing"])
    assert typed.rows == []


def test_history_only_when_asked(graph: SQLiteGraphStore) -> None:
    now = run(graph, start=["user"], relationships=["lives_in"], direction="outgoing")
    assert ends(now) == ["Bangalore"]
    then = run(graph, start=["user"], relationships=["lives in"], direction="outgoing", include_history=True)
    assert sorted(ends(then)) == ["Bangalore", "Delhi"]
    delhi = next(r for r in then.relations if r.destination == "Delhi")
    assert delhi.invalidated_at is not None and delhi.memory_ids == ("m4",)


def test_the_scope_is_a_filter(graph: SQLiteGraphStore) -> None:
    assert "tea" in ends(run(graph, start=["user"], direction="outgoing"))  # the user's agents too
    assert ends(run(graph, scope=ALICE_HELPER, start=["user"], direction="outgoing")) == ["tea"]
    other = Scope(user_id="alice", agent_id="other")
    assert run(graph, scope=other, start=["user"]).rows == []


def test_a_plan_that_finds_nothing_says_why(graph: SQLiteGraphStore) -> None:
    found = run(graph, start=["Paris"], relationships=["owns"])
    assert found.rows == [] and found.relations == []
    assert found.warnings == [
        "no entity of this scope is named 'Paris'",
        "no relation of this scope is named owns",
    ]


def test_paths_never_reuse_a_relation_and_the_limit_holds(graph: SQLiteGraphStore) -> None:
    found = run(graph, start=["Acme"], direction="both", hops=3, limit=50)
    for row in found.rows:
        steps = [tuple(step.values()) for step in row["path"]]
        assert len(steps) == len(set(steps)) == row["hops"]
    assert len(run(graph, start=["Acme"], direction="both", hops=3, limit=2).rows) == 2


def test_the_sqlite_graph_takes_plans_only(graph: SQLiteGraphStore) -> None:
    assert graph.query_dialect == "plan"
    with pytest.raises(InvalidInputError, match="QueryPlan"):
        graph.read_query(ALICE, CypherQuery("MATCH (a) RETURN a"))
    with pytest.raises(InvalidInputError, match="user_id"):
        graph.read_query(Scope(), QueryPlan(start=["user"]))
