"""Search, shared by every back end: seeds, the best-first walk's scores, and the final ranking.

A search starts from *seeds*, the scope's entities the query names (by name or alias: score
1.0) or resembles (name embedding at ``search_threshold`` or more: the similarity). It walks
current relations (either direction) up to ``hops`` away. A relation reached from an entity
with score ``s`` scores ``s * lexical_factor`` on the first hop and ``s * hop_decay *
lexical_factor`` after, where ``lexical_factor`` (0.75..1) rewards relationship names that
contain the query's words ("where does alice *work*" favours ``works_at``). Each relation
keeps its best path score and its fewest hops. The final score adds a little for relations
between two seeds and for repeated mentions, and ties go to the newest relation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from memlane.graph.models import GraphSearchResult, Relation, ScoredRelation
from memlane.graph.resolve import lexical_factor

__all__ = [
    "Candidate",
    "Edge",
    "Expand",
    "Step",
    "WalkHits",
    "WalkRequest",
    "rank",
    "result",
    "score_edges",
    "seed_scores",
    "walk",
    "walk_rows",
]

Edge = tuple[str, str, str, str, int, str]
"""A relation seen from one end: (from entity id, relation id, relationship name, other
entity id, mentions, created_at)."""
WalkHits = dict[str, tuple[int, float]]
"""Relation id -> (fewest hops, best path score)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A relation the walk reached, with what the ranking needs (before loading it whole)."""

    hops: int
    path: float
    source_id: str
    destination_id: str
    mentions: int
    created_at: str


@dataclass(frozen=True, slots=True)
class WalkRequest:
    """One search's walk, as a back end's ``GraphOps.walk`` receives it."""

    seeds: Mapping[str, float]
    """Entity id -> seed score (``seed_scores``)."""
    stems: Sequence[str]
    """The query's stems, for ``lexical_factor``."""
    hops: int
    decay: float
    """Score factor per hop after the first."""
    as_of: str | None
    """Walk the relations current at this record time (None: now)."""
    limit: int
    """Most steps the walk may take (``walk_rows``)."""


def seed_scores(named: Iterable[str], similar: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Entity id -> seed score: 1.0 when the query names it, else its best similarity."""
    out: dict[str, float] = {}
    for entity_id, score in similar:
        out[entity_id] = max(out.get(entity_id, 0.0), float(score))
    for entity_id in named:
        out[entity_id] = 1.0
    return out


def walk_rows(walk_limit: int, limit: int) -> int:
    """How many steps a walk may take for ``limit`` results.

    The walk is best-first and scores never grow along a path, so its first N steps are the N
    best; the final ranking moves scores by at most about 10%, so twenty times ``limit`` leaves
    ample room. ``walk_limit`` (settings) caps it.
    """
    return max(1, min(walk_limit, 20 * limit + 50))


Step = tuple[float, str, str, int, str]
"""One scored traversal step: (path score, relation id, entity id reached, the relation's
mentions, its created_at). Equal scores go to more mentions, then to newer relations."""
Expand = Callable[[Mapping[str, float], float, Collection[str], int], Iterable[Step]]
"""``expand(frontier, hop_factor, seen, limit)``: the best ``limit`` steps from the frontier
(entity id -> score) along current relations not in ``seen``, scored
``score * hop_factor * lexical_factor``."""


def score_edges(
    edges: Iterable[Edge],
    frontier: Mapping[str, float],
    factor: float,
    stems: Sequence[str],
    seen: Collection[str],
) -> list[Step]:
    """Score raw edges as an ``Expand`` does (for back ends that cannot score in their query)."""
    return [
        (frontier[start] * factor * lexical_factor(name, stems), rel_id, other, mentions, created_at)
        for start, rel_id, name, other, mentions, created_at in edges
        if start in frontier and rel_id not in seen
    ]


def walk(expand: Expand, seeds: Mapping[str, float], *, hops: int, decay: float, limit: int) -> WalkHits:
    """A best-first breadth walk driven from Python, one ``expand`` per hop (back ends that
    cannot walk in their query language). At most ``limit`` steps are kept per hop."""
    frontier = dict(seeds)
    hits: WalkHits = {}
    for depth in range(1, hops + 1):
        steps = sorted(expand(frontier, 1.0 if depth == 1 else decay, hits.keys(), limit), key=_order)
        following: dict[str, float] = {}
        for score, rel_id, other, _, _ in steps[:limit]:
            best = hits.get(rel_id)
            hits[rel_id] = (depth, score) if best is None else (best[0], max(best[1], score))
            following[other] = max(following.get(other, 0.0), score)
        frontier = following
        if not frontier:
            break
    return hits


def _order(step: Step) -> tuple[float, int, tuple[int, ...], str, str]:
    score, rel_id, other, mentions, created_at = step
    return (-score, -mentions, tuple(-ord(c) for c in created_at), rel_id, other)


def rank(
    candidates: Mapping[str, Candidate], seeds: Mapping[str, float], limit: int
) -> list[tuple[str, float, int]]:
    """The best ``limit`` relations as (id, score, hops): best first, then fewest hops, newest."""
    scored: list[tuple[str, float, int, str]] = []
    for rel_id, c in candidates.items():
        score = c.path
        if c.source_id in seeds and c.destination_id in seeds:
            score += 0.1 * (1.0 - score)
        score *= 0.9 + 0.1 * min(1.0, math.log2(max(c.mentions, 1)) / 4)
        scored.append((rel_id, round(min(score, 1.0), 6), c.hops, c.created_at))
    scored.sort(key=lambda s: s[0])
    scored.sort(key=lambda s: s[3], reverse=True)  # stable: newest first among equals
    scored.sort(key=lambda s: (-s[1], s[2]))
    return [(rel_id, score, hops) for rel_id, score, hops, _ in scored[: max(limit, 0)]]


def result(
    ranked: Sequence[tuple[str, float, int]], relations: Mapping[str, Relation], seeds: Mapping[str, float]
) -> GraphSearchResult:
    """The search result: the ranked relations and the memories that support them."""
    top = [ScoredRelation(relations[i], score, hops) for i, score, hops in ranked if i in relations]
    memory_scores: dict[str, float] = {}
    for item in top:
        for memory_id in item.relation.memory_ids:
            memory_scores.setdefault(memory_id, item.score)
    return GraphSearchResult(top, memory_scores, dict(seeds))
