"""Plain-text tables for the ``memlane`` CLI (no dependency beyond click)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

__all__ = [
    "CREATED_COLUMN",
    "ID_COLUMN",
    "MEMORY_COLUMN",
    "MEMORY_WIDTH",
    "Column",
    "Row",
    "cut",
    "field",
    "format_table",
    "print_table",
    "scope_columns",
    "score",
    "when",
]

Row = Mapping[str, Any]

MEMORY_WIDTH = 60
"""Memory texts longer than this are cut in tables (``get`` and ``--json`` show them whole)."""


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> str:
    """Rows as aligned plain text under a header line and a rule; columns in ``right`` right-aligned."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def cut(value: Any, width: int | None = None) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if width is not None and len(text) > width:
        return text[: width - 3] + "..."
    return text


def when(value: Any) -> str:
    """An ISO time to the minute, as ``2025-06-01 14:03``."""
    return cut(value)[:16].replace("T", " ")


def score(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else ""


Column = tuple[str, Callable[[Row], str]]

ID_COLUMN: Column = ("ID", lambda r: cut(r.get("id"))[:8])
MEMORY_COLUMN: Column = ("MEMORY", lambda r: cut(r.get("memory"), MEMORY_WIDTH))
CREATED_COLUMN: Column = ("CREATED", lambda r: when(r.get("created_at")))


def field(key: str) -> Callable[[Row], str]:
    def get(row: Row) -> str:
        return cut(row.get(key))

    return get


def scope_columns(items: Sequence[Row]) -> list[Column]:
    """USER always; AGENT and RUN only when some row has them."""
    columns: list[Column] = [("USER", field("user_id"))]
    for header, key in (("AGENT", "agent_id"), ("RUN", "run_id")):
        if any(item.get(key) for item in items):
            columns.append((header, field(key)))
    return columns


def print_table(items: Sequence[Row], columns: Sequence[Column], *, right: Sequence[int] = ()) -> None:
    if not items:
        click.echo("No memories found.")
        return
    rows = [[get(item) for _, get in columns] for item in items]
    click.echo(format_table([h for h, _ in columns], rows, right=right))
