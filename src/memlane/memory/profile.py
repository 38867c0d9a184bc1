"""Profile slots: the profile methods of ``Memory`` (a mixin, like ``DataSafety``).

A profile is a small set of keyed, single-valued facts about a scope's owner
(``home_city = Bangalore``, ``employer = Acme``). With ``profile.enabled``, add()'s one LLM call
also reports the slots the conversation sets, changes or clears; a new value supersedes the old
one, which stays as a version with both clocks. The profile belongs to the scope's owner: its
user (shared by all of that user's agents and runs), else its agent, else its run, the same
rule add() uses for the memories it may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.config import MemoryConfig
from memlane.errors import InvalidInputError
from memlane.filters import Filter
from memlane.memory import inputs
from memlane.models import SCOPE_KEYS, MemoryRecord, ProfileSlot, Scope
from memlane.store.base import MemoryStore, StoreTransaction
from memlane.text import keywords

__all__ = ["PROFILE_CUES", "ProfileMethods", "asked_slots", "profile_slots"]

PROFILE_CUES: dict[str, tuple[str, ...]] = {
    "name": ("name", "called", "call"),
    "preferred_name": ("name", "called", "call", "nickname"),
    "age": ("age", "old", "aged"),
    "birthday": ("birthday", "born", "birth"),
    "gender": ("gender",),
    "pronouns": ("pronoun",),
    "home_city": ("live", "living", "reside", "based", "city", "home", "moved", "address"),
    "hometown": ("hometown", "grew", "grow", "born", "from", "raised"),
    "country": ("country", "live", "living", "nationality", "from"),
    "languages": ("language", "speak", "speaks", "fluent"),
    "occupation": ("job", "work", "profession", "occupation", "career", "living"),
    "employer": ("employer", "work", "company", "job", "employ"),
    "education": ("study", "studie", "school", "university", "college", "degree", "graduat"),
    "partner": ("partner", "wife", "husband", "girlfriend", "boyfriend", "married", "spouse"),
    "children": ("child", "kid", "son", "daughter"),
    "pets": ("pet", "dog", "cat", "puppy", "kitten"),
    "diet": ("diet", "eat", "vegetarian", "vegan", "food"),
    "allergies": ("allerg",),
    "health": ("health", "ill", "sick", "condition", "medical"),
    "hobbies": ("hobby", "hobbie", "enjoy", "free time", "fun", "pastime"),
    "favourite_food": ("favourite", "favorite", "food", "dish", "eat"),
}
"""Words that ask about each default slot (matched as prefixes from four letters on, whole
words, plural included, below that). A key that is not here is asked about by the words of its
name. A slot's value is no cue: a query naming it ("Bangalore") is found by BM25 anyway, and
naming the user ("Is Bob allergic?") is not asking for their name."""


def asked_slots(slots: Sequence[ProfileSlot], query: str) -> list[ProfileSlot]:
    """The slots ``query`` asks about: one of its words is a cue of the slot's key or a word of
    the key."""
    words = set(keywords(query))
    asked = []
    for slot in slots:
        cues = {*PROFILE_CUES.get(slot.key, ()), *slot.key.split("_")}
        if any(_cued(word, cue) for word in words for cue in cues):
            asked.append(slot)
    return asked


def _cued(word: str, cue: str) -> bool:
    return word.startswith(cue) if len(cue) >= 4 else word in (cue, cue + "s")


def profile_slots(store: MemoryStore, scope: Scope, *, as_of: str | None = None) -> list[ProfileSlot]:
    """The current profile slots of ``scope``'s owner, by key (none for an empty scope), or
    those current at record time ``as_of``: what search and prompts read."""
    return [] if scope.is_empty() else store.profile(inputs.owner_scope(scope), as_of=as_of)


class ProfileMethods:
    """``get_profile`` and ``profile_history``, and the profile rules add() and delete use."""

    config: MemoryConfig
    store: MemoryStore

    def get_profile(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        as_of: Any = None,
    ) -> dict[str, Any]:
        """The profile of a scope's owner: ``{"profile": {key: value}, "slots": [{key, value,
        memory_id, valid_from, valid_to, recorded_at, expired_at}]}``, in the configured slot
        order; ``as_of`` (a datetime or ISO string) reads what was current at that record time."""
        owner = self._profile_owner("get_profile", user_id, agent_id, run_id, filters)
        moment = inputs.parse_timestamp(as_of, "as_of")
        order = {key: n for n, key in enumerate(self.config.profile.slots)}
        slots = sorted(
            profile_slots(self.store, owner, as_of=moment),
            key=lambda s: (order.get(s.key, len(order)), s.key),
        )
        return {"profile": {s.key: s.value for s in slots}, "slots": [s.as_dict() for s in slots]}

    def profile_history(
        self,
        key: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Every value one slot had, oldest first, each with its valid and recorded times
        (``expired_at`` set once superseded or cleared); ``[]`` for a slot never set."""
        key = inputs.validate_profile_key(key)
        owner = self._profile_owner("profile_history", user_id, agent_id, run_id, filters)
        return [slot.as_dict() for slot in self.store.profile_versions(owner, key)]

    # -- helpers for add() and delete_all() ---------------------------------------------------

    def _profile_scope(self, scope: Scope) -> Scope | None:
        """Where add() writes the profile of ``scope``: its owner, or None when the profile is off."""
        return inputs.owner_scope(scope) if self.config.profile.enabled else None

    @staticmethod
    def _forget_profile(
        tx: StoreTransaction, at: str, scope: Scope, where: Filter, deleted: Sequence[MemoryRecord]
    ) -> None:
        """delete_all's part: clear the slots written from the deleted memories, and the whole
        profile of ``scope`` (a filter) when nothing but its ids chose what to delete."""
        whole = where == inputs.resolve_scope(scope.as_dict(), None)[1]
        tx.expire_profile(at, scope=scope if whole else None, memory_ids=[r.id for r in deleted])

    @staticmethod
    def _profile_owner(
        call: str, user_id: Any, agent_id: Any, run_id: Any, filters: dict[str, Any] | None
    ) -> Scope:
        if filters is not None and isinstance(filters, dict) and set(filters) - set(SCOPE_KEYS):
            raise InvalidInputError(f"{call}() takes only user_id, agent_id and run_id in filters")
        scope, _ = inputs.resolve_scope({"user_id": user_id, "agent_id": agent_id, "run_id": run_id}, filters)
        inputs.require_plain_scope(scope, call)
        return inputs.owner_scope(scope)
