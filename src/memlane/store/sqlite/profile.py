"""Profile slots in SQLite: one ``profile_slots`` row per version of a slot (schema migration 4).

Writes run inside the caller's transaction (``SQLiteTransaction``); reads take the store's
lock. A slot of the exact scope has at most one current row (``expired_at`` NULL), which a
partial unique index enforces.

The valid-time rules (one timeline of versions that never overlap) are ``memlane.store.slots``'.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from memlane.models import ProfileChange, ProfileSlot, Scope, new_id
from memlane.store.slots import SLOT_COLUMNS, Version, plan_slot, slot_of_row

__all__ = ["COLUMNS", "current", "expire", "set_slot", "versions"]

COLUMNS = SLOT_COLUMNS
"""The columns of a slot version (``memlane.store.slots``), as dump writes them."""

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM profile_slots"
_EXACT = "user_id IS ? AND agent_id IS ? AND run_id IS ?"
_CHUNK = 500


def current(conn: sqlite3.Connection, scope: Scope, as_of: str | None) -> list[ProfileSlot]:
    """The current slots of ``scope`` (or those current at record time ``as_of``), by key."""
    if as_of is None:
        when, params = "expired_at IS NULL", []
    else:
        when, params = "recorded_at <= ? AND (expired_at IS NULL OR expired_at > ?)", [as_of, as_of]
    rows = conn.execute(
        f"{_SELECT} WHERE {_EXACT} AND {when} ORDER BY key, seq", [*_ids(scope), *params]
    ).fetchall()
    latest = {row[4]: row for row in rows}  # one per key, even if record times tie
    return [slot_of_row(row) for row in latest.values()]


def versions(conn: sqlite3.Connection, scope: Scope, key: str) -> list[ProfileSlot]:
    """Every version of one slot, oldest first by valid time, then by record order."""
    rows = conn.execute(
        f"{_SELECT} WHERE {_EXACT} AND key = ? ORDER BY coalesce(valid_from, recorded_at), seq",
        [*_ids(scope), key],
    ).fetchall()
    return [slot_of_row(row) for row in rows]


def set_slot(
    conn: sqlite3.Connection,
    scope: Scope,
    key: str,
    value: str | None,
    *,
    observed_at: str,
    at: str,
    memory_id: str | None,
) -> ProfileChange | None:
    """Set or clear one slot (see ``StoreTransaction.set_profile`` and ``memlane.store.slots``)."""
    plan = plan_slot(_timeline(conn, scope, key), key, value, observed_at, memory_id)
    if plan.ended is not None:  # its validity ends where the new value's begins (or at the clear)
        conn.execute(
            "UPDATE profile_slots SET valid_to = ?, expired_at = coalesce(expired_at, ?) WHERE seq = ?",
            (observed_at, at, plan.ended.row),
        )
    if plan.insert and value is not None:
        until = plan.insert_until  # an older observation is history, never the current value
        _insert(conn, scope, key, value, memory_id, observed_at, until, at, None if until is None else at)
    return plan.change


def _timeline(conn: sqlite3.Connection, scope: Scope, key: str) -> list[Version]:
    """The versions of one slot in valid time, oldest first (retracted ones left out)."""
    rows = conn.execute(
        "SELECT seq, value, coalesce(valid_from, recorded_at), valid_to, expired_at IS NULL "
        f"FROM profile_slots WHERE {_EXACT} AND key = ? AND (expired_at IS NULL OR valid_to IS NOT NULL) "
        "ORDER BY coalesce(valid_from, recorded_at), seq",
        [*_ids(scope), key],
    ).fetchall()
    return [Version(seq, value, start, end, bool(live)) for seq, value, start, end, live in rows]


def expire(
    conn: sqlite3.Connection, at: str, scope: Scope | None, memory_ids: Sequence[str]
) -> list[ProfileChange]:
    """Clear the current slots matching ``scope`` (a filter) or written from ``memory_ids``."""
    clauses: list[tuple[str, list[Any]]] = []
    if scope is not None and not scope.is_empty():
        ids = scope.as_dict()
        clauses.append((" AND ".join(f"{k} = ?" for k in ids), list(ids.values())))
    unique = list(dict.fromkeys(memory_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        clauses.append((f"memory_id IN ({', '.join('?' for _ in chunk)})", chunk))
    cleared: list[ProfileChange] = []
    for clause, params in clauses:
        where = f"expired_at IS NULL AND {clause}"
        rows = conn.execute(
            f"SELECT key, value, memory_id FROM profile_slots WHERE {where} ORDER BY seq", params
        ).fetchall()
        if rows:
            conn.execute(f"UPDATE profile_slots SET expired_at = ? WHERE {where}", [at, *params])
            cleared += [ProfileChange(key, None, value, memory_id) for key, value, memory_id in rows]
    return cleared


def _insert(
    conn: sqlite3.Connection,
    scope: Scope,
    key: str,
    value: str,
    memory_id: str | None,
    valid_from: str,
    valid_to: str | None,
    recorded_at: str,
    expired_at: str | None,
) -> None:
    conn.execute(
        f"INSERT INTO profile_slots ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
        (new_id(), *_ids(scope), key, value, memory_id, valid_from, valid_to, recorded_at, expired_at),
    )


def _ids(scope: Scope) -> list[str | None]:
    return [scope.user_id, scope.agent_id, scope.run_id]
