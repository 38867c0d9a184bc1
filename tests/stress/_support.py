"""Helpers shared by the stress tests: configs, raw SQLite reads, row fingerprints."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from memlane import Memory
from memlane.store.sqlite import SQLiteStore

__all__ = ["DIMS", "config_for", "fingerprint", "open_memory", "sqlite_store", "table_counts"]

DIMS = 64
"""Vector size of the hash embedder in these tests (small keeps the files and reloads light)."""

TABLES = ("memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots")


def config_for(path: Path | str, dims: int = DIMS) -> dict[str, Any]:
    """A Memory config: the hash embedder and a SQLite file."""
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
    }


def open_memory(path: Path | str) -> Memory:
    return Memory(config_for(path))


def sqlite_store(memory: Memory) -> SQLiteStore:
    assert isinstance(memory.store, SQLiteStore)
    return memory.store


def table_counts(store: SQLiteStore) -> dict[str, int]:
    """Rows in every table, deleted memories included, plus the live memories."""
    counts = {t: int(store.execute(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}
    counts["live"] = int(store.execute("SELECT count(*) FROM memories WHERE deleted_at IS NULL")[0][0])
    return counts


def fingerprint(rows: list[tuple[Any, ...]]) -> str:
    """A digest of query rows, to compare table contents cheaply."""
    digest = hashlib.blake2b(digest_size=16)
    for row in rows:
        digest.update(repr(row).encode("utf-8", "backslashreplace"))
        digest.update(b"\x1e")
    return digest.hexdigest()
