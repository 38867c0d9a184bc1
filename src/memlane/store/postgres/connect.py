"""Connections: one ``psycopg_pool.ConnectionPool`` per store, pgvector types registered.

Every connection is made with ``prepare_threshold=None``: psycopg would otherwise prepare a
statement after five runs and keep its plan across ``SET`` changes (``hnsw.ef_search``,
``hnsw.iterative_scan``), so session settings would stop taking effect.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from memlane.errors import MissingDependencyError, StoreError
from memlane.redact import redact_url

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

__all__ = ["open_pool"]


def _modules() -> tuple[Any, Any, Any]:
    try:
        return (
            importlib.import_module("psycopg"),
            importlib.import_module("psycopg_pool"),
            importlib.import_module("pgvector.psycopg"),
        )
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "psycopg", "postgres") from None


def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    timeout_s: float = 30.0,
    setup: Callable[[Connection[Any]], None] | None = None,
) -> ConnectionPool:
    """An open pool on ``url`` (its first connection made now, so a wrong URL fails here, with
    the password hidden). ``CREATE EXTENSION vector`` runs once if pgvector is not enabled.
    ``setup`` runs on each new connection (adapters), after pgvector's."""
    psycopg, pool_module, pgvector = _modules()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        raise StoreError(f"cannot use PostgreSQL at {redact_url(url)}: {exc}") from None

    def configure(conn: Connection[Any]) -> None:
        pgvector.register_vector(conn)
        if setup is not None:
            setup(conn)
        conn.commit()

    pool: ConnectionPool = pool_module.ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout_s,
        kwargs={"prepare_threshold": None},
        configure=configure,
        open=False,
        name="memlane",
    )
    try:
        pool.open(wait=True, timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - reported with the URL's secrets hidden
        pool.close()
        raise StoreError(f"cannot open a connection pool on {redact_url(url)}: {exc}") from None
    return pool
