"""Pieces shared by the prompt modules: the operation item, conversation lines, copy checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_FACTS",
    "MAX_FACT_CHARS",
    "MemoryOp",
    "conversation_lines",
    "copied_from",
    "existing_lines",
    "normalize_fact",
]

MAX_FACTS = 20
MAX_FACT_CHARS = 400


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


def copied_from(text: str, sources: Iterable[str]) -> bool:
    """Whether ``text`` repeats one of ``sources`` (prompt examples or instructions)."""
    key = normalize_fact(text)
    return bool(key) and any(key == normalize_fact(s) for s in sources)
