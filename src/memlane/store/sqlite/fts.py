"""BM25 with the statistics of the memories searched, not of the whole table.

FTS5's ``bm25()`` weighs each term by its IDF over every row of the index, so one user's
scores would depend on what other users said (a small cross-tenant leak), and a word that is
everywhere in one conversation (a speaker's name) but rare in the table would count as rare.
Here each term is matched on its own; FTS5's score for it, ``idf_table(t) * tf_part(t, d)``,
is rescaled to ``idf_scope(t) * tf_part(t, d)`` with FTS5's own IDF formula,
``log((N - n + 0.5) / (n + 0.5))`` (at least 1e-6), computed once over the table (what FTS5
used) and once over the memories that match the filter, and the terms' parts are summed:
exactly Okapi BM25 (k1 1.2, b 0.75) with the scope's document frequencies (document lengths are
still normalised by the table's average length).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["scoped_bm25", "table_rows"]

_MIN_IDF = 1e-6


def idf(rows: int, hits: int) -> float:
    """FTS5's IDF of a term found in ``hits`` of ``rows`` documents."""
    hits = min(max(hits, 0), rows)
    return max(math.log((rows - hits + 0.5) / (hits + 0.5)), _MIN_IDF)


def table_rows(conn: sqlite3.Connection) -> int:
    """The number of rows FTS5 counts in ``memories_fts`` (its "averages" record)."""
    row = conn.execute("SELECT block FROM memories_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0
    return _varint(bytes(row[0]))


def _varint(buf: bytes) -> int:
    """The SQLite varint at the start of ``buf``: 7 bits per byte, big-endian; a 9th byte
    carries 8."""
    value = 0
    for byte in buf[:8]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value
    return (value << 8) | buf[8]


def scoped_bm25(
    conn: sqlite3.Connection,
    terms: Sequence[str],
    where_sql: str,
    params: Sequence[Any],
    scope_rows: int,
) -> dict[str, float]:
    """Memory id -> BM25 over the ``scope_rows`` live memories matching ``where_sql`` (alias
    ``m``), for the memories that contain at least one of ``terms``."""
    if not scope_rows:
        return {}
    rows = table_rows(conn)
    scores: dict[str, float] = {}
    for term in terms:
        phrase = '"' + term.replace('"', '""') + '"'
        # CROSS JOIN keeps the full-text match first: left to itself, the planner walks the
        # scope's rows and probes the index for each (30 times slower)
        matched = conn.execute(
            "SELECT m.id, -bm25(memories_fts) FROM memories_fts "
            "CROSS JOIN memories m ON m.seq = memories_fts.rowid "
            f"WHERE memories_fts MATCH ? AND m.deleted_at IS NULL AND {where_sql}",
            [phrase, *params],
        ).fetchall()
        if not matched:
            continue
        hits = int(
            conn.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?", [phrase]).fetchone()[
                0
            ]
        )
        scale = idf(scope_rows, len(matched)) / idf(rows, hits)
        for mid, score in matched:
            scores[mid] = scores.get(mid, 0.0) + float(score) * scale
    return scores
