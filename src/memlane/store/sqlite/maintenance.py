"""Whole-store operations of the SQLite store: purge (erase), dump/load (export/import), backup."""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from memlane.errors import DimensionMismatchError, EmbedderMismatchError, InvalidInputError, StoreError
from memlane.models import Scope
from memlane.store.sqlite import pending, profile, requests

__all__ = [
    "ERASED_BY_RESET", "TABLES", "backup", "compact", "dump", "get_meta", "load", "purge", "set_meta",
]  # fmt: skip

TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "meta": ("meta", ("key", "value")),
    "memory": (
        "memories",
        (
            "id", "text", "hash", "user_id", "agent_id", "run_id", "actor_id", "role", "metadata",
            "created_at", "updated_at", "valid_from", "valid_to", "expired_at", "expiration_date",
            "deleted_at", "version", "embedding",
        ),
    ),
    "version": (
        "memory_versions",
        ("memory_id", "version", "text", "hash", "valid_from", "valid_to", "recorded_at", "expired_at"),
    ),
    "history": (
        "history",
        ("id", "memory_id", "old_memory", "new_memory", "event", "created_at", "updated_at",
         "is_deleted", "actor_id", "role"),
    ),
    "message": (
        "messages",
        ("id", "user_id", "agent_id", "run_id", "role", "name", "content", "observed_at"),
    ),
    "source": ("memory_sources", ("memory_id", "message_id")),
    "profile": ("profile_slots", profile.COLUMNS),
    "pending": ("pending", pending.COLUMNS),
}  # fmt: skip
"""Record kind -> (table, columns) in dump order; a memory's ``embedding`` travels as base64.
``meta`` (the vector size and the embedder that wrote the store) comes first, so an import is
refused before any row is written when the embedders differ."""

ERASED_BY_RESET = (
    "memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots", "pending",
    "staged_vectors", "requests",
)  # fmt: skip


def purge(conn: sqlite3.Connection, memory_ids: Sequence[str], scope: Scope | None) -> int:
    """Erase memories (deleted ones too) and every row that holds their text; return the count.

    ``memory_ids`` and every memory, message, pending add, profile slot and stored request of
    ``scope`` go, with the profile slots written from those memories and the stored requests
    whose answer names one. Source messages are erased unless another memory still
    cites them. Runs inside the caller's transaction.
    """
    ids = list(memory_ids)
    scope_sql, params = _scope_sql(scope)
    if scope_sql != "0":
        ids += [r[0] for r in conn.execute(f"SELECT id FROM memories WHERE {scope_sql}", params)]
    ids = list(dict.fromkeys(ids))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS purge_ids (id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.purge_ids")
    conn.executemany("INSERT OR IGNORE INTO temp.purge_ids VALUES (?)", [(i,) for i in ids])
    conn.execute(
        "DELETE FROM messages WHERE id IN (SELECT message_id FROM memory_sources WHERE memory_id IN "
        "temp.purge_ids) AND id NOT IN (SELECT message_id FROM memory_sources WHERE memory_id NOT IN "
        "temp.purge_ids)"
    )
    if scope_sql != "0":
        conn.execute(f"DELETE FROM messages WHERE {scope_sql}", params)
        conn.execute(f"DELETE FROM profile_slots WHERE {scope_sql}", params)
        conn.execute(f"DELETE FROM pending WHERE {scope_sql}", params)
    requests.purge(conn, scope_sql, params)
    for table, column in (
        ("staged_vectors", "memory_id"),
        ("profile_slots", "memory_id"),
        ("memory_sources", "memory_id"),
        ("memory_versions", "memory_id"),
        ("history", "memory_id"),
        ("memories", "id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} IN temp.purge_ids")
    conn.execute("DELETE FROM temp.purge_ids")
    return len(ids)


def _scope_sql(scope: Scope | None) -> tuple[str, list[Any]]:
    if scope is None or scope.is_empty():
        return "0", []
    ids = scope.as_dict()
    return " AND ".join(f"{key} = ?" for key in ids), list(ids.values())


def compact(conn: sqlite3.Connection) -> None:
    """After a purge: merge the full-text index and truncate the WAL so no old copy remains."""
    conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def dump(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every record of every kind as ``{"kind": ..., "data": {...}}``."""
    for kind, (table, columns) in TABLES.items():
        order = "seq" if table in ("memories", "history", "messages", "profile_slots", "pending") else "rowid"
        if table == "memory_sources":
            order = "memory_id, message_id"
        for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
            data = dict(zip(columns, row, strict=True))
            if kind == "memory" and data["embedding"] is not None:
                data["embedding"] = base64.b64encode(data["embedding"]).decode("ascii")
            yield {"kind": kind, "data": data}


def checked_record(number: int, record: object) -> tuple[str, dict[str, Any]]:
    """Record ``number`` of a dump as (kind, data), or ``InvalidInputError`` saying what is wrong
    (both stores' ``load``)."""
    kind = record.get("kind") if isinstance(record, dict) else None
    data = record.get("data") if isinstance(record, dict) else None
    if not isinstance(kind, str) or kind not in TABLES or not isinstance(data, dict):
        raise InvalidInputError(f"record {number}: expected {{kind, data}} with kind in {sorted(TABLES)}")
    missing = [c for c in TABLES[kind][1] if c not in data]
    if missing:
        raise InvalidInputError(f"record {number} ({kind}) lacks {', '.join(missing)}")
    return kind, data


def load(conn: sqlite3.Connection, records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Insert dumped records (inside the caller's transaction); return counts by kind (the
    kinds of older exports always, ``pending`` when there were any).

    Vectors of another size, or of another embedder than the store's (the ``meta`` records),
    are refused: they would not compare with the store's."""
    counts = dict.fromkeys(TABLES, 0)
    for number, record in enumerate(records, start=1):
        kind, data = checked_record(number, record)
        table, columns = TABLES[kind]
        values = [data[c] for c in columns]
        if kind == "memory" and values[-1] is not None:
            values[-1] = _embedding(conn, values[-1], number)
        if kind == "meta":
            _check_meta(conn, data)
        verb = "INSERT OR REPLACE" if kind == "meta" else "INSERT"
        try:
            conn.execute(
                f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                values,
            )
        except sqlite3.IntegrityError as exc:
            raise InvalidInputError(f"record {number} ({kind}) conflicts with the store: {exc}") from None
        counts[kind] += 1
    if not counts["pending"]:
        del counts["pending"]
    return counts


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _embedding(conn: sqlite3.Connection, encoded: Any, number: int) -> bytes:
    """A memory's vector from its base64 text, refused unless it has the store's size."""
    try:
        blob = base64.b64decode(str(encoded), validate=True)
    except ValueError:
        raise InvalidInputError(f"record {number} (memory): the embedding is not base64") from None
    dimension = get_meta(conn, "dimension")
    if dimension is not None and len(blob) != 4 * int(dimension):
        raise DimensionMismatchError(
            int(dimension), len(blob) // 4, _import_size(int(dimension), len(blob) // 4)
        )
    return blob


def _import_size(stored: int, exported: int) -> str:
    return (
        f"the export holds {exported}-dimensional vectors but this store holds {stored} (its "
        "embedder's); import into a new store opened with the embedder that made the export"
    )


def _check_meta(conn: sqlite3.Connection, data: dict[str, Any]) -> None:
    key, value = data.get("key"), str(data.get("value"))
    stored = get_meta(conn, str(key))
    if stored is None or stored == value:
        return
    if key == "dimension":
        raise DimensionMismatchError(int(stored), int(value), _import_size(int(stored), int(value)))
    if key == "embedder":
        message = (
            f"the export was made with the embedder {value!r} but this store uses {stored!r}; "
            "their vectors do not compare: import into a new store opened with the export's embedder"
        )
        raise EmbedderMismatchError(stored, value, int(get_meta(conn, "dimension") or 0), message)


def backup(conn: sqlite3.Connection, destination: str, *, overwrite: bool = False) -> None:
    """A consistent copy of the live database (SQLite's online backup; writers may keep going).

    The copy is written beside ``destination`` and renamed onto it when complete, so a failed
    backup leaves no half-written file. The database itself (the same path after resolving
    symlinks, or the same file) is always refused; another existing file only unless
    ``overwrite``. Both refusals are ``InvalidInputError`` and leave every file as it was.
    """
    target = Path(destination).expanduser()
    _check_backup_target(conn, target, overwrite=overwrite)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        copy = sqlite3.connect(partial)
        try:
            conn.backup(copy, pages=1024)
        finally:
            copy.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup {str(target)!r}: {exc}") from exc


def _check_backup_target(conn: sqlite3.Connection, target: Path, *, overwrite: bool) -> None:
    source = _database_file(conn)
    if source is not None and (
        target.resolve() == source.resolve() or (target.exists() and _same_file(target, source))
    ):
        raise InvalidInputError(
            f"{str(target)!r} is the database being backed up; give another path for the copy"
        )
    if target.is_dir():
        raise InvalidInputError(f"{str(target)!r} is a folder; give a file path for the backup")
    if target.exists() and not overwrite:
        raise InvalidInputError(
            f"{str(target)!r} already exists; choose a new path, or replace it with "
            "overwrite=True (CLI: memlane backup --force)"
        )
    if not target.parent.is_dir():
        raise InvalidInputError(f"the folder {str(target.parent)!r} of the backup does not exist")


def _database_file(conn: sqlite3.Connection) -> Path | None:
    """The main database's file, or None for an in-memory database."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
