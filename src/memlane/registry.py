"""One registry for every kind of provider (llm, embedder, vector_store, graph_store, reranker).

Built-in providers register exactly as third-party ones do: through the ``memlane.providers``
entry-point group, whose entries are callables taking the registry. Discovery is lazy and
happens once, on the first lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from pydantic import BaseModel

from memlane.errors import ConfigError, UnknownProviderError

__all__ = ["ENTRY_POINT_GROUP", "Kind", "Provider", "Registry", "registry"]

Kind = Literal["llm", "embedder", "vector_store", "graph_store", "reranker"]
ENTRY_POINT_GROUP = "memlane.providers"
_BUILTINS_ENTRY = "builtins"


@dataclass(frozen=True, slots=True)
class Provider:
    """A named way to build one kind of back end from its validated config."""

    kind: Kind
    name: str
    config_model: type[BaseModel]
    factory: Callable[[Any], Any]


class Registry:
    """Providers by kind and name."""

    def __init__(self, *, discover: bool = True) -> None:
        self._providers: dict[tuple[str, str], Provider] = {}
        self._discover = discover
        self._loaded = False
        self._lock = threading.RLock()

    def register(
        self,
        kind: Kind,
        name: str,
        config_model: type[BaseModel],
        factory: Callable[[Any], Any],
    ) -> None:
        """Register (or replace) the provider ``name`` of ``kind``."""
        with self._lock:
            self._providers[(kind, name)] = Provider(kind, name, config_model, factory)

    def names(self, kind: Kind) -> list[str]:
        """The registered provider names of one kind, sorted."""
        self._ensure_loaded()
        return sorted(n for k, n in self._providers if k == kind)

    def get(self, kind: Kind, name: str) -> Provider:
        """The provider, or ``UnknownProviderError`` listing the known names."""
        self._ensure_loaded()
        try:
            return self._providers[(kind, name)]
        except KeyError:
            raise UnknownProviderError(kind, name, self.names(kind)) from None

    def validate(self, kind: Kind, name: str, config: dict[str, Any] | BaseModel) -> BaseModel:
        """Validate a provider's config into its config model."""
        provider = self.get(kind, name)
        if isinstance(config, provider.config_model):
            return config
        data = config.model_dump() if isinstance(config, BaseModel) else config
        return provider.config_model.model_validate(data)

    def create(self, kind: Kind, name: str, config: dict[str, Any] | BaseModel) -> Any:
        """Build the back end ``name`` of ``kind`` from its config."""
        return self.get(kind, name).factory(self.validate(kind, name, config))

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            found_builtins = False
            if self._discover:
                for ep in entry_points(group=ENTRY_POINT_GROUP):
                    found_builtins |= ep.name == _BUILTINS_ENTRY
                    _call_register(ep.load(), self, ep.name)
            if not found_builtins:  # running from a source tree that was never installed
                from memlane.providers import register_builtins

                register_builtins(self)


def _call_register(fn: Any, reg: Registry, name: str) -> None:
    if not callable(fn):
        raise ConfigError(f"entry point {name!r} in {ENTRY_POINT_GROUP!r} is not callable")
    fn(reg)


registry = Registry()
"""The process-wide registry that ``MemoryConfig`` resolves providers in."""
