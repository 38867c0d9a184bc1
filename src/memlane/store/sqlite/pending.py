"""Pending adds in SQLite: conversations kept before the LLM call of ``add(infer=True)``, until
their memories are written (the ``pending`` table of migration 5)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from memlane.models import Message, Scope
from memlane.store.base import PendingAdd

__all__ = ["COLUMNS", "add", "claim", "count", "drop", "finish", "listing", "release"]

COLUMNS = (
    "id", "user_id", "agent_id", "run_id", "message_ids", "params", "created_at", "claimed_at",
    "attempts", "error",
)  # fmt: skip


def _scope_sql(scope: Scope | None) -> tuple[str, list[Any]]:
    """Every id that ``scope`` sets must match; None or an empty scope matches all."""
    if scope is None or scope.is_empty():
        return "1", []
    ids = scope.as_dict()
    return " AND ".join(f"{key} = ?" for key in ids), list(ids.values())


def add(conn: sqlite3.Connection, batch: PendingAdd) -> None:
    s = batch.scope
    conn.execute(
        "INSERT INTO pending (id, user_id, agent_id, run_id, message_ids, params, created_at, "
        "claimed_at, attempts, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, NULL)",
        (
            batch.id, s.user_id, s.agent_id, s.run_id, json.dumps([m.id for m in batch.messages]),
            json.dumps(batch.params, ensure_ascii=False, sort_keys=True), batch.created_at,
            batch.created_at,
        ),
    )  # fmt: skip


def finish(conn: sqlite3.Connection, pending_id: str) -> bool:
    return conn.execute("DELETE FROM pending WHERE id = ?", (pending_id,)).rowcount == 1


def drop(conn: sqlite3.Connection, scope: Scope | None) -> int:
    sql, params = _scope_sql(scope)
    return conn.execute(f"DELETE FROM pending WHERE {sql}", params).rowcount


def claim(conn: sqlite3.Connection, pending_id: str, at: str, stale_before: str) -> bool:
    cursor = conn.execute(
        "UPDATE pending SET claimed_at = ?, attempts = attempts + 1 "
        "WHERE id = ? AND (claimed_at IS NULL OR claimed_at < ?)",
        (at, pending_id, stale_before),
    )
    return cursor.rowcount == 1


def release(conn: sqlite3.Connection, pending_id: str, error: str) -> None:
    conn.execute("UPDATE pending SET claimed_at = NULL, error = ? WHERE id = ?", (error, pending_id))


def count(conn: sqlite3.Connection, scope: Scope | None) -> int:
    sql, params = _scope_sql(scope)
    row = conn.execute(
        f"SELECT coalesce(sum(json_array_length(message_ids)), 0) FROM pending WHERE {sql}", params
    ).fetchone()
    return int(row[0])


def listing(conn: sqlite3.Connection, scope: Scope | None, limit: int | None) -> list[PendingAdd]:
    sql, params = _scope_sql(scope)
    tail = "" if limit is None else f" LIMIT {int(limit)}"
    rows = conn.execute(
        "SELECT id, user_id, agent_id, run_id, message_ids, params, created_at, attempts, error "
        f"FROM pending WHERE {sql} ORDER BY seq{tail}",
        params,
    ).fetchall()
    return [_batch(conn, row) for row in rows]


def _batch(conn: sqlite3.Connection, row: tuple[Any, ...]) -> PendingAdd:
    ids: list[str] = json.loads(row[4])
    marks = ", ".join("?" for _ in ids)
    found = {
        r[0]: Message(role=r[1], content=r[2], name=r[3], id=r[0])
        for r in conn.execute(f"SELECT id, role, content, name FROM messages WHERE id IN ({marks})", ids)
    }
    return PendingAdd(
        id=row[0],
        scope=Scope(row[1], row[2], row[3]),
        messages=[found[i] for i in ids if i in found],
        params=json.loads(row[5]),
        created_at=row[6],
        attempts=int(row[7]),
        error=row[8],
    )
