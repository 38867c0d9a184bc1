"""Reranking: the reranker scores the best fused hits against the user's query and they are
reordered by that score (``rerank_score``, in the details and on each result, as mem0 does), or
by a blend with the fused score (``search.rerank_weight`` below 1); ``score`` keeps the fused
score. A reranker that fails (``RerankError``) is logged and the fused order is kept: a search
never fails because of its reranker.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from memlane.errors import RerankError
from memlane.models import Hit
from memlane.rerank.base import Reranker

__all__ = ["rerank_hits"]

log = logging.getLogger("memlane")


def rerank_hits(
    reranker: Reranker, query: str, hits: list[Hit], top_k: int, weight: float = 1.0
) -> list[Hit]:
    """``hits`` reordered by ``reranker`` and cut to ``top_k``; the fused order if it fails.

    With ``weight`` below 1 the order is by ``weight * r + (1 - weight) * score``, ``r`` the
    reranker's score rescaled to [0, 1] over these hits: a hedge against a weak reranker.
    """
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
    low, high = min(scores), max(scores)
    span = (high - low) or 1.0
    order = {
        id(hit): weight * (hit.details["rerank_score"] - low) / span + (1 - weight) * hit.score
        for hit in scored
    }
    scored.sort(key=lambda h: -order[id(h)])
    return scored[:top_k]
