"""Registration of the SQLite store as the ``sqlite`` vector_store provider, and of its graph as
the ``sqlite`` graph_store provider.

The graph factory gets the memory store in its dependencies (``Dependencies.store``): the SQLite
graph shares an ``SQLiteStore``'s file, connection and transactions (or opens ``path`` when one
is given).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from memlane.errors import ConfigError
from memlane.graph.settings import GraphSettings
from memlane.store.sqlite.graph import SQLiteGraphStore
from memlane.store.sqlite.store import ANN_OVERSAMPLE, ANN_THRESHOLD, SQLiteStore

if TYPE_CHECKING:
    from memlane.registry import Dependencies, Registry

__all__ = ["SQLiteGraphConfig", "SQLiteStoreConfig", "default_path", "register"]

logger = logging.getLogger("memlane")


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
    create: bool = Field(
        default=True,
        description="False: refuse a missing or empty file instead of creating the store (the "
        "CLI's read commands use it)",
    )
    embedding_model_dims: int | None = Field(
        default=None, ge=1, description="mem0's field: checked against the embedder's vector size"
    )
    ann_threshold: int | None = Field(
        default=ANN_THRESHOLD,
        ge=1,
        description="a vector search over at least this many memories (the scope or filter's "
        "selection) uses an approximate index whose candidates are scored exactly; None: "
        "always exact",
    )
    ann_oversample: int = Field(
        default=ANN_OVERSAMPLE, ge=1, le=1000, description="approximate candidates per result wanted"
    )
    collection_name: str | None = Field(
        default=None, description="mem0's field; ignored (one store per file)"
    )
    on_disk: bool | None = Field(default=None, description="mem0's field; ignored (always on disk)")

    @model_validator(mode="after")
    def _log_ignored(self) -> SQLiteStoreConfig:
        for name in ("collection_name", "on_disk"):
            if getattr(self, name) is not None:
                logger.debug("vector_store.config.%s is mem0's; the sqlite store ignores it", name)
        return self


def _build(config: SQLiteStoreConfig, _: Dependencies) -> SQLiteStore:
    return SQLiteStore(
        config.path or default_path(),
        busy_timeout_ms=config.busy_timeout_ms,
        create=config.create,
        expected_dimension=config.embedding_model_dims,
        ann_threshold=config.ann_threshold,
        ann_oversample=config.ann_oversample,
    )


class SQLiteGraphConfig(GraphSettings):
    path: str | None = Field(
        default=None,
        description="database file; None means the memory store's own file (an SQLite memory store)",
    )


def _graph(config: SQLiteGraphConfig, deps: Dependencies) -> SQLiteGraphStore:
    if config.path is not None:
        return SQLiteGraphStore(config.path, config)
    if isinstance(deps.store, SQLiteStore):
        return SQLiteGraphStore(deps.store, config)
    raise ConfigError(
        "the sqlite graph store shares an SQLite memory store's file; with another memory "
        "store, set graph_store.config.path"
    )


def register(registry: Registry) -> None:
    registry.register("vector_store", "sqlite", SQLiteStoreConfig, _build)
    registry.register("graph_store", "sqlite", SQLiteGraphConfig, _graph)
