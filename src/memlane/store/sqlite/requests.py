"""Stored requests in SQLite: the answers of ``add(idempotency_key=...)`` (the ``requests``
table of migration 8; the contract is ``memlane.store.base``'s ``claim_request``)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from memlane.models import Scope
from memlane.store.base import StoredRequest

__all__ = ["EXPIRE_BATCH", "claim", "finish", "purge", "release"]

EXPIRE_BATCH = 100
"""Expired rows forgotten per claim, at most (the lazy purge)."""


def claim(
    conn: sqlite3.Connection,
    key: str,
    request_hash: str,
    scope: Scope,
    token: str,
    at: str,
    stale_before: str,
    expired_before: str,
) -> StoredRequest:
    """``MemoryStore.claim_request`` inside the caller's write transaction."""
    conn.execute(
        "DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE created_at < ? LIMIT ?)",
        (expired_before, EXPIRE_BATCH),
    )
    conn.execute(
        "INSERT INTO requests (key, hash, user_id, agent_id, run_id, token, result, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, "
        "user_id = excluded.user_id, agent_id = excluded.agent_id, run_id = excluded.run_id, "
        "token = excluded.token, result = NULL, created_at = excluded.created_at "
        "WHERE (requests.result IS NULL AND requests.created_at < ?) OR requests.created_at < ?",
        (key, request_hash, scope.user_id, scope.agent_id, scope.run_id, token, at, stale_before,
         expired_before),
    )  # fmt: skip
    row = conn.execute(
        "SELECT hash, created_at, token, result FROM requests WHERE key = ?", (key,)
    ).fetchone()
    return StoredRequest(key, str(row[0]), str(row[1]), row[2], _result(row[3]))


def finish(conn: sqlite3.Connection, key: str, token: str, result: dict[str, Any]) -> bool:
    text = json.dumps(result, ensure_ascii=False)
    cursor = conn.execute(
        "UPDATE requests SET result = ?, token = NULL WHERE key = ? AND token = ?", (text, key, token)
    )
    return cursor.rowcount == 1


def release(conn: sqlite3.Connection, key: str, token: str) -> None:
    conn.execute("DELETE FROM requests WHERE key = ? AND token = ?", (key, token))


def purge(conn: sqlite3.Connection, scope_sql: str, params: list[Any]) -> None:
    """Forget the requests of a scope (``scope_sql``; "0": none) and those whose answer names a
    memory in ``temp.purge_ids`` (inside ``maintenance.purge``)."""
    if scope_sql != "0":
        conn.execute(f"DELETE FROM requests WHERE {scope_sql}", params)
    conn.execute(
        "DELETE FROM requests WHERE result IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM temp.purge_ids p WHERE instr(requests.result, p.id) > 0)"
    )


def _result(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value: dict[str, Any] = json.loads(text)
    return value
