"""The built-in providers, registered through the ``builtins`` entry point as a plug-in's are.

Every back end (a module, or a package such as ``store.sqlite``) has a ``register(registry)``
function; this one calls each. Imports no optional SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memlane.embed import hash as hash_embedder
from memlane.embed import local, openai
from memlane.llm import anthropic as anthropic_llm
from memlane.llm import fake as fake_llm
from memlane.llm import litellm as litellm_llm
from memlane.llm import openai as openai_llm
from memlane.rerank import cross_encoder
from memlane.rerank import llm as llm_reranker
from memlane.store import postgres as postgres_store
from memlane.store import sqlite as sqlite_store
from memlane.store.falkordb import provider as falkordb_store
from memlane.store.postgres import graph_provider as postgres_graph

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["register_builtins"]

BACKENDS = (
    *(hash_embedder, local, openai),
    *(anthropic_llm, fake_llm, litellm_llm, openai_llm),
    sqlite_store,
    postgres_store,
    falkordb_store,
    postgres_graph,
    *(cross_encoder, llm_reranker),
)
"""Every built-in back end, by the module (or package) that holds its ``register``."""


def register_builtins(registry: Registry) -> None:
    """Register every provider that ships with memlane."""
    for backend in BACKENDS:
        backend.register(registry)
