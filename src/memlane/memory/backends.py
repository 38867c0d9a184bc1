"""``Backends``: the one bundle of back ends (and the state they share) every pipeline takes.

``Backends.build`` is the only place that turns a config into back ends: every one of them
(store, embedder, LLM, graph, reranker) can be given ready-made instead. The pipelines
(``memlane.memory.write``, ``memlane.memory.search``, ``erase``, ``export``, ``profile``) are
plain functions over this bundle; ``Memory`` owns one and shares nothing else with them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from memlane.config import GraphStoreSection, MemoryConfig
from memlane.embed.base import Embedder
from memlane.graph.base import GraphStore
from memlane.llm.base import LLM
from memlane.memory.swap import SwapLock
from memlane.models import Usage
from memlane.registry import Dependencies
from memlane.rerank.base import Reranker
from memlane.store.base import MemoryStore, check_embedder

__all__ = ["Backends"]


@dataclass(slots=True, eq=False)
class Backends:
    """The back ends of one ``Memory`` and the state its pipelines share.

    The back ends are set once by ``build`` (tests may swap ``llm``); the state below them is
    what several pipelines read or update, each under ``lock``.
    """

    config: MemoryConfig
    store: MemoryStore
    embedder: Embedder
    llm: LLM | None = None
    graph: GraphStore | None = None
    """Entities and relations, when the graph is on (``enable_graph`` or ``graph_store``)."""
    reranker: Reranker | None = None
    """Used by ``search(rerank=True)``."""
    usage: Usage = field(default_factory=Usage)
    """LLM calls and tokens spent through these back ends so far (``Memory.llm_usage``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    swap: SwapLock = field(default_factory=SwapLock)
    """Held shared by every call that embeds and then uses the store; ``reindex`` switches
    the embedder under it alone."""
    embedder_checked: bool = False
    """Whether the store has been bound to the embedder (``check_embedder``) since it last
    changed (``reset``, ``import_data``)."""

    @classmethod
    def build(
        cls,
        config: MemoryConfig | dict[str, Any] | None = None,
        *,
        store: MemoryStore | None = None,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        graph: GraphStore | None = None,
        reranker: Reranker | None = None,
    ) -> Backends:
        """The back ends ``config`` names (memlane's or mem0's shape; default: offline), except
        those given ready-made. A store opened here is closed again if a later one fails."""
        loaded = MemoryConfig.load(config)
        opened = store is None
        store = store if store is not None else loaded.vector_store.build()
        try:
            embedder = embedder if embedder is not None else loaded.embedder.build()
            if llm is None and loaded.llm is not None:
                llm = loaded.llm.build()
            deps = Dependencies(store=store, llm=llm)
            graph_section = loaded.graph_store or (GraphStoreSection() if loaded.enable_graph else None)
            if graph is None and graph_section is not None:
                graph = graph_section.for_store(store).build(deps)
            if reranker is None and loaded.reranker is not None:
                reranker = loaded.reranker.build(deps)
        except BaseException:
            if opened:  # the store this call opened is not left open behind the error
                store.close()
            raise
        return cls(loaded, store, embedder, llm, graph, reranker)

    def check_embedder(self) -> None:
        """Bind the store to the embedder (its vector size and model) once, before the first
        embedding is written or searched."""
        if not self.embedder_checked:
            with self.lock:
                check_embedder(self.store, self.embedder)
                self.embedder_checked = True

    def store_changed(self) -> None:
        """The store was emptied or loaded: check the embedder again before the next use."""
        self.embedder_checked = False

    def spend(self, usage: Usage) -> None:
        """Add what one call spent to ``usage`` (thread-safe)."""
        with self.lock:
            self.usage.add(usage)

    @property
    def profile_on(self) -> bool:
        return self.config.profile.enabled

    def close(self) -> None:
        """Release the graph, the store and the providers' connections."""
        if self.graph is not None:
            self.graph.close()
        self.store.close()
        self.embedder.close()
        if self.llm is not None:
            self.llm.close()
