"""``reindex``: move a store to a new embedding model (another dimension included) while it
stays in use.

1. Stage: every current memory is embedded with the new model in batches, each batch kept in
   the store's staging (``StoreTransaction.stage_vectors``) beside the current vectors, so
   searches go on with the old model meanwhile. Staged vectors survive an interruption: a rerun
   with the same model embeds only what is missing.
2. Switch: under this ``Memory``'s swap lock (its calls that embed wait a moment) and in ONE
   store transaction (other writers wait): the memories added or changed since they were staged
   are embedded, every vector is swapped for its staged one, the store's meta names the new
   embedder and dimension, and the graph's entity names are re-embedded (in the same
   transaction where the graph shares the store). Then this ``Memory`` uses the new embedder,
   and the store builds what indexes the new size needs (PostgreSQL's HNSW, in bulk, outside
   the lock; searches are exact until it exists).

Other processes still on the old embedder get ``EmbedderMismatchError`` at their next write or
vector search (``DimensionMismatchError``, its parent, when their graph notices the new size
first): restart them with the new embedder config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from memlane.config import EmbedderSection, MemoryConfig
from memlane.embed.base import Embedder
from memlane.errors import InvalidInputError
from memlane.memory.backends import Backends
from memlane.models import Vectors

__all__ = ["build_embedder", "reindex"]

Progress = Callable[[int, int], None]
"""``progress(memories embedded so far, memories to embed in all)``."""


def build_embedder(config: dict[str, Any] | Embedder) -> tuple[Embedder, EmbedderSection | None]:
    """An embedder from its config section (``{"provider": ..., "config": {...}}``, as in
    ``MemoryConfig.embedder``; ``ConfigError`` if invalid) and that section, or the embedder
    given itself (no section)."""
    if not isinstance(config, dict):
        return config, None
    section = MemoryConfig.load({"embedder": config}).embedder
    return section.build(), section


def _identity(embedder: Embedder) -> str:
    return embedder.identity or f"{type(embedder).__name__}:{embedder.dimension}"


def reindex(
    backends: Backends,
    embedder: Embedder,
    section: EmbedderSection | None = None,
    *,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Re-embed every memory (and graph entity name) of ``backends`` with ``embedder``, then
    switch to it atomically (see the module docstring; ``section``: its config, which replaces
    the config's embedder section); a report of what was done."""
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be at least 1, got {batch_size}")
    try:
        return _reindex(backends, embedder, section, batch_size, progress)
    except BaseException:
        if section is not None and backends.embedder is not embedder:  # built for this call
            embedder.close()
        raise


def _reindex(
    backends: Backends,
    embedder: Embedder,
    section: EmbedderSection | None,
    batch_size: int,
    progress: Progress | None,
) -> dict[str, Any]:
    store, identity, dimension = backends.store, _identity(embedder), embedder.dimension
    previous = {"embedder": store.meta("embedder"), "dimension": _int(store.meta("dimension"))}
    with store.transaction() as tx:
        total = tx.count_unstaged(identity)
    embed = _embedding(embedder)
    done = _stage(backends, identity, embed, batch_size, total, progress)
    with backends.swap.exclusive():
        started = time.perf_counter()
        with store.transaction() as tx:
            late = tx.unstaged(identity)  # added or changed since they were staged
            if late:
                tx.stage_vectors(identity, _vectors(late, embed))
            switched = tx.switch_vectors(identity, dimension)
            entities = backends.graph.reembed(embed) if backends.graph is not None else 0
        old, backends.embedder = backends.embedder, embedder
        if section is not None:
            backends.config = backends.config.model_copy(update={"embedder": section})
        backends.embedder_checked = True  # the switch bound the store to the new embedder
        held = time.perf_counter() - started
    store.ensure_dimension(dimension)  # indexes for the new size, where a back end builds them
    if old is not embedder:
        old.close()
    if progress is not None:
        progress(done + len(late), max(total, done + len(late)))
    return {
        "message": f"Reindexed {switched} memories with {identity}.",
        "reindexed": switched,
        "entities": entities,
        "caught_up": len(late),
        "switch_seconds": round(held, 3),
        "embedder": identity,
        "dimension": dimension,
        "previous": previous,
    }


def _stage(
    backends: Backends,
    identity: str,
    embed: Callable[[Sequence[str]], Vectors],
    batch_size: int,
    total: int,
    progress: Progress | None,
) -> int:
    """Embed and stage the memories in batches, outside any lock but a batch's own
    transaction; return how many were staged."""
    done, after = 0, None
    while True:
        with backends.store.transaction() as tx:
            batch = tx.unstaged(identity, after=after, limit=batch_size)
        if not batch:
            return done
        vectors = _vectors(batch, embed)
        with backends.store.transaction() as tx:
            tx.stage_vectors(identity, vectors)
        done, after = done + len(batch), batch[-1][0]
        if progress is not None:
            progress(done, max(total, done))


def _embedding(embedder: Embedder) -> Callable[[Sequence[str]], Vectors]:
    def embed(texts: Sequence[str]) -> Vectors:
        return embedder.embed(list(texts), purpose="add")

    return embed


def _vectors(
    batch: Sequence[tuple[str, str, str]], embed: Callable[[Sequence[str]], Vectors]
) -> list[tuple[str, str, Vectors]]:
    rows = embed([text for _, text, _ in batch])
    return [(mid, digest, rows[i]) for i, (mid, _, digest) in enumerate(batch)]


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)
