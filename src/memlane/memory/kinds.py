"""Memory types: ``semantic`` (a fact or preference), ``episodic`` (an event, its event time in
``valid_from``), ``procedural`` (how to do something). The type lives in the memory's metadata
under ``memory_type``; mem0's ``add(memory_type="procedural_memory")`` keeps storing
``"procedural_memory"``, and a filter on ``"procedural"`` matches both. ``semantic`` is the
default and is not written (a memory with no ``memory_type`` is semantic, those written before
types existed too) unless the caller names it in ``add(memory_type=...)``. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import Cond, Filter, Not, Or
from memlane.prompts.common import MEMORY_TYPES

__all__ = [
    "DEFAULT_TYPE",
    "MEM0_PROCEDURAL",
    "TYPE_KEY",
    "add_type",
    "event_time",
    "type_filter",
    "typed",
]

TYPE_KEY = "memory_type"
DEFAULT_TYPE = "semantic"
MEM0_PROCEDURAL = "procedural_memory"
"""mem0's value: an agent's run summarised by the LLM (``add(memory_type="procedural_memory")``)."""
_ACCEPTED = (*MEMORY_TYPES, MEM0_PROCEDURAL)


def add_type(memory_type: Any) -> str | None:
    """``add()``'s ``memory_type``: None, one of the types, or mem0's ``"procedural_memory"``."""
    if memory_type is None:
        return None
    if isinstance(memory_type, str) and memory_type in _ACCEPTED:
        return memory_type
    raise InvalidInputError(
        f"memory_type must be None, {', '.join(repr(t) for t in MEMORY_TYPES)} or "
        f"{MEM0_PROCEDURAL!r} (mem0's procedural summary of an agent's run), got {memory_type!r}"
    )


def type_filter(memory_type: str | Sequence[str]) -> Filter:
    """The memories of a type (or of any of a list of types), for ``search`` and ``get_all``."""
    wanted = [memory_type] if isinstance(memory_type, str) else memory_type
    if not isinstance(wanted, Sequence) or not wanted or not all(isinstance(t, str) for t in wanted):
        raise InvalidInputError(
            f"memory_type must be a type or a non-empty list of types, got {memory_type!r}"
        )
    values: set[str] = set()
    for name in wanted:
        if name not in _ACCEPTED:
            raise InvalidInputError(
                f"memory_type {name!r} is not a type: use {', '.join(repr(t) for t in MEMORY_TYPES)}"
            )
        values.update((name, MEM0_PROCEDURAL) if name == "procedural" else (name,))
    match: Filter = Cond(TYPE_KEY, "in", sorted(values))
    if DEFAULT_TYPE in values:  # memories from before types count as semantic
        match = Or((match, Not(Cond(TYPE_KEY, "exists"))))
    return match


def typed(metadata: dict[str, Any], kind: tuple[str | None, str | None] | None) -> dict[str, Any]:
    """``metadata`` with its type: the caller's (already in it) wins, then the model's when it
    is not ``semantic``. A memory without one is semantic: the default is not written, so a
    memory without metadata keeps ``metadata`` None in results, as in mem0."""
    model_type = kind[0] if kind else None
    if TYPE_KEY in metadata or model_type in (None, DEFAULT_TYPE):
        return metadata
    return {**metadata, TYPE_KEY: model_type}


def event_time(kind: tuple[str | None, str | None] | None, default: str) -> str:
    """When an episodic fact happened (the model's date, at midnight UTC), else ``default``
    (the observation time)."""
    if kind is None or kind[0] != "episodic" or not kind[1]:
        return default
    return f"{kind[1]}T00:00:00+00:00"
