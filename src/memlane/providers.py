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
    from memlane.llm import anthropic as anthropic_llm
    from memlane.llm import fake as fake_llm
    from memlane.llm import litellm as litellm_llm
    from memlane.llm import openai as openai_llm
    from memlane.rerank import cross_encoder
    from memlane.rerank import llm as llm_reranker
    from memlane.store.falkordb import provider as falkordb_store
    from memlane.store.sqlite import provider as sqlite_store

    embedders = (hash_embedder, local, openai)
    llms = (anthropic_llm, fake_llm, litellm_llm, openai_llm)
    rerankers = (cross_encoder, llm_reranker)
    for module in (*embedders, *llms, sqlite_store, falkordb_store, *rerankers):
        module.register(registry)
