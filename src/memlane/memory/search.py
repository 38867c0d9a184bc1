"""The search pipeline: candidates from every signal, fused, smoothed over conversation turns.

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
5. Time: when the query names a period (``memlane.periods``: "last weekend", "in May 2023",
   "two weeks before 11 August 2023", resolved against ``reference_date``), the memories
   observed in it are candidates too (the best ``candidates`` of them by vector similarity)
   with a time signal of 1, those observed up to ``time_after_days`` after it (where people
   tend to talk about it) 0.5; ``time_weight`` times the signal is
   added to the fused score, and the maximum grows by ``time_weight``.
   Profile: the memories behind the profile slots the query asks about (``memory.profile``)
   are candidates, and ``profile_weight`` is added the same way.
6. Diversity (off by default): with ``mmr_lambda`` set, the top k are picked greedily from
   the best ``3 * top_k`` by maximal marginal relevance, ``mmr_lambda * score - (1 -
   mmr_lambda) * (highest cosine to a memory already picked)``, so near-copies of one fact
   give way to other facts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from memlane.config import SearchConfig
from memlane.embed.base import Embedder
from memlane.filters import Cond, Filter, and_
from memlane.models import Hit, Vectors
from memlane.periods import Period
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
    time: float = 0.0
    profile: float = 0.0
    redundancy: float = 0.0
    """Highest cosine to a memory ranked above it (with MMR on)."""
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
    period: Period | None = None,
    profile_ids: Collection[str] = (),
) -> list[Hit]:
    """The ``top_k`` best memories matching ``where`` for ``query``, best first.

    ``graph_scores`` (memory id -> score of the graph relations it supports) lift those
    memories by ``graph_weight``; they never add memories that ``where`` does not allow.
    ``period`` (the time the query names) brings in and lifts the memories observed then, and
    ``profile_ids`` (the memories behind the profile slots it asks about) those memories.
    """
    if top_k == 0:
        return []
    if vector is None:
        vector = embedder.embed([query], purpose="search")[0]
    pool = max(config.candidates, top_k * 2)
    found: dict[str, _Candidate] = {}
    terms = keywords(query)
    _collect(store, vector, terms, where, pool, found)
    timed = period is not None and config.time_weight > 0
    if timed:
        assert period is not None
        after = _later(period.end, timedelta(days=config.time_after_days))
        for share, start, end in ((1.0, period.start, period.end), (0.5, period.end, after)):
            within = and_(where, Cond("valid_from", "gte", start.isoformat()))
            within = and_(within, Cond("valid_from", "lt", end.isoformat()))
            for mid in _collect(store, vector, terms, within, pool, found, keyword=False):
                found[mid].time = max(found[mid].time, share)
    profiled = bool(profile_ids) and config.profile_weight > 0
    if profiled:
        asked = and_(where, Cond("id", "in", sorted(profile_ids)))
        for mid in _collect(store, vector, terms, asked, len(profile_ids), found, keyword=False):
            found[mid].profile = 1.0
    _fill_dense(store, vector, found, [m for m, c in found.items() if c.dense == 0.0])
    scale = _Scale(config, found.values())
    for cand in found.values():
        cand.fused = scale.fused(cand) + config.time_weight * cand.time + config.profile_weight * cand.profile
    scale.top += config.time_weight * timed + config.profile_weight * profiled
    if graph_scores:
        _lift(found, graph_scores, config.graph_weight)
        scale.top += config.graph_weight
    if config.neighbour_weight > 0 and config.neighbour_window > 0:
        _smooth(store, vector, config, found, scale, where)
    ranked: list[tuple[float, str, _Candidate]] = []
    for mid, cand in found.items():
        score = scale.raw(cand) / scale.top
        if threshold is not None and score < threshold:
            continue
        ranked.append((score, mid, cand))
    ranked.sort(key=lambda row: -row[0])
    if config.mmr_lambda is not None:
        best = _diversify(store, ranked, top_k, config.mmr_lambda)
    else:
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

    def raw(self, cand: _Candidate) -> float:
        """The weighted sum of every signal, at most ``top``."""
        return cand.fused + self.config.neighbour_weight * cand.boost

    def fused(self, cand: _Candidate) -> float:
        return self.wd * max(cand.dense, 0.0) / self.dense_max + self.wk * cand.bm25 / self.bm25_max

    def keyword(self, cand: _Candidate) -> float:
        return cand.bm25 / (cand.bm25 + self.config.keyword_saturation) if cand.bm25 > 0 else 0.0

    def relevance(self, cand: _Candidate) -> float:
        d = min(max(cand.dense, 0.0), 1.0)
        return d + (1.0 - d) * self.keyword(cand)


def _collect(
    store: MemoryStore,
    vector: Vectors,
    terms: list[str],
    where: Filter,
    pool: int,
    found: dict[str, _Candidate],
    *,
    keyword: bool = True,
) -> set[str]:
    """The best ``pool`` matches of ``where`` by vector and (with ``keyword``) full-text
    similarity, added to ``found``; returns their ids.

    A narrower ``where`` (a period, the profile's memories) is searched by vector only: BM25
    takes its statistics from the memories searched, so its scores over a subset would not be
    on the scale of the main search's.
    """
    ids: set[str] = set()
    for mid, cosine in store.vector_search(vector, where, pool):
        found.setdefault(mid, _Candidate()).dense = cosine
        ids.add(mid)
    if keyword:
        for mid, bm25 in store.keyword_search(terms, where, pool):
            found.setdefault(mid, _Candidate()).bm25 = bm25
            ids.add(mid)
    return ids


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
        found[mid].fused = scale.fused(found[mid])  # not among the period's matches
    for mid in top:
        for other, distance in links.get(mid, []):
            if other in found:
                _near(found[other], distance, found[mid].fused)
                _near(found[mid], distance, found[other].fused)


def _diversify(
    store: MemoryStore, ranked: list[tuple[float, str, _Candidate]], top_k: int, weight: float
) -> list[tuple[float, str, _Candidate]]:
    """The ``top_k`` of ``ranked`` picked by maximal marginal relevance, in picking order."""
    pool = ranked[: top_k * 3]
    vectors = store.vectors([mid for _, mid, _ in pool])
    picked: list[tuple[float, str, _Candidate]] = []
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


def _lift(found: dict[str, _Candidate], graph_scores: Mapping[str, float], weight: float) -> None:
    best = max(graph_scores.values(), default=0.0) or 1.0
    for mid, value in graph_scores.items():
        if mid in found:
            found[mid].graph = value / best
            found[mid].fused += weight * found[mid].graph


def _later(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, at most the last moment of year 9999."""
    try:
        return moment + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


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
        "time_score": cand.time,
        "profile_score": cand.profile,
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
