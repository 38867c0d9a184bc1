"""``PostgresStore``: memories, versions, history, messages, profile slots and pending adds of one
tenant in a PostgreSQL database shared by many processes and machines (full text and vectors:
``memlane.store.postgres.search``).

One ``transaction()`` is one database transaction on one pooled connection, held by the calling
thread until it ends; ``connection()`` gives that connection to companion stores (the graph) so
their writes land in the same transaction. Reads take a pooled connection of their own;
``hybrid_search`` takes two at once (its keyword leg on one of the store's worker threads).
"""

from __future__ import annotations

import importlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg import sql

from memlane.errors import (
    DimensionMismatchError,
    EmbedderMismatchError,
    MemlaneError,
    StoreError,
)
from memlane.filters import All, Filter
from memlane.models import HistoryEvent, MemoryRecord, MemoryVersion, Message, ProfileSlot, Scope, Vectors
from memlane.redact import redact_text, redact_url
from memlane.store.base import (
    PendingAdd,
    ScoredId,
    StoredRequest,
    check_expected_dimension,
    sequential_hybrid_search,
)
from memlane.store.postgres import bulk, maintenance, pending, reindex, requests, rows, search
from memlane.store.postgres import profile as profile_rows
from memlane.store.postgres.connect import open_pool
from memlane.store.postgres.provider import DEFAULT_TENANT, check_tenant
from memlane.store.postgres.schema import migrate
from memlane.store.postgres.sql import compile_filter, live_where
from memlane.store.postgres.store_schema import STORE_STEPS
from memlane.store.postgres.transaction import PostgresTransaction
from memlane.store.postgres.workers import Workers

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore"]

RETRIES = 5
"""Attempts of the store's own transactions on a serialization failure or a deadlock."""
_MAX = 2**63 - 1
_NOTHING = sql.SQL("")
_RACES = ("42P07", "23505")
"""SQLSTATEs of two processes creating the same object at once: duplicate table, unique violation."""

T = TypeVar("T")


class PostgresStore:
    """The store of one tenant. Thread-safe; many processes and machines may share the database."""

    graph_provider = "postgres"
    """The graph_store provider that keeps the graph beside these memories (``enable_graph``)."""

    def __init__(
        self,
        url: str,
        *,
        tenant: str = DEFAULT_TENANT,
        min_size: int = 1,
        max_size: int = 10,
        timeout_s: float = 30.0,
        expected_dimension: int | None = None,
        hnsw: search.HnswSettings | None = None,
    ) -> None:
        """Open a pool on ``url`` and bring the ``store`` and ``search`` schemas up to date.
        ``expected_dimension`` (mem0's ``embedding_model_dims``) is checked against the embedder;
        ``hnsw``: the HNSW index's ``m`` and ``ef_construction`` and the searches' ``ef_search``."""
        self.tenant = check_tenant(tenant)
        self._hnsw = hnsw or search.HnswSettings()
        self._url = url
        self._errors_module: Any = importlib.import_module("psycopg").errors
        self.pool: ConnectionPool = open_pool(
            url, min_size=min_size, max_size=max_size, timeout_s=timeout_s, setup=rows.register_text_codec
        )
        self._local = threading.local()
        self._workers = Workers(self.pool.max_size, "memlane-pg-search")
        self._dimension: int | None = None
        self._expected_dimension = expected_dimension
        self._embedder: str | None = None
        try:
            with self._guard(), self.pool.connection() as conn:
                migrate(conn, "store", STORE_STEPS)
                migrate(conn, "search", search.SEARCH_STEPS)
                migrate(conn, "reindex", reindex.REINDEX_STEPS)
        except BaseException:
            self.pool.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(url={redact_url(self._url)!r}, tenant={self.tenant!r})"

    # -- connections and transactions ---------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """PostgreSQL failures surface as ``StoreError`` (secrets hidden); memlane's errors pass."""
        psycopg: Any = importlib.import_module("psycopg")
        try:
            yield
        except MemlaneError:
            raise
        except (self._errors_module.SerializationFailure, self._errors_module.DeadlockDetected) as exc:
            raise StoreError(
                f"PostgreSQL aborted the transaction to resolve a conflict with another writer "
                f"({type(exc).__name__}); nothing of it was written: retry the call"
            ) from exc
        except (psycopg.Error, _pool_errors()) as exc:
            error = StoreError(f"PostgreSQL failed: {redact_text(str(exc))}")
            error.sqlstate = getattr(exc, "sqlstate", None)  # type: ignore[attr-defined]
            raise error from None

    @contextmanager
    def connection(self) -> Iterator[Connection[Any]]:
        """The connection of this thread's open ``transaction()``, else a pooled one (returned
        to the pool, its work committed, when the block ends)."""
        conn: Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._guard(), self.pool.connection() as pooled:
            yield pooled

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        """One database transaction (a savepoint when this thread is already in one)."""
        conn: Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            with self._guard(), conn.transaction():
                tx = PostgresTransaction(conn, self.tenant)
                yield tx
        else:
            with self._guard(), self.pool.connection() as pooled, pooled.transaction():
                self._local.conn = pooled
                try:
                    reindex.check_binding(pooled, self.tenant, self._embedder, self._dimension)
                    tx = PostgresTransaction(pooled, self.tenant)
                    yield tx
                finally:
                    self._local.conn = None
        if tx.switched is not None:  # a reindex switched this store to another embedder
            self._embedder, self._dimension = tx.switched[0], None  # ensure_dimension indexes the size

    def _retrying(self, work: Callable[[Connection[Any]], T], *, also: tuple[str, ...] = ()) -> T:
        """Run ``work`` in a transaction of its own, again on a serialization failure or a
        deadlock, or an error whose SQLSTATE is in ``also`` (at most ``RETRIES`` attempts, with
        a short random pause)."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self.transaction() as tx:
                    return work(tx.conn)
            except StoreError as exc:
                conflict = (self._errors_module.SerializationFailure, self._errors_module.DeadlockDetected)
                again = isinstance(exc.__cause__, conflict) or getattr(exc, "sqlstate", None) in also
                if attempt == RETRIES or not again:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _snapshot(self) -> Iterator[Connection[Any]]:
        """A connection reading one consistent snapshot (REPEATABLE READ, read only)."""
        if getattr(self._local, "conn", None) is not None:
            with self.connection() as conn:
                yield conn
            return
        with self._guard(), self.pool.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    # -- setup ---------------------------------------------------------------------------------

    def ensure_dimension(self, dimension: int) -> None:
        if self._dimension == dimension:
            return
        check_expected_dimension(self._expected_dimension, dimension)
        stored = int(self._retrying(lambda conn: self._bind(conn, "dimension", str(dimension))))
        if stored != dimension:
            raise DimensionMismatchError(stored, dimension)
        # processes opening a new database at once may race to build the same index: the
        # loser's next attempt sees it built
        if self._hnsw.index:
            self._retrying(
                lambda conn: search.prepare_dimension(conn, self.tenant, dimension, hnsw=self._hnsw),
                also=_RACES,
            )
        self._dimension = dimension

    def ensure_embedder(self, identity: str) -> None:
        if self._embedder == identity:
            return
        stored = self._retrying(lambda conn: self._bind(conn, "embedder", identity))
        if stored != identity:
            raise EmbedderMismatchError(stored, identity, self._dimension or 0)
        self._embedder = identity

    def _bind(self, conn: Connection[Any], key: str, value: str) -> str:
        """The tenant's ``meta`` value of ``key``, set to ``value`` when it had none."""
        return maintenance.set_meta(conn, self.tenant, key, value, replace=False)

    # -- reads ---------------------------------------------------------------------------------

    def _where(self, where: Filter) -> sql.Composed:
        return live_where(where, self.tenant)

    def _records(self, condition: sql.Composable, tail: sql.Composable = _NOTHING) -> list[MemoryRecord]:
        with self.connection() as conn:
            return rows.records(conn, condition, tail)

    def get(self, memory_id: str) -> MemoryRecord | None:
        return self.get_many([memory_id]).get(memory_id)

    def get_many(self, memory_ids: Sequence[str]) -> dict[str, MemoryRecord]:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return {}
        with self.connection() as conn:
            found = rows.records_by_id(conn, self.tenant, ids, self._where(All()))
        return {record.id: record for record in found}

    def list_records(self, where: Filter, *, limit: int | None = None, offset: int = 0) -> list[MemoryRecord]:
        tail = sql.SQL(" ORDER BY m.created_at DESC, m.seq DESC{} OFFSET {}").format(
            sql.SQL("")
            if limit is None
            else sql.SQL(" LIMIT {}").format(sql.Literal(min(max(limit, 0), _MAX))),
            sql.Literal(min(max(offset, 0), _MAX)),
        )
        return self._records(self._where(where), tail)

    def count(self, where: Filter) -> int:
        with self.connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM memories m WHERE {}").format(self._where(where))
            ).fetchone()
        return int(row[0]) if row else 0

    def vector_search(self, vector: Vectors, where: Filter, limit: int) -> list[ScoredId]:
        if limit <= 0:
            return []
        with self.connection() as conn:
            reindex.check_binding(conn, self.tenant, self._embedder, self._dimension)
            return search.vector_search(conn, self.tenant, vector, where, limit, hnsw=self._hnsw)

    def similarities(self, vector: Vectors, memory_ids: Sequence[str]) -> dict[str, float]:
        if not memory_ids:
            return {}
        with self.connection() as conn:
            return search.similarities(conn, self.tenant, vector, list(memory_ids))

    def vectors(self, memory_ids: Sequence[str]) -> dict[str, Vectors]:
        if not memory_ids:
            return {}
        with self.connection() as conn:
            return search.vectors(conn, self.tenant, list(memory_ids))

    def keyword_search(self, terms: Sequence[str], where: Filter, limit: int) -> list[ScoredId]:
        if not terms or limit <= 0:
            return []
        with self._snapshot() as conn:  # the statistics and the matches must agree
            return search.keyword_search(conn, self.tenant, list(terms), where, limit)

    def hybrid_search(
        self, vector: Vectors, terms: Sequence[str], where: Filter, limit: int
    ) -> tuple[list[ScoredId], list[ScoredId]]:
        """The keyword leg on a worker thread (a pooled connection of its own) while this thread
        runs the vector leg: the search costs the slower leg, not both. Inside this thread's
        ``transaction()`` both legs run on its connection, one after the other."""
        inside = getattr(self._local, "conn", None) is not None
        if inside or not terms or limit <= 0 or self.pool.max_size < 2:
            return sequential_hybrid_search(self, vector, terms, where, limit)
        keyword = self._workers.submit(self.keyword_search, terms, where, limit)
        try:
            dense = self.vector_search(vector, where, limit)
        except BaseException:
            futures.wait([keyword])  # its connection back in the pool before the error surfaces
            raise
        return dense, keyword.result()

    def neighbours(
        self, memory_ids: Sequence[str], window: int, where: Filter
    ) -> dict[str, list[tuple[str, int]]]:
        if window <= 0 or not memory_ids:
            return {}
        with self.connection() as conn:
            return rows.neighbours(conn, self.tenant, memory_ids, window, self._where(where))

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        if not prefix:
            return []
        upper = prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))
        with self.connection() as conn:
            found = conn.execute(
                "SELECT id FROM memories WHERE tenant = %s AND id >= %s AND id < %s ORDER BY id LIMIT %s",
                (self.tenant, prefix, upper, max(0, limit)),
            ).fetchall()
        return [str(r[0]) for r in found if str(r[0]).startswith(prefix)]

    def exists_ever(self, memory_id: str) -> bool:
        """Whether ``memory_id`` was ever stored (deleted ones included)."""
        with self.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM memories WHERE tenant = %(t)s AND id = %(i)s UNION ALL "
                "SELECT 1 FROM history WHERE tenant = %(t)s AND memory_id = %(i)s LIMIT 1",
                {"t": self.tenant, "i": memory_id},
            ).fetchone()
        return row is not None

    def history(self, memory_id: str) -> list[HistoryEvent]:
        with self.connection() as conn:
            return rows.history(conn, self.tenant, memory_id)

    def versions(self, memory_id: str) -> list[MemoryVersion]:
        with self.connection() as conn:
            return rows.versions(conn, self.tenant, memory_id)

    def versions_as_of(self, where: Filter, at: str, limit: int) -> list[tuple[MemoryRecord, MemoryVersion]]:
        with self.connection() as conn:
            return rows.versions_as_of(conn, self.tenant, compile_filter(where), at, min(max(limit, 0), _MAX))

    def sources(self, memory_id: str) -> list[Message]:
        with self.connection() as conn:
            return rows.sources(conn, self.tenant, memory_id)

    def profile(self, scope: Scope, *, as_of: str | None = None) -> list[ProfileSlot]:
        with self.connection() as conn:
            return profile_rows.current(conn, self.tenant, scope, as_of)

    def profile_versions(self, scope: Scope, key: str) -> list[ProfileSlot]:
        with self.connection() as conn:
            return profile_rows.versions(conn, self.tenant, scope, key)

    # -- pending adds ------------------------------------------------------------------------

    def pending(self, scope: Scope | None = None, *, limit: int | None = None) -> list[PendingAdd]:
        with self._snapshot() as conn:
            return pending.listing(conn, self.tenant, scope, limit)

    def pending_count(self, scope: Scope | None = None) -> int:
        with self.connection() as conn:
            return pending.count(conn, self.tenant, scope)

    def claim_pending(self, pending_id: str, at: str, *, stale_before: str) -> bool:
        return self._retrying(lambda conn: pending.claim(conn, self.tenant, pending_id, at, stale_before))

    def release_pending(self, pending_id: str, error: str) -> None:
        self._retrying(lambda conn: pending.release(conn, self.tenant, pending_id, error))

    # -- stored requests (idempotency keys) ----------------------------------------------------

    def claim_request(
        self, key: str, request_hash: str, scope: Scope, token: str, at: str, *, stale_before: str,
        expired_before: str,
    ) -> StoredRequest:  # fmt: skip
        return self._retrying(
            lambda conn: requests.claim(
                conn, self.tenant, key, request_hash, scope, token, at, stale_before, expired_before
            )
        )

    def release_request(self, key: str, token: str) -> None:
        self._retrying(lambda conn: requests.release(conn, self.tenant, key, token))

    # -- maintenance ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Remove every record of this tenant (other tenants keep theirs)."""
        self._retrying(lambda conn: maintenance.reset(conn, self.tenant))
        self._dimension = None
        self._embedder = None

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Erase memories (and their versions, history, sources, messages) for good; the tables
        are vacuumed afterwards so the erased rows' space is reclaimed."""
        count = self._retrying(lambda conn: maintenance.purge(conn, self.tenant, memory_ids, scope))
        with self._guard(), self.pool.connection() as conn:
            conn.autocommit = True
            try:
                maintenance.vacuum(conn)
            finally:
                conn.autocommit = False
        return count

    def dump(self) -> Iterator[dict[str, Any]]:
        """Every record of this tenant, for export (read in one snapshot)."""
        with self._snapshot() as conn:
            yield from maintenance.dump(conn, self.tenant)

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Insert exported records in one transaction, by COPY; nothing lands if one is bad. The
        HNSW index, when missing, is built by the next ``ensure_dimension`` (once, over all)."""
        with self.transaction() as tx:
            counts = bulk.load(tx.conn, self.tenant, records)
        self._dimension = None
        self._embedder = None
        return counts

    def meta(self, key: str) -> str | None:
        with self.connection() as conn:
            return maintenance.get_meta(conn, self.tenant, key)

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as tx:
            maintenance.set_meta(tx.conn, self.tenant, key, value)

    def backup(self, destination: str | Path, *, overwrite: bool = False) -> None:
        """A logical export of this tenant (one snapshot, writers keep going) written to
        ``destination`` in memlane's export format (``memlane import`` reads it)."""
        records = self.dump()
        try:
            maintenance.backup_file(records, destination, overwrite=overwrite)
        finally:
            records.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._workers.close()
        self.pool.close()


def _pool_errors() -> type[Exception]:
    pool_module: Any = importlib.import_module("psycopg_pool")
    error: type[Exception] = pool_module.PoolTimeout
    return error
