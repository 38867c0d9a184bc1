"""Conversation neighbours: the memories from the turns next to a memory's source message.

A conversation is the messages of one scope stored with one observation time (one ``add()``
call, or several with the same ``timestamp``), in ``seq`` order. For each memory, its first
source message is the anchor; the ``window`` messages on each side come from the
``messages_session`` index (scope, time, seq) with two ``LIMIT`` lookups, so the cost follows the
number of anchors, not the size of the conversations or of the scope.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = ["conversation_neighbours"]

_CHUNK = 500
"""Message ids per ``IN (...)`` list (SQLite allows at least 999 parameters)."""


def conversation_neighbours(
    conn: sqlite3.Connection,
    memory_ids: Sequence[str],
    window: int,
    allowed_sql: str,
    allowed_params: Sequence[Any],
) -> dict[str, list[tuple[str, int]]]:
    """For each memory, the live memories (matching ``allowed_sql``, alias ``m``) sourced from
    the messages within ``window`` turns of its own, as (memory id, distance) pairs."""
    near = _nearby_messages(conn, memory_ids, window)
    found: dict[str, list[str]] = {}
    messages = sorted({m for pairs in near.values() for m, _ in pairs})
    for start in range(0, len(messages), _CHUNK):
        chunk = messages[start : start + _CHUNK]
        rows = conn.execute(  # CROSS JOIN: from the few messages, never from the whole scope
            "SELECT s.message_id, m.id FROM memory_sources s "
            "CROSS JOIN memories m ON m.id = s.memory_id AND m.deleted_at IS NULL "
            f"WHERE s.message_id IN ({', '.join('?' for _ in chunk)}) AND {allowed_sql}",
            [*chunk, *allowed_params],
        ).fetchall()
        for message, memory in rows:
            found.setdefault(message, []).append(memory)
    out: dict[str, list[tuple[str, int]]] = {}
    for anchor, pairs in near.items():
        for message, distance in pairs:
            for other in found.get(message, ()):
                if other != anchor:
                    out.setdefault(anchor, []).append((other, distance))
    return out


def _nearby_messages(
    conn: sqlite3.Connection, memory_ids: Sequence[str], window: int
) -> dict[str, list[tuple[str, int]]]:
    """Memory id -> the ids of the messages within ``window`` turns of its anchor, with distance."""
    marks = ", ".join("?" for _ in memory_ids)
    anchors = conn.execute(
        f"""SELECT a.mid, g.seq, g.user_id, g.agent_id, g.run_id, g.observed_at FROM (
                SELECT s.memory_id AS mid, min(g.seq) AS seq FROM memory_sources s
                JOIN messages g ON g.id = s.message_id
                WHERE s.memory_id IN ({marks}) GROUP BY s.memory_id
            ) a JOIN messages g ON g.seq = a.seq""",
        list(memory_ids),
    ).fetchall()
    near: dict[str, list[tuple[str, int]]] = {}
    for mid, seq, *session in anchors:
        for op, order in (("<", "DESC"), (">", "ASC")):
            rows = conn.execute(
                "SELECT id FROM messages WHERE user_id IS ? AND agent_id IS ? AND run_id IS ? "
                f"AND observed_at = ? AND seq {op} ? ORDER BY seq {order} LIMIT ?",
                [*session, seq, window],
            ).fetchall()
            near.setdefault(mid, []).extend((row[0], d) for d, row in enumerate(rows, start=1))
    return near
