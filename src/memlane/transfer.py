"""Export and import: every record of a store as JSON Lines, in a versioned format.

The first line is a header ``{"format": "memlane-export", "version": 1, ...}``; each other
line is one record ``{"kind": "memory" | "version" | "history" | "message" | "source" |
"profile" | "meta", "data": {...}}`` (``profile``: one version of a profile slot). Import is all
or nothing; exports made before profile slots existed load unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from memlane.errors import InvalidInputError
from memlane.models import now_iso
from memlane.store.base import MemoryStore

__all__ = ["FORMAT", "FORMAT_VERSION", "export_jsonl", "import_jsonl"]

FORMAT = "memlane-export"
FORMAT_VERSION = 1


def export_jsonl(store: MemoryStore, destination: str | Path | IO[str]) -> dict[str, int]:
    """Write every record to ``destination`` (a path or a text file); return counts by kind."""
    if isinstance(destination, (str, Path)):
        with open(destination, "w", encoding="utf-8") as handle:
            return _write(store, handle)
    return _write(store, destination)


def import_jsonl(store: MemoryStore, source: str | Path | IO[str]) -> dict[str, int]:
    """Load an export into ``store`` in one transaction; return counts by kind."""
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8") as handle:
            return store.load(_read(handle))
    return store.load(_read(source))


def _write(store: MemoryStore, handle: IO[str]) -> dict[str, int]:
    header = {"format": FORMAT, "version": FORMAT_VERSION, "exported_at": now_iso()}
    handle.write(json.dumps(header) + "\n")
    counts: dict[str, int] = {}
    for record in store.dump():
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        counts[record["kind"]] = counts.get(record["kind"], 0) + 1
    return counts


def _read(handle: IO[str]) -> Iterator[dict[str, Any]]:
    header = _parse(handle.readline(), 1)
    if header.get("format") != FORMAT:
        raise InvalidInputError(f"not a memlane export (first line: {str(header)[:100]})")
    if header.get("version") != FORMAT_VERSION:
        raise InvalidInputError(
            f"export format version {header.get('version')!r} is not supported "
            f"(this memlane reads version {FORMAT_VERSION})"
        )
    for number, line in enumerate(handle, start=2):
        if line.strip():
            yield _parse(line, number)


def _parse(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"line {number} of the export is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"line {number} of the export is not a JSON object")
    return value
