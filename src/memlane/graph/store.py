"""``OpsGraphStore``: the ``GraphStore`` contract written once, over a back end's ``GraphOps``.

Every back end subclasses it and provides ``reading()``, ``writing()`` and ``close()`` (see
``memlane.graph.ops``); ``apply`` (``engine.write``), ``search`` (``rank``) and the deletes
are the same for each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from memlane.embed.base import Embedder
from memlane.errors import ConfigError, InvalidInputError
from memlane.graph.engine import embed_names, missing_names, require_scope, write
from memlane.graph.models import (
    Entity,
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
from memlane.graph.records import (
    ENTITY,
    GRAPH_KINDS,
    RELATION,
    entity_record,
    parse_entity,
    parse_relation,
    relation_record,
)
from memlane.graph.resolve import prepare, query_terms
from memlane.graph.settings import GraphSettings
from memlane.models import Scope, Vectors, now_iso

__all__ = ["DUMP_PAGE", "OpsGraphStore"]

DUMP_PAGE = 500
"""Entities or relations read per unit by ``dump``."""


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

    # -- copies ----------------------------------------------------------------------------

    def dump(self) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            with self.reading() as ops:
                entities = ops.dump_entities(after, DUMP_PAGE)
            yield from (entity_record(e, v) for e, v in entities)
            if len(entities) < DUMP_PAGE:
                break
            after = entities[-1][0].id
        after = None
        while True:
            with self.reading() as ops:
                relations = ops.dump_relations(after, DUMP_PAGE)
            yield from (relation_record(r) for r in relations)
            if len(relations) < DUMP_PAGE:
                break
            after = relations[-1].id

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        entities, relations = _parse(records)
        with self.writing() as ops:
            ops.create_entities(entities)
            ops.insert_relations(relations)
            known = {e.id for e, _ in entities}
            elsewhere = [r.id for r in relations if not {r.source_id, r.destination_id} <= known]
            found = {r.id for r in ops.relations_by_ids(elsewhere)} if elsewhere else set()
            for rel_id in elsewhere:
                if rel_id not in found:  # its endpoints are in neither this load nor the graph
                    raise InvalidInputError(
                        f"relation {rel_id} names an entity that is neither loaded before it nor stored"
                    )
        return {ENTITY: len(entities), RELATION: len(relations)}

    def reembed(self, embed: Callable[[Sequence[str]], Vectors]) -> int:
        count = 0
        with self.writing() as ops:
            after: str | None = None
            while page := ops.dump_entities(after, DUMP_PAGE):
                vectors = embed([entity.name for entity, _ in page])
                ops.set_entity_vectors([(e.id, v) for (e, _), v in zip(page, vectors, strict=True)])
                count += len(page)
                after = page[-1][0].id
        return count

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


def _parse(records: Iterable[dict[str, Any]]) -> tuple[list[tuple[Entity, Vectors | None]], list[Relation]]:
    """Every record checked (kind, fields, one vector size) before anything is written."""
    entities: list[tuple[Entity, Vectors | None]] = []
    relations: list[Relation] = []
    sizes: set[int] = set()
    for number, record in enumerate(records, start=1):
        kind = record.get("kind") if isinstance(record, dict) else None
        data = record.get("data") if isinstance(record, dict) else None
        if kind not in GRAPH_KINDS or not isinstance(data, dict):
            raise InvalidInputError(
                f"record {number}: expected {{kind, data}} with kind in {list(GRAPH_KINDS)}"
            )
        if kind == ENTITY:
            entity, vector = parse_entity(data, number)
            if vector is not None:
                sizes.add(len(vector))
                if len(sizes) > 1:
                    raise InvalidInputError(
                        f"record {number} (entity): its name vector has {len(vector)} values, "
                        f"another entity's {min(sizes - {len(vector)})}; all must have the same size"
                    )
            entities.append((entity, vector))
        else:
            relations.append(parse_relation(data, number))
    return entities, relations
