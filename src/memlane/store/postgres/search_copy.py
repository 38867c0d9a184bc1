"""Bulk loading by binary ``COPY``: new memories with precomputed vectors, thousands per second.

``copy_memories`` writes each memory's row in ``memories`` (version 1, live; the columns of the
``store`` component's schema) and its search data in ``memory_search``: the search rows go
through a temporary table, since their ``tsvector`` is made by the server
(``to_tsvector(memlane_search, ...)``). Versions, history and sources are the caller's (a
store's loader or ``migrate``). Run it in a transaction; the memories must not exist yet.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from memlane.models import MemoryRecord, Vectors
from memlane.store.postgres.search_fts import CONFIG, search_text

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["MEMORY_COLUMNS", "copy_memories", "copy_rows"]

MEMORY_COLUMNS = (
    "tenant", "id", "text", "hash", "user_id", "agent_id", "run_id", "actor_id", "role", "metadata",
    "created_at", "updated_at", "valid_from", "valid_to", "expired_at", "expiration_date", "version",
)  # fmt: skip
"""The columns of ``memories`` that ``copy_memories`` writes."""

_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_NULL = struct.pack(">i", -1)
_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS memlane_search_load (memory_id TEXT, text TEXT, length INTEGER, "
    "embedding vector) ON COMMIT DELETE ROWS"
)


def _field(value: Any) -> bytes:
    """One field of a binary COPY row: text (str), int4 (int), vector (ndarray), jsonb (dict)."""
    if value is None:
        return _NULL
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bool):
        raise TypeError("booleans are not copied")
    elif isinstance(value, int):
        data = struct.pack(">i", value)
    elif isinstance(value, np.ndarray):
        values = value.reshape(-1)
        data = struct.pack(">HH", values.size, 0) + values.astype(">f4").tobytes()
    elif isinstance(value, dict):
        data = b"\x01" + json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        raise TypeError(f"cannot copy a {type(value).__name__}")
    return struct.pack(">i", len(data)) + data


def _encode(rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    yield _HEADER
    for row in rows:
        yield struct.pack(">h", len(row)) + b"".join(_field(value) for value in row)
    yield _TRAILER


def copy_rows(
    conn: Connection[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN`` in binary: values are str, int, ndarray (vector),
    dict (jsonb) or None; ``table`` and ``columns`` are trusted identifiers."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cursor, cursor.copy(statement.encode()) as copy:
        chunk: list[bytes] = []
        size = 0
        for part in _encode(rows):
            chunk.append(part)
            size += len(part)
            if size >= 1 << 20:
                copy.write(b"".join(chunk))
                chunk, size = [], 0
        copy.write(b"".join(chunk))


def _memory_row(tenant: str, record: MemoryRecord) -> tuple[Any, ...]:
    scope = record.scope
    return (
        tenant, record.id, record.text, record.hash, scope.user_id, scope.agent_id, scope.run_id,
        record.actor_id, record.role, record.metadata, record.created_at, record.updated_at,
        record.valid_from, record.valid_to, record.expired_at, record.expiration_date, record.version,
    )  # fmt: skip


def copy_memories(
    conn: Connection[Any], tenant: str, rows: Iterable[tuple[MemoryRecord, Vectors]], *, batch: int = 20_000
) -> int:
    """Bulk-load new memories and their search data (``batch`` per COPY); returns how many."""
    conn.execute(_STAGE)
    done = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, batch)):
        copy_rows(conn, "memories", MEMORY_COLUMNS, (_memory_row(tenant, record) for record, _ in chunk))
        staged = ((record.id, *search_text(record.text), vector) for record, vector in chunk)
        copy_rows(conn, "memlane_search_load", ("memory_id", "text", "length", "embedding"), staged)
        conn.execute(
            "WITH new AS (INSERT INTO memory_search (tenant, memory_id, terms, length, embedding) "
            f"SELECT %s, memory_id, to_tsvector('{CONFIG}', text), length, embedding "
            "FROM memlane_search_load "
            "RETURNING length) INSERT INTO memory_search_totals (tenant, rows, tokens) "
            "SELECT %s, count(*), coalesce(sum(length), 0) FROM new",
            (tenant, tenant),
        )
        conn.execute("TRUNCATE memlane_search_load")
        done += len(chunk)
    return done
