"""``search``: the query-side methods of ``Memory`` (a mixin, like ``DataSafety``).

One search: validate, read the period the query names against ``reference_date``, ask the LLM
for other phrasings (``search.expand_queries``), embed them in one batch, look the query up in
the graph and the profile, fuse every signal per phrasing (``memlane.memory.search``), merge the
phrasings and rerank (``memlane.memory.refine``).

The vector of a query that names the scope's own user ("where does alice live?" searched in
alice's memories) is taken with the name read as "the user": every memory searched is about
that user, so the name tells them apart no better than chance, yet in a short query it decides
the vector (all-MiniLM-L6-v2: "alice" alone is closer to "I'm vegetarian" than to "I moved to
Bangalore"). Full-text search still sees the name.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, datetime
from typing import Any

from memlane.config import MemoryConfig
from memlane.embed.base import Embedder
from memlane.errors import LLMError
from memlane.filters import and_
from memlane.graph.base import GraphStore
from memlane.llm.base import LLM
from memlane.memory import inputs
from memlane.memory.format import hit_item
from memlane.memory.profile import asked_slots, profile_slots
from memlane.memory.refine import merge_phrasings, rerank_hits
from memlane.memory.rewrite import expand_query
from memlane.memory.search import search_hits
from memlane.models import Scope, Usage, now_iso
from memlane.periods import find_period
from memlane.rerank.base import Reranker
from memlane.store.base import MemoryStore, check_embedder

__all__ = ["SEARCH_TOP_K", "SearchMethods"]

SEARCH_TOP_K = 20
log = logging.getLogger("memlane")


class SearchMethods:
    """``search`` over a store, an embedder and the optional graph, profile, LLM and reranker."""

    config: MemoryConfig
    store: MemoryStore
    embedder: Embedder
    graph: GraphStore | None
    llm: LLM | None
    reranker: Reranker | None
    llm_usage: Usage
    _lock: threading.Lock
    _dimension_checked: bool

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        filters: dict[str, Any] | None = None,
        threshold: float | None = None,
        rerank: bool = False,
        explain: bool = False,
        show_expired: bool = False,
        reference_date: str | date | datetime | float | None = None,
    ) -> dict[str, Any]:
        """The memories of a scope that best match ``query`` (dense + full-text, fused).

        A period the query names ("last weekend", "in May 2023") is read against
        ``reference_date`` (default: now) and lifts the memories observed in it.
        """
        query = inputs.validate_query(query)
        reference = inputs.parse_timestamp(reference_date, "reference_date")
        scope, where = inputs.resolve_scope(
            {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}, filters
        )
        k = inputs.validate_top_k(top_k, limit, SEARCH_TOP_K)
        floor = inputs.validate_threshold(threshold)
        if not show_expired:
            where = and_(where, inputs.expiration_filter())
        self._check_dimension()
        moment = datetime.fromisoformat(reference or now_iso())
        phrasings = [query, *self._phrasings(query, moment)] if k > 0 else [query]
        vectors = self.embedder.embed([_as_user(p, scope) for p in phrasings], purpose="search")
        linked = None
        if self.graph is not None and not scope.is_empty() and k > 0:
            linked = self.graph.search(scope, query, vectors[0], limit=max(k, 10))
        profiled = self._profiled(scope, query) if k > 0 else []
        depth = max(k, self.config.search.rerank_candidates) if rerank and self.reranker else k
        found = [
            search_hits(
                self.store,
                self.embedder,
                self.config.search,
                text,
                where,
                top_k=depth,
                threshold=floor,
                vector=vector,
                graph_scores=linked.memory_scores if linked else None,
                period=find_period(text, moment),
                profile_ids=profiled,
            )
            for text, vector in zip(phrasings, vectors, strict=True)
        ]
        hits = found[0] if len(found) == 1 else merge_phrasings(found, depth)
        if rerank and self.reranker is not None:
            hits = rerank_hits(self.reranker, query, hits, k, self.config.search.rerank_weight)
        out: dict[str, Any] = {"results": [hit_item(h, explain=explain) for h in hits]}
        if self.graph is not None:
            out["relations"] = linked.to_mem0() if linked else []
        return out

    def _phrasings(self, query: str, moment: datetime) -> list[str]:
        """Other phrasings of ``query`` from the LLM when ``search.expand_queries`` asks."""
        wanted = self.config.search.expand_queries
        if not wanted or self.llm is None:
            return []
        usage = Usage()
        try:
            return expand_query(
                self.llm, query, variants=wanted, reference_date=moment.date().isoformat(), usage=usage
            )
        except LLMError as exc:
            log.warning("query expansion failed, searching the query alone: %s", exc)
            return []
        finally:
            with self._lock:
                self.llm_usage.add(usage)

    def _profiled(self, scope: Scope, query: str) -> list[str]:
        """The memories behind the profile slots ``query`` asks about (profile on)."""
        if not self.config.profile.enabled or self.config.search.profile_weight <= 0:
            return []
        slots = asked_slots(profile_slots(self.store, scope), query)
        return [slot.memory_id for slot in slots if slot.memory_id]

    def _check_dimension(self) -> None:
        if not self._dimension_checked:
            with self._lock:
                check_embedder(self.store, self.embedder)  # the size and the model that wrote it
                self._dimension_checked = True


def _as_user(query: str, scope: Scope) -> str:
    """``query`` with the scope's user id, where it is a word of it, read as "the user"."""
    name = scope.user_id
    if not name or not re.fullmatch(r"\w[\w .'-]*", name):
        return query
    return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "the user", query, flags=re.IGNORECASE)
