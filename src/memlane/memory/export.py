"""Copies of the data: export (every record of a store as JSON Lines, in a versioned format),
import, and online backups.

The first line is a header ``{"format": "memlane-export", "version": 1, "embedder": ...,
"dimension": ..., ...}`` (the embedder that wrote the vectors, as the store's ``meta`` records
also say: they come first, so an import into a store of another embedder is refused before
anything is written); each other
line is one record ``{"kind": "memory" | "version" | "history" | "message" | "source" |
"profile" | "meta", "data": {...}}`` (``profile``: one version of a profile slot), then, when the
graph is on, the graph's ``entity`` and ``relation`` records (``memlane.graph.records``). Import
is all or nothing for the store (the graph loads right after it, every record checked first);
exports made before profile slots or the graph existed load unchanged.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from memlane.embed.base import Embedder
from memlane.errors import InvalidInputError
from memlane.graph.base import GraphStore
from memlane.graph.records import GRAPH_KINDS
from memlane.models import now_iso
from memlane.store.base import MemoryStore, check_embedder

__all__ = ["FORMAT", "FORMAT_VERSION", "backup", "export_jsonl", "import_jsonl"]

FORMAT = "memlane-export"
FORMAT_VERSION = 1


def export_jsonl(
    store: MemoryStore, destination: str | Path | IO[str], graph: GraphStore | None = None
) -> dict[str, int]:
    """Write every record (and ``graph``'s) to ``destination`` (a path or a text file); return
    counts by kind.

    A path that cannot be written (missing folder, no permission, a folder) is an
    ``InvalidInputError`` naming the path and the reason."""
    if isinstance(destination, (str, Path)):
        try:
            with open(destination, "w", encoding="utf-8") as handle:
                return _write(store, graph, handle)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot write the export to {str(destination)!r}: {_reason(exc)}"
            ) from exc
    return _write(store, graph, destination)


def import_jsonl(
    store: MemoryStore,
    source: str | Path | IO[str],
    *,
    embedder: Embedder | None = None,
    graph: GraphStore | None = None,
) -> dict[str, int]:
    """Load an export into ``store`` in one transaction, then its graph records into ``graph``;
    return counts by kind. Graph records with no ``graph`` are refused before anything lands.

    With ``embedder`` (the one the store is opened with), the store is bound to it first, so an
    export of another vector size or another embedder is refused before anything is written
    (``DimensionMismatchError``, ``EmbedderMismatchError``): its vectors are not re-embedded."""
    if embedder is not None:
        check_embedder(store, embedder)
    if isinstance(source, (str, Path)):
        try:
            with open(source, encoding="utf-8") as handle:
                return _load(store, graph, _read(handle))
        except OSError as exc:
            raise InvalidInputError(f"cannot read the export {str(source)!r}: {_reason(exc)}") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"{str(source)!r} is not a memlane export (not UTF-8 text: {exc.reason})"
            ) from exc
    return _load(store, graph, _read(source))


def _load(store: MemoryStore, graph: GraphStore | None, records: Iterator[dict[str, Any]]) -> dict[str, int]:
    kept: list[dict[str, Any]] = []

    def store_records() -> Iterator[dict[str, Any]]:
        for record in records:
            if isinstance(record, dict) and record.get("kind") in GRAPH_KINDS:
                if graph is None:
                    raise InvalidInputError(
                        "the export holds a graph (entity and relation records) but the graph is "
                        "off: import it with enable_graph (or a graph_store) configured"
                    )
                kept.append(record)
            else:
                yield record

    counts = store.load(store_records())
    if kept and graph is not None:
        counts.update(graph.load(kept))
    return counts


def backup(store: MemoryStore, destination: str | Path, *, overwrite: bool = False) -> None:
    """A consistent copy of ``store`` while writers keep going (stores that support it).

    Never onto the database itself; an existing ``destination`` is replaced only with
    ``overwrite=True``. Either refusal is an ``InvalidInputError`` that changes no file.
    """
    store.backup(destination, overwrite=overwrite)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _write(store: MemoryStore, graph: GraphStore | None, handle: IO[str]) -> dict[str, int]:
    records = iter(store.dump())
    meta: list[dict[str, Any]] = []
    for record in records:  # the store's meta records come first: they go into the header too
        if record["kind"] != "meta":
            records = itertools.chain([record], records)
            break
        meta.append(record)
    info = {str(r["data"]["key"]): r["data"]["value"] for r in meta}
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "embedder": info.get("embedder"),
        "dimension": int(info["dimension"]) if "dimension" in info else None,
    }
    handle.write(json.dumps(header) + "\n")
    counts: dict[str, int] = {}
    for record in itertools.chain(meta, records, graph.dump() if graph is not None else ()):
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
