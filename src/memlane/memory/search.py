"""The search pipeline: dense and keyword candidates, fused into one calibrated score.

Fusion. Let ``d`` be the cosine similarity clipped to [0, 1] and ``b`` the BM25 score of the
memory's text for the query's keywords (0 if none match). The keyword signal is calibrated
as ``k = b / (b + s)`` (``s`` = ``keyword_saturation``, the BM25 score worth 0.5), and

    score = d + (1 - d) * w * k          (w = ``keyword_weight`` in [0, 1])

so a memory with no keyword match keeps its cosine similarity as its score, a keyword match
moves it towards 1, and the score stays in [0, 1]; ``threshold`` applies to it.
"""

from __future__ import annotations

from memlane.config import SearchConfig
from memlane.embed.base import Embedder
from memlane.filters import Filter
from memlane.models import Hit
from memlane.store.base import MemoryStore
from memlane.text import keywords

__all__ = ["search_hits"]


def search_hits(
    store: MemoryStore,
    embedder: Embedder,
    config: SearchConfig,
    query: str,
    where: Filter,
    *,
    top_k: int,
    threshold: float | None,
) -> list[Hit]:
    """The ``top_k`` best memories matching ``where`` for ``query``, best first."""
    if top_k == 0:
        return []
    vector = embedder.embed([query], purpose="search")[0]
    pool = max(config.candidates, top_k * 2)
    dense: dict[str, float] = dict(store.vector_search(vector, where, pool))
    bm25: dict[str, float] = dict(store.keyword_search(keywords(query), where, pool))
    missing = [mid for mid in bm25 if mid not in dense]
    dense.update(store.similarities(vector, missing))
    weight = min(config.keyword_weight, 1.0)
    scored: list[tuple[float, str, dict[str, float]]] = []
    for mid, cosine in dense.items():
        d = min(max(cosine, 0.0), 1.0)
        raw = bm25.get(mid, 0.0)
        k = raw / (raw + config.keyword_saturation) if raw > 0 else 0.0
        score = d + (1.0 - d) * weight * k
        if threshold is not None and score < threshold:
            continue
        details = {"semantic_score": cosine, "bm25_score": raw, "keyword_score": k, "final_score": score}
        scored.append((score, mid, details))
    scored.sort(key=lambda row: -row[0])
    best = scored[:top_k]
    records = store.get_many([mid for _, mid, _ in best])
    hits = [Hit(records[mid], score, details) for score, mid, details in best if mid in records]
    if threshold is not None:
        for hit in hits:
            hit.details["threshold"] = threshold
    return hits
