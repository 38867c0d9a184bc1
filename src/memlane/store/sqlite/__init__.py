"""The embedded default store: one SQLite file (WAL) with FTS5 and exact vector search."""

from memlane.store.sqlite.provider import register
from memlane.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "register"]
