"""``search()``'s arguments checked and turned into a ``SearchRequest`` (shared by
``get_context`` and ``chat``, which search the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from memlane.filters import and_
from memlane.memory import arguments, kinds, shortterm
from memlane.memory.scope import resolve_scope
from memlane.memory.search.pipeline import SearchRequest
from memlane.memory.times import parse_timestamp
from memlane.models import now_iso
from memlane.types import TimeLike

__all__ = ["search_request"]


def search_request(
    query: Any,
    ids: dict[str, Any],
    filters: dict[str, Any] | None,
    *,
    top_k: Any = None,
    limit: Any = None,
    threshold: Any = None,
    rerank: bool = False,
    explain: bool = False,
    show_expired: bool = False,
    reference_date: TimeLike | None = None,
    memory_type: str | Sequence[str] | None = None,
    long_term: bool = False,
    as_of: TimeLike | None = None,
) -> SearchRequest:
    """The validated request, or ``InvalidInputError`` naming the bad argument. Expired
    memories (``expiration_date``, and runs' past ``short_term.ttl``) are left out by the
    search itself, which knows the config, unless ``show_expired``."""
    at = parse_timestamp(as_of, "as_of")
    query = arguments.validate_query(query)
    reference = parse_timestamp(reference_date, "reference_date")
    scope, where = resolve_scope(ids, filters)
    k = arguments.validate_top_k(top_k, limit, arguments.SEARCH_TOP_K)
    floor = arguments.validate_threshold(threshold)
    if memory_type is not None:
        where = and_(where, kinds.type_filter(memory_type))
    run = None
    if long_term:
        scope, where, run = shortterm.long_term_scope(scope, where)
    moment = datetime.fromisoformat(reference or now_iso())
    return SearchRequest(
        query, scope, where, k, floor, moment, rerank=rerank, explain=explain, boost_run=run, as_of=at,
        hide_expired=not show_expired,
    )  # fmt: skip
