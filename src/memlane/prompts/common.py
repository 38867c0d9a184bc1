"""Pieces shared by the prompt modules: the operation item, conversation lines, copy checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "MEMORY_TYPES",
    "MAX_FACTS",
    "MAX_FACT_CHARS",
    "MemoryOp",
    "content_words",
    "conversation_lines",
    "copied_from",
    "existing_lines",
    "normalize_fact",
    "overlap",
    "supported_by",
]

MAX_FACTS = 20
MAX_FACT_CHARS = 400
MEMORY_TYPES = ("semantic", "episodic", "procedural")
"""What a memory is: a fact or preference, an event (with the date it happened), a how-to."""


class MemoryOp(BaseModel):
    """One decision about one fact."""

    model_config = ConfigDict(extra="ignore")

    event: Literal["ADD", "UPDATE", "DELETE", "NONE"] = Field(
        description="ADD a new fact; UPDATE or DELETE the existing memory `id`; NONE: already known"
    )
    id: str | None = Field(
        default=None, max_length=8, description="the existing memory's id, for UPDATE, DELETE, NONE"
    )
    text: str = Field(
        default="",
        max_length=MAX_FACT_CHARS,
        description="the fact: new text for ADD and UPDATE, the contradicting fact for DELETE",
    )
    type: Literal["semantic", "episodic", "procedural"] | None = Field(
        default=None,
        description="semantic: a fact or preference; episodic: an event; procedural: how to do something",
    )
    when: str | None = Field(
        default=None, max_length=10, description="an episodic fact's event date, YYYY-MM-DD, or null"
    )

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: object) -> object:
        """A type the model misspells ("Semantic", "event") is read, or dropped (None), never
        a reason to refuse the whole answer."""
        if not isinstance(value, str):
            return None
        key = value.strip().casefold()
        return _TYPE_ALIASES.get(key, key if key in MEMORY_TYPES else None)

    @field_validator("when", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        """The event date as YYYY-MM-DD (the date part of a longer ISO time), else None."""
        if not isinstance(value, str):
            return None
        found = _ISO_DATE.match(value.strip())
        if found is None:
            return None
        try:
            return date.fromisoformat(found.group(0)).isoformat()
        except ValueError:
            return None


_TYPE_ALIASES = {"fact": "semantic", "preference": "semantic", "event": "episodic", "procedure": "procedural"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def conversation_lines(messages: Iterable[tuple[str, str | None, str]]) -> str:
    """``role (name): content`` lines for (role, name, content) triples."""
    lines = []
    for role, name, content in messages:
        who = f"{role} ({name})" if name else role
        lines.append(f"{who}: {content}")
    return "\n".join(lines)


def existing_lines(existing: Sequence[tuple[str, str]]) -> str:
    """``id: text`` lines of the memories shown to the model, or a note that there are none."""
    if not existing:
        return "(none)"
    return "\n".join(f"{key}: {text}" for key, text in existing)


_SPACE = re.compile(r"\s+")


def normalize_fact(text: str) -> str:
    """Text compared for duplicates: case, spacing and final punctuation ignored."""
    return _SPACE.sub(" ", text).strip().strip(".!").casefold()


def copied_from(text: str, sources: Iterable[str], conversation: str = "") -> bool:
    """Whether ``text`` repeats one of ``sources`` (prompt examples) that ``conversation`` does
    not support: a real fact that happens to equal an example ("Is allergic to peanuts" from
    "I'm allergic to peanuts!") is not a copy."""
    key = normalize_fact(text)
    if not key or not any(key == normalize_fact(s) for s in sources):
        return False
    return not supported_by(text, conversation)


_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    "a an and are as at be been but by for from has have he her his i in is it its me my of on or "
    "our she since so that the their them they this to was we were who will with you your".split()
)


def _stem(word: str) -> str:
    """A crude stem, enough to match "allergic"/"allergy", "seats"/"seat" or "trains"/"training"."""
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word[:5]


def content_words(text: str) -> set[str]:
    """The stems of ``text``'s words that carry meaning (stop words and 1-letter words out)."""
    words = (w.casefold() for w in _WORD.findall(text))
    return {_stem(w) for w in words if len(w) > 1 and w not in _STOPWORDS}


def overlap(fact: str, text: str) -> float:
    """The share of ``fact``'s content words that ``text`` holds (1.0 when it has none)."""
    wanted = content_words(fact)
    if not wanted:
        return 1.0
    return len(wanted & content_words(text)) / len(wanted)


def supported_by(fact: str, conversation: str) -> bool:
    """Whether ``conversation`` holds at least half of ``fact``'s content words and every name
    in it (a capitalised word after the first): "Has a cat named Miso" is not supported by
    "I have a cat named Tom"."""
    names = {_stem(w.casefold()) for w in _WORD.findall(fact)[1:] if w[:1].isupper()}
    said = content_words(conversation)
    return names <= said and overlap(fact, conversation) >= 0.5
