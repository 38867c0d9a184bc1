"""Registration of the PostgreSQL store as the ``postgres`` vector_store provider, and as mem0's
``pgvector`` (mem0's config section works unchanged).

memlane's form: ``{"provider": "postgres", "config": {"url": "postgresql://…", "tenant": "acme"}}``.
mem0's: ``{"provider": "pgvector", "config": {"connection_string": "postgresql://…"}}`` or
``dbname``/``user``/``password``/``host``/``port`` (+ ``sslmode``), with ``collection_name``
(the tenant, when no tenant is given: two mem0 collections stay apart), ``embedding_model_dims``
(checked against the embedder), ``minconn``/``maxconn`` (the pool's size), ``hnsw`` (true:
the HNSW index, pgvector's defaults; false: none, every search exact; or ``{"m",
"ef_construction", "ef_search"}``) and ``diskann`` (accepted, ignored). The password never appears in the
config's repr, in logs or in errors.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from memlane.errors import ConfigError, MissingDependencyError
from memlane.redact import redact_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from memlane.registry import Dependencies, Registry
    from memlane.store.postgres.store import PostgresStore

__all__ = [
    "DEFAULT_TENANT",
    "TENANT_PATTERN",
    "HnswConfig",
    "PostgresStoreConfig",
    "check_tenant",
    "register",
]

logger = logging.getLogger("memlane")

DEFAULT_TENANT = "default"
TENANT_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_tenant(tenant: str) -> str:
    """``tenant`` if it is a valid tenant name, else ``ConfigError`` saying what is allowed."""
    if not isinstance(tenant, str) or not TENANT_PATTERN.fullmatch(tenant):
        raise ConfigError(
            f"invalid tenant {tenant!r}: use 1-63 lowercase letters, digits, '_' or '-', starting "
            "with a letter or a digit"
        )
    return tenant


class HnswConfig(BaseModel):
    """The HNSW index's build parameters and the searches' candidate list (pgvector's names)."""

    model_config = ConfigDict(extra="forbid")

    m: int = Field(default=16, ge=2, le=100, description="links per node (pgvector's default 16)")
    ef_construction: int = Field(
        default=64, ge=4, le=1000, description="candidates while building (at least 2 * m; default 64)"
    )
    ef_search: int = Field(
        default=100, ge=1, le=1000, description="candidates while searching (at least the pool asked for)"
    )

    @model_validator(mode="after")
    def _check(self) -> HnswConfig:
        if self.ef_construction < 2 * self.m:
            raise ValueError(f"hnsw.ef_construction must be at least 2 * m ({2 * self.m})")
        return self


class PostgresStoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    url: str | None = Field(default=None, description="postgresql://user:password@host:port/dbname")
    tenant: str | None = Field(
        default=None,
        description="the tenant whose records this store reads and writes ([a-z0-9][a-z0-9_-]{0,62}); "
        "default: collection_name when given, else 'default'",
    )
    min_size: int | None = Field(
        default=None, ge=0, le=1000, description="pool connections kept open (default 1)"
    )
    max_size: int | None = Field(
        default=None, ge=1, le=1000, description="pool connections at most (default 10)"
    )
    timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="wait for a connection at most this long"
    )
    embedding_model_dims: int | None = Field(
        default=None, ge=1, description="mem0's field: checked against the embedder's vector size"
    )
    # mem0's pgvector fields
    connection_string: str | None = Field(default=None, description="mem0's name for url")
    dbname: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    host: str | None = Field(default=None, description="a host name, or a unix socket folder")
    port: int | None = Field(default=None, ge=1, le=65535)
    sslmode: str | None = None
    collection_name: str | None = Field(
        default=None, description="mem0's field: the tenant when none is given"
    )
    minconn: int | None = Field(default=None, ge=0, le=1000, description="mem0's name for min_size")
    maxconn: int | None = Field(default=None, ge=1, le=1000, description="mem0's name for max_size")
    hnsw: bool | HnswConfig | None = Field(
        default=None,
        description="mem0's field: true (default) builds the HNSW index, false builds none (exact "
        "searches); or {m, ef_construction, ef_search}",
    )
    diskann: bool | None = Field(default=None, description="mem0's field; ignored")
    connection_pool: Any = Field(default=None, description="mem0's field; not supported (give a URL)")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield (
                name,
                redact_url(value)
                if name in ("url", "connection_string") and isinstance(value, str)
                else value,
            )

    @model_validator(mode="after")
    def _check(self) -> PostgresStoreConfig:
        if self.connection_pool is not None:
            raise ValueError("connection_pool is not supported: give url (or connection_string) instead")
        if self.url and self.connection_string:
            raise ValueError("give url or connection_string, not both")
        parts = (self.dbname, self.user, self.password, self.host, self.port, self.sslmode)
        if (self.url or self.connection_string) and any(p is not None for p in parts):
            raise ValueError(
                "give a URL (url / connection_string) or its parts (dbname, user, host...), not both"
            )
        if not (self.url or self.connection_string or self.dbname or self.host):
            raise ValueError("give url (postgresql://user:password@host:port/dbname), or dbname and host")
        if self.diskann:
            logger.info("vector_store.config.diskann is mem0's; the postgres store ignores it")
        check_tenant(self.resolved_tenant())
        return self

    def resolved_tenant(self) -> str:
        """``tenant``, else mem0's ``collection_name``, else "default"."""
        return self.tenant or self.collection_name or DEFAULT_TENANT

    def resolved_url(self) -> str:
        """The URL to connect to (built from the parts when no URL is given)."""
        given = self.url or self.connection_string
        if given:
            return given
        user = quote(self.user or "", safe="")
        password = self.password.get_secret_value() if self.password else ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        query: dict[str, str] = {}
        host = self.host or ""
        if host.startswith("/"):  # a unix socket folder goes into the query
            query["host"], host = host, ""
        port = f":{self.port}" if self.port and host else ""
        if self.port and not host:
            query["port"] = str(self.port)
        if self.sslmode:
            query["sslmode"] = self.sslmode
        tail = f"?{urlencode(query)}" if query else ""
        return f"postgresql://{auth}{host}{port}/{quote(self.dbname or 'postgres', safe='')}{tail}"


def _build(config: PostgresStoreConfig, _: Dependencies) -> PostgresStore:
    try:
        store_module: Any = importlib.import_module("memlane.store.postgres.store")
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "psycopg", "postgres") from None
    min_size = config.min_size if config.min_size is not None else config.minconn
    max_size = config.max_size if config.max_size is not None else config.maxconn
    max_size = max_size if max_size is not None else 10
    store: PostgresStore = store_module.PostgresStore(
        config.resolved_url(),
        tenant=config.resolved_tenant(),
        min_size=min(min_size if min_size is not None else 1, max_size),
        max_size=max_size,
        timeout_s=config.timeout_s,
        expected_dimension=config.embedding_model_dims,
        hnsw=_hnsw(config.hnsw),
    )
    return store


def _hnsw(option: bool | HnswConfig | None) -> Any:
    """The store's ``HnswSettings`` for mem0's ``hnsw`` option."""
    settings: Any = importlib.import_module("memlane.store.postgres.search").HnswSettings
    if isinstance(option, HnswConfig):
        return settings(m=option.m, ef_construction=option.ef_construction, ef_search=option.ef_search)
    return settings(index=option is not False)


def register(registry: Registry) -> None:
    registry.register("vector_store", "postgres", PostgresStoreConfig, _build)
    registry.register("vector_store", "pgvector", PostgresStoreConfig, _build)
