"""Graph questions on the SQL graphs: a ``QueryPlan`` run as one recursive query
(``memlane.store.graph_plan``), the scope (and on PostgreSQL the tenant) bound by the code. The
same tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane.errors import InvalidInputError, StoreError
from memlane.graph.base import GraphStore
from memlane.graph.query import CypherQuery, GraphQueryOutcome, QueryPlan
from memlane.graph.settings import GraphSettings
from memlane.models import Scope
from memlane.store.graph_plan import POSTGRES, SQLITE, plan_sql
from tests.graph.conftest import Made, postgres_graph, sqlite_graph
from tests.graph.query.data import ALICE, ALICE_HELPER, BOB_ONLY, fill, rel

BACKENDS = [
    pytest.param(sqlite_graph, id="sqlite"),
    pytest.param(postgres_graph, id="postgres", marks=pytest.mark.integration),
]


@pytest.fixture(params=BACKENDS)
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    factory: Callable[[pytest.FixtureRequest, Path, GraphSettings], Made] = request.param
    store, release = factory(request, tmp_path, GraphSettings())
    try:
        fill(store)
        yield store
    finally:
        release()


def run(graph: GraphStore, scope: Scope = ALICE, limit: int = 20, **plan: Any) -> GraphQueryOutcome:
    return graph.read_query(scope, QueryPlan.model_validate(plan), limit=limit)


def ends(outcome: GraphQueryOutcome) -> list[str]:
    return [row["end"] for row in outcome.rows]


def test_one_hop_along_a_relationship(graph: GraphStore) -> None:
    found = run(graph, start=["user"], relationships=["works_at"], direction="outgoing")
    assert found.dialect == "plan" and ends(found) == ["Acme"]
    assert found.rows[0]["path"] == [{"source": "alice", "relationship": "works_at", "destination": "Acme"}]
    assert [(r.relationship, r.memory_ids) for r in found.relations] == [("works_at", ("m1",))]
    assert "WITH RECURSIVE" in found.query and "alice" in found.parameters.values()


def test_two_hops_chain_facts_and_never_leave_the_scope(graph: GraphStore) -> None:
    found = run(graph, start=["alice"], direction="outgoing", hops=2)
    assert sorted(ends(found)) == ["Acme", "Bangalore", "Berlin", "tea"]  # tea: her helper agent's
    berlin = next(row for row in found.rows if row["end"] == "Berlin")
    assert berlin["hops"] == 2 and [step["relationship"] for step in berlin["path"]] == [
        "works_at",
        "located_in",
    ]
    names = {n for r in found.relations for n in (r.source, r.destination)}
    assert not names & BOB_ONLY


def test_direction_and_end_filters(graph: GraphStore) -> None:
    assert ends(run(graph, start=["I"], direction="incoming")) == ["Bob"]
    both = run(graph, start=["Acme"], direction="both", end_names=["berlin"])
    assert ends(both) == ["Berlin"]
    typed = run(graph, start=["user"], direction="outgoing", hops=2, end_types=["nothing"])
    assert typed.rows == []


def test_history_only_when_asked(graph: GraphStore) -> None:
    now = run(graph, start=["user"], relationships=["lives_in"], direction="outgoing")
    assert ends(now) == ["Bangalore"]
    then = run(graph, start=["user"], relationships=["lives in"], direction="outgoing", include_history=True)
    assert sorted(ends(then)) == ["Bangalore", "Delhi"]
    delhi = next(r for r in then.relations if r.destination == "Delhi")
    assert delhi.invalidated_at is not None and delhi.memory_ids == ("m4",)


def test_the_scope_is_a_filter(graph: GraphStore) -> None:
    assert "tea" in ends(run(graph, start=["user"], direction="outgoing"))  # the user's agents too
    assert ends(run(graph, scope=ALICE_HELPER, start=["user"], direction="outgoing")) == ["tea"]
    other = Scope(user_id="alice", agent_id="other")
    assert run(graph, scope=other, start=["user"]).rows == []


def test_a_plan_that_finds_nothing_says_why(graph: GraphStore) -> None:
    found = run(graph, start=["Paris"], relationships=["owns"])
    assert found.rows == [] and found.relations == []
    assert found.warnings == [
        "no entity of this scope is named 'Paris'",
        "no relation of this scope is named owns",
    ]


def test_paths_never_reuse_a_relation_and_the_limit_holds(graph: GraphStore) -> None:
    found = run(graph, start=["Acme"], direction="both", hops=3, limit=50)
    for row in found.rows:
        steps = [tuple(step.values()) for step in row["path"]]
        assert len(steps) == len(set(steps)) == row["hops"]
    assert len(run(graph, start=["Acme"], direction="both", hops=3, limit=2).rows) == 2


def test_sql_graphs_take_plans_only(graph: GraphStore) -> None:
    assert graph.query_dialect == "plan"
    with pytest.raises(InvalidInputError, match="QueryPlan"):
        graph.read_query(ALICE, CypherQuery("MATCH (a) RETURN a"))
    with pytest.raises(InvalidInputError, match="user_id"):
        graph.read_query(Scope(), QueryPlan(start=["user"]))


def test_one_plan_two_spellings() -> None:
    """The same statement for both back ends but for marks, the tenant and the walk's cap."""
    plan = QueryPlan(start=["user"], relationships=["works_at"], end_names=["acme"], end_types=["org"])
    lite, lite_params = plan_sql(plan, ALICE, 5, SQLITE)
    pg, pg_params = plan_sql(plan, ALICE, 5, POSTGRES.for_tenant("acme-corp"))
    assert lite.count("?") == len(lite_params) and "%s" not in lite and "tenant" not in lite
    assert pg.count("%s") == len(pg_params) and "?" not in pg
    # graph_names (seeds, end names), graph_relations, graph_entities (ends); the seeds join on it
    assert pg.count("tenant = %s") == pg_params.count("acme-corp") == 4
    assert "e.tenant = n.tenant" in pg
    assert [p for p in pg_params if p != "acme-corp"] == lite_params


# -- PostgreSQL only: tenants, the time limit, a caller's transaction ---------------------------


@pytest.mark.integration
def test_postgres_plans_never_leave_the_tenant(postgres_url: str) -> None:
    from memlane.store.postgres.graph import PostgresGraphStore

    mine = PostgresGraphStore(postgres_url, tenant="mine", max_connections=2)
    theirs = PostgresGraphStore(postgres_url, tenant="theirs", max_connections=2)
    try:
        fill(mine)
        theirs.apply(ALICE, [], [rel("I", "works_at", "Hooli")], memory_ids=["t1"])
        assert ends(run(theirs, start=["user"], direction="both", hops=3)) == ["Hooli"]
        assert "Hooli" not in ends(run(mine, start=["user"], direction="both", hops=3))
    finally:
        mine.close()
        theirs.close()


@pytest.mark.integration
def test_postgres_stops_a_plan_at_the_time_limit(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement that runs longer than ``timeout_ms`` is cancelled by PostgreSQL itself."""
    from memlane.store.postgres import graph as module

    def slow(ops: Any, *args: Any) -> GraphQueryOutcome:
        ops.conn.execute("SELECT pg_sleep(2)")
        raise AssertionError("not stopped")

    store = module.PostgresGraphStore(postgres_url, tenant=f"t{uuid.uuid4().hex[:8]}", max_connections=2)
    try:
        monkeypatch.setattr(module, "run_plan", slow)
        with pytest.raises(StoreError, match="longer than 50 ms"):
            store.read_query(ALICE, QueryPlan(start=["user"]), timeout_ms=50)
    finally:
        store.close()


@pytest.mark.integration
def test_postgres_plan_inside_a_store_transaction(postgres_url: str) -> None:
    """The graph joins the memory store's open transaction (it sees its writes) and leaves the
    transaction's own statement_timeout as it was."""
    from memlane.store.postgres.graph import PostgresGraphStore
    from memlane.store.postgres.store import PostgresStore

    memories = PostgresStore(postgres_url, tenant="shared", max_size=2)
    graph = PostgresGraphStore(memories)
    try:
        with memories.transaction(), memories.connection() as conn:
            conn.execute("SET LOCAL statement_timeout = '7s'")
            fill(graph)
            assert ends(run(graph, start=["user"], relationships=["works_at"])) == ["Acme"]
            row = conn.execute("SHOW statement_timeout").fetchone()
            assert row is not None and row[0] == "7s"
    finally:
        graph.close()
        memories.close()
