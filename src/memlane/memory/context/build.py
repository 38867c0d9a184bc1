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
from memlane.models import Hit, ProfileSlot, Scope
from memlane.tokenizer import tokenize
from memlane.types import ContextResult, TimeLike

__all__ = [
    "MAX_TOKENS",
    "ContextRequest",
    "build_context",
    "candidates_for",
    "competing",
    "context_request",
    "validate_max_tokens",
]

MAX_TOKENS = 1_000_000

MIN_CANDIDATES = 20
"""Memories searched for even the smallest budget."""
TOKENS_PER_CANDIDATE = 10
"""One memory searched per this many tokens of budget: more than fit in a typical block."""
ACTOR_LIFT = 0.15
"""Added to the search score (0 to 1) of a memory whose actor the query names, for the order in
which the memories compete for the budget. On LoCoMo's public half (speakers as actors) it
lifts the evidence inside 1,000 tokens from 0.837 to 0.859; 0.1 to 0.3 give 0.854 to 0.859."""


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
        hits=competing(hits, request.search.query),
        today=request.reference_date,
    )
    store = backends.store

    def sources(memory_id: str) -> list[str]:
        return [m.id for m in store.sources(memory_id)]

    return pack(parts, request.max_tokens, counter or default_counter(), sources)


def competing(hits: list[Hit], query: str) -> list[Hit]:
    """``hits`` in the order they compete for the budget: by search score, plus ``ACTOR_LIFT``
    for a memory whose actor (the ``name`` of the message it was said in, its ``actor_id``) the
    query names, when the query names some of the actors but not all. Among several people
    talking, "what has Melanie painted?" is answered by what Melanie said."""
    words = set(tokenize(query))
    actors = {h.record.actor_id for h in hits}
    named = {a for a in actors if a and (parts := set(tokenize(a))) and parts <= words}
    if named == actors:
        named = set()  # every memory (or none) would be lifted: the order stays the search's

    def key(hit: Hit) -> tuple[float, str]:
        return (-(hit.score + ACTOR_LIFT * (hit.record.actor_id in named)), hit.record.id)

    return sorted(hits, key=key)


def _slots(backends: Backends, scope: Scope, query: str) -> list[ProfileSlot]:
    """The owner's current slots: those the query asks about first, then the others, each
    group in the configured order (none when the profile is off)."""
    if not backends.profile_on:
        return []
    order = {key: n for n, key in enumerate(backends.config.profile.slots)}
    slots = sorted(profile_slots(backends.store, scope), key=lambda s: (order.get(s.key, len(order)), s.key))
    asked = {s.key for s in asked_slots(slots, query)}
    return [s for s in slots if s.key in asked] + [s for s in slots if s.key not in asked]
