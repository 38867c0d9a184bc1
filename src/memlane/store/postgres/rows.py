"""Reading rows into records: memories, history events, versions, source messages and the
conversation neighbours of memories. Every statement filters by the tenant.

Also the text codec of the store's connections (``register_text_codec``): PostgreSQL text and
JSONB cannot hold the NUL character, which memlane accepts in texts (the SQLite store keeps
it). On the wire every string has NUL written as U+FFFF "0" and U+FFFF itself doubled, and read
back the other way, so any text round-trips unchanged; texts with neither character (all but
hostile ones) are stored as they are, so filters, full text and other tools see them as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql
from psycopg.types import json as pg_json
from psycopg.types import string

from memlane.models import HistoryEvent, MemoryRecord, MemoryVersion, Message, Scope

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "RECORD_COLUMNS",
    "versions_as_of",
    "exact_scope",
    "filter_scope",
    "history",
    "neighbours",
    "records",
    "records_by_id",
    "sources",
    "versions",
]

RECORD_COLUMNS = sql.SQL(
    "m.id, m.text, m.hash, m.user_id, m.agent_id, m.run_id, m.actor_id, m.role, m.metadata, "
    "m.created_at, m.updated_at, m.valid_from, m.valid_to, m.expired_at, m.expiration_date, m.version"
)
"""The columns ``records`` reads, from ``memories m``."""
_NOTHING = sql.SQL("")


def records(
    conn: Connection[Any], where: sql.Composable, tail: sql.Composable = _NOTHING
) -> list[MemoryRecord]:
    """The memories matching ``where`` (a parameter-free condition on ``memories m``; it must
    hold the tenant and liveness, as ``sql.live_where`` does), then ``tail`` (ORDER BY, LIMIT)."""
    query = sql.SQL("SELECT {} FROM memories m WHERE {}{}").format(RECORD_COLUMNS, where, tail)
    return [_record(r) for r in conn.execute(query).fetchall()]


def records_by_id(
    conn: Connection[Any], tenant: str, ids: Sequence[str], where: sql.Composable
) -> list[MemoryRecord]:
    """The memories among ``ids`` that match ``where`` (over ``memories m``), each read through
    the primary key (a fence keeps the planner from walking a scope index instead)."""
    query = sql.SQL(
        "SELECT {} FROM unnest({}::text[]) AS q(id) CROSS JOIN LATERAL (SELECT * FROM memories "
        "WHERE tenant = {} AND id = q.id OFFSET 0) m WHERE {}"
    ).format(RECORD_COLUMNS, sql.Literal(list(ids)), sql.Literal(tenant), where)
    return [_record(r) for r in conn.execute(query).fetchall()]


def history(conn: Connection[Any], tenant: str, memory_id: str) -> list[HistoryEvent]:
    """A memory's history events, oldest first."""
    found = conn.execute(
        "SELECT id, memory_id, old_memory, new_memory, event, created_at, updated_at, "
        "is_deleted, actor_id, role FROM history WHERE tenant = %s AND memory_id = %s ORDER BY seq",
        (tenant, memory_id),
    ).fetchall()
    return [HistoryEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9]) for r in found]


def versions(conn: Connection[Any], tenant: str, memory_id: str) -> list[MemoryVersion]:
    """Every text a memory had, oldest first."""
    found = conn.execute(
        "SELECT memory_id, version, text, hash, valid_from, valid_to, recorded_at, expired_at "
        "FROM memory_versions WHERE tenant = %s AND memory_id = %s ORDER BY version",
        (tenant, memory_id),
    ).fetchall()
    return [MemoryVersion(*r) for r in found]


def versions_as_of(
    conn: Connection[Any], tenant: str, where: sql.Composable, at: str, limit: int
) -> list[tuple[MemoryRecord, MemoryVersion]]:
    """The memories of ``tenant`` matching ``where`` (over ``memories m``, no liveness: deleted
    ones too) that had a version current at record time ``at``, with it; the latest recorded
    first."""
    query = sql.SQL(
        "SELECT {}, v.memory_id, v.version, v.text, v.hash, v.valid_from, v.valid_to, v.recorded_at, "
        "v.expired_at FROM memories m JOIN memory_versions v ON v.tenant = m.tenant AND v.memory_id = m.id "
        "WHERE m.tenant = {} AND v.recorded_at <= {} AND (v.expired_at IS NULL OR v.expired_at > {}) "
        "AND {} ORDER BY v.recorded_at DESC, m.seq DESC LIMIT {}"
    ).format(RECORD_COLUMNS, sql.Literal(tenant), sql.Literal(at), sql.Literal(at), where, sql.Literal(limit))
    width = 16  # RECORD_COLUMNS
    return [(_record(r[:width]), MemoryVersion(*r[width:])) for r in conn.execute(query).fetchall()]


def sources(conn: Connection[Any], tenant: str, memory_id: str) -> list[Message]:
    """The messages a memory was written from, in conversation order."""
    found = conn.execute(
        "SELECT g.role, g.content, g.name, g.id FROM memory_sources s "
        "JOIN messages g ON g.tenant = s.tenant AND g.id = s.message_id "
        "WHERE s.tenant = %s AND s.memory_id = %s ORDER BY g.seq",
        (tenant, memory_id),
    ).fetchall()
    return [Message(role=r[0], content=r[1], name=r[2], id=r[3]) for r in found]


def neighbours(
    conn: Connection[Any], tenant: str, memory_ids: Sequence[str], window: int, allowed: sql.Composable
) -> dict[str, list[tuple[str, int]]]:
    """For each memory, the live memories (matching ``allowed``, over ``memories m``) sourced
    from the messages within ``window`` turns of its first source message in the same
    conversation (scope and observation time), as (memory id, distance) pairs."""
    near = _nearby_messages(conn, tenant, memory_ids, window)
    messages = sorted({m for pairs in near.values() for m, _ in pairs})
    found: dict[str, list[str]] = {}
    if messages:
        rows = conn.execute(  # from the few messages to their memories, never from the scope's
            sql.SQL(
                "SELECT s.message_id, m.id FROM unnest({}::text[]) AS q(id) "
                "CROSS JOIN LATERAL (SELECT s.memory_id, s.message_id FROM memory_sources s "
                "WHERE s.tenant = {} AND s.message_id = q.id OFFSET 0) s "
                "CROSS JOIN LATERAL (SELECT m.id, m.seq FROM (SELECT * FROM memories "
                "WHERE tenant = {} AND id = s.memory_id OFFSET 0) m WHERE {}) m ORDER BY s.message_id, m.seq"
            ).format(sql.Literal(messages), sql.Literal(tenant), sql.Literal(tenant), allowed)
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


_SIDE = """SELECT x.id, {side} AS side, row_number() OVER (ORDER BY x.seq {order}) AS d FROM (
    SELECT id, seq FROM messages WHERE tenant = %(t)s AND coalesce(user_id, '') = a.u
    AND coalesce(agent_id, '') = a.ag AND coalesce(run_id, '') = a.r AND observed_at = a.observed_at
    AND seq {op} a.seq ORDER BY seq {order} LIMIT %(w)s) x"""

_NEARBY = f"""WITH a AS MATERIALIZED (
    SELECT q.mid, g.seq, coalesce(g.user_id, '') AS u, coalesce(g.agent_id, '') AS ag,
        coalesce(g.run_id, '') AS r, g.observed_at
    FROM unnest(%(ids)s::text[]) AS q(mid) CROSS JOIN LATERAL (
        SELECT g.* FROM memory_sources s JOIN messages g ON g.tenant = s.tenant AND g.id = s.message_id
        WHERE s.tenant = %(t)s AND s.memory_id = q.mid ORDER BY g.seq LIMIT 1) g)
SELECT a.mid, n.id, n.d FROM a CROSS JOIN LATERAL (
    ({_SIDE.format(side=0, op="<", order="DESC")}) UNION ALL ({_SIDE.format(side=1, op=">", order="ASC")})
) n ORDER BY a.mid, n.side, n.d"""
"""For each memory, its first source message (the anchor), then the ``w`` messages before and
after it in its conversation (the same scope and observation time), by distance: one statement
whose lookups walk the ``messages_session`` index. Every lookup starts from the given ids
(``LATERAL``, and ``OFFSET 0`` where the planner would otherwise flatten it): the cost follows
the anchors, never the scope's size, whatever the table statistics say."""


def _nearby_messages(
    conn: Connection[Any], tenant: str, memory_ids: Sequence[str], window: int
) -> dict[str, list[tuple[str, int]]]:
    """Memory id -> the ids of the messages within ``window`` turns of its anchor, with distance."""
    near: dict[str, list[tuple[str, int]]] = {}
    for mid, message, distance in conn.execute(_NEARBY, {"t": tenant, "ids": list(memory_ids), "w": window}):
        near.setdefault(mid, []).append((message, int(distance)))
    return near


def exact_scope(scope: Scope) -> tuple[str, list[str]]:
    """SQL (``%s`` placeholders) for rows of exactly ``scope``: each id equal, or NULL when unset."""
    parts: list[str] = []
    params: list[str] = []
    for name, value in zip(
        ("user_id", "agent_id", "run_id"), (scope.user_id, scope.agent_id, scope.run_id), strict=True
    ):
        if value is None:
            parts.append(f"{name} IS NULL")
        else:
            parts.append(f"{name} = %s")
            params.append(value)
    return " AND ".join(parts), params


def filter_scope(scope: Scope | None) -> tuple[str, list[str]]:
    """SQL (``%s`` placeholders) for rows matching ``scope`` as a filter: every id it sets is
    equal ("TRUE" for None or an empty scope)."""
    if scope is None or scope.is_empty():
        return "TRUE", []
    ids = scope.as_dict()
    return " AND ".join(f"{key} = %s" for key in ids), list(ids.values())


def _record(row: Sequence[Any]) -> MemoryRecord:
    return MemoryRecord(
        id=row[0],
        text=row[1],
        hash=row[2],
        scope=Scope(row[3], row[4], row[5]),
        actor_id=row[6],
        role=row[7],
        metadata=row[8] or {},
        created_at=row[9],
        updated_at=row[10],
        valid_from=row[11],
        valid_to=row[12],
        expired_at=row[13],
        expiration_date=row[14],
        version=row[15],
    )


# -- text codec ------------------------------------------------------------------------------

_MARK = "\uffff"
_ESCAPED = re.compile("\uffff([\uffff0])")
_MARK_BYTES = _MARK.encode("utf-8")


def escape_text(text: str) -> str:
    """``text`` as stored: NUL written as U+FFFF "0", U+FFFF doubled (most texts unchanged)."""
    if "\x00" not in text and _MARK not in text:
        return text
    return text.replace(_MARK, _MARK + _MARK).replace("\x00", _MARK + "0")


def unescape_text(text: str) -> str:
    """The text ``escape_text`` stored."""
    if _MARK not in text:
        return text
    return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "0" else _MARK, text)


def _escape_json(value: Any) -> Any:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape_text(str(k)): _escape_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape_json(v) for v in value]
    return value


def _unescape_json(value: Any) -> Any:
    if isinstance(value, str):
        return unescape_text(value)
    if isinstance(value, dict):
        return {unescape_text(k): _unescape_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape_json(v) for v in value]
    return value


def _json_dumps(value: Any) -> str:
    return json.dumps(_escape_json(value), ensure_ascii=False, sort_keys=True)


def _json_loads(data: str | bytes) -> Any:
    value = json.loads(data)
    marked = _MARK in data if isinstance(data, str) else _MARK_BYTES in bytes(data)
    return _unescape_json(value) if marked else value


class _TextDumper(string.StrDumperUnknown):
    def dump(self, obj: str) -> Any:
        return super().dump(escape_text(obj))


class _TextBinaryDumper(string.StrBinaryDumper):
    def dump(self, obj: str) -> Any:
        return super().dump(escape_text(obj))


class _TextLoader(string.TextLoader):
    def load(self, data: Any) -> Any:
        value = super().load(data)
        return unescape_text(value) if isinstance(value, str) else value


class _TextBinaryLoader(string.TextBinaryLoader):
    def load(self, data: Any) -> Any:
        value = super().load(data)
        return unescape_text(value) if isinstance(value, str) else value


def register_text_codec(conn: Any) -> None:
    """Make ``conn`` write and read every string (text, and strings inside JSONB given as
    ``Jsonb`` values) through the NUL-safe escape; JSON is written with sorted keys."""
    adapters = conn.adapters
    adapters.register_dumper(str, _TextDumper)
    adapters.register_dumper(str, _TextBinaryDumper)
    adapters.register_dumper(str, _TextDumper)  # the default (text format) again, last wins
    for oid in ("text", "varchar"):
        adapters.register_loader(oid, _TextLoader)
        adapters.register_loader(oid, _TextBinaryLoader)
    pg_json.set_json_dumps(_json_dumps, context=conn)
    pg_json.set_json_loads(_json_loads, context=conn)
