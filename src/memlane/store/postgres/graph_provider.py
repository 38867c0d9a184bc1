"""Registration of the PostgreSQL graph as the ``postgres`` graph_store provider.

Its factory shares a ``PostgresStore`` memory store (the same database, pool, tenant and
transactions) unless ``url`` is set, in which case it opens a pool of its own. psycopg is
imported only when a store is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from memlane.errors import ConfigError
from memlane.graph.settings import GraphSettings
from memlane.store.postgres.provider import TENANT_PATTERN

if TYPE_CHECKING:
    from memlane.registry import Dependencies, Registry
    from memlane.store.postgres.graph import PostgresGraphStore

__all__ = ["PostgresGraphConfig", "register"]


class PostgresGraphConfig(GraphSettings):
    url: str | None = Field(
        default=None,
        description="postgresql://... of the graph's own database; None means the memory store's "
        "(a postgres memory store: same database, tenant and transactions)",
    )
    tenant: str | None = Field(
        default=None,
        pattern=f"^{TENANT_PATTERN.pattern}$",
        description="with url: the tenant the graph reads and writes ('default' when None); "
        "without: must be None or the memory store's",
    )
    max_connections: int = Field(default=10, ge=1, le=1000, description="with url: the pool's size")


def _build(config: PostgresGraphConfig, deps: Dependencies) -> PostgresGraphStore:
    from memlane.store.postgres.graph import PostgresGraphStore

    if config.url is not None:
        return PostgresGraphStore(
            config.url, config, tenant=config.tenant, max_connections=config.max_connections
        )
    store = deps.store
    if getattr(store, "graph_provider", None) == "postgres":  # a PostgresStore: psycopg is installed
        from memlane.store.postgres.store import PostgresStore

        if isinstance(store, PostgresStore):
            return PostgresGraphStore(store, config, tenant=config.tenant)
    raise ConfigError(
        "the postgres graph store shares a postgres memory store's database; with another "
        "memory store, set graph_store.config.url"
    )


def register(registry: Registry) -> None:
    registry.register("graph_store", "postgres", PostgresGraphConfig, _build)
