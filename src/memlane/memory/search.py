"""The search pipeline: candidates from every signal, fused, smoothed over conversation turns.

1. Candidates: the best ``candidates`` memories by vector similarity and by BM25 full text.
2. Relevance (absolute, in [0, 1]; what ``threshold`` gates): with ``d`` the cosine similarity
   clipped to [0, 1] and ``k = b / (b + keyword_saturation)`` the calibrated BM25 score ``b``,
   ``relevance = d + (1 - d) * k``: the cosine when no keyword matches, towards 1 when they do.
3. Fusion (relative, for ranking): each signal divided by its best value among the candidates
   (but at least ``dense_floor`` / ``keyword_floor``, so that in a small store a weak best match
   is not taken for a full one), then ``fused = (wd * d / d_max + wk * b / b_max) / (wd + wk)``.
4. Conversation context: a memory also gets ``neighbour_weight`` times the best fused score
   of the memories from the turns next to its source message, at each distance up to
   ``neighbour_window`` turns (same conversation), so the turn that answers or sets up a
   strong hit rises with it. The sum is divided by its maximum, ``1 + neighbour_weight *
   neighbour_window``, so ``score`` stays in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from memlane.config import SearchConfig
from memlane.embed.base import Embedder, Vectors
from memlane.filters import Filter
from memlane.models import Hit
from memlane.store.base import MemoryStore
from memlane.text import keywords

__all__ = ["search_hits"]

_EXPAND = 50
"""How many of the best fused candidates bring their neighbours in."""


@dataclass(slots=True)
class _Candidate:
    dense: float = 0.0
    bm25: float = 0.0
    fused: float = 0.0
    graph: float = 0.0
    near: dict[int, float] = field(default_factory=dict)
    """Best fused score of a neighbour at each distance."""

    @property
    def boost(self) -> float:
        return sum(self.near.values())


def search_hits(
    store: MemoryStore,
    embedder: Embedder,
    config: SearchConfig,
    query: str,
    where: Filter,
    *,
    top_k: int,
    threshold: float | None,
    vector: Vectors | None = None,
    graph_scores: Mapping[str, float] | None = None,
) -> list[Hit]:
    """The ``top_k`` best memories matching ``where`` for ``query``, best first.

    ``graph_scores`` (memory id -> score of the graph relations it supports) lift those
    memories by ``graph_weight``; they never add memories that ``where`` does not allow.
    """
    if top_k == 0:
        return []
    if vector is None:
        vector = embedder.embed([query], purpose="search")[0]
    pool = max(config.candidates, top_k * 2)
    found: dict[str, _Candidate] = {}
    for mid, cosine in store.vector_search(vector, where, pool):
        found[mid] = _Candidate(dense=cosine)
    for mid, bm25 in store.keyword_search(keywords(query), where, pool):
        found.setdefault(mid, _Candidate()).bm25 = bm25
    _fill_dense(store, vector, found, [m for m, c in found.items() if c.dense == 0.0])
    scale = _Scale(config, found.values())
    for cand in found.values():
        cand.fused = scale.fused(cand)
    if graph_scores:
        _lift(found, graph_scores, config.graph_weight)
        scale.top += config.graph_weight
    if config.neighbour_weight > 0 and config.neighbour_window > 0:
        _smooth(store, vector, config, found, scale, where)
    ranked: list[tuple[float, str, _Candidate]] = []
    for mid, cand in found.items():
        relevance = scale.relevance(cand)
        if threshold is not None and relevance < threshold:
            continue
        score = (cand.fused + config.neighbour_weight * cand.boost) / scale.top
        ranked.append((score, mid, cand))
    ranked.sort(key=lambda row: -row[0])
    best = ranked[:top_k]
    records = store.get_many([mid for _, mid, _ in best])
    return [
        Hit(records[mid], score, _details(scale, cand, score, threshold))
        for score, mid, cand in best
        if mid in records
    ]


class _Scale:
    """Per-query normalisation of the signals."""

    def __init__(self, config: SearchConfig, candidates: Iterable[_Candidate]) -> None:
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

    def fused(self, cand: _Candidate) -> float:
        return self.wd * max(cand.dense, 0.0) / self.dense_max + self.wk * cand.bm25 / self.bm25_max

    def keyword(self, cand: _Candidate) -> float:
        return cand.bm25 / (cand.bm25 + self.config.keyword_saturation) if cand.bm25 > 0 else 0.0

    def relevance(self, cand: _Candidate) -> float:
        d = min(max(cand.dense, 0.0), 1.0)
        return d + (1.0 - d) * self.keyword(cand)


def _fill_dense(
    store: MemoryStore, vector: Vectors, found: dict[str, _Candidate], missing: list[str]
) -> None:
    for mid, cosine in store.similarities(vector, missing).items():
        found[mid].dense = cosine


def _smooth(
    store: MemoryStore,
    vector: Vectors,
    config: SearchConfig,
    found: dict[str, _Candidate],
    scale: _Scale,
    where: Filter,
) -> None:
    """Give each memory a share of its conversation neighbours' fused scores."""
    top = sorted(found, key=lambda m: -found[m].fused)[:_EXPAND]
    links = store.neighbours(top, config.neighbour_window, where)
    new = sorted({n for pairs in links.values() for n, _ in pairs if n not in found})
    for mid in new:
        found[mid] = _Candidate()
    _fill_dense(store, vector, found, new)
    for mid in new:
        found[mid].fused = scale.fused(found[mid])
    for mid in top:
        for other, distance in links.get(mid, []):
            if other in found:
                _near(found[other], distance, found[mid].fused)
                _near(found[mid], distance, found[other].fused)


def _lift(found: dict[str, _Candidate], graph_scores: Mapping[str, float], weight: float) -> None:
    best = max(graph_scores.values(), default=0.0) or 1.0
    for mid, value in graph_scores.items():
        if mid in found:
            found[mid].graph = value / best
            found[mid].fused += weight * found[mid].graph


def _near(cand: _Candidate, distance: int, fused: float) -> None:
    cand.near[distance] = max(cand.near.get(distance, 0.0), fused)


def _details(scale: _Scale, cand: _Candidate, score: float, threshold: float | None) -> dict[str, float]:
    details = {
        "semantic_score": cand.dense,
        "bm25_score": cand.bm25,
        "keyword_score": scale.keyword(cand),
        "relevance": scale.relevance(cand),
        "fused_score": cand.fused,
        "graph_score": cand.graph,
        "neighbour_boost": cand.boost,
        "final_score": score,
    }
    if threshold is not None:
        details["threshold"] = threshold
    return details
