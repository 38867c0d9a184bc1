"""Bulk loading by binary ``COPY``: new memories with precomputed vectors, thousands per second.

``copy_memories`` writes each memory's row in ``memories`` (version 1, live; the columns of the
``store`` component's schema) and its search data in ``memory_search``: the search rows go
through a temporary table (``copy_search``, also used by the store's loader, ``bulk``), since
their ``tsvector`` is made by the server (``to_tsvector(memlane_search, ...)``). Versions,
history and sources are the caller's (a store's loader or ``migrate``). Run it in a
transaction; the memories must not exist yet.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from memlane.models import MemoryRecord, Scope, Vectors
from memlane.store.postgres.search_fts import CONFIG, TEXT_INDEX, search_text

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "MEMORY_COLUMNS", "SearchRow", "copy_memories", "copy_rows", "copy_search", "jsonb_bytes",
    "text_index_after", "vector_bytes",
]  # fmt: skip

SearchRow = tuple[str, str, Scope, "Vectors | None"]
"""A new live memory's id, text, scope and vector (None: none), for ``copy_search``."""

MEMORY_COLUMNS = (
    "tenant", "id", "text", "hash", "user_id", "agent_id", "run_id", "actor_id", "role", "metadata",
    "created_at", "updated_at", "valid_from", "valid_to", "expired_at", "expiration_date", "version",
)  # fmt: skip
"""The columns of ``memories`` that ``copy_memories`` writes."""
_MEMORY_TYPES = ("text",) * 9 + ("bytea",) + ("text",) * 6 + ("int4",)
_STAGE_COLUMNS = ("memory_id", "text", "length", "embedding", "user_id", "agent_id", "run_id")

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS memlane_search_load (memory_id TEXT, text TEXT, length INTEGER, "
    "embedding vector, user_id TEXT, agent_id TEXT, run_id TEXT) ON COMMIT DELETE ROWS"
)


def vector_bytes(vector: Vectors) -> bytes:
    """pgvector's binary form of ``vector``: its size, a reserved 0, big-endian float32 values."""
    values = np.asarray(vector, dtype=np.float32).reshape(-1)
    return struct.pack(">HH", values.size, 0) + values.astype(">f4").tobytes()


def jsonb_bytes(value: Any) -> bytes:
    """jsonb's binary form of ``value``: version 1, then the JSON text."""
    return b"\x01" + json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def copy_rows(
    conn: Connection[Any],
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """``COPY table (columns) FROM STDIN`` in binary (psycopg's C writer). ``types`` name each
    column's binary form: ``text``, ``int4``..., and ``bytea`` for values already in their
    column's binary form (``vector_bytes``, ``jsonb_bytes``). ``table`` and ``columns`` are
    trusted identifiers."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cursor, cursor.copy(statement.encode()) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


_STAGE_TYPES = ("text", "text", "int4", "bytea", "text", "text", "text")


def _scope(scope: Scope) -> tuple[str | None, str | None, str | None]:
    return scope.user_id, scope.agent_id, scope.run_id


def _memory_row(tenant: str, record: MemoryRecord) -> tuple[Any, ...]:
    scope = record.scope
    return (
        tenant, record.id, record.text, record.hash, scope.user_id, scope.agent_id, scope.run_id,
        record.actor_id, record.role, jsonb_bytes(record.metadata), record.created_at, record.updated_at,
        record.valid_from, record.valid_to, record.expired_at, record.expiration_date, record.version,
    )  # fmt: skip


def copy_memories(
    conn: Connection[Any], tenant: str, rows: Iterable[tuple[MemoryRecord, Vectors]], *, batch: int = 20_000
) -> int:
    """Bulk-load new memories and their search data (``batch`` per COPY); returns how many."""
    done = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, batch)):
        copy_rows(conn, "memories", MEMORY_COLUMNS, _MEMORY_TYPES, (_memory_row(tenant, r) for r, _ in chunk))
        copy_search(
            conn, tenant, [(record.id, record.text, record.scope, vector) for record, vector in chunk]
        )
        done += len(chunk)
    return done


def copy_search(conn: Connection[Any], tenant: str, rows: Sequence[SearchRow]) -> None:
    """The search rows of new live memories (vectors in ``memory_search``, terms made by the
    server in ``memory_search_text``, both from one temporary table), and the change of the
    tenant's totals."""
    conn.execute(_STAGE)
    staged = (
        (mid, *search_text(text), None if vector is None else vector_bytes(vector), *_scope(scope))
        for mid, text, scope, vector in rows
    )
    copy_rows(conn, "memlane_search_load", _STAGE_COLUMNS, _STAGE_TYPES, staged)
    conn.execute(
        "INSERT INTO memory_search_text "
        "(tenant, memory_id, user_id, agent_id, run_id, length, terms, created_at, seq) "
        "SELECT m.tenant, l.memory_id, l.user_id, l.agent_id, l.run_id, l.length, "
        f"to_tsvector('{CONFIG}', l.text), m.created_at, m.seq FROM memlane_search_load l "
        "JOIN memories m ON m.tenant = %s AND m.id = l.memory_id",
        (tenant,),
    )
    conn.execute(
        "WITH new AS (INSERT INTO memory_search "
        "(tenant, memory_id, user_id, agent_id, run_id, length, embedding) "
        "SELECT %s, memory_id, user_id, agent_id, run_id, length, embedding FROM memlane_search_load "
        "RETURNING length) INSERT INTO memory_search_totals (tenant, rows, tokens) "
        "SELECT %s, count(*), coalesce(sum(length), 0) FROM new",
        (tenant, tenant),
    )
    conn.execute("TRUNCATE memlane_search_load")


@contextmanager
def text_index_after(conn: Connection[Any]) -> Iterator[None]:
    """For a first load, before the database serves searches: the GIN index of the terms is
    dropped during the block and built once after it (far faster than updating it row by row;
    a search meanwhile reads every term). ``conn`` in autocommit mode, or in a transaction
    that holds the whole block."""
    conn.execute("DROP INDEX IF EXISTS memory_search_text_terms")
    try:
        yield
    finally:
        conn.execute(TEXT_INDEX)
