"""``FalkorDBGraphStore``: the graph on a FalkorDB server (openCypher over the Redis protocol).

The SDK (``falkordb``) is imported when a store is built; without it, ``MissingDependencyError``
names the extra (``pip install 'memlane[falkordb]'``). ``apply``, ``search`` and the deletes are
``OpsGraphStore``'s; the operations are ``CypherOps``' (``graph_ops``), the statements ``cypher``'s.
FalkorDB runs each statement atomically but has no multi-statement transactions: writes of one
process are serialised by a lock, so ``apply`` resolves entities consistently within a process.
Name similarity is exact (``vec.cosineDistance`` over the scope's entities, in the server).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memlane.errors import InvalidInputError, MissingDependencyError, StoreError
from memlane.graph.engine import require_scope
from memlane.graph.query import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    MAX_HOPS,
    CypherQuery,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
    validate_cypher,
)  # fmt: skip
from memlane.graph.settings import GraphSettings
from memlane.graph.store import OpsGraphStore
from memlane.models import Scope
from memlane.store.falkordb import cypher
from memlane.store.falkordb.graph_ops import CypherOps
from memlane.store.falkordb.query import run_cypher

__all__ = ["FalkorDBGraphStore"]


def _unreachable(exc: BaseException | None) -> bool:
    """Whether a failure means the server could not be reached or refused us (not a bad query)."""
    names = {cls.__name__ for cls in type(exc).__mro__} if exc is not None else set()
    return bool(names & {"ConnectionError", "TimeoutError", "AuthenticationError", "OSError"})


class FalkorDBGraphStore(OpsGraphStore):
    """The ``GraphStore`` on FalkorDB: one named graph holds every scope."""

    query_dialect: QueryDialect | None = "cypher"

    def __init__(
        self,
        *,
        unix_socket_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 6379,
        password: str | None = None,
        graph_name: str = "memlane",
        settings: GraphSettings | None = None,
    ) -> None:
        try:
            sdk: Any = importlib.import_module("falkordb")
        except ImportError:
            raise MissingDependencyError("falkordb", "falkordb") from None
        address = f"unix socket {unix_socket_path}" if unix_socket_path else f"{host}:{port}"
        self._db: Any = None
        try:
            if unix_socket_path:
                self._db = sdk.FalkorDB(unix_socket_path=unix_socket_path, password=password)
            else:
                self._db = sdk.FalkorDB(host=host, port=port, password=password)
            self._graph: Any = self._db.select_graph(graph_name)
            self.settings = settings or GraphSettings()
            self._lock = threading.RLock()
            self._ensure_indexes()
        except Exception as exc:  # the SDK's (redis') own errors: refused, timeout, auth…
            self._close_quietly()
            if isinstance(exc, StoreError) and not _unreachable(exc.__cause__):
                raise
            reason = exc.__cause__ if isinstance(exc, StoreError) else exc
            raise StoreError(
                f"cannot reach the FalkorDB server at {address} ({type(reason).__name__}: {reason}); "
                "start it (e.g. docker run -p 6379:6379 falkordb/falkordb), fix graph_store.config "
                "(host, port, unix_socket_path, password or url), or use the embedded graph "
                "(graph_store provider 'sqlite')"
            ) from None

    def _close_quietly(self) -> None:
        if self._db is None:
            return
        with contextlib.suppress(Exception):  # closing a connection that never opened
            self._db.close()

    def _ensure_indexes(self) -> None:
        for statement in cypher.INDEXES:
            try:
                self._graph.query(statement)
            except Exception as exc:
                if "already indexed" not in str(exc):
                    raise StoreError(f"FalkorDB: {exc}") from exc

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement; the rows of its result."""
        try:
            rows: list[list[Any]] = self._graph.query(statement, dict(params or {})).result_set
        except Exception as exc:
            raise StoreError(f"FalkorDB: {exc}") from exc
        return rows

    def read_query(
        self,
        scope: Scope,
        query: GraphQuery,
        *,
        limit: int = DEFAULT_LIMIT,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryOutcome:
        """Model-written Cypher, validated (``validate_cypher``), then run read-only with a time
        limit (``memlane.store.falkordb.query``)."""
        require_scope(scope)
        if not isinstance(query, CypherQuery):
            raise InvalidInputError(f"the FalkorDB graph answers Cypher queries, not {type(query).__name__}")
        validated = validate_cypher(query.text, scope, limit=limit, max_hops=MAX_HOPS)
        ops = CypherOps(self.query)
        return run_cypher(self._graph, ops.relations_by_ids, validated, scope, timeout_ms)

    @contextmanager
    def reading(self) -> Iterator[CypherOps]:
        """Reads need no lock: each statement is atomic."""
        yield CypherOps(self.query)

    @contextmanager
    def writing(self, *, erase: bool = False) -> Iterator[CypherOps]:
        """The writes of one call under this process's lock (no rollback: FalkorDB has no
        multi-statement transactions). ``erase`` changes nothing: a server that persists (RDB,
        AOF) keeps old copies of what ``purge`` deleted until its next save or rewrite."""
        with self._lock:
            yield CypherOps(self.query)

    def close(self) -> None:
        self._db.close()

    def drop(self) -> None:
        """Delete the whole named graph, indexes included (tests and tools)."""
        self._graph.delete()
