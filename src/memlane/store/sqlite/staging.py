"""Reindex staging on SQLite (``staged_vectors``, migration 7): the rows behind
``SQLiteTransaction.unstaged`` ... ``drop_staged`` (see ``memlane.store.base``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from memlane.errors import EmbedderMismatchError, StoreError
from memlane.models import Vectors
from memlane.store.base import Unstaged
from memlane.store.sqlite.vectors import to_blob

__all__ = ["bind", "check_binding", "count_unstaged", "drop", "stage", "switch", "unstaged"]

_UNSTAGED = (
    "FROM memories m LEFT JOIN staged_vectors s ON s.memory_id = m.id AND s.identity = ? "
    "AND s.hash = m.hash WHERE m.deleted_at IS NULL AND s.memory_id IS NULL"
)


def unstaged(conn: sqlite3.Connection, identity: str, after: str | None, limit: int | None) -> list[Unstaged]:
    rows = conn.execute(
        f"SELECT m.id, m.text, m.hash {_UNSTAGED} AND m.seq > "
        "coalesce((SELECT seq FROM memories WHERE id = ?), 0) ORDER BY m.seq LIMIT ?",
        (identity, after, -1 if limit is None else limit),
    ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def count_unstaged(conn: sqlite3.Connection, identity: str) -> int:
    return int(conn.execute(f"SELECT count(*) {_UNSTAGED}", (identity,)).fetchone()[0])


def stage(conn: sqlite3.Connection, identity: str, items: Sequence[tuple[str, str, Vectors]]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO staged_vectors (memory_id, identity, hash, embedding) "
        "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM memories WHERE id = ? AND deleted_at IS NULL)",
        [(mid, identity, digest, to_blob(vector), mid) for mid, digest, vector in items],
    )


def switch(conn: sqlite3.Connection, identity: str, dimension: int) -> int:
    """Swap every current memory's vector for its staged one and rebind the store's meta."""
    missing = count_unstaged(conn, identity)
    if missing:
        raise StoreError(
            f"{missing} memories have no vector staged for {identity!r} yet: stage them before the switch"
        )
    wrong = conn.execute(
        "SELECT count(*) FROM staged_vectors WHERE identity = ? AND length(embedding) != ?",
        (identity, 4 * dimension),
    ).fetchone()[0]
    if wrong:
        raise StoreError(f"{wrong} staged vectors are not {dimension}-dimensional")
    switched = conn.execute(
        "UPDATE memories SET embedding = (SELECT s.embedding FROM staged_vectors s WHERE "
        "s.memory_id = memories.id AND s.identity = ?) WHERE deleted_at IS NULL",
        (identity,),
    ).rowcount
    conn.execute("DELETE FROM staged_vectors")
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("embedder", identity), ("dimension", str(dimension))],
    )
    return int(switched)


def bind(conn: sqlite3.Connection, key: str, value: str) -> str:
    """The store's ``dimension`` or ``embedder`` in meta, recorded as ``value`` on first use."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
    return str(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])


def check_binding(conn: sqlite3.Connection, identity: str | None, dimension: int | None) -> None:
    """Raise ``EmbedderMismatchError`` when another process re-indexed the store since this one
    bound it to the embedder ``identity``: its vectors no longer compare with this one's."""
    if identity is None:
        return
    row = conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
    if row is not None and str(row[0]) != identity:
        stored = str(row[0])
        raise EmbedderMismatchError(
            stored,
            identity,
            dimension or 0,
            f"the store was re-indexed with the embedder {stored!r}; this process still uses "
            f"{identity!r}, whose vectors do not compare: reopen it with {stored!r}",
        )


def drop(conn: sqlite3.Connection) -> int:
    return int(conn.execute("DELETE FROM staged_vectors").rowcount)
