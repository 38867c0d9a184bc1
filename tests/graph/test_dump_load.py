"""The graph contract's copies (``dump``, ``load``) and ``reembed``, over every graph back end."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from memlane.embed.hash import HashEmbedder
from memlane.errors import InvalidInputError, StoreError
from memlane.graph import store as store_module
from memlane.graph.base import GraphStore
from memlane.models import Scope
from tests.graph.conftest import MakeGraph, vec
from tests.graph.test_contract import ALICE, BOB, apply, found, rel

RUN = Scope(user_id="alice", agent_id="helper", run_id="r1")


def fill(graph: GraphStore) -> None:
    """Entities with aliases and vectors, current and invalidated relations, several scopes."""
    apply(graph, ALICE, rel("I", "lives_in", "Delhi"), rel("I", "works_at", "Acme Corp"), memory="m1")
    apply(graph, ALICE, rel("I", "lives_in", "Bangalore", replaces=True), at=1, memory="m2")
    apply(graph, ALICE, rel("I", "works_at", "Acme Corp"), at=2, memory="m3")  # a second mention
    apply(graph, ALICE, rel("acme corporation", "based_in", "Bangalore"), at=3, memory="m4")
    apply(graph, BOB, rel("I", "likes", "green tea"), at=4, memory="m5")
    apply(graph, RUN, rel("I", "plays", "chess"), at=5, memory="m6")


def canonical(graph: GraphStore) -> list[dict[str, Any]]:
    return list(graph.dump())


def test_dump_then_load_copies_every_entity_relation_and_link(make_graph: MakeGraph) -> None:
    source, copy = make_graph(), make_graph()
    fill(source)
    records = canonical(source)
    kinds = [r["kind"] for r in records]
    assert kinds == sorted(kinds)  # every entity before every relation
    assert any(r["data"]["invalidated_at"] for r in records if r["kind"] == "relation")
    assert all(r["data"]["embedding"] for r in records if r["kind"] == "entity")
    counts = copy.load(records)
    assert counts == {"entity": kinds.count("entity"), "relation": kinds.count("relation")}
    assert canonical(copy) == records
    for scope in (ALICE, BOB, RUN):
        assert copy.list_relations(scope, include_invalidated=True) == source.list_relations(
            scope, include_invalidated=True
        )
    assert found(copy, ALICE, "where does alice live?") == found(source, ALICE, "where does alice live?")
    works = next(r for r in copy.list_relations(ALICE) if r.relationship == "works_at")
    assert (works.mentions, works.memory_ids) == (2, ("m1", "m3"))


def test_a_loaded_graph_keeps_resolving_names_and_aliases(make_graph: MakeGraph) -> None:
    source, copy = make_graph(), make_graph()
    fill(source)
    copy.load(source.dump())
    changes = apply(copy, ALICE, rel("ACME CORP", "hires", "Bob"), at=6, memory="m7")
    assert [e.name for e in changes.entities_added] == ["Bob"]  # Acme Corp resolved, by name
    assert copy.search(ALICE, "acme", vec("acme")).relations


def test_dump_pages_through_a_graph_larger_than_a_page(
    make_graph: MakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, copy = make_graph(), make_graph()
    fill(source)
    whole = canonical(source)
    monkeypatch.setattr(store_module, "DUMP_PAGE", 2)
    records = canonical(source)
    assert records == whole and len(records) > 6
    assert len({r["data"]["id"] for r in records}) == len(records)
    copy.load(records)
    assert canonical(copy) == records


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"kind": "node", "data": {}}, "kind in"),
        ({"kind": "entity", "data": {"id": "e"}}, "lacks aliases"),
        ({"kind": "relation", "data": {"id": "r"}}, "lacks memory_ids"),
    ],
)
def test_a_bad_record_is_refused_before_anything_is_written(
    make_graph: MakeGraph, broken: dict[str, Any], message: str
) -> None:
    source, copy = make_graph(), make_graph()
    fill(source)
    with pytest.raises(InvalidInputError, match=message):
        copy.load([*source.dump(), broken])
    assert canonical(copy) == []


def test_a_bad_embedding_and_a_scopeless_record_are_refused(graph: GraphStore) -> None:
    other = graph
    fill(other)
    entity = next(r for r in other.dump() if r["kind"] == "entity")
    with pytest.raises(InvalidInputError, match="not base64"):
        graph.load([{"kind": "entity", "data": {**entity["data"], "id": "x", "embedding": "%%"}}])
    scopeless = {"user_id": None, "agent_id": None, "run_id": None}
    with pytest.raises(InvalidInputError, match="no user_id"):
        graph.load([{"kind": "entity", "data": {**entity["data"], "id": "y", **scopeless}}])


def test_a_relation_to_an_unknown_entity_is_refused(make_graph: MakeGraph) -> None:
    source, copy = make_graph(), make_graph()
    fill(source)
    relation = next(r for r in source.dump() if r["kind"] == "relation")
    # refused by the check after the insert, or by the back end's own foreign key (PostgreSQL)
    with pytest.raises((InvalidInputError, StoreError), match=r"neither loaded|foreign key"):
        copy.load([relation])
    assert list(copy.dump()) == []


def test_reembed_gives_every_entity_a_new_name_vector(graph: GraphStore) -> None:
    fill(graph)
    small = HashEmbedder(32)
    count = graph.reembed(lambda names: small.embed(list(names), purpose="add"))
    entities = [r["data"] for r in graph.dump() if r["kind"] == "entity"]
    assert count == len(entities) > 0
    assert {len(base64.b64decode(e["embedding"])) // 4 for e in entities} == {32}
    query = small.embed(["acme corporation"], purpose="search")[0]
    assert graph.search(ALICE, "acme corporation", query).relations
