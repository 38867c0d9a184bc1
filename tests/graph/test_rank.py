"""The search rules shared by every back end: seeds, the Python walk and the ranking."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from memlane.graph.models import Relation
from memlane.graph.rank import Candidate, Step, rank, result, score_edges, seed_scores, walk
from memlane.models import Scope

EDGES = [("a", "r1", "works_at", "b"), ("a", "r2", "likes", "c"), ("b", "r3", "located_in", "d")]


def expand(frontier: Mapping[str, float], factor: float, seen: Collection[str], limit: int) -> list[Step]:
    edges = [
        e
        for start, rel_id, name, end in EDGES
        for e in ((start, rel_id, name, end, 1, "2026"), (end, rel_id, name, start, 1, "2026"))
    ]
    return score_edges(edges, frontier, factor, STEMS, seen)


STEMS: list[str] = ["work"]


def test_seed_scores() -> None:
    assert seed_scores(["a"], [("a", 0.6), ("b", 0.7), ("b", 0.8)]) == {"a": 1.0, "b": 0.8}


def test_walk_scores_paths() -> None:
    hits = walk(expand, {"a": 1.0}, hops=2, decay=0.5, limit=100)
    assert hits == {"r1": (1, 1.0), "r2": (1, 0.75), "r3": (2, 0.375)}
    assert set(walk(expand, {"a": 1.0}, hops=1, decay=0.5, limit=100)) == {"r1", "r2"}
    assert set(walk(expand, {"a": 1.0}, hops=2, decay=0.5, limit=1)) == {"r1", "r3"}
    assert walk(expand, {}, hops=2, decay=0.5, limit=10) == {}


def test_rank_orders_by_score_hops_and_recency() -> None:
    candidates = {
        "r1": Candidate(1, 0.8, "a", "b", 1, "2026-01-01"),
        "r2": Candidate(1, 0.8, "a", "c", 16, "2026-01-01"),
        "r3": Candidate(2, 0.5, "b", "d", 1, "2026-01-01"),
        "r4": Candidate(2, 0.5, "b", "e", 1, "2026-01-02"),
        "r5": Candidate(1, 0.5, "a", "f", 1, "2026-01-01"),
    }
    ranked = rank(candidates, {"a": 1.0}, 10)
    assert [r[0] for r in ranked] == ["r2", "r1", "r5", "r4", "r3"]
    assert ranked[0][1:] == (0.8, 1) and ranked[1][1] == 0.72
    both = dict(r[::2] for r in rank(candidates, {"a": 1.0, "b": 1.0}, 10))
    assert both["r1"] > 0.72  # a relation between two seeds gains a little
    assert len(rank(candidates, {}, 2)) == 2 and rank(candidates, {}, 0) == []


def test_result_collects_the_memories_best_first() -> None:
    relations = {
        "r1": relation("r1", ("m1",)),
        "r2": relation("r2", ("m2", "m1")),
    }
    out = result([("r2", 0.9, 1), ("r1", 0.5, 2), ("gone", 0.4, 1)], relations, {"a": 1.0})
    assert [s.relation.id for s in out.relations] == ["r2", "r1"]
    assert out.memory_scores == {"m2": 0.9, "m1": 0.9} and out.seeds == {"a": 1.0}


def relation(rel_id: str, memory_ids: tuple[str, ...]) -> Relation:
    return Relation(
        id=rel_id, source="a", relationship="x", destination="b", source_id="a", destination_id="b",
        scope=Scope("u"), created_at="2026-01-01", updated_at="2026-01-01", memory_ids=memory_ids,
    )  # fmt: skip
