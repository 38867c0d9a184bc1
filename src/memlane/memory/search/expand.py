"""Query expansion: one LLM call turns a search query into a few other phrasings.

Search runs every phrasing on its own and merges the results (``merge_phrasings``: a memory
keeps its best score over the phrasings, and ``phrasing`` in the details says which, 0 being
the user's query). When the call fails it raises (``LLMError``) and the caller searches with
the original query alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from memlane.errors import InvalidInputError, LLMError
from memlane.llm.base import LLM
from memlane.models import Hit, Usage
from memlane.prompts.common import normalize_fact
from memlane.prompts.query_rewrite import (
    MAX_QUERY_CHARS,
    MAX_VARIANTS,
    QueryRewrite,
    QueryRewriteInput,
    build_messages,
)

__all__ = ["expand_query", "merge_phrasings"]


def expand_query(
    llm: LLM,
    query: str,
    *,
    variants: int = 3,
    reference_date: str | None = None,
    usage: Usage | None = None,
) -> list[str]:
    """Up to ``variants`` other phrasings or sub-questions of ``query``, useful for retrieval.

    One LLM call. The answer is trimmed, each query cut to ``MAX_QUERY_CHARS``, deduplicated
    (case, spacing and final punctuation ignored), and never repeats ``query``; it may be empty
    when the model finds nothing to rewrite. ``reference_date`` (e.g. ``"2026-05-04"``) lets the
    model turn "last week" into dates. What the call cost is added to ``usage`` when given.

    Raises ``InvalidInputError`` for an empty query or ``variants`` outside 0..10 (0 returns
    ``[]`` without a call), and ``LLMError`` when the call fails or its answer is still
    unusable after one repair request.
    """
    text = " ".join(query.split())
    if not text:
        raise InvalidInputError("expand_query needs a non-empty query")
    if isinstance(variants, bool) or not isinstance(variants, int) or not 0 <= variants <= MAX_VARIANTS:
        raise InvalidInputError(f"variants must be an int from 0 to {MAX_VARIANTS}, got {variants!r}")
    if variants == 0:
        return []
    data = QueryRewriteInput(query=text, variants=variants, reference_date=reference_date)
    try:
        result = llm.complete(build_messages(data), QueryRewrite)
    except LLMError as exc:  # failed calls were still paid for
        if usage is not None and exc.usage is not None:
            usage.add(exc.usage)
        raise
    if usage is not None:
        usage.add(result.usage)
    return _clean(result.value.queries, text, variants)


def merge_phrasings(results: Sequence[list[Hit]], top_k: int) -> list[Hit]:
    """The ``top_k`` best memories over the result lists of several phrasings, best first."""
    best: dict[str, Hit] = {}
    for index, hits in enumerate(results):
        for hit in hits:
            known = best.get(hit.record.id)
            if known is None or hit.score > known.score:
                best[hit.record.id] = replace(hit, details={**hit.details, "phrasing": float(index)})
    return sorted(best.values(), key=lambda h: -h.score)[:top_k]


def _clean(queries: Sequence[str], original: str, limit: int) -> list[str]:
    seen = {_key(original)}
    out: list[str] = []
    for raw in queries:
        query = _cut(" ".join(raw.split()).strip("\"'` "))
        key = _key(query)
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(query)
        if len(out) == limit:
            break
    return out


def _key(query: str) -> str:
    return normalize_fact(query.strip().rstrip("?.! "))


def _cut(query: str) -> str:
    """``query`` cut to ``MAX_QUERY_CHARS``, at a word boundary when there is one."""
    if len(query) <= MAX_QUERY_CHARS:
        return query
    head = query[:MAX_QUERY_CHARS]
    space = head.rfind(" ")
    return (head[:space] if space > MAX_QUERY_CHARS // 2 else head).rstrip()
