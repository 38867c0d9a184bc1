"""Profile slots in PostgreSQL: one ``profile_slots`` row per version of a slot.

The semantics are the store contract's (``StoreTransaction.set_profile``), as the SQLite store
implements them (``memlane.store.sqlite.profile`` explains the valid-time timeline). Writers of
one slot are serialised by a transaction-scoped advisory lock on (tenant, scope, key), so two
processes setting the same slot at once never both see "no current value" (the partial unique
index ``profile_slots_current`` would refuse the second).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from memlane.models import ProfileChange, ProfileSlot, Scope, new_id
from memlane.store.postgres.rows import exact_scope, filter_scope
from memlane.store.slots import SLOT_COLUMNS, Version, plan_slot, slot_of_row

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["COLUMNS", "current", "expire", "set_slot", "versions"]

COLUMNS = SLOT_COLUMNS
"""The columns of a slot version (``memlane.store.slots``), as dump writes them."""

_MARKS = ", ".join(["%s"] * (len(COLUMNS) + 1))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM profile_slots WHERE tenant = %s"


def current(conn: Connection[Any], tenant: str, scope: Scope, as_of: str | None) -> list[ProfileSlot]:
    """The current slots of ``scope`` (or those current at record time ``as_of``), by key."""
    exact, params = exact_scope(scope)
    if as_of is None:
        when, extra = "expired_at IS NULL", []
    else:
        when, extra = "recorded_at <= %s AND (expired_at IS NULL OR expired_at > %s)", [as_of, as_of]
    rows = conn.execute(
        f"{_SELECT} AND {exact} AND {when} ORDER BY key, seq", [tenant, *params, *extra]
    ).fetchall()
    latest = {row[4]: row for row in rows}  # one per key, even if record times tie
    return [slot_of_row(row) for row in latest.values()]


def versions(conn: Connection[Any], tenant: str, scope: Scope, key: str) -> list[ProfileSlot]:
    """Every version of one slot, oldest first by valid time, then by record order."""
    exact, params = exact_scope(scope)
    rows = conn.execute(
        f"{_SELECT} AND {exact} AND key = %s ORDER BY coalesce(valid_from, recorded_at), seq",
        [tenant, *params, key],
    ).fetchall()
    return [slot_of_row(row) for row in rows]


def set_slot(
    conn: Connection[Any],
    tenant: str,
    scope: Scope,
    key: str,
    value: str | None,
    *,
    observed_at: str,
    at: str,
    memory_id: str | None,
) -> ProfileChange | None:
    """Set or clear one slot (see ``StoreTransaction.set_profile`` and ``memlane.store.slots``)."""
    lock = json.dumps([tenant, scope.user_id, scope.agent_id, scope.run_id, key])
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
    plan = plan_slot(_timeline(conn, tenant, scope, key), key, value, observed_at, memory_id)
    if plan.ended is not None:  # its validity ends where the new value's begins (or at the clear)
        conn.execute(
            "UPDATE profile_slots SET valid_to = %s, expired_at = coalesce(expired_at, %s) "
            "WHERE tenant = %s AND id = %s",
            (observed_at, at, tenant, plan.ended.row),
        )
    if plan.insert and value is not None:
        until = plan.insert_until  # an older observation is history, never the current value
        _insert(
            conn,
            tenant,
            scope,
            key,
            value,
            memory_id,
            (observed_at, until, at, None if until is None else at),
        )
    return plan.change


def _timeline(conn: Connection[Any], tenant: str, scope: Scope, key: str) -> list[Version]:
    """The versions of one slot in valid time, oldest first (retracted ones left out)."""
    exact, params = exact_scope(scope)
    rows = conn.execute(
        "SELECT id, value, coalesce(valid_from, recorded_at), valid_to, expired_at IS NULL "
        f"FROM profile_slots WHERE tenant = %s AND {exact} AND key = %s "
        "AND (expired_at IS NULL OR valid_to IS NOT NULL) ORDER BY coalesce(valid_from, recorded_at), seq",
        [tenant, *params, key],
    ).fetchall()
    return [Version(i, value, start, end, bool(live)) for i, value, start, end, live in rows]


def expire(
    conn: Connection[Any], tenant: str, at: str, scope: Scope | None, memory_ids: Sequence[str]
) -> list[ProfileChange]:
    """Clear the current slots matching ``scope`` (a filter) or written from ``memory_ids``."""
    clauses: list[tuple[str, list[Any]]] = []
    if scope is not None and not scope.is_empty():
        clauses.append(filter_scope(scope))
    if memory_ids:
        clauses.append(("memory_id = ANY(%s)", [list(dict.fromkeys(memory_ids))]))
    cleared: list[ProfileChange] = []
    for clause, params in clauses:
        rows = conn.execute(
            f"UPDATE profile_slots SET expired_at = %s WHERE tenant = %s AND expired_at IS NULL "
            f"AND {clause} RETURNING seq, key, value, memory_id",
            [at, tenant, *params],
        ).fetchall()
        cleared += [ProfileChange(key, None, value, memory) for _, key, value, memory in sorted(rows)]
    return cleared


def _insert(
    conn: Connection[Any],
    tenant: str,
    scope: Scope,
    key: str,
    value: str,
    memory_id: str | None,
    times: tuple[str, str | None, str, str | None],
) -> None:
    """One version; ``times`` is (valid_from, valid_to, recorded_at, expired_at)."""
    conn.execute(
        f"INSERT INTO profile_slots (tenant, {', '.join(COLUMNS)}) VALUES ({_MARKS})",
        (tenant, new_id(), scope.user_id, scope.agent_id, scope.run_id, key, value, memory_id, *times),
    )
