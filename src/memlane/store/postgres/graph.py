"""``PostgresGraphStore``: the graph in PostgreSQL, beside the memories of a ``PostgresStore``.

Built on a ``PostgresStore`` (``connection()`` and ``tenant``), a graph write joins the memory
store's transaction: called inside ``store.transaction()``, ``apply`` and ``remove_memories``
run in a savepoint of it and land (or roll back) with the memories. Built on a URL, it opens a
pool of its own. ``apply``, ``search`` and the deletes are ``OpsGraphStore``'s; the rows are
``PostgresOps``' (``graph_ops``), the tables ``graph_schema``'s (migration component ``graph``).

One store instance reads and writes one tenant; every statement filters by it. Graph questions
(``read_query``) take a ``QueryPlan``, run as one recursive query (``memlane.store.graph_plan``,
the same as SQLite's) under a ``statement_timeout``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from memlane.errors import ConfigError, InvalidInputError, MissingDependencyError, StoreError
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
from memlane.redact import redact_text
from memlane.store.graph_plan import POSTGRES, run_plan
from memlane.store.postgres.connect import open_pool
from memlane.store.postgres.graph_ops import PostgresOps
from memlane.store.postgres.graph_schema import GRAPH_COMPONENT, GRAPH_STEPS
from memlane.store.postgres.provider import DEFAULT_TENANT, check_tenant
from memlane.store.postgres.schema import migrate

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

__all__ = ["ConnectionSource", "PostgresGraphStore"]


class ConnectionSource(Protocol):
    """What the graph needs of a PostgreSQL memory store (``PostgresStore`` provides it)."""

    tenant: str
    pool: ConnectionPool

    def connection(self) -> AbstractContextManager[Connection[Any]]:
        """This thread's open store transaction's connection, else a pooled one."""
        ...


class _OwnPool:
    """A pool of the graph's own, when it is built on a URL rather than a memory store."""

    def __init__(self, url: str, tenant: str, max_size: int) -> None:
        from memlane.store.postgres.rows import register_text_codec  # psycopg is there by now

        self.tenant = tenant
        # the store's NUL-safe text codec: a graph sharing the database reads what a store wrote
        self.pool = open_pool(url, max_size=max_size, setup=register_text_codec)

    def connection(self) -> AbstractContextManager[Connection[Any]]:
        return self.pool.connection()


class PostgresGraphStore(OpsGraphStore):
    """The ``GraphStore`` on PostgreSQL. Thread-safe: each unit takes its own connection (or
    the calling thread's open store transaction)."""

    query_dialect: QueryDialect | None = "plan"

    def __init__(
        self,
        source: str | ConnectionSource,
        settings: GraphSettings | None = None,
        *,
        tenant: str | None = None,
        max_connections: int = 10,
    ) -> None:
        try:
            psycopg: Any = importlib.import_module("psycopg")
        except ImportError:
            raise MissingDependencyError("psycopg", "postgres") from None
        self._errors: type[Exception] = psycopg.Error
        self._canceled: type[Exception] = psycopg.errors.QueryCanceled
        if isinstance(source, str):
            self._source: ConnectionSource = _OwnPool(
                source, check_tenant(tenant or DEFAULT_TENANT), max_connections
            )
            self._owns = True
        else:
            if tenant is not None and tenant != source.tenant:
                raise ConfigError(
                    f"the graph shares the memory store's tenant {source.tenant!r}; drop "
                    f"graph_store.config.tenant ({tenant!r}) or give the graph a url of its own"
                )
            self._source, self._owns = source, False
        self.tenant = self._source.tenant
        self.settings = settings or GraphSettings()
        try:
            with self._source.pool.connection() as conn:
                migrate(conn, GRAPH_COMPONENT, GRAPH_STEPS)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._owns:
            self._source.pool.close()

    def read_query(
        self,
        scope: Scope,
        query: GraphQuery,
        *,
        limit: int = DEFAULT_LIMIT,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryOutcome:
        """A ``QueryPlan`` run as one recursive query (``graph_query``), stopped by PostgreSQL
        after ``timeout_ms`` (``statement_timeout``, for this statement only)."""
        require_scope(scope)
        if not isinstance(query, QueryPlan):
            raise InvalidInputError(
                f"the PostgreSQL graph answers QueryPlan queries, not {type(query).__name__}"
            )
        try:
            with self.reading() as ops:
                row = ops.conn.execute("SELECT current_setting('statement_timeout')").fetchone()
                _statement_timeout(ops.conn, f"{timeout_ms}ms")
                outcome = run_plan(ops, scope, query, max(0, limit), POSTGRES.for_tenant(self.tenant))
                # a caller's open transaction keeps its own limit after this savepoint
                _statement_timeout(ops.conn, row[0] if row else "0")
                return outcome
        except StoreError as exc:
            if isinstance(exc.__cause__, self._canceled):
                raise StoreError(
                    f"the graph query ran longer than {timeout_ms} ms and was stopped: ask a "
                    "narrower question or allow more time (timeout_ms)"
                ) from exc
            raise

    @contextmanager
    def _unit(self, *, locking: bool) -> Iterator[PostgresOps]:
        try:
            with self._source.connection() as conn, conn.transaction():
                yield PostgresOps(conn, self.tenant, locking=locking)
        except self._errors as exc:
            raise StoreError(f"PostgreSQL graph: {type(exc).__name__}: {redact_text(str(exc))}") from exc

    @contextmanager
    def reading(self) -> Iterator[PostgresOps]:
        """Reads in a transaction of their own (or a savepoint of the caller's, which they see)."""
        with self._unit(locking=False) as ops:
            yield ops

    @contextmanager
    def writing(self, *, erase: bool = False) -> Iterator[PostgresOps]:
        """One unit of writes: its own transaction, or a savepoint of the caller's open store
        transaction. ``erase`` changes nothing: the rows are deleted for real, but PostgreSQL
        keeps their old versions in the table files until (auto)vacuum reuses the space, and in
        its write-ahead log, replicas and backups for as long as those are kept; memlane
        controls none of these."""
        with self._unit(locking=True) as ops:
            yield ops


def _statement_timeout(conn: Connection[Any], value: str) -> None:
    """``SET LOCAL statement_timeout`` (until the transaction ends, or this is set again)."""
    conn.execute("SELECT set_config('statement_timeout', %s, true)", (value,))
