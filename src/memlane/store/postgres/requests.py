"""Stored requests in PostgreSQL: the answers of ``add(idempotency_key=...)`` (the ``requests``
table of the ``store`` component's step 2; the contract is ``memlane.store.base``'s
``claim_request``).

A claim is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``: a second claimer of the same key
waits for the first's uncommitted insert (the primary key), then sees its row and takes it over
only when it is stale or expired; the row is locked by the statement either way, so exactly one
of many processes gets a key.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from memlane.models import Scope
from memlane.store.base import StoredRequest

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["EXPIRE_BATCH", "claim", "finish", "purge", "release"]

EXPIRE_BATCH = 100
"""Expired rows forgotten per claim, at most (the lazy purge)."""

_NO_FLUSH = "SET LOCAL synchronous_commit = off"
"""A claim (or a release) commits without waiting for its WAL flush: one fewer disk wait per
add. A crash can lose only claims whose add has not committed either (the add's own commit
flushes the WAL up to it, the claim included), and a lost claim is simply taken again."""


def claim(
    conn: Connection[Any],
    tenant: str,
    key: str,
    request_hash: str,
    scope: Scope,
    token: str,
    at: str,
    stale_before: str,
    expired_before: str,
) -> StoredRequest:
    """``MemoryStore.claim_request`` inside the caller's transaction (its own: its commit does
    not wait for the disk, see ``_NO_FLUSH``)."""
    conn.execute(_NO_FLUSH)
    row = conn.execute(
        # the expired rows of other keys go in the same statement (skipping those another claim
        # is removing); this key's row, expired or stale, is taken over by the upsert
        "WITH gone AS (DELETE FROM requests WHERE tenant = %(t)s AND key IN (SELECT key FROM requests "
        "WHERE tenant = %(t)s AND created_at < %(e)s AND key <> %(k)s LIMIT %(n)s "
        "FOR UPDATE SKIP LOCKED)) "
        "INSERT INTO requests AS r (tenant, key, hash, user_id, agent_id, run_id, token, result, "
        "created_at) VALUES (%(t)s, %(k)s, %(h)s, %(u)s, %(a)s, %(r)s, %(token)s, NULL, %(at)s) "
        "ON CONFLICT (tenant, key) DO UPDATE SET hash = EXCLUDED.hash, user_id = EXCLUDED.user_id, "
        "agent_id = EXCLUDED.agent_id, run_id = EXCLUDED.run_id, token = EXCLUDED.token, result = NULL, "
        "created_at = EXCLUDED.created_at "
        "WHERE (r.result IS NULL AND r.created_at < %(s)s) OR r.created_at < %(e)s "
        "RETURNING hash, created_at, token, result",
        {"t": tenant, "k": key, "h": request_hash, "u": scope.user_id, "a": scope.agent_id,
         "r": scope.run_id, "token": token, "at": at, "s": stale_before, "e": expired_before,
         "n": EXPIRE_BATCH},
    ).fetchone()  # fmt: skip
    if row is None:  # held: the statement locked the row, so it reads as committed
        row = conn.execute(
            "SELECT hash, created_at, token, result FROM requests WHERE tenant = %s AND key = %s",
            (tenant, key),
        ).fetchone()
    assert row is not None  # inserted, updated or held
    return StoredRequest(key, str(row[0]), str(row[1]), row[2], _result(row[3]))


def finish(conn: Connection[Any], tenant: str, key: str, token: str, result: dict[str, Any]) -> bool:
    cursor = conn.execute(
        "UPDATE requests SET result = %s, token = NULL WHERE tenant = %s AND key = %s AND token = %s",
        (json.dumps(result, ensure_ascii=False), tenant, key, token),
    )
    return cursor.rowcount == 1


def release(conn: Connection[Any], tenant: str, key: str, token: str) -> None:
    conn.execute(_NO_FLUSH)
    conn.execute("DELETE FROM requests WHERE tenant = %s AND key = %s AND token = %s", (tenant, key, token))


def purge(conn: Connection[Any], tenant: str, where: str | None, params: list[str], ids: list[str]) -> None:
    """Forget the requests of a scope (``where``; None: none) and those whose answer names one
    of ``ids`` (inside ``maintenance.purge``)."""
    if where is not None:
        conn.execute(f"DELETE FROM requests WHERE tenant = %s AND {where}", [tenant, *params])
    if ids:
        conn.execute(
            "DELETE FROM requests WHERE tenant = %s AND result IS NOT NULL AND EXISTS "
            "(SELECT 1 FROM unnest(%s::text[]) AS i(id) WHERE strpos(requests.result, i.id) > 0)",
            (tenant, ids),
        )


def _result(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value: dict[str, Any] = json.loads(text)
    return value
