"""Fusion: the candidates of every signal scored, smoothed over conversation turns, ranked.

1. Candidates: the best ``candidates`` memories by vector similarity and by BM25 full text.
2. Relevance (absolute, in [0, 1]; in the details): with ``d`` the cosine similarity
   clipped to [0, 1] and ``k = b / (b + keyword_saturation)`` the calibrated BM25 score ``b``,
   ``relevance = d + (1 - d) * k``: the cosine when no keyword matches, towards 1 when they do.
3. Fusion (relative, for ranking): each signal divided by its best value among the candidates
   (but at least ``dense_floor`` / ``keyword_floor``, so that in a small store a weak best match
   is not taken for a full one), then ``fused = (wd * d / d_max + wk * b / b_max) / (wd + wk)``.
4. Conversation context: a memory also gets ``neighbour_weight`` times the best fused score
   of the memories from the turns next to its source message, at each distance up to
   ``neighbour_window`` turns (same conversation), so the turn that answers or sets up a
   strong hit rises with it. The sum (``raw_score``) is divided by its maximum
   (``max_possible_score``: ``1 + neighbour_weight * neighbour_window``, plus the weights below
   when their signal is on), so ``score`` stays in [0, 1]; ``threshold`` is a minimum ``score``.
5. Time: when the query names a period (``memlane.memory.search.periods``: "last weekend", "in May 2023",
   "two weeks before 11 August 2023", resolved against ``reference_date``), the memories
   observed in it are candidates too (the best ``candidates`` of them by vector similarity)
   with a time signal of 1, those observed up to ``time_after_days`` after it (where people
   tend to talk about it) 0.5; ``time_weight`` times the signal is
   added to the fused score, and the maximum grows by ``time_weight``.
   Profile: the memories behind the profile slots the query asks about (``profile_cues``)
   are candidates, and ``profile_weight`` is added the same way.
   Recency (off by default): with ``recency_weight`` set, a memory observed ``d`` days before
   the reference date gets ``recency_weight * 0.5 ** (d / recency_half_life_days)`` added to
   its score (after the conversation smoothing, so it does not spread to neighbours), and the
   maximum grows by ``recency_weight``; ``explain`` shows it as ``recency_score`` (the signal)
   and ``recency_boost`` (its part of ``raw_score``).
   ``explain`` gives each signal's part of ``raw_score`` too: ``dense_part`` + ``keyword_part``
   (the fusion of step 3) + ``time_boost`` + ``profile_boost`` + ``entity_boost`` (graph) +
   ``recency_boost`` + ``neighbour_part`` = ``raw_score`` (the memory browser draws them).
6. Diversity (off by default): with ``mmr_lambda`` set, the top k are picked greedily from
   the best ``3 * top_k`` by maximal marginal relevance, ``mmr_lambda * score - (1 -
   mmr_lambda) * (highest cosine to a memory already picked)``, so near-copies of one fact
   give way to other facts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from memlane.config import SearchConfig
from memlane.filters import Filter
from memlane.memory.backends import Backends
from memlane.memory.search.candidates import (
    Signals,
    collect,
    fill_dense,
    lift_graph,
    period_candidates,
    profile_candidates,
    recency_signal,
)
from memlane.memory.search.periods import Period
from memlane.models import Hit, Vectors
from memlane.store.base import MemoryStore
from memlane.tokenizer import keywords

__all__ = ["Query", "search_hits"]

_EXPAND = 50
"""How many of the best fused candidates bring their neighbours in."""


@dataclass(frozen=True, slots=True)
class Query:
    """One phrasing to search for, with what else is known about it."""

    text: str
    where: Filter
    top_k: int
    threshold: float | None = None
    """The lowest ``score`` kept."""
    vector: Vectors | None = None
    """The embedded ``text``, when already computed (embedded here otherwise)."""
    graph_scores: Mapping[str, float] | None = None
    """Memory id -> score of the graph relations it supports: they lift those memories by
    ``graph_weight``, never adding memories that ``where`` does not allow."""
    period: Period | None = None
    """The time the query names: brings in and lifts the memories observed then."""
    profile_ids: Collection[str] = ()
    """The memories behind the profile slots the query asks about."""
    moment: datetime | None = None
    """The reference date recency is counted from (recency on); None: no recency."""


def search_hits(backends: Backends, query: Query) -> list[Hit]:
    """The ``top_k`` best memories matching ``query.where`` for ``query.text``, best first."""
    if query.top_k == 0:
        return []
    store, config = backends.store, backends.config.search
    vector = query.vector
    if vector is None:
        vector = backends.embedder.embed([query.text], purpose="search")[0]
    pool = max(config.candidates, query.top_k * 2)
    found: dict[str, Signals] = {}
    collect(store, vector, keywords(query.text), query.where, pool, found)
    timed = query.period is not None and config.time_weight > 0
    if query.period is not None and timed:
        period_candidates(store, config, vector, query.where, query.period, pool, found)
    profiled = bool(query.profile_ids) and config.profile_weight > 0
    if profiled:
        profile_candidates(store, vector, query.where, query.profile_ids, found)
    fill_dense(store, vector, found, [m for m, c in found.items() if c.dense == 0.0])
    scale = _Scale(config, found.values())
    for cand in found.values():
        cand.fused = scale.fused(cand) + config.time_weight * cand.time + config.profile_weight * cand.profile
    scale.top += config.time_weight * timed + config.profile_weight * profiled
    if query.graph_scores:
        lift_graph(found, query.graph_scores, config.graph_weight)
        scale.top += config.graph_weight
    if config.neighbour_weight > 0 and config.neighbour_window > 0:
        _smooth(store, vector, config, found, scale, query.where)
    if config.recency_weight > 0 and query.moment is not None and found:
        recency_signal(store, found, query.moment, config.recency_half_life_days)
        for cand in found.values():
            cand.fused += config.recency_weight * cand.recency
        scale.top += config.recency_weight
    return _rank(store, config, found, scale, query)


def _rank(
    store: MemoryStore, config: SearchConfig, found: dict[str, Signals], scale: _Scale, query: Query
) -> list[Hit]:
    """The best ``top_k`` of ``found`` at or above the threshold (diversified with MMR on)."""
    threshold = query.threshold
    ranked: list[tuple[float, str, Signals]] = []
    for mid, cand in found.items():
        score = scale.raw(cand) / scale.top
        if threshold is not None and score < threshold:
            continue
        ranked.append((score, mid, cand))
    ranked.sort(key=lambda row: -row[0])
    if config.mmr_lambda is not None:
        best = _diversify(store, ranked, query.top_k, config.mmr_lambda)
    else:
        best = ranked[: query.top_k]
    records = store.get_many([mid for _, mid, _ in best])
    return [
        Hit(records[mid], score, _details(scale, cand, score, threshold))
        for score, mid, cand in best
        if mid in records
    ]


class _Scale:
    """Per-query normalisation of the signals."""

    def __init__(self, config: SearchConfig, candidates: Iterable[Signals]) -> None:
        values = list(candidates)
        self.config = config
        best_dense = max((max(c.dense, 0.0) for c in values), default=0.0)
        best_bm25 = max((c.bm25 for c in values), default=0.0)
        self.dense_max = max(best_dense, config.dense_floor) or 1.0
        self.bm25_max = max(best_bm25, config.keyword_floor) or 1.0
        total = config.dense_weight + config.keyword_weight
        self.wd = config.dense_weight / total if total else 0.5
        self.wk = config.keyword_weight / total if total else 0.5
        self.top = 1.0 + config.neighbour_weight * config.neighbour_window
        """The highest possible score before normalisation."""

    def raw(self, cand: Signals) -> float:
        """The weighted sum of every signal, at most ``top``."""
        return cand.fused + self.config.neighbour_weight * cand.boost

    def fused(self, cand: Signals) -> float:
        return self.wd * max(cand.dense, 0.0) / self.dense_max + self.wk * cand.bm25 / self.bm25_max

    def keyword(self, cand: Signals) -> float:
        return cand.bm25 / (cand.bm25 + self.config.keyword_saturation) if cand.bm25 > 0 else 0.0

    def relevance(self, cand: Signals) -> float:
        d = min(max(cand.dense, 0.0), 1.0)
        return d + (1.0 - d) * self.keyword(cand)


def _smooth(
    store: MemoryStore,
    vector: Vectors,
    config: SearchConfig,
    found: dict[str, Signals],
    scale: _Scale,
    where: Filter,
) -> None:
    """Give each memory a share of its conversation neighbours' fused scores."""
    top = sorted(found, key=lambda m: -found[m].fused)[:_EXPAND]
    links = store.neighbours(top, config.neighbour_window, where)
    new = sorted({n for pairs in links.values() for n, _ in pairs if n not in found})
    for mid in new:
        found[mid] = Signals()
    fill_dense(store, vector, found, new)
    for mid in new:
        found[mid].fused = scale.fused(found[mid])  # not among the period's matches
    for mid in top:
        for other, distance in links.get(mid, []):
            if other in found:
                _near(found[other], distance, found[mid].fused)
                _near(found[mid], distance, found[other].fused)


def _diversify(
    store: MemoryStore, ranked: list[tuple[float, str, Signals]], top_k: int, weight: float
) -> list[tuple[float, str, Signals]]:
    """The ``top_k`` of ``ranked`` picked by maximal marginal relevance, in picking order."""
    pool = ranked[: top_k * 3]
    vectors = store.vectors([mid for _, mid, _ in pool])
    picked: list[tuple[float, str, Signals]] = []
    closest = {mid: 0.0 for _, mid, _ in pool}
    while pool and len(picked) < top_k:
        choice = max(pool, key=lambda row: weight * row[0] - (1 - weight) * closest[row[1]])
        pool.remove(choice)
        picked.append(choice)
        choice[2].redundancy = closest[choice[1]]
        chosen = vectors.get(choice[1])
        if chosen is None:
            continue
        for _, mid, _ in pool:
            other = vectors.get(mid)
            if other is not None:
                closest[mid] = max(closest[mid], float(other @ chosen))
    return picked


def _near(cand: Signals, distance: int, fused: float) -> None:
    cand.near[distance] = max(cand.near.get(distance, 0.0), fused)


def _details(scale: _Scale, cand: Signals, score: float, threshold: float | None) -> dict[str, float]:
    details = {
        "semantic_score": cand.dense,
        "bm25_score": cand.bm25,
        "keyword_score": scale.keyword(cand),
        "relevance": scale.relevance(cand),
        "fused_score": cand.fused,
        "dense_part": scale.wd * max(cand.dense, 0.0) / scale.dense_max,
        "keyword_part": scale.wk * cand.bm25 / scale.bm25_max,
        "time_boost": scale.config.time_weight * cand.time,
        "profile_boost": scale.config.profile_weight * cand.profile,
        "neighbour_part": scale.config.neighbour_weight * cand.boost,
        "graph_score": cand.graph,
        "time_score": cand.time,
        "profile_score": cand.profile,
        "recency_score": cand.recency,
        "recency_boost": scale.config.recency_weight * cand.recency,
        "redundancy": cand.redundancy,
        "neighbour_boost": cand.boost,
        "entity_boost": scale.config.graph_weight * cand.graph,
        "raw_score": scale.raw(cand),
        "max_possible_score": scale.top,
        "final_score": score,
    }
    if threshold is not None:
        details["threshold"] = threshold
    return details
