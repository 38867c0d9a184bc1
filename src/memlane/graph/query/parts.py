"""The pieces ``cypher._Parser`` records while it reads a query (relationship patterns, the final
projection, text edits) and the two helpers that use them: aggregate detection and applying the
edits that bind the scope and cap the query."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from memlane.graph.query.lexer import Token
from memlane.graph.query.rules import AGGREGATES

__all__ = ["Edit", "Projection", "Relationship", "aggregates", "apply_edits"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:stop]`` (an insertion when they are equal)."""

    start: int
    stop: int
    text: str


@dataclass(frozen=True, slots=True)
class Relationship:
    """A relationship pattern: its variable (None: unnamed) and where one would be written."""

    name: str | None
    at: int
    bare: bool = False
    """Written without brackets (``--``): ``finish`` adds them when it names the relationship."""


@dataclass(slots=True)
class Projection:
    """The final RETURN: where its items end, whether it aggregates, its LIMIT number."""

    items_end: int = 0
    aggregates: bool = False
    distinct: bool = False
    limit: Token | None = None


def aggregates(items: list[Token]) -> bool:
    pairs = itertools.pairwise(items)
    return any(a.kind == "ident" and a.text.lower() in AGGREGATES and b.is_op("(") for a, b in pairs)


def apply_edits(text: str, edits: list[Edit], end: int) -> str:
    """``text`` up to ``end`` (a final ';' dropped) with the edits made (by position)."""
    out: list[str] = []
    at = 0
    for edit in sorted(edits, key=lambda e: e.start):
        out.append(text[at : edit.start])
        out.append(edit.text)
        at = edit.stop
    out.append(text[at:end])
    return "".join(out)
