"""The graph store contract every back end implements (SQLite, PostgreSQL, FalkorDB; Neo4j later).

Scopes: ``apply`` writes into the exact scope given (its user, agent and run); entities resolve
only within that exact scope. Reads and deletes take a scope as a filter, like memories do:
every id that is set must match (``Scope(user_id="alice")`` covers all of alice's agents and
runs). An empty scope is refused.

Nothing is hard-deleted by ``apply``: contradicted relations are invalidated and kept.
``remove_memories``, ``delete_scope``, ``purge`` and ``reset`` delete for real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from memlane.embed.base import Embedder
from memlane.graph.models import ExtractedEntity, ExtractedRelation, GraphChanges, GraphSearchResult, Relation
from memlane.graph.query.models import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    GraphQuery,
    GraphQueryOutcome,
    QueryDialect,
)
from memlane.graph.settings import GraphSettings
from memlane.models import Scope, Vectors

if TYPE_CHECKING:
    from memlane.store.base import MemoryStore

__all__ = ["GraphStore", "build_graph_store"]


class GraphStore(Protocol):
    """Entities and relations of each scope, with both clocks and their supporting memories."""

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
        """Merge the model's entities and relations into ``scope``.

        ``memory_ids`` support every relation of the call. ``observed_at`` is when the
        conversation happened (the default ``valid_from``; now if None); ``recorded_at`` is the
        record time (now if None). Names without an exact match are embedded: from ``vectors``
        (keyed by name, e.g. from ``resolve.entity_texts`` batched with the memories' texts),
        else by ``embedder`` in one batch; with neither, only exact names and aliases resolve.
        """
        ...

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
        """Current relations within ``hops`` (default from the settings) of the entities the
        query names or resembles, ranked; ``as_of`` reads what was current at that record time."""
        ...

    def list_relations(
        self,
        scope: Scope,
        *,
        limit: int | None = 100,
        as_of: str | None = None,
        include_invalidated: bool = False,
    ) -> list[Relation]:
        """The scope's relations, newest first: current ones, those current at ``as_of``, or all
        (history) with ``include_invalidated``."""
        ...

    @property
    def query_dialect(self) -> QueryDialect | None:
        """What ``read_query`` takes: ``"cypher"`` (a ``CypherQuery``), ``"plan"`` (a
        ``QueryPlan``), or None when this back end answers no graph questions."""
        ...

    def read_query(
        self,
        scope: Scope,
        query: GraphQuery,
        *,
        limit: int = DEFAULT_LIMIT,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> GraphQueryOutcome:
        """Run one read-only query over the scope's graph (a read filter, like ``search``): at
        most ``limit`` rows, for at most ``timeout_ms`` where the back end can stop a query.
        Cypher is validated first (``memlane.graph.query.validate_cypher``): a refused query is
        an ``InvalidInputError`` and nothing runs. ``ConfigError`` when ``query_dialect`` is None."""
        ...

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        """Drop these memories from every relation; relations left with no supporting memory
        are deleted (relations that never had one stay), then entities left with no relation.
        Returns how many relations were deleted."""
        ...

    def delete_scope(self, scope: Scope) -> int:
        """Delete every relation and entity of the scope; return how many relations went."""
        ...

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Erase for good (GDPR): ``remove_memories(memory_ids)`` plus ``delete_scope(scope)``,
        leaving no copy of the names behind (free pages and logs included where the back end
        keeps them). Returns how many relations were erased."""
        ...

    def reset(self) -> None:
        """Delete every entity and relation of every scope."""

    def dump(self) -> Iterator[dict[str, Any]]:
        """Every entity, then every relation (current and invalidated, with its memory ids), as
        ``{"kind": "entity" | "relation", "data": {...}}`` records (``memlane.graph.records``),
        in a stable order (write order where the back end keeps one): for export and migrate.
        Read in pages; a graph written meanwhile may be dumped partly old, partly new."""
        ...

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Insert dumped records as one unit of work and return counts by kind. Every record is
        checked before anything is written (a malformed one is an ``InvalidInputError`` naming
        it); an entity must come before the relations that use it (in this call or an earlier
        one): a relation to an unknown entity is refused (``InvalidInputError``, or the back
        end's ``StoreError`` where a foreign key catches it first), as are ids already in the
        graph (``StoreError``)."""
        ...

    def reembed(self, embed: Callable[[Sequence[str]], Vectors]) -> int:
        """Give every entity a new name vector, ``embed(names)`` (one unit row per name), in one
        unit of work: ``memlane reindex`` moving the graph to a new embedder with the memories
        (called inside the memory store's transaction, a back end that shares it switches with
        it). Returns how many entities were re-embedded."""
        ...

    def close(self) -> None:
        """Release connections (a shared memory store stays open)."""


def build_graph_store(
    name: str, config: dict[str, Any] | GraphSettings, memory_store: MemoryStore | None
) -> GraphStore:
    """The graph back end ``name`` (``sqlite``, ``falkordb``…) from its config, bound to
    ``memory_store``; the same as ``GraphStoreSection.build(Dependencies(store=memory_store))``."""
    from memlane.registry import Dependencies, providers  # the wiring: not a dependency of the graph

    return providers.create("graph_store", name, config, Dependencies(store=memory_store))
