"""Profile slots in SQLite: one ``profile_slots`` row per version of a slot (schema migration 4).

Writes run inside the caller's transaction (``SQLiteTransaction``); reads take the store's
lock. A slot of the exact scope has at most one current row (``expired_at`` NULL), which a
partial unique index enforces.

Valid time: the versions of a slot form one timeline of half-open intervals ``[valid_from,
valid_to)`` that never overlap (the current version's is open). A new value observed at ``t``
ends the version whose interval holds ``t`` there and takes over the rest of it; observed in a
gap (before the first version, or after a clear), it lasts until the next version begins, and
becomes current only when none does. Versions retracted by ``expire`` (record time only:
``valid_to`` NULL) are no part of the timeline.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

from memlane.models import ProfileChange, ProfileSlot, Scope, new_id

__all__ = ["COLUMNS", "current", "expire", "set_slot", "versions"]

COLUMNS = (
    "id", "user_id", "agent_id", "run_id", "key", "value", "memory_id",
    "valid_from", "valid_to", "recorded_at", "expired_at",
)  # fmt: skip
"""The columns of a slot version, in the order ``_slot`` reads them (and dump writes them)."""

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
    return [_slot(row) for row in latest.values()]


def versions(conn: sqlite3.Connection, scope: Scope, key: str) -> list[ProfileSlot]:
    """Every version of one slot, oldest first by valid time, then by record order."""
    rows = conn.execute(
        f"{_SELECT} WHERE {_EXACT} AND key = ? ORDER BY coalesce(valid_from, recorded_at), seq",
        [*_ids(scope), key],
    ).fetchall()
    return [_slot(row) for row in rows]


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
    """Set or clear one slot (see ``StoreTransaction.set_profile``)."""
    timeline = _timeline(conn, scope, key)
    current = next((v for v in timeline if v.current), None)
    if value is None:  # a clear ends the current value; an older one changes nothing
        if current is None or observed_at < current.start:
            return None
        conn.execute(
            "UPDATE profile_slots SET expired_at = ?, valid_to = ? WHERE seq = ?",
            (at, observed_at, current.seq),
        )
        return ProfileChange(key, None, current.value, memory_id)
    holder = next((v for v in reversed(timeline) if v.holds(observed_at)), None)
    later = [v for v in timeline if v.start > observed_at]
    if holder is not None:
        if _same(holder.value, value):
            return None
        until = holder.end
        conn.execute(  # the holder's validity ends where the new value's begins
            "UPDATE profile_slots SET valid_to = ?, expired_at = coalesce(expired_at, ?) WHERE seq = ?",
            (observed_at, at, holder.seq),
        )
    elif later:
        if _same(later[0].value, value):
            return None
        until = later[0].start
    else:
        until = None
    if until is not None:  # an older observation: history, never the current value
        _insert(conn, scope, key, value, memory_id, observed_at, until, at, at)
        return None
    _insert(conn, scope, key, value, memory_id, observed_at, None, at, None)
    return ProfileChange(key, value, None if holder is None else holder.value, memory_id)


class _Version(NamedTuple):
    seq: int
    value: str
    start: str
    end: str | None
    current: bool

    def holds(self, moment: str) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


def _timeline(conn: sqlite3.Connection, scope: Scope, key: str) -> list[_Version]:
    """The versions of one slot in valid time, oldest first (retracted ones left out)."""
    rows = conn.execute(
        "SELECT seq, value, coalesce(valid_from, recorded_at), valid_to, expired_at IS NULL "
        f"FROM profile_slots WHERE {_EXACT} AND key = ? AND (expired_at IS NULL OR valid_to IS NOT NULL) "
        "ORDER BY coalesce(valid_from, recorded_at), seq",
        [*_ids(scope), key],
    ).fetchall()
    return [_Version(seq, value, start, end, bool(live)) for seq, value, start, end, live in rows]


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


def _same(old: str, new: str) -> bool:
    return " ".join(old.split()).casefold() == " ".join(new.split()).casefold()


def _ids(scope: Scope) -> list[str | None]:
    return [scope.user_id, scope.agent_id, scope.run_id]


def _slot(row: Sequence[Any]) -> ProfileSlot:
    return ProfileSlot(
        id=row[0],
        scope=Scope(row[1], row[2], row[3]),
        key=row[4],
        value=row[5],
        memory_id=row[6],
        valid_from=row[7],
        valid_to=row[8],
        recorded_at=row[9],
        expired_at=row[10],
    )
