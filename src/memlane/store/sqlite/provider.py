"""Registration of the SQLite store as the ``sqlite`` vector_store provider."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from memlane.store.sqlite.store import SQLiteStore

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["SQLiteStoreConfig", "default_path", "register"]


def default_path() -> Path:
    """``$MEMLANE_DIR/memlane.db``, with ``MEMLANE_DIR`` defaulting to ``~/.memlane``."""
    return Path(os.environ.get("MEMLANE_DIR") or Path.home() / ".memlane") / "memlane.db"


class SQLiteStoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None, description="database file; ':memory:' for a private in-memory store; "
        "None means $MEMLANE_DIR/memlane.db (default ~/.memlane/memlane.db)"
    )  # fmt: skip
    busy_timeout_ms: int = Field(default=30_000, ge=0, le=3_600_000)


def _build(config: SQLiteStoreConfig) -> SQLiteStore:
    return SQLiteStore(config.path or default_path(), busy_timeout_ms=config.busy_timeout_ms)


def register(registry: Registry) -> None:
    registry.register("vector_store", "sqlite", SQLiteStoreConfig, _build)
