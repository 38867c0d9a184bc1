"""One small graph for the graph-question tests, on any back end: alice's facts (one of them
replaced, so history exists), an agent's facts about her, and bob's facts that share an entity
name with hers (Acme) so that a query escaping its scope would show."""

from __future__ import annotations

from memlane.graph.base import GraphStore
from memlane.graph.models import ExtractedRelation
from memlane.models import Scope

ALICE = Scope(user_id="alice")
ALICE_HELPER = Scope(user_id="alice", agent_id="helper")
BOB = Scope(user_id="bob")


def rel(source: str, relationship: str, destination: str, *, replaces: bool = False) -> ExtractedRelation:
    return ExtractedRelation(
        source=source, relationship=relationship, destination=destination, replaces=replaces
    )


def fill(graph: GraphStore) -> None:
    """alice works_at Acme (m1), Acme located_in Berlin (m2), Initech located_in Lisbon (m8: a
    second place, so that a chained query that joins wrongly shows), Bob manages alice (m3),
    alice lived in Delhi (m4) and now lives in Bangalore (m5); the helper agent: alice likes tea
    (m6); bob works_at Acme, Acme located_in Paris (m7)."""
    graph.apply(ALICE, [], [rel("I", "works_at", "Acme")], memory_ids=["m1"])
    graph.apply(ALICE, [], [rel("Acme", "located_in", "Berlin")], memory_ids=["m2"])
    graph.apply(ALICE, [], [rel("Initech", "located_in", "Lisbon")], memory_ids=["m8"])
    graph.apply(ALICE, [], [rel("Bob", "manages", "I")], memory_ids=["m3"])
    graph.apply(ALICE, [], [rel("I", "lives_in", "Delhi")], memory_ids=["m4"])
    graph.apply(ALICE, [], [rel("I", "lives_in", "Bangalore", replaces=True)], memory_ids=["m5"])
    graph.apply(ALICE_HELPER, [], [rel("I", "likes", "tea")], memory_ids=["m6"])
    graph.apply(
        BOB, [], [rel("I", "works_at", "Acme"), rel("Acme", "located_in", "Paris")], memory_ids=["m7"]
    )


BOB_ONLY = {"Paris", "bob"}
"""Names that only bob's graph holds."""
