"""Pending adds in PostgreSQL: conversations kept before the LLM call of ``add(infer=True)``,
until their memories are written (see ``memlane.store.base.PendingAdd``).

Claims are one conditional ``UPDATE``: under READ COMMITTED, a second claimer waits for the
first's row lock and then re-checks the condition, so exactly one of two processes gets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from memlane.models import Message, Scope
from memlane.store.base import PendingAdd
from memlane.store.postgres.rows import filter_scope

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["COLUMNS", "add", "claim", "count", "drop", "finish", "listing", "release"]

COLUMNS = (
    "id", "user_id", "agent_id", "run_id", "message_ids", "params", "created_at", "claimed_at",
    "attempts", "error",
)  # fmt: skip
"""The columns of a pending add, as the SQLite store's dump names them."""


def add(conn: Connection[Any], tenant: str, batch: PendingAdd) -> None:
    s = batch.scope
    conn.execute(
        "INSERT INTO pending (tenant, id, user_id, agent_id, run_id, message_ids, params, created_at, "
        "claimed_at, attempts, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, NULL)",
        (
            tenant, batch.id, s.user_id, s.agent_id, s.run_id, Jsonb([m.id for m in batch.messages]),
            Jsonb(batch.params), batch.created_at, batch.created_at,
        ),
    )  # fmt: skip


def finish(conn: Connection[Any], tenant: str, pending_id: str) -> bool:
    cursor = conn.execute("DELETE FROM pending WHERE tenant = %s AND id = %s", (tenant, pending_id))
    return cursor.rowcount == 1


def drop(conn: Connection[Any], tenant: str, scope: Scope | None) -> int:
    sql, params = filter_scope(scope)
    return conn.execute(f"DELETE FROM pending WHERE tenant = %s AND {sql}", [tenant, *params]).rowcount


def claim(conn: Connection[Any], tenant: str, pending_id: str, at: str, stale_before: str) -> bool:
    cursor = conn.execute(
        "UPDATE pending SET claimed_at = %s, attempts = attempts + 1 "
        "WHERE tenant = %s AND id = %s AND (claimed_at IS NULL OR claimed_at < %s)",
        (at, tenant, pending_id, stale_before),
    )
    return cursor.rowcount == 1


def release(conn: Connection[Any], tenant: str, pending_id: str, error: str) -> None:
    conn.execute(
        "UPDATE pending SET claimed_at = NULL, error = %s WHERE tenant = %s AND id = %s",
        (error, tenant, pending_id),
    )


def count(conn: Connection[Any], tenant: str, scope: Scope | None) -> int:
    sql, params = filter_scope(scope)
    row = conn.execute(
        f"SELECT coalesce(sum(jsonb_array_length(message_ids)), 0) FROM pending WHERE tenant = %s AND {sql}",
        [tenant, *params],
    ).fetchone()
    return int(row[0]) if row else 0


def listing(conn: Connection[Any], tenant: str, scope: Scope | None, limit: int | None) -> list[PendingAdd]:
    sql, params = filter_scope(scope)
    tail = "" if limit is None else f" LIMIT {max(0, int(limit))}"
    rows = conn.execute(
        "SELECT id, user_id, agent_id, run_id, message_ids, params, created_at, attempts, error "
        f"FROM pending WHERE tenant = %s AND {sql} ORDER BY seq{tail}",
        [tenant, *params],
    ).fetchall()
    ids = list({i for row in rows for i in row[4]})
    found = {
        r[0]: Message(role=r[1], content=r[2], name=r[3], id=r[0])
        for r in conn.execute(
            "SELECT id, role, content, name FROM messages WHERE tenant = %s AND id = ANY(%s)", (tenant, ids)
        )
    }
    return [
        PendingAdd(
            id=row[0],
            scope=Scope(row[1], row[2], row[3]),
            messages=[found[i] for i in row[4] if i in found],
            params=row[5],
            created_at=row[6],
            attempts=int(row[7]),
            error=row[8],
        )
        for row in rows
    ]
