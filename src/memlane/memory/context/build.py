"""``get_context``: one search, the scope owner's profile and the graph's relations for the
query, packed into one citable block (``pack``) under a token budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memlane.errors import InvalidInputError
from memlane.memory.backends import Backends
from memlane.memory.context.pack import ContextParts, pack
from memlane.memory.context.tokens import TokenCounter, default_counter
from memlane.memory.profile import profile_slots
from memlane.memory.search.pipeline import SearchRequest, find
from memlane.memory.search.profile_cues import asked_slots
from memlane.memory.search.request import search_request
from memlane.memory.times import parse_timestamp
from memlane.models import ProfileSlot, Scope
from memlane.types import ContextResult, TimeLike

__all__ = [
    "MAX_TOKENS",
    "ContextRequest",
    "build_context",
    "candidates_for",
    "context_request",
    "validate_max_tokens",
]

MAX_TOKENS = 1_000_000

MIN_CANDIDATES = 20
"""Memories searched for even the smallest budget."""
TOKENS_PER_CANDIDATE = 10
"""One memory searched per this many tokens of budget: more than fit in a typical block."""


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """A validated ``get_context`` call: the search, the budget and the reference date given."""

    search: SearchRequest
    max_tokens: int
    reference_date: str | None
    """Shown as ``Today:`` when the caller gave one (never the clock's time)."""


def context_request(
    query: Any,
    ids: dict[str, Any],
    filters: dict[str, Any] | None,
    max_tokens: Any,
    reference_date: TimeLike | None,
    top_k: Any,
    show_expired: bool,
) -> ContextRequest:
    """The validated request (``top_k`` default: ``candidates_for(max_tokens)``)."""
    budget = validate_max_tokens(max_tokens)
    k = top_k if top_k is not None else candidates_for(budget)
    search = search_request(
        query, ids, filters, top_k=k, show_expired=show_expired, reference_date=reference_date
    )
    return ContextRequest(search, budget, parse_timestamp(reference_date, "reference_date"))


def validate_max_tokens(value: Any) -> int:
    """``max_tokens``: an int from 1 to ``MAX_TOKENS``, or ``InvalidInputError`` saying so."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKENS:
        raise InvalidInputError(f"max_tokens must be an int from 1 to {MAX_TOKENS:,}, got {value!r}")
    return value


def candidates_for(max_tokens: int) -> int:
    """How many memories to search for a budget of ``max_tokens`` (``get_context``'s default ``top_k``)."""
    return max(MIN_CANDIDATES, max_tokens // TOKENS_PER_CANDIDATE)


def build_context(
    backends: Backends, request: ContextRequest, counter: TokenCounter | None = None
) -> ContextResult:
    """The packed context for ``request``; ``counter`` defaults to ``tokens.default_counter()``.
    The search runs under the reindex lock's shared side, like ``Memory.search``."""
    with backends.swap.shared():
        hits, linked = find(backends, request.search)
    parts = ContextParts(
        slots=_slots(backends, request.search.scope, request.search.query),
        relations=linked.relations if linked else (),
        hits=sorted(hits, key=lambda h: (-h.score, h.record.id)),
        today=request.reference_date,
    )
    store = backends.store

    def sources(memory_id: str) -> list[str]:
        return [m.id for m in store.sources(memory_id)]

    return pack(parts, request.max_tokens, counter or default_counter(), sources)


def _slots(backends: Backends, scope: Scope, query: str) -> list[ProfileSlot]:
    """The owner's current slots: those the query asks about first, then the others, each
    group in the configured order (none when the profile is off)."""
    if not backends.profile_on:
        return []
    order = {key: n for n, key in enumerate(backends.config.profile.slots)}
    slots = sorted(profile_slots(backends.store, scope), key=lambda s: (order.get(s.key, len(order)), s.key))
    asked = {s.key for s in asked_slots(slots, query)}
    return [s for s in slots if s.key in asked] + [s for s in slots if s.key not in asked]
