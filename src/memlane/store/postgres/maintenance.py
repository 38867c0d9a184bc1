"""Whole-tenant operations of the PostgreSQL store: purge (erase), dump/load (export/import),
reset and backup (a logical export written to a file).

Records are the SQLite store's (``memlane.store.sqlite.maintenance.TABLES``: the same kinds,
columns and value types, JSON columns as JSON text, a memory's vector as base64 float32), so an
export of one back end imports into the other. Every statement is limited to one tenant.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from memlane.errors import DimensionMismatchError, EmbedderMismatchError, InvalidInputError, StoreError
from memlane.models import MemoryRecord, Scope, Vectors, now_iso
from memlane.store.postgres import requests, search
from memlane.store.postgres.locks import lock_owners
from memlane.store.postgres.rows import filter_scope
from memlane.store.postgres.store_schema import STORE_TABLES
from memlane.store.sqlite.maintenance import TABLES

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["TABLES", "backup_file", "dump", "get_meta", "load", "purge", "reset", "set_meta", "vacuum"]

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


def load(conn: Connection[Any], tenant: str, records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Insert dumped records into ``tenant`` (inside the caller's transaction); return counts by
    kind (``pending`` only when there were any). Vectors of another size, or an export of
    another embedder than the store's, are refused."""
    counts = dict.fromkeys(TABLES, 0)
    for number, record in enumerate(records, start=1):
        kind = record.get("kind") if isinstance(record, dict) else None
        data = record.get("data") if isinstance(record, dict) else None
        if kind not in TABLES or not isinstance(data, dict):
            raise InvalidInputError(f"record {number}: expected {{kind, data}} with kind in {sorted(TABLES)}")
        table, columns = TABLES[kind]
        missing = [c for c in columns if c not in data]
        if missing:
            raise InvalidInputError(f"record {number} ({kind}) lacks {', '.join(missing)}")
        if kind == "meta":
            _check_meta(conn, tenant, data)
        names = [c for c in columns if c != "embedding"]
        values = [_imported(name, data[name], number, kind) for name in names]
        verb = "ON CONFLICT (tenant, key) DO UPDATE SET value = EXCLUDED.value" if kind == "meta" else ""
        marks = ", ".join(["%s"] * (len(names) + 1))
        try:
            with conn.transaction():  # a savepoint: the error below is reported, not the abort after it
                conn.execute(
                    f"INSERT INTO {table} (tenant, {', '.join(names)}) VALUES ({marks}) {verb}",
                    [tenant, *values],
                )
        except _integrity_errors() as exc:
            raise InvalidInputError(f"record {number} ({kind}) conflicts with the store: {exc}") from None
        if kind == "memory":
            _index(conn, tenant, data, number)
        counts[kind] += 1
    if not counts["pending"]:
        del counts["pending"]
    return counts


def _integrity_errors() -> tuple[type[Exception], ...]:
    import psycopg

    return (psycopg.errors.IntegrityError, psycopg.errors.DataError)


def _imported(name: str, value: Any, number: int, kind: str) -> Any:
    """A dumped value as the column takes it (JSON text parsed and checked)."""
    if name in ("metadata", "params", "message_ids") and isinstance(value, str):
        try:
            return Jsonb(json.loads(value))
        except ValueError:
            raise InvalidInputError(f"record {number} ({kind}): {name} is not JSON") from None
    if name == "is_deleted":
        return bool(value)
    return value


def _index(conn: Connection[Any], tenant: str, data: dict[str, Any], number: int) -> None:
    """The search data of a loaded live memory (its vector checked against the store's size)."""
    if data.get("deleted_at") is not None:
        return
    vector = None if data.get("embedding") is None else _vector(conn, tenant, data["embedding"], number)
    record = MemoryRecord(
        id=data["id"], text=data["text"], hash=data["hash"],
        scope=Scope(data["user_id"], data["agent_id"], data["run_id"]),
        created_at=data["created_at"], updated_at=data["updated_at"], actor_id=data["actor_id"],
        role=data["role"], metadata=json.loads(data["metadata"]) if data["metadata"] else {},
        valid_from=data["valid_from"], valid_to=data["valid_to"], expired_at=data["expired_at"],
        expiration_date=data["expiration_date"], version=data["version"],
    )  # fmt: skip
    search.index_memories(conn, tenant, [(record, vector)])


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


def _vector(conn: Connection[Any], tenant: str, encoded: Any, number: int) -> Vectors:
    """A memory's vector from its base64 text, refused unless it has the store's size."""
    try:
        blob = base64.b64decode(str(encoded), validate=True)
    except ValueError:
        raise InvalidInputError(f"record {number} (memory): the embedding is not base64") from None
    dimension = get_meta(conn, tenant, "dimension")
    if dimension is not None and len(blob) != 4 * int(dimension):
        raise DimensionMismatchError(
            int(dimension), len(blob) // 4, _import_size(int(dimension), len(blob) // 4)
        )
    if dimension is None:
        conn.execute(
            "INSERT INTO meta (tenant, key, value) VALUES (%s, 'dimension', %s) ON CONFLICT DO NOTHING",
            (tenant, str(len(blob) // 4)),
        )
        search.prepare_dimension(conn, tenant, len(blob) // 4)
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _import_size(stored: int, exported: int) -> str:
    return (
        f"the export holds {exported}-dimensional vectors but this store holds {stored} (its "
        "embedder's); import into a new store opened with the embedder that made the export"
    )


def _check_meta(conn: Connection[Any], tenant: str, data: dict[str, Any]) -> None:
    key, value = data.get("key"), str(data.get("value"))
    stored = get_meta(conn, tenant, str(key))
    if key == "dimension" and stored is None:
        search.prepare_dimension(conn, tenant, int(value))
    if stored is None or stored == value:
        return
    if key == "dimension":
        raise DimensionMismatchError(int(stored), int(value), _import_size(int(stored), int(value)))
    if key == "embedder":
        message = (
            f"the export was made with the embedder {value!r} but this store uses {stored!r}; "
            "their vectors do not compare: import into a new store opened with the export's embedder"
        )
        raise EmbedderMismatchError(stored, value, int(get_meta(conn, tenant, "dimension") or 0), message)


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
