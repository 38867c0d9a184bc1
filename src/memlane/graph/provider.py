"""Registration of the graph back ends as ``graph_store`` providers ``sqlite`` and ``falkordb``.

A ``graph_store`` factory gets the memory store in its dependencies (``Dependencies.store``):
the ``sqlite`` graph shares an ``SQLiteStore``'s file, connection and transactions (or opens
``path`` when one is given); ``falkordb`` connects to its server and ignores the memory store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from memlane.errors import ConfigError
from memlane.graph.base import GraphStore
from memlane.graph.settings import GraphSettings

if TYPE_CHECKING:
    from memlane.graph.falkordb import FalkorDBGraphStore
    from memlane.graph.sqlite import SQLiteGraphStore
    from memlane.registry import Dependencies, Registry
    from memlane.store.base import MemoryStore

__all__ = ["FalkorDBGraphConfig", "SQLiteGraphConfig", "build_graph_store", "register"]


class SQLiteGraphConfig(GraphSettings):
    path: str | None = Field(
        default=None,
        description="database file; None means the memory store's own file (an SQLite memory store)",
    )


class FalkorDBGraphConfig(GraphSettings):
    unix_socket_path: str | None = Field(default=None, description="the server's unix socket (preferred)")
    host: str = Field(default="127.0.0.1", description="used when unix_socket_path is not set")
    port: int = Field(default=6379, ge=1, le=65535)
    password: str | None = None
    graph_name: str = Field(default="memlane", min_length=1, max_length=200, pattern=r"^[\w\-.:]+$")

    @model_validator(mode="before")
    @classmethod
    def _mem0_url(cls, data: Any) -> Any:
        """Accept mem0's ``url`` (``redis://host:port`` or ``unix:///path``) for compatibility."""
        if isinstance(data, dict) and "url" in data:
            data = dict(data)
            url = str(data.pop("url"))
            if url.startswith("unix://"):
                data.setdefault("unix_socket_path", url.removeprefix("unix://"))
            else:
                host_port = url.split("://", 1)[-1].rsplit("@", 1)[-1].rstrip("/")
                host, _, port = host_port.partition(":")
                data.setdefault("host", host or "127.0.0.1")
                if port:
                    data.setdefault("port", int(port))
        return data


def _sqlite(config: SQLiteGraphConfig, deps: Dependencies) -> SQLiteGraphStore:
    from memlane.graph.sqlite import SQLiteGraphStore
    from memlane.store.sqlite import SQLiteStore

    if config.path is not None:
        return SQLiteGraphStore(config.path, config)
    if isinstance(deps.store, SQLiteStore):
        return SQLiteGraphStore(deps.store, config)
    raise ConfigError(
        "the sqlite graph store shares an SQLite memory store's file; with another memory "
        "store, set graph_store.config.path"
    )


def _falkordb(config: FalkorDBGraphConfig, _: Dependencies) -> FalkorDBGraphStore:
    from memlane.graph.falkordb import FalkorDBGraphStore

    return FalkorDBGraphStore(
        unix_socket_path=config.unix_socket_path,
        host=config.host,
        port=config.port,
        password=config.password,
        graph_name=config.graph_name,
        settings=config,
    )


def build_graph_store(
    name: str, config: dict[str, Any] | GraphSettings, memory_store: MemoryStore | None
) -> GraphStore:
    """The graph back end ``name`` from its config, bound to ``memory_store``; the same as
    ``GraphStoreSection.build(Dependencies(store=memory_store))``."""
    from memlane.registry import Dependencies, providers  # the wiring: not a dependency of the graph

    return providers.create("graph_store", name, config, Dependencies(store=memory_store))


def register(registry: Registry) -> None:
    registry.register("graph_store", "sqlite", SQLiteGraphConfig, _sqlite)
    registry.register("graph_store", "falkordb", FalkorDBGraphConfig, _falkordb)
