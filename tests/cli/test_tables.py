"""Plain-text tables: aligned columns, long memories cut (JSON keeps them whole)."""

from __future__ import annotations

from memlane.cli._tables import format_table
from tests.cli._support import Run, add_one, as_json


def test_format_table_aligns_columns() -> None:
    text = format_table(["SCORE", "NAME"], [["0.5", "a"], ["10.25", "bbb"]], right=[0])
    assert text.splitlines() == ["SCORE  NAME", "-----  ----", "  0.5  a", "10.25  bbb"]


def test_long_memories_are_cut_in_tables_but_not_in_json(run: Run) -> None:
    text = "word " * 40
    add_one(run, text.strip(), "-u", "alice")
    row = run("list", "-u", "alice").stdout.splitlines()[2]
    assert "..." in row and text.strip() not in row
    assert as_json(run("--json", "list", "-u", "alice"))["results"][0]["memory"] == text.strip()
