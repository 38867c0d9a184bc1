"""Profile cues: which profile slots a search query asks about ("where does she live?" asks
about ``home_city``), so that the memories behind them become candidates (profile on)."""

from __future__ import annotations

from collections.abc import Sequence

from memlane.memory.backends import Backends
from memlane.memory.profile import profile_slots
from memlane.models import ProfileSlot, Scope
from memlane.tokenizer import keywords

__all__ = ["PROFILE_CUES", "asked_slots", "profiled_memories"]

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


def profiled_memories(backends: Backends, scope: Scope, query: str) -> list[str]:
    """The memories behind the profile slots ``query`` asks about (profile on, with weight)."""
    if not backends.profile_on or backends.config.search.profile_weight <= 0:
        return []
    slots = asked_slots(profile_slots(backends.store, scope), query)
    return [slot.memory_id for slot in slots if slot.memory_id]
