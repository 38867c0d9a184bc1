"""The optional stages around the fused search: several phrasings merged, and a reranker.

- ``merge_phrasings``: each phrasing of a query (the user's and the LLM's variants, see
  ``memlane.memory.rewrite``) is searched on its own; a memory keeps its best score over the
  phrasings (``phrasing`` in the details says which: 0 is the user's query).
- ``rerank_hits``: the reranker scores the best fused hits against the user's query and they
  are reordered by that score (``rerank_score``, in the details and on each result, as mem0
  does); ``score`` keeps the fused score. A reranker that fails (``RerankError``) is logged
  and the fused order is kept: a search never fails because of its reranker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from memlane.errors import RerankError
from memlane.models import Hit
from memlane.rerank.base import Reranker

__all__ = ["merge_phrasings", "rerank_hits"]

log = logging.getLogger("memlane")


def merge_phrasings(results: Sequence[list[Hit]], top_k: int) -> list[Hit]:
    """The ``top_k`` best memories over the result lists of several phrasings, best first."""
    best: dict[str, Hit] = {}
    for index, hits in enumerate(results):
        for hit in hits:
            known = best.get(hit.record.id)
            if known is None or hit.score > known.score:
                best[hit.record.id] = replace(hit, details={**hit.details, "phrasing": float(index)})
    return sorted(best.values(), key=lambda h: -h.score)[:top_k]


def rerank_hits(reranker: Reranker, query: str, hits: list[Hit], top_k: int) -> list[Hit]:
    """``hits`` reordered by ``reranker`` and cut to ``top_k``; the fused order if it fails."""
    if not hits:
        return hits
    try:
        scores = reranker.rerank(query, [h.record.text for h in hits])
        if len(scores) != len(hits):
            raise RerankError(f"the reranker gave {len(scores)} scores for {len(hits)} memories")
    except RerankError as exc:
        log.warning("reranking failed, keeping the fused order: %s", exc)
        return hits[:top_k]
    scored = [
        replace(hit, details={**hit.details, "rerank_score": float(score)})
        for hit, score in zip(hits, scores, strict=True)
    ]
    scored.sort(key=lambda h: -h.details["rerank_score"])
    return scored[:top_k]
