"""Whole-tenant operations of the PostgreSQL store: purge (erase), dump (export), reset and
backup (a logical export written to a file); loading an export is ``bulk.load``'s (by COPY).

Records are the SQLite store's (``memlane.store.sqlite.maintenance.TABLES``: the same kinds,
columns and value types, JSON columns as JSON text, a memory's vector as base64 float32), so an
export of one back end imports into the other. Every statement is limited to one tenant.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql

from memlane.errors import InvalidInputError, StoreError
from memlane.models import Scope, Vectors, now_iso
from memlane.store.postgres import requests, search
from memlane.store.postgres.locks import lock_owners
from memlane.store.postgres.rows import filter_scope
from memlane.store.postgres.store_schema import STORE_TABLES
from memlane.store.sqlite.maintenance import TABLES

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["TABLES", "backup_file", "dump", "get_meta", "purge", "reset", "set_meta", "vacuum"]

_ORDER = {"meta": "key", "memory_sources": "memory_id, message_id"}
"""Dump order by table (the rest: ``seq``, the order rows were written)."""
_JSON_TEXT = {"metadata", "params"}
_BATCH = 1000


def purge(conn: Connection[Any], tenant: str, memory_ids: Sequence[str], scope: Scope | None) -> int:
    """Erase memories (deleted ones too) and every row that holds their text; return the count.

    ``memory_ids`` and every memory, message, pending add, profile slot and stored request of
    ``scope`` go, with the profile slots written from those memories and the stored requests
    whose answer names one; source messages go unless another memory
    still cites them. Runs inside the caller's transaction."""
    ids = list(memory_ids)
    scoped = scope is not None and not scope.is_empty()
    where, params = filter_scope(scope)
    owners = conn.execute(
        "SELECT DISTINCT user_id, agent_id, run_id FROM memories WHERE tenant = %s AND id = ANY(%s)",
        (tenant, ids),
    ).fetchall()
    lock_owners(conn, tenant, [*(Scope(*row) for row in owners), *([scope] if scoped and scope else [])])
    if scoped:
        ids += [
            r[0]
            for r in conn.execute(f"SELECT id FROM memories WHERE tenant = %s AND {where}", [tenant, *params])
        ]
    ids = list(dict.fromkeys(ids))
    conn.execute(
        "DELETE FROM messages WHERE tenant = %(t)s AND id IN (SELECT message_id FROM memory_sources "
        "WHERE tenant = %(t)s AND memory_id = ANY(%(ids)s)) AND id NOT IN (SELECT message_id FROM "
        "memory_sources WHERE tenant = %(t)s AND NOT memory_id = ANY(%(ids)s))",
        {"t": tenant, "ids": ids},
    )
    if scoped:
        for table in ("messages", "profile_slots", "pending"):
            conn.execute(f"DELETE FROM {table} WHERE tenant = %s AND {where}", [tenant, *params])
    requests.purge(conn, tenant, where if scoped else None, params, ids)
    for table, column in (
        ("profile_slots", "memory_id"),
        ("memory_sources", "memory_id"),
        ("memory_versions", "memory_id"),
        ("history", "memory_id"),
        ("memories", "id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE tenant = %s AND {column} = ANY(%s)", (tenant, ids))
    search.unindex_memories(conn, tenant, ids)
    return len(ids)


def reset(conn: Connection[Any], tenant: str) -> None:
    """Remove every record of ``tenant`` (inside the caller's transaction)."""
    ids = [str(r[0]) for r in conn.execute("SELECT id FROM memories WHERE tenant = %s", (tenant,))]
    search.unindex_memories(conn, tenant, ids)
    for table in STORE_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE tenant = %s", (tenant,))


def vacuum(conn: Connection[Any]) -> None:
    """VACUUM the store's tables and the search module's (they hold the terms and vectors), so
    the space of erased rows is reclaimed (``conn`` in autocommit mode)."""
    search_tables = conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE %s "
        "AND pg_table_is_visible(c.oid) ORDER BY 1",
        ("memory_search%",),
    ).fetchall()
    names = [*STORE_TABLES[1:], *(str(r[0]) for r in search_tables)]
    conn.execute(sql.SQL("VACUUM {}").format(sql.SQL(", ").join(map(sql.Identifier, names))))


def dump(conn: Connection[Any], tenant: str) -> Iterator[dict[str, Any]]:
    """Every record of ``tenant`` as ``{"kind": ..., "data": {...}}`` (read in the caller's snapshot)."""
    for kind, (table, columns) in TABLES.items():
        names = [c for c in columns if c != "embedding"]
        order = _ORDER.get(table, "seq")
        with conn.cursor(name=f"memlane_dump_{kind}") as cursor:
            cursor.itersize = _BATCH
            cursor.execute(
                f"SELECT {', '.join(names)} FROM {table} WHERE tenant = %s ORDER BY {order}", (tenant,)
            )
            while rows := cursor.fetchmany(_BATCH):
                datas = [_exported(kind, dict(zip(names, row, strict=True))) for row in rows]
                if kind == "memory":
                    found = search.vectors(conn, tenant, [d["id"] for d in datas if d["deleted_at"] is None])
                    for data in datas:
                        vector = found.get(data["id"])
                        data["embedding"] = None if vector is None else _b64(vector)
                yield from ({"kind": kind, "data": data} for data in datas)


def _exported(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A row's values as the SQLite store exports them (JSON as text, booleans as 0/1)."""
    for name in _JSON_TEXT & data.keys():
        data[name] = json.dumps(data[name], ensure_ascii=False, sort_keys=True)
    if kind == "pending":
        data["message_ids"] = json.dumps(data["message_ids"])
    if kind == "history":
        data["is_deleted"] = int(data["is_deleted"])
    return data


def _b64(vector: Vectors) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")


def get_meta(conn: Connection[Any], tenant: str, key: str) -> str | None:
    """The tenant's ``meta`` value of ``key`` (None: not set)."""
    row = conn.execute("SELECT value FROM meta WHERE tenant = %s AND key = %s", (tenant, key)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Connection[Any], tenant: str, key: str, value: str | None, *, replace: bool = True) -> str:
    """Set (None: remove) the tenant's ``meta`` value of ``key``; ``replace=False`` keeps a value
    already there. Returns the value now stored."""
    if value is None:
        conn.execute("DELETE FROM meta WHERE tenant = %s AND key = %s", (tenant, key))
        return ""
    verb = "DO UPDATE SET value = EXCLUDED.value" if replace else "DO NOTHING"
    conn.execute(
        f"INSERT INTO meta (tenant, key, value) VALUES (%s, %s, %s) ON CONFLICT (tenant, key) {verb}",
        (tenant, key, value),
    )
    return value if replace else str(get_meta(conn, tenant, key))


def backup_file(records: Iterator[dict[str, Any]], destination: str | Path, *, overwrite: bool) -> None:
    """Write ``records`` (a dump) to ``destination`` as a memlane export (JSON Lines with the
    export header), through a temporary file renamed onto it when complete. An existing file is
    replaced only with ``overwrite``; refusals are ``InvalidInputError`` and change no file."""
    target = Path(destination).expanduser()
    if target.is_dir():
        raise InvalidInputError(f"{str(target)!r} is a folder; give a file path for the backup")
    if target.exists() and not overwrite:
        raise InvalidInputError(
            f"{str(target)!r} already exists; choose a new path, or replace it with "
            "overwrite=True (CLI: memlane backup --force)"
        )
    if not target.parent.is_dir():
        raise InvalidInputError(f"the folder {str(target.parent)!r} of the backup does not exist")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            _write_export(records, handle)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup {str(target)!r}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write_export(records: Iterator[dict[str, Any]], handle: Any) -> None:
    """The export format of ``memlane.memory.export`` (header, then the meta records first)."""
    meta: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for record in records:
        if record["kind"] != "meta":
            rest.append(record)
            break
        meta.append(record)
    info = {str(r["data"]["key"]): r["data"]["value"] for r in meta}
    header = {
        "format": "memlane-export",
        "version": 1,
        "exported_at": now_iso(),
        "embedder": info.get("embedder"),
        "dimension": int(info["dimension"]) if "dimension" in info else None,
    }
    handle.write(json.dumps(header) + "\n")
    for record in [*meta, *rest]:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
