"""``SQLiteGraphStore``: the embedded graph, in the same SQLite file as the memories.

It shares an ``SQLiteStore``'s connection and lock (or opens its own store on a path), so a
graph write can join the memory store's transaction: called inside ``store.transaction()``,
``apply`` and ``remove_memories`` run in a SAVEPOINT of that transaction and land (or roll
back) with the memories. ``apply``, ``search`` and the deletes are ``OpsGraphStore``'s; the
rows are ``SQLiteOps``' (``graph_ops``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from memlane.errors import InvalidInputError
from memlane.graph.engine import require_scope
from memlane.graph.query import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
    QueryPlan,
)
from memlane.graph.settings import GraphSettings
from memlane.graph.store import OpsGraphStore
from memlane.models import Scope
from memlane.store.graph_plan import SQLITE, run_plan
from memlane.store.sqlite.graph_ops import SQLiteOps
from memlane.store.sqlite.graph_rows import EntityVectors
from memlane.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteGraphStore"]


class SQLiteGraphStore(OpsGraphStore):
    """The ``GraphStore`` of the embedded default. Thread-safe (the memory store's lock)."""

    query_dialect: QueryDialect | None = "plan"

    def __init__(self, store: SQLiteStore | str | Path, settings: GraphSettings | None = None) -> None:
        self._owns = not isinstance(store, SQLiteStore)
        self._store = store if isinstance(store, SQLiteStore) else SQLiteStore(store)
        self.settings = settings or GraphSettings()
        self._cache = EntityVectors()

    def close(self) -> None:
        if self._owns:
            self._store.close()

    def read_query(
        self,
        scope: Scope,
        query: GraphQuery,
        *,
        limit: int = DEFAULT_LIMIT,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryOutcome:
        """A ``QueryPlan`` run as one recursive query (``graph_query``, ``store.graph_plan``);
        the walk is capped in rows, so ``timeout_ms`` is not needed."""
        require_scope(scope)
        if not isinstance(query, QueryPlan):
            raise InvalidInputError(f"the SQLite graph answers QueryPlan queries, not {type(query).__name__}")
        with self.reading() as ops:
            return run_plan(ops, scope, query, max(0, limit), SQLITE)

    @contextmanager
    def reading(self) -> Iterator[SQLiteOps]:
        """Reads under the store's lock (inside the caller's transaction, if one is open)."""
        with self._store.locked() as conn:
            yield SQLiteOps(conn, self._cache)

    @contextmanager
    def writing(self, *, erase: bool = False) -> Iterator[SQLiteOps]:
        """One unit of writes: its own transaction, or a savepoint of the caller's. ``erase``:
        deleted content is overwritten in the file and, outside a caller's transaction, the
        WAL is checkpointed and truncated, so no copy of it stays on disk."""
        with self._store.locked() as conn:
            if not erase:
                with self._unit() as ops:
                    yield ops
                return
            conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._unit() as ops:
                    yield ops
                if not conn.in_transaction:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.execute("PRAGMA secure_delete = OFF")

    @contextmanager
    def _unit(self) -> Iterator[SQLiteOps]:
        with self._store.locked() as conn:
            nested = conn.in_transaction
            conn.execute("SAVEPOINT graph_write" if nested else "BEGIN IMMEDIATE")
            ops = SQLiteOps(conn, self._cache)
            try:
                yield ops
            except BaseException:
                if nested:
                    conn.execute("ROLLBACK TO graph_write")
                    conn.execute("RELEASE graph_write")
                else:
                    conn.execute("ROLLBACK")
                self._cache.invalidate()
                raise
            conn.execute("RELEASE graph_write" if nested else "COMMIT")
            if nested or ops.deleted:  # the caller's transaction may still roll back
                self._cache.invalidate()
            else:
                self._cache.append(ops.new_vectors)
