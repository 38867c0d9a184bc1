"""Loading exported records (``memlane import``, ``memlane migrate``) by ``COPY``, in batches.

Records are checked one by one as they come (kind, columns, JSON, the vector's size, the meta
values against the store's), gathered per table and written ``BATCH`` rows at a time by one
``COPY`` each; a live memory's search row goes through ``search_copy.copy_search``. The caller's
transaction holds the whole load: a bad record, or a row that conflicts with the store, leaves
the store as it was. A load never builds the HNSW index of the vectors' size: when it is
missing, the store's next ``ensure_dimension`` builds it once over every loaded vector (far
faster than inserting each into it, and ``migrate`` loads in many batches); searches until then
are exact.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg.types.json import Jsonb

from memlane.errors import DimensionMismatchError, EmbedderMismatchError, InvalidInputError
from memlane.models import Scope, Vectors
from memlane.store.postgres.maintenance import get_meta
from memlane.store.postgres.search_copy import SearchRow, copy_search
from memlane.store.sqlite.maintenance import TABLES, checked_record

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["BATCH", "load"]

BATCH = 5000
"""Rows of one table written by one COPY."""


class _Loader:
    """The rows of one load, per table, and what they need afterwards."""

    def __init__(self, conn: Connection[Any], tenant: str) -> None:
        self.conn, self.tenant = conn, tenant
        self.rows: dict[str, list[list[Any]]] = {kind: [] for kind in TABLES}
        self.search: list[SearchRow] = []
        stored = get_meta(conn, tenant, "dimension")
        self.dimension = int(stored) if stored is not None else None

    def add(self, kind: str, data: dict[str, Any], number: int) -> None:
        _, columns = TABLES[kind]
        names = [c for c in columns if c != "embedding"]
        self.rows[kind].append([self.tenant, *(_imported(n, data[n], number, kind) for n in names)])
        if kind == "memory" and data.get("deleted_at") is None:
            vector = None if data.get("embedding") is None else self.vector(data["embedding"], number)
            scope = Scope(data["user_id"], data["agent_id"], data["run_id"])
            self.search.append((str(data["id"]), str(data["text"]), scope, vector))
        if len(self.rows[kind]) >= BATCH:
            self.flush()

    def vector(self, encoded: Any, number: int) -> Vectors:
        """A memory's vector from its base64 text, refused unless it has the store's size."""
        try:
            blob = base64.b64decode(str(encoded), validate=True)
        except ValueError:
            raise InvalidInputError(f"record {number} (memory): the embedding is not base64") from None
        size = len(blob) // 4
        if self.dimension is not None and size != self.dimension:
            raise DimensionMismatchError(self.dimension, size, _import_size(self.dimension, size))
        if self.dimension is None:
            self.conn.execute(
                "INSERT INTO meta (tenant, key, value) VALUES (%s, 'dimension', %s) ON CONFLICT DO NOTHING",
                (self.tenant, str(size)),
            )
            self.dimension = size
        return np.frombuffer(blob, dtype="<f4").astype(np.float32)

    def meta(self, data: dict[str, Any]) -> None:
        """A meta record: checked against the store's value, then written at once."""
        self.flush()
        key, value = data.get("key"), str(data.get("value"))
        stored = get_meta(self.conn, self.tenant, str(key))
        if stored is not None and stored != value:
            if key == "dimension":
                raise DimensionMismatchError(int(stored), int(value), _import_size(int(stored), int(value)))
            if key == "embedder":
                message = (
                    f"the export was made with the embedder {value!r} but this store uses {stored!r}; "
                    "their vectors do not compare: import into a new store opened with the export's embedder"
                )
                dimension = int(get_meta(self.conn, self.tenant, "dimension") or 0)
                raise EmbedderMismatchError(stored, value, dimension, message)
        if key == "dimension":
            self.dimension = int(value)
        self.conn.execute(
            "INSERT INTO meta (tenant, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (tenant, key) DO UPDATE SET value = EXCLUDED.value",
            (self.tenant, key, value),
        )

    def flush(self) -> None:
        """Write every gathered row (memories before their search rows)."""
        for kind, rows in self.rows.items():
            if not rows:
                continue
            table, columns = TABLES[kind]
            names = ["tenant", *(c for c in columns if c != "embedding")]
            try:
                statement = f"COPY {table} ({', '.join(names)}) FROM STDIN".encode()
                with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            except _integrity_errors() as exc:
                raise InvalidInputError(f"a {kind} record conflicts with the store: {exc}") from None
            rows.clear()
        if self.search:
            copy_search(self.conn, self.tenant, self.search)
            self.search.clear()


def load(conn: Connection[Any], tenant: str, records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Insert dumped records into ``tenant`` (inside the caller's transaction); return counts by
    kind (``pending`` only when there were any). Vectors of another size, or an export of
    another embedder than the store's, are refused."""
    counts = dict.fromkeys(TABLES, 0)
    loader = _Loader(conn, tenant)
    for number, record in enumerate(records, start=1):
        kind, data = checked_record(number, record)
        if kind == "meta":
            loader.meta(data)
        else:
            loader.add(kind, data, number)
        counts[kind] += 1
    loader.flush()
    _analyze_grown(conn, counts["memory"])
    if not counts["pending"]:
        del counts["pending"]
    return counts


def _analyze_grown(conn: Connection[Any], memories: int) -> None:
    """ANALYZE the loaded tables when this load at least doubled the memories the planner
    knows of (never analyzed: a new database): ``migrate``'s later batches, its verification and
    the first searches read them before autovacuum would (with a new database's statistics the
    planner takes them for empty). Loads in batches analyze about log2(batches) times."""
    row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'memories'::regclass").fetchone()
    known = float(row[0]) if row else 0.0
    if memories and (known < 0 or memories >= known):
        tables = [table for table, _ in TABLES.values()] + ["memory_search", "memory_search_text"]
        conn.execute(f"ANALYZE {', '.join(dict.fromkeys(tables))}")


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


def _import_size(stored: int, exported: int) -> str:
    return (
        f"the export holds {exported}-dimensional vectors but this store holds {stored} (its "
        "embedder's); import into a new store opened with the embedder that made the export"
    )
