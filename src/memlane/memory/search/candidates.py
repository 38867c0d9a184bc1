"""Candidates for one query, per signal: vector and full-text matches, the memories observed
in the period the query names, those behind the profile slots it asks about, and the graph's
support. ``memlane.memory.search.fusion`` scores them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from memlane.config import SearchConfig
from memlane.filters import Cond, Filter, and_
from memlane.memory.search.periods import Period
from memlane.models import Vectors
from memlane.store.base import MemoryStore

__all__ = [
    "Signals",
    "collect",
    "fill_dense",
    "lift_graph",
    "period_candidates",
    "profile_candidates",
    "recency_signal",
]


@dataclass(slots=True)
class Signals:
    """One candidate memory's signals for one query (raw, before normalisation)."""

    dense: float = 0.0
    bm25: float = 0.0
    fused: float = 0.0
    graph: float = 0.0
    time: float = 0.0
    profile: float = 0.0
    recency: float = 0.0
    """0.5 ** (age in days / half-life), age counted from the reference date (recency on)."""
    redundancy: float = 0.0
    """Highest cosine to a memory ranked above it (with MMR on)."""
    near: dict[int, float] = field(default_factory=dict)
    """Best fused score of a neighbour at each distance."""

    @property
    def boost(self) -> float:
        return sum(self.near.values())


def collect(
    store: MemoryStore,
    vector: Vectors,
    terms: list[str],
    where: Filter,
    pool: int,
    found: dict[str, Signals],
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
    if keyword:
        dense, matches = store.hybrid_search(vector, terms, where, pool)
    else:
        dense, matches = store.vector_search(vector, where, pool), []
    for mid, cosine in dense:
        found.setdefault(mid, Signals()).dense = cosine
        ids.add(mid)
    for mid, bm25 in matches:
        found.setdefault(mid, Signals()).bm25 = bm25
        ids.add(mid)
    return ids


def fill_dense(store: MemoryStore, vector: Vectors, found: dict[str, Signals], missing: list[str]) -> None:
    """The cosine of each memory in ``missing`` (found by another signal), into ``found``."""
    for mid, cosine in store.similarities(vector, missing).items():
        found[mid].dense = cosine


def period_candidates(
    store: MemoryStore,
    config: SearchConfig,
    vector: Vectors,
    where: Filter,
    period: Period,
    pool: int,
    found: dict[str, Signals],
) -> None:
    """The memories observed in ``period`` (time signal 1) and up to ``time_after_days`` after it
    (0.5), the best ``pool`` of each by vector similarity, into ``found``."""
    after = _later(period.end, timedelta(days=config.time_after_days))
    for share, start, end in ((1.0, period.start, period.end), (0.5, period.end, after)):
        within = and_(where, Cond("valid_from", "gte", start.isoformat()))
        within = and_(within, Cond("valid_from", "lt", end.isoformat()))
        for mid in collect(store, vector, [], within, pool, found, keyword=False):
            found[mid].time = max(found[mid].time, share)


def profile_candidates(
    store: MemoryStore,
    vector: Vectors,
    where: Filter,
    profile_ids: Collection[str],
    found: dict[str, Signals],
) -> None:
    """The memories behind the profile slots the query asks about (profile signal 1), into ``found``."""
    asked = and_(where, Cond("id", "in", sorted(profile_ids)))
    for mid in collect(store, vector, [], asked, len(profile_ids), found, keyword=False):
        found[mid].profile = 1.0


def lift_graph(found: dict[str, Signals], graph_scores: Mapping[str, float], weight: float) -> None:
    """The graph's score of each candidate it supports (relative to the best), added to its
    fused score times ``weight``."""
    best = max(graph_scores.values(), default=0.0) or 1.0
    for mid, value in graph_scores.items():
        if mid in found:
            found[mid].graph = value / best
            found[mid].fused += weight * found[mid].graph


def recency_signal(
    store: MemoryStore, found: dict[str, Signals], moment: datetime, half_life_days: float
) -> None:
    """Each candidate's recency: 1 when observed at (or after) ``moment``, halving every
    ``half_life_days`` before it (its observation time: ``valid_from``, else ``created_at``)."""
    records = store.get_many(list(found))
    for mid, record in records.items():
        when = record.valid_from or record.created_at
        try:
            observed = datetime.fromisoformat(when)
        except ValueError:
            continue
        age = (moment - observed).total_seconds() / 86_400 if observed.tzinfo else 0.0
        found[mid].recency = 0.5 ** (max(age, 0.0) / half_life_days)


def _later(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, at most the last moment of year 9999."""
    try:
        return moment + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)
