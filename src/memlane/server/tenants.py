"""One ``Memory`` per tenant, each built on first use from the server's base config.

``tenant_config(base, tenant)`` derives a tenant's whole config from the base config, so that no
two tenants share rows, files or graphs:

- SQLite store: the tenant ``default`` uses the base database itself (what ``memlane`` on the
  command line writes); any other tenant a file beside it, ``<db>.tenants/<tenant>.db``;
- PostgreSQL store (``postgres``, or mem0's ``pgvector``): the same database, with the store
  section's ``tenant`` set (every row and statement of a PostgreSQL store carries it);
- graph: the embedded SQLite graph follows its store (or, with its own ``path``, gets a file per
  tenant the same way); FalkorDB: a graph per tenant, ``<graph_name>-<tenant>``.

Any other store provider has no known way to keep tenants apart: the server refuses to serve a
tenant other than ``default`` on it rather than mix them.
"""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Any

from memlane import ConfigError, Memory
from memlane.server.keys import DEFAULT_TENANT, check_tenant

__all__ = ["TenantMemories", "default_db_path", "tenant_config"]

_POSTGRES = frozenset({"postgres", "pgvector"})


def default_db_path() -> Path:
    """``$MEMLANE_DIR/memlane.db`` (``~/.memlane/memlane.db``): the SQLite store's own default."""
    return Path(os.environ.get("MEMLANE_DIR") or Path.home() / ".memlane") / "memlane.db"


def _section(config: dict[str, Any], name: str) -> dict[str, Any] | None:
    section = config.get(name)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(f"the config's {name} must be a dict, got {type(section).__name__}")
    out = dict(section)
    inner = out.get("config") or {}
    if not isinstance(inner, dict):
        raise ConfigError(f"the config's {name}.config must be a dict, got {type(inner).__name__}")
    out["config"] = dict(inner)
    return out


def _beside(path: str, tenant: str) -> str:
    if path == ":memory:":
        return path  # a private database per Memory anyway
    return str(Path(f"{path}.tenants") / f"{tenant}.db")


def tenant_config(base: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The config of ``tenant``'s Memory: ``base`` with its store (and graph) made the tenant's own."""
    check_tenant(tenant)
    config = copy.deepcopy(base)
    store = _section(config, "vector_store") or {"provider": "sqlite", "config": {}}
    provider = store.get("provider", "sqlite")
    if provider in _POSTGRES:
        store["config"]["tenant"] = tenant
    elif provider == "sqlite":
        path = store["config"].get("path") or str(default_db_path())
        store["config"]["path"] = path if tenant == DEFAULT_TENANT else _beside(path, tenant)
    elif tenant != DEFAULT_TENANT:
        raise ConfigError(
            f"the {provider!r} store cannot keep tenants apart; serve tenants other than "
            f"{DEFAULT_TENANT!r} from the sqlite or postgres store"
        )
    config["vector_store"] = store
    graph = _section(config, "graph_store")
    if graph is not None and tenant != DEFAULT_TENANT:
        kind = graph.get("provider", "sqlite")
        if kind == "falkordb":
            graph["config"]["graph_name"] = f"{graph['config'].get('graph_name') or 'memlane'}-{tenant}"
        elif kind == "sqlite" and graph["config"].get("path"):
            graph["config"]["path"] = _beside(graph["config"]["path"], tenant)
        elif kind in _POSTGRES:
            graph["config"]["tenant"] = tenant
        config["graph_store"] = graph
    return config


class TenantMemories:
    """The Memory of each tenant, built on first use (one at a time per tenant) and closed at exit."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self._memories: dict[str, Memory] = {}
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    def get(self, tenant: str) -> Memory:
        memory = self._memories.get(tenant)
        if memory is not None:
            return memory
        with self._lock:
            building = self._building.setdefault(tenant, threading.Lock())
        with building:
            memory = self._memories.get(tenant)
            if memory is None:
                config = tenant_config(self.base, tenant)
                path = _sqlite_path(config)
                if path is not None:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                memory = Memory.from_config(config)
                self._memories[tenant] = memory
        return memory

    def loaded_memory(self, tenant: str) -> Memory | None:
        """The tenant's Memory if it is built already (never builds one)."""
        return self._memories.get(tenant)

    def loaded(self) -> list[str]:
        return sorted(self._memories)

    def close(self) -> None:
        with self._lock:
            memories, self._memories = list(self._memories.values()), {}
        for memory in memories:
            memory.close()


def _sqlite_path(config: dict[str, Any]) -> str | None:
    store = config["vector_store"]
    path = store["config"].get("path") if store.get("provider", "sqlite") == "sqlite" else None
    return None if path in (None, ":memory:") else str(path)
