"""Registration of the built-in providers (the ``builtins`` entry point)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["register_builtins"]


def register_builtins(registry: Registry) -> None:
    """Register every provider that ships with memlane. Imports no optional SDK."""
    from memlane.embed import hash as hash_embedder
    from memlane.embed import local, openai
    from memlane.store.sqlite import provider as sqlite_store

    for module in (hash_embedder, local, openai, sqlite_store):
        module.register(registry)
