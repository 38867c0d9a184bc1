"""The graph contract: what every ``GraphStore`` must do (runs over ``conftest.GRAPH_FACTORIES``)."""

from __future__ import annotations

from typing import Any

import pytest

from memlane.errors import InvalidInputError
from memlane.graph.base import GraphStore
from memlane.graph.models import ExtractedEntity, ExtractedRelation, Relation
from memlane.models import Scope
from tests.graph.conftest import EMBED, MakeGraph, vec

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")
T = [f"2026-01-0{d}T00:00:00+00:00" for d in range(1, 10)]


def rel(source: str, relationship: str, destination: str, **flags: Any) -> ExtractedRelation:
    return ExtractedRelation(source=source, relationship=relationship, destination=destination, **flags)


def apply(
    graph: GraphStore, scope: Scope, *relations: ExtractedRelation, at: int = 0, memory: str = "m0", **kw: Any
) -> Any:
    return graph.apply(
        scope, kw.pop("entities", []), list(relations), memory_ids=[memory], observed_at=T[at],
        recorded_at=T[at], embedder=EMBED, **kw,
    )  # fmt: skip


def triples(relations: list[Relation]) -> set[tuple[str, str, str]]:
    return {(r.source, r.relationship, r.destination) for r in relations}


def found(graph: GraphStore, scope: Scope, query: str, **kw: Any) -> list[tuple[str, str, str]]:
    result = graph.search(scope, query, vec(query), **kw)
    return [(s.relation.source, s.relation.relationship, s.relation.destination) for s in result.relations]


# -- apply ---------------------------------------------------------------------------------


def test_apply_adds_relations_and_maps_self_references_to_the_user(graph: GraphStore) -> None:
    changes = apply(
        graph, ALICE, rel("I", "Works At", "Acme Corp"), rel("my", "likes", "green_tea"),
        entities=[ExtractedEntity(name="Acme Corp", type="Organization")],
    )  # fmt: skip
    assert triples(changes.added) == {("alice", "works_at", "Acme Corp"), ("alice", "likes", "green tea")}
    assert {e.name: e.type for e in changes.entities_added} == {
        "alice": "person", "Acme Corp": "organization", "green tea": "",
    }  # fmt: skip
    assert changes.to_mem0()["added_entities"][0] == [
        {"source": "alice", "relationship": "works_at", "target": "Acme Corp"}
    ]
    listed = graph.list_relations(ALICE)
    assert triples(listed) == triples(changes.added)
    first = next(r for r in listed if r.relationship == "works_at")
    assert (first.mentions, first.memory_ids, first.valid_from, first.created_at) == (1, ("m0",), T[0], T[0])
    assert first.is_current and first.scope == ALICE


def test_unusable_relations_are_dropped(graph: GraphStore) -> None:
    changes = apply(
        graph, ALICE, rel("", "likes", "tea"), rel("alice", "!!", "tea"), rel("me", "is", "alice")
    )
    assert changes.is_empty()
    assert graph.list_relations(ALICE) == []


def test_names_resolve_by_normalised_name(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("alice", "works_at", "Acme Corp"))
    changes = apply(graph, ALICE, rel("ALICE", "likes", "  acme_corp. "), at=1)
    assert changes.entities_added == []
    relations = graph.list_relations(ALICE)
    assert len({r.destination_id for r in relations}) == 1
    assert {r.destination for r in relations} == {"Acme Corp"}


def test_names_resolve_by_embedding_and_become_aliases(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("alice", "knows", "Robert James Smith"))
    changes = apply(graph, ALICE, rel("alice", "admires", "Robert James Smith Jr"), at=1)
    assert changes.entities_added == []  # cosine 0.87 with the hash embedder, above 0.85
    assert {r.destination for r in graph.list_relations(ALICE)} == {"Robert James Smith"}
    # the alias now matches exactly, without any embedding
    graph.apply(ALICE, [], [rel("alice", "thanks", "robert james smith jr")], recorded_at=T[2])
    assert len({r.destination_id for r in graph.list_relations(ALICE)}) == 1
    assert ("alice", "admires", "Robert James Smith") in found(graph, ALICE, "who is robert james smith jr?")


def test_dissimilar_names_make_new_entities(make_graph: MakeGraph) -> None:
    graph = make_graph(match_threshold=0.95)
    apply(graph, ALICE, rel("alice", "knows", "Robert James Smith"))
    changes = apply(graph, ALICE, rel("alice", "admires", "Robert James Smith Jr"), at=1)
    assert [e.name for e in changes.entities_added] == ["Robert James Smith Jr"]


def test_a_repeated_relation_adds_a_mention_and_its_memory(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("alice", "likes", "tea"), memory="m1")
    changes = apply(graph, ALICE, rel("Alice", "likes", "Tea"), at=1, memory="m2")
    assert changes.added == [] and len(changes.mentioned) == 1
    (only,) = graph.list_relations(ALICE)
    assert (only.mentions, only.memory_ids, only.created_at, only.updated_at) == (2, ("m1", "m2"), T[0], T[1])


def test_a_single_valued_relation_invalidates_the_old_one_and_keeps_it(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "lives_in", "Delhi"), rel("I", "likes", "chai"))
    changes = apply(graph, ALICE, rel("I", "lives in", "Bangalore"), at=2)
    assert triples(changes.invalidated) == {("alice", "lives_in", "Delhi")}
    assert changes.to_mem0()["deleted_entities"] == [
        [{"source": "alice", "relationship": "lives_in", "target": "Delhi"}]
    ]
    old = changes.invalidated[0]
    assert (old.invalidated_at, old.valid_to, old.valid_from) == (T[2], T[2], T[0])
    assert triples(graph.list_relations(ALICE)) == {
        ("alice", "lives_in", "Bangalore"),
        ("alice", "likes", "chai"),
    }
    history = graph.list_relations(ALICE, include_invalidated=True)
    assert ("alice", "lives_in", "Delhi") in triples(history) and len(history) == 3
    assert triples(graph.list_relations(ALICE, as_of=T[1])) == {
        ("alice", "lives_in", "Delhi"), ("alice", "likes", "chai"),
    }  # fmt: skip
    assert found(graph, ALICE, "where does alice live?", as_of=T[1])[0] == ("alice", "lives_in", "Delhi")
    assert found(graph, ALICE, "where does alice live?")[0] == ("alice", "lives_in", "Bangalore")


def test_moving_back_adds_a_new_relation(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "lives_in", "Delhi"))
    apply(graph, ALICE, rel("I", "lives_in", "Bangalore"), at=1)
    changes = apply(graph, ALICE, rel("I", "lives_in", "Delhi"), at=2)
    assert triples(changes.added) == {("alice", "lives_in", "Delhi")}
    history = graph.list_relations(ALICE, include_invalidated=True)
    assert [r.destination for r in history] == ["Delhi", "Bangalore", "Delhi"]
    assert [r.is_current for r in history] == [True, False, False]


def test_replaces_flag_and_multi_valued_relations(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "likes", "tea"))
    apply(graph, ALICE, rel("I", "likes", "coffee"), at=1)
    assert triples(graph.list_relations(ALICE)) == {("alice", "likes", "tea"), ("alice", "likes", "coffee")}
    changes = apply(graph, ALICE, rel("I", "likes", "juice", replaces=True), at=2)
    assert triples(changes.invalidated) == {("alice", "likes", "tea"), ("alice", "likes", "coffee")}
    assert triples(graph.list_relations(ALICE)) == {("alice", "likes", "juice")}


def test_ended_invalidates_without_adding(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "member_of", "chess club"), rel("I", "member_of", "choir"))
    changes = apply(graph, ALICE, rel("I", "member of", "Chess Club", ended=True, since="2026-01-05"), at=6)
    assert changes.added == [] and triples(changes.invalidated) == {("alice", "member_of", "chess club")}
    assert changes.invalidated[0].valid_to == "2026-01-05"
    assert triples(graph.list_relations(ALICE)) == {("alice", "member_of", "choir")}


def test_since_sets_valid_from(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "works_at", "Acme", since="2025-03"), rel("I", "owns", "cat", since="soon"))
    valid = {r.destination: r.valid_from for r in graph.list_relations(ALICE)}
    assert valid == {"Acme": "2025-03", "cat": T[0]}


# -- search --------------------------------------------------------------------------------


def _company_graph(graph: GraphStore) -> None:
    apply(
        graph, ALICE, rel("I", "works_at", "Acme"), rel("Acme", "located_in", "Berlin"),
        rel("I", "likes", "tea"), rel("Berlin", "part_of", "Germany"), memory="m1",
    )  # fmt: skip
    apply(graph, ALICE, rel("bob", "friend_of", "alice"), at=1, memory="m2")


def test_search_walks_two_hops_and_ranks(graph: GraphStore) -> None:
    _company_graph(graph)
    result = graph.search(ALICE, "where does alice work?", vec("where does alice work?"))
    ranked = [
        (s.relation.source, s.relation.relationship, s.relation.destination, s.hops) for s in result.relations
    ]
    assert ranked[0] == ("alice", "works_at", "Acme", 1)
    assert ("Acme", "located_in", "Berlin", 2) in ranked
    assert ("Berlin", "part_of", "Germany", 3) not in ranked and len(ranked) == 4
    assert all(0 < s.score <= 1 for s in result.relations)
    assert [s.score for s in result.relations] == sorted((s.score for s in result.relations), reverse=True)
    assert result.memory_ids == ["m1", "m2"] and result.memory_scores["m1"] == result.relations[0].score
    assert result.to_mem0()[0] == {"source": "alice", "relationship": "works_at", "destination": "Acme"}
    one_hop = graph.search(ALICE, "where does alice work?", hops=1)
    assert {s.hops for s in one_hop.relations} == {1} and len(one_hop.relations) == 3
    assert len(graph.search(ALICE, "where does alice work?", limit=2).relations) == 2


def test_search_finds_entities_by_self_reference_alias_and_vector(graph: GraphStore) -> None:
    _company_graph(graph)
    assert found(graph, ALICE, "where do I work?")[0] == ("alice", "works_at", "Acme")
    by_vector = graph.search(ALICE, "what about the company?", vec("Acme"), hops=1)
    assert {s.relation.destination for s in by_vector.relations} >= {"Acme", "Berlin"}
    assert graph.search(ALICE, "what about the company?", None).relations == []
    assert graph.search(ALICE, "nothing matches here", vec("zzz qqq")).relations == []


def test_search_between_two_named_entities_ranks_their_relation_first(graph: GraphStore) -> None:
    _company_graph(graph)
    assert found(graph, ALICE, "is Berlin where Acme is?")[0] == ("Acme", "located_in", "Berlin")


def test_mentions_break_ties(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "likes", "tea"), rel("I", "likes", "coffee"))
    apply(graph, ALICE, rel("I", "likes", "coffee"), at=1)
    assert found(graph, ALICE, "what does alice like?")[0] == ("alice", "likes", "coffee")


# -- scopes --------------------------------------------------------------------------------


def test_scopes_are_isolated(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "works_at", "Acme"))
    apply(graph, BOB, rel("I", "works_at", "Acme"), rel("alice", "owes", "bob"), memory="b1")
    assert triples(graph.list_relations(ALICE)) == {("alice", "works_at", "Acme")}
    assert {
        s.relation.scope for s in graph.search(ALICE, "alice acme bob", vec("alice acme bob")).relations
    } == {ALICE}
    apply(graph, ALICE, rel("I", "works_at", "Globex"), at=1)  # bob's Acme relation stays current
    assert triples(graph.list_relations(BOB)) == {("bob", "works_at", "Acme"), ("alice", "owes", "bob")}


def test_reads_filter_by_the_ids_given(graph: GraphStore) -> None:
    run1, run2 = Scope("alice", run_id="r1"), Scope("alice", run_id="r2")
    apply(graph, run1, rel("I", "visited", "Rome"))
    apply(graph, run2, rel("I", "visited", "Oslo"))
    assert triples(graph.list_relations(run1)) == {("alice", "visited", "Rome")}
    assert triples(graph.list_relations(ALICE)) == {
        ("alice", "visited", "Rome"),
        ("alice", "visited", "Oslo"),
    }
    assert len(graph.search(ALICE, "where did alice go?").relations) == 2
    assert len(graph.search(Scope(run_id="r2"), "where did alice go?").relations) == 1


def test_an_empty_scope_is_refused(graph: GraphStore) -> None:
    with pytest.raises(InvalidInputError):
        apply(graph, Scope(), rel("I", "likes", "tea"))
    with pytest.raises(InvalidInputError):
        graph.list_relations(Scope())
    with pytest.raises(InvalidInputError):
        graph.delete_scope(Scope())


# -- deletion ------------------------------------------------------------------------------


def test_remove_memories(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "likes", "tea"), rel("I", "owns", "a red bicycle"), memory="m1")
    apply(graph, ALICE, rel("I", "likes", "tea"), at=1, memory="m2")
    graph.apply(ALICE, [], [rel("I", "knows", "carol")], recorded_at=T[2])  # no supporting memory
    assert graph.remove_memories(["m1", "unknown"]) == 1
    listed = {r.destination: r.memory_ids for r in graph.list_relations(ALICE)}
    assert listed == {"tea": ("m2",), "carol": ()}
    assert graph.search(ALICE, "a red bicycle").relations == []  # the orphan entity is gone too
    assert graph.remove_memories(["m2"]) == 1
    assert triples(graph.list_relations(ALICE)) == {("alice", "knows", "carol")}
    assert graph.remove_memories([]) == 0


def test_remove_memories_reaches_invalidated_relations(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "lives_in", "Delhi"), memory="m1")
    apply(graph, ALICE, rel("I", "lives_in", "Pune"), at=1, memory="m2")
    assert graph.remove_memories(["m1"]) == 1
    assert triples(graph.list_relations(ALICE, include_invalidated=True)) == {("alice", "lives_in", "Pune")}


def test_delete_scope(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "works_at", "Acme"), rel("I", "lives_in", "Delhi"))
    apply(graph, ALICE, rel("I", "lives_in", "Pune"), at=1)
    apply(graph, BOB, rel("I", "works_at", "Acme"))
    assert graph.delete_scope(ALICE) == 3
    assert graph.list_relations(ALICE, include_invalidated=True) == []
    assert graph.search(ALICE, "alice acme", vec("alice acme")).relations == []
    assert triples(graph.list_relations(BOB)) == {("bob", "works_at", "Acme")}
    changes = apply(graph, ALICE, rel("I", "works_at", "Acme"), at=2)
    assert len(changes.entities_added) == 2  # nothing of the old graph is reused


def test_purge_by_memory_and_by_scope(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "knows", "Quokkasecret"), memory="m1")
    apply(graph, ALICE, rel("I", "likes", "tea"), at=1, memory="m2")
    apply(graph, BOB, rel("I", "likes", "coffee"), memory="b1")
    assert graph.purge(["m1"]) == 1
    assert found(graph, ALICE, "quokkasecret") == []
    assert graph.purge(scope=BOB) == 1
    assert graph.list_relations(BOB) == []
    assert triples(graph.list_relations(ALICE)) == {("alice", "likes", "tea")}


def test_reset(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("I", "likes", "tea"))
    apply(graph, BOB, rel("I", "likes", "tea"))
    graph.reset()
    assert graph.list_relations(ALICE) == [] and graph.list_relations(BOB) == []
    assert triples(apply(graph, ALICE, rel("I", "likes", "tea")).added) == {("alice", "likes", "tea")}


def test_vectors_given_by_the_caller_are_used(graph: GraphStore) -> None:
    apply(graph, ALICE, rel("alice", "knows", "Robert James Smith"))
    given = {"Robert James Smith Jr": vec("Robert James Smith Jr")}
    changes = graph.apply(ALICE, [], [rel("alice", "admires", "Robert James Smith Jr")], vectors=given)
    assert changes.entities_added == []


def test_facts_of_one_call_apply_in_order(graph: GraphStore) -> None:
    changes = apply(
        graph, ALICE, rel("I", "lives_in", "Delhi"), rel("I", "lives_in", "Pune"),
        rel("I", "knows", "Robert James Smith"), rel("I", "knows", "Robert James Smith Jr"),
    )  # fmt: skip
    assert [(r.destination, r.is_current) for r in changes.added] == [
        ("Delhi", False), ("Pune", True), ("Robert James Smith", True),
    ]  # fmt: skip
    assert triples(changes.invalidated) == {("alice", "lives_in", "Delhi")}
    assert triples(graph.list_relations(ALICE)) == {
        ("alice", "lives_in", "Pune"), ("alice", "knows", "Robert James Smith"),
    }  # fmt: skip
    knows = next(r for r in graph.list_relations(ALICE) if r.relationship == "knows")
    assert knows.mentions == 2
    assert len(graph.list_relations(ALICE, include_invalidated=True)) == 3


def test_a_capped_walk_keeps_the_most_mentioned_of_equals(make_graph: MakeGraph) -> None:
    graph = make_graph(walk_limit=10)
    apply(graph, ALICE, *(rel("I", "likes", f"thing {i}") for i in range(30)))
    for at in (1, 2):
        apply(graph, ALICE, rel("I", "likes", "thing 17"), at=at)
    result = graph.search(ALICE, "what does alice like?", limit=1)
    assert [s.relation.destination for s in result.relations] == ["thing 17"]
