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
    """Write every record to ``destination`` (a path or a text file); return counts by kind.

    A path that cannot be written (missing folder, no permission, a folder) is an
    ``InvalidInputError`` naming the path and the reason."""
    if isinstance(destination, (str, Path)):
        try:
            with open(destination, "w", encoding="utf-8") as handle:
                return _write(store, handle)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot write the export to {str(destination)!r}: {_reason(exc)}"
            ) from exc
    return _write(store, destination)


def import_jsonl(store: MemoryStore, source: str | Path | IO[str]) -> dict[str, int]:
    """Load an export into ``store`` in one transaction; return counts by kind."""
    if isinstance(source, (str, Path)):
        try:
            with open(source, encoding="utf-8") as handle:
                return store.load(_read(handle))
        except OSError as exc:
            raise InvalidInputError(f"cannot read the export {str(source)!r}: {_reason(exc)}") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"{str(source)!r} is not a memlane export (not UTF-8 text: {exc.reason})"
            ) from exc
    return store.load(_read(source))


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


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
