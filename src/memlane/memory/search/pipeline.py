"""One search: read the period the query names against the reference date, ask the LLM for
other phrasings (``search.expand_queries``), embed them in one batch, look the query up in the
graph and the profile, fuse every signal per phrasing (``fusion``), merge the phrasings
(``expand``) and rerank (``rerank``).

The vector of a query that names the scope's own user ("where does alice live?" searched in
alice's memories) is taken with the name read as "the user": every memory searched is about
that user, so the name tells them apart no better than chance, yet in a short query it decides
the vector (all-MiniLM-L6-v2: "alice" alone is closer to "I'm vegetarian" than to "I moved to
Bangalore"). Full-text search still sees the name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime

from memlane.errors import LLMError
from memlane.filters import Filter, and_
from memlane.graph.models import GraphSearchResult
from memlane.memory.backends import Backends
from memlane.memory.results import hit_item
from memlane.memory.search.as_of import as_of_hits
from memlane.memory.search.expand import expand_query, merge_phrasings
from memlane.memory.search.fusion import Query, search_hits
from memlane.memory.search.periods import find_period
from memlane.memory.search.profile_cues import profiled_memories
from memlane.memory.search.rerank import rerank_hits
from memlane.memory.shortterm import boost_run
from memlane.memory.times import live_filter
from memlane.models import Hit, Scope, Usage
from memlane.types import SearchResult

__all__ = ["SearchRequest", "find", "search"]

log = logging.getLogger("memlane")


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A validated ``search()`` call."""

    query: str
    scope: Scope
    where: Filter
    top_k: int
    threshold: float | None
    moment: datetime
    """The reference date: "last weekend" is read against it."""
    rerank: bool = False
    explain: bool = False
    boost_run: str | None = None
    """This run's memories are lifted (``search(run_id=..., long_term=True)``)."""
    as_of: str | None = None
    """Read what was stored at this record time (``search.as_of``)."""
    hide_expired: bool = False
    """Leave out the memories expired (at ``as_of``, else now): past their ``expiration_date``,
    or a run's older than ``short_term.ttl``."""


def search(backends: Backends, request: SearchRequest) -> SearchResult:
    """The memories of ``request.scope`` that best match its query, best first."""
    hits, linked = find(backends, request)
    out: SearchResult = {"results": [hit_item(h, explain=request.explain) for h in hits]}
    if backends.graph is not None:
        out["relations"] = linked.to_mem0() if linked else []
    return out


def find(backends: Backends, request: SearchRequest) -> tuple[list[Hit], GraphSearchResult | None]:
    """The hits of ``search`` (best first) and the graph's relations for the query (graph on)."""
    backends.check_embedder()
    if request.hide_expired:
        live = live_filter(backends.config.short_term.ttl, request.as_of)
        request = replace(request, where=and_(request.where, live), hide_expired=False)
    query, scope, k = request.query, request.scope, request.top_k
    if request.as_of is not None:
        return _search_as_of(backends, request, request.as_of)
    phrasings = [query, *_phrasings(backends, query, request.moment)] if k > 0 else [query]
    vectors = backends.embedder.embed([_as_user(p, scope) for p in phrasings], purpose="search")
    graph = backends.graph
    linked = None
    if graph is not None and not scope.is_empty() and k > 0:
        linked = graph.search(scope, query, vectors[0], limit=max(k, 10))
    profiled = profiled_memories(backends, scope, query) if k > 0 else []
    reranker = backends.reranker if request.rerank else None
    depth = max(k, backends.config.search.rerank_candidates) if reranker else k
    if request.boost_run is not None:
        depth = max(depth, 2 * k)  # long-term hits the run's may overtake
    found = [
        search_hits(
            backends,
            Query(
                text,
                request.where,
                top_k=depth,
                threshold=request.threshold,
                vector=vector,
                graph_scores=linked.memory_scores if linked else None,
                period=find_period(text, request.moment),
                profile_ids=profiled,
                moment=request.moment,
            ),
        )
        for text, vector in zip(phrasings, vectors, strict=True)
    ]
    hits = found[0] if len(found) == 1 else merge_phrasings(found, depth)
    if request.boost_run is not None:  # before reranking: a reranker's order has the last word
        weight = backends.config.short_term.run_boost
        hits = boost_run(hits, request.boost_run, weight, depth if reranker else k, explain=request.explain)
    if reranker is not None:
        hits = rerank_hits(reranker, query, hits, k, backends.config.search.rerank_weight)
    return hits, linked


def _search_as_of(
    backends: Backends, request: SearchRequest, at: str
) -> tuple[list[Hit], GraphSearchResult | None]:
    """``search(as_of=at)``: the memories and relations as they stood at record time ``at``."""
    query, scope, k = request.query, request.scope, request.top_k
    vector = backends.embedder.embed([_as_user(query, scope)], purpose="search")[0]
    hits = as_of_hits(backends, query, vector, request.where, at, k, request.threshold)
    graph = backends.graph
    linked = None
    if graph is not None and not scope.is_empty() and k > 0:
        linked = graph.search(scope, query, vector, limit=max(k, 10), as_of=at)
    return hits, linked


def _phrasings(backends: Backends, query: str, moment: datetime) -> list[str]:
    """Other phrasings of ``query`` from the LLM when ``search.expand_queries`` asks."""
    wanted = backends.config.search.expand_queries
    if not wanted or backends.llm is None:
        return []
    usage = Usage()
    try:
        return expand_query(
            backends.llm, query, variants=wanted, reference_date=moment.date().isoformat(), usage=usage
        )
    except LLMError as exc:
        log.warning("query expansion failed, searching the query alone: %s", exc)
        return []
    finally:
        backends.spend(usage)


def _as_user(query: str, scope: Scope) -> str:
    """``query`` with the scope's user id, where it is a word of it, read as "the user"."""
    name = scope.user_id
    if not name or not re.fullmatch(r"\w[\w .'-]*", name):
        return query
    return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "the user", query, flags=re.IGNORECASE)
