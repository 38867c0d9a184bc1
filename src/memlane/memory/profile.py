"""The profile: a small set of keyed, single-valued facts about a scope's owner
(``home_city = Bangalore``, ``employer = Acme``).

With ``profile.enabled``, add()'s one LLM call also reports the slots the conversation sets,
changes or clears; a new value supersedes the old one, which stays as a version with both
clocks. The profile belongs to the scope's owner: its user (shared by all of that user's agents
and runs), else its agent, else its run, the same rule add() uses for the memories it may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import Filter
from memlane.memory.backends import Backends
from memlane.memory.results import slot_item
from memlane.memory.scope import owner_scope, require_plain_scope, resolve_scope, scope_ids
from memlane.models import SCOPE_KEYS, MemoryRecord, ProfileSlot, Scope
from memlane.store.base import MemoryStore, StoreTransaction
from memlane.types import ProfileResult, ProfileSlotItem

__all__ = [
    "forget_profile",
    "profile_owner",
    "profile_scope",
    "profile_slots",
    "read_profile",
    "slot_history",
]


def profile_slots(store: MemoryStore, scope: Scope, *, as_of: str | None = None) -> list[ProfileSlot]:
    """The current profile slots of ``scope``'s owner, by key (none for an empty scope), or
    those current at record time ``as_of``: what search and prompts read."""
    return [] if scope.is_empty() else store.profile(owner_scope(scope), as_of=as_of)


def profile_owner(
    call: str, user_id: Any, agent_id: Any, run_id: Any, filters: dict[str, Any] | None
) -> Scope:
    """The owner whose profile ``call`` reads: a plain id, and no filter but the scope ids."""
    if filters is not None and isinstance(filters, dict) and set(filters) - set(SCOPE_KEYS):
        raise InvalidInputError(f"{call}() takes only user_id, agent_id and run_id in filters")
    scope, _ = resolve_scope(scope_ids(user_id, agent_id, run_id), filters)
    require_plain_scope(scope, call)
    return owner_scope(scope)


def read_profile(backends: Backends, owner: Scope, as_of: str | None) -> ProfileResult:
    """The slots of ``owner`` (current, or at record time ``as_of``) in the configured order."""
    order = {key: n for n, key in enumerate(backends.config.profile.slots)}
    slots = sorted(
        profile_slots(backends.store, owner, as_of=as_of),
        key=lambda s: (order.get(s.key, len(order)), s.key),
    )
    return {"profile": {s.key: s.value for s in slots}, "slots": [slot_item(s) for s in slots]}


def slot_history(backends: Backends, owner: Scope, key: str) -> list[ProfileSlotItem]:
    """Every value the slot ``key`` of ``owner`` had, oldest first."""
    return [slot_item(slot) for slot in backends.store.profile_versions(owner, key)]


def profile_scope(backends: Backends, scope: Scope) -> Scope | None:
    """Where add() writes the profile of ``scope``: its owner, or None when the profile is off."""
    return owner_scope(scope) if backends.profile_on else None


def forget_profile(
    tx: StoreTransaction, at: str, scope: Scope, where: Filter, deleted: Sequence[MemoryRecord]
) -> None:
    """delete_all's part: clear the slots written from the deleted memories, and the whole
    profile of ``scope`` (a filter) when nothing but its ids chose what to delete."""
    whole = where == resolve_scope(scope.as_dict(), None)[1]
    tx.expire_profile(at, scope=scope if whole else None, memory_ids=[r.id for r in deleted])
