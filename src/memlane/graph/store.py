"""``OpsGraphStore``: the ``GraphStore`` contract written once, over a back end's ``GraphOps``.

Every back end subclasses it and provides ``reading()``, ``writing()`` and ``close()`` (see
``memlane.graph.ops``); ``apply`` (``engine.write``), ``search`` (``rank``) and the deletes
are the same for each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from memlane.embed.base import Embedder
from memlane.errors import ConfigError
from memlane.graph.engine import embed_names, missing_names, require_scope, write
from memlane.graph.models import (
    ExtractedEntity,
    ExtractedRelation,
    GraphChanges,
    GraphSearchResult,
    Relation,
)
from memlane.graph.ops import GraphOps
from memlane.graph.query.models import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
)
from memlane.graph.rank import WalkRequest, rank, result, seed_scores, walk_rows
from memlane.graph.resolve import prepare, query_terms
from memlane.graph.settings import GraphSettings
from memlane.models import Scope, Vectors, now_iso

__all__ = ["OpsGraphStore"]


class OpsGraphStore(ABC):
    """A ``GraphStore`` whose back end implements only ``GraphOps`` and its units of work."""

    settings: GraphSettings
    query_dialect: QueryDialect | None = None
    """What ``read_query`` takes; None: this back end answers no graph questions."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[GraphOps]:
        """Operations that see every committed write (see ``memlane.graph.ops``)."""

    @abstractmethod
    def writing(self, *, erase: bool = False) -> AbstractContextManager[GraphOps]:
        """Operations on one unit of work: all or nothing (see ``memlane.graph.ops``)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (a shared memory store stays open)."""

    # -- writes ----------------------------------------------------------------------------

    def apply(
        self,
        scope: Scope,
        entities: Sequence[ExtractedEntity],
        relations: Sequence[ExtractedRelation],
        *,
        memory_ids: Sequence[str] = (),
        observed_at: str | None = None,
        recorded_at: str | None = None,
        embedder: Embedder | None = None,
        vectors: Mapping[str, Vectors] | None = None,
    ) -> GraphChanges:
        require_scope(scope)
        prepared = prepare(scope, entities, relations)
        if not prepared.relations:
            return GraphChanges()
        with self.reading() as ops:
            missing = missing_names(ops, scope, prepared)
        found = embed_names(prepared, missing, embedder, vectors)  # outside the unit: it may be slow
        at = recorded_at or now_iso()
        with self.writing() as ops:
            return write(
                ops, scope, prepared, found, self.settings,
                memory_ids=memory_ids, observed_at=observed_at or at, recorded_at=at,
            )  # fmt: skip

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return 0
        with self.writing() as ops:
            return ops.remove_memories(ids)

    def delete_scope(self, scope: Scope) -> int:
        require_scope(scope)
        with self.writing() as ops:
            return ops.delete_scope(scope)

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        if scope is not None:
            require_scope(scope)
        ids = list(dict.fromkeys(memory_ids))
        with self.writing(erase=True) as ops:
            count = ops.remove_memories(ids) if ids else 0
            return count + (ops.delete_scope(scope) if scope is not None else 0)

    def reset(self) -> None:
        with self.writing() as ops:
            ops.reset()

    # -- reads -----------------------------------------------------------------------------

    def search(
        self,
        scope: Scope,
        query: str,
        query_vector: Vectors | None = None,
        *,
        hops: int | None = None,
        limit: int = 10,
        as_of: str | None = None,
    ) -> GraphSearchResult:
        require_scope(scope)
        terms = query_terms(query, scope)
        settings = self.settings
        depth = max(1, min(hops or settings.hops, 3))
        with self.reading() as ops:
            similar: list[tuple[str, float]] = []
            named = ops.named_entities(scope, terms.names)
            if query_vector is not None and settings.seed_limit > 0:
                similar = ops.similar_entities(
                    scope, query_vector, settings.search_threshold, settings.seed_limit
                )
            seeds = seed_scores(named, similar)
            if not seeds or limit <= 0:
                return GraphSearchResult(seeds=seeds)
            walk = WalkRequest(
                seeds, terms.stems, hops=depth, decay=settings.hop_decay, as_of=as_of,
                limit=walk_rows(settings.walk_limit, limit),
            )  # fmt: skip
            candidates = ops.walk(walk)
            ranked = rank(candidates, seeds, limit)
            found = ops.relations_by_ids([rel_id for rel_id, _, _ in ranked])
        return result(ranked, {r.id: r for r in found}, seeds)

    def list_relations(
        self,
        scope: Scope,
        *,
        limit: int | None = 100,
        as_of: str | None = None,
        include_invalidated: bool = False,
    ) -> list[Relation]:
        require_scope(scope)
        with self.reading() as ops:
            return ops.list_relations(
                scope, limit=limit, as_of=as_of, include_invalidated=include_invalidated
            )

    def read_query(
        self,
        scope: Scope,
        query: GraphQuery,
        *,
        limit: int = DEFAULT_LIMIT,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryOutcome:
        """Graph questions: not supported unless the back end overrides this (and ``query_dialect``)."""
        raise ConfigError(
            f"graph questions (graph_query) are not supported on this graph back end "
            f"({type(self).__name__}); use the 'sqlite' or 'falkordb' graph_store"
        )
