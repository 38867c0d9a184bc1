"""Registration of the FalkorDB graph as the ``falkordb`` graph_store provider.

Its factory connects to the server and ignores the memory store in its dependencies. The SDK
is imported only when a store is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from memlane.graph.settings import GraphSettings

if TYPE_CHECKING:
    from memlane.registry import Dependencies, Registry
    from memlane.store.falkordb.graph import FalkorDBGraphStore

__all__ = ["FalkorDBGraphConfig", "register"]


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


def _build(config: FalkorDBGraphConfig, _: Dependencies) -> FalkorDBGraphStore:
    from memlane.store.falkordb.graph import FalkorDBGraphStore

    return FalkorDBGraphStore(
        unix_socket_path=config.unix_socket_path,
        host=config.host,
        port=config.port,
        password=config.password,
        graph_name=config.graph_name,
        settings=config,
    )


def register(registry: Registry) -> None:
    registry.register("graph_store", "falkordb", FalkorDBGraphConfig, _build)
