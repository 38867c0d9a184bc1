"""Reading rows into records: memories, history events, versions and source messages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from memlane.models import HistoryEvent, MemoryRecord, MemoryVersion, Message, Scope

__all__ = ["RECORD_COLUMNS", "history", "records", "sources", "versions", "versions_as_of"]

RECORD_COLUMNS = (
    "m.seq, m.id, m.text, m.hash, m.user_id, m.agent_id, m.run_id, m.actor_id, m.role, "
    "m.metadata, m.created_at, m.updated_at, m.valid_from, m.valid_to, m.expired_at, "
    "m.expiration_date, m.version"
)
"""The columns ``records`` reads, from ``memories m``."""


def records(
    conn: sqlite3.Connection, where_sql: str, params: Sequence[Any], tail: str = ""
) -> list[MemoryRecord]:
    """The live memories matching ``where_sql`` (alias ``m``), then ``tail`` (ORDER BY, LIMIT)."""
    query = f"SELECT {RECORD_COLUMNS} FROM memories m WHERE m.deleted_at IS NULL AND {where_sql}{tail}"
    return [_record(r) for r in conn.execute(query, list(params)).fetchall()]


def history(conn: sqlite3.Connection, memory_id: str) -> list[HistoryEvent]:
    """A memory's history events, oldest first."""
    found = conn.execute(
        "SELECT id, memory_id, old_memory, new_memory, event, created_at, updated_at, "
        "is_deleted, actor_id, role FROM history WHERE memory_id = ? ORDER BY seq",
        (memory_id,),
    ).fetchall()
    return [HistoryEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9]) for r in found]


def versions(conn: sqlite3.Connection, memory_id: str) -> list[MemoryVersion]:
    """Every text a memory had, oldest first."""
    found = conn.execute(
        "SELECT memory_id, version, text, hash, valid_from, valid_to, recorded_at, expired_at "
        "FROM memory_versions WHERE memory_id = ? ORDER BY version",
        (memory_id,),
    ).fetchall()
    return [MemoryVersion(*r) for r in found]


def versions_as_of(
    conn: sqlite3.Connection, where_sql: str, params: Sequence[Any], at: str, limit: int
) -> list[tuple[MemoryRecord, MemoryVersion]]:
    """The memories matching ``where_sql`` (deleted ones too) that had a version current at
    record time ``at``, with that version; the latest recorded first."""
    query = (
        f"SELECT {RECORD_COLUMNS}, v.memory_id, v.version, v.text, v.hash, v.valid_from, v.valid_to, "
        "v.recorded_at, v.expired_at FROM memories m JOIN memory_versions v ON v.memory_id = m.id "
        f"WHERE v.recorded_at <= ? AND (v.expired_at IS NULL OR v.expired_at > ?) AND {where_sql} "
        "ORDER BY v.recorded_at DESC, m.seq DESC LIMIT ?"
    )
    found = conn.execute(query, [at, at, *params, limit]).fetchall()
    width = len(RECORD_COLUMNS.split(","))
    return [(_record(r[:width]), MemoryVersion(*r[width:])) for r in found]


def sources(conn: sqlite3.Connection, memory_id: str) -> list[Message]:
    """The messages a memory was written from, in conversation order."""
    found = conn.execute(
        "SELECT g.role, g.content, g.name, g.id FROM memory_sources s "
        "JOIN messages g ON g.id = s.message_id WHERE s.memory_id = ? ORDER BY g.seq",
        (memory_id,),
    ).fetchall()
    return [Message(role=r[0], content=r[1], name=r[2], id=r[3]) for r in found]


def _record(row: tuple[Any, ...]) -> MemoryRecord:
    return MemoryRecord(
        id=row[1],
        text=row[2],
        hash=row[3],
        scope=Scope(row[4], row[5], row[6]),
        actor_id=row[7],
        role=row[8],
        metadata=json.loads(row[9]) if row[9] else {},
        created_at=row[10],
        updated_at=row[11],
        valid_from=row[12],
        valid_to=row[13],
        expired_at=row[14],
        expiration_date=row[15],
        version=row[16],
    )
