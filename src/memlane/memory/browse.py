"""``Memory``'s reads for people looking at memory (the memory browser at ``/ui``): the scopes
that have memories, everything about one memory, and a scope's graph bounded for drawing.
A mixin of ``Memory`` (``memory.facade``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from memlane.errors import InvalidInputError, NotFoundError
from memlane.filters import Cond, and_
from memlane.graph.models import Relation
from memlane.memory.backends import Backends
from memlane.memory.read import get_memory, memory_history
from memlane.memory.scope import exact_scope, validate_id
from memlane.memory.times import live_filter
from memlane.models import SCOPE_KEYS, MemoryRecord, MemoryVersion
from memlane.types import (
    GraphEntityItem,
    GraphViewResult,
    Id,
    MemoryDetails,
    MemoryVersionItem,
    ScopeItem,
    SourceMessageItem,
)

__all__ = ["MAX_GRAPH_ENTITIES", "Browse"]

MAX_GRAPH_ENTITIES = 1000
"""The most entities ``graph_view`` returns (a browser draws ~150 smoothly: the default)."""
RELATIONS_PER_ENTITY = 5
"""``graph_view`` returns at most this many relations per entity returned."""
_KINDS = {"user_id": "user", "agent_id": "agent", "run_id": "run"}


class Browse:
    """``scopes``, ``memory_details`` and ``graph_view`` over ``backends``."""

    backends: Backends

    def scopes(self) -> list[ScopeItem]:
        """Each user, agent and run that has current memories (users, then agents, then runs,
        each by id): ``{type, id, total_memories, created_at, last_activity}``. Reads every
        current memory once: for people browsing, not for a hot path."""
        live = live_filter(self.backends.config.short_term.ttl)
        out: list[ScopeItem] = []
        for key in SCOPE_KEYS:
            records = self.backends.store.list_records(and_(Cond(key, "exists", True), live))
            out.extend(_scope_items(key, records))
        return out

    def memory_details(self, memory_id: Id) -> MemoryDetails:
        """One memory, deleted or not: its current state (None once deleted), every version,
        its history, the messages it came from and (graph on) the relations it supports with
        their entities. ``NotFoundError`` for an id never stored (or purged)."""
        memory_id = validate_id("memory_id", memory_id)
        store = self.backends.store
        history = memory_history(self.backends, memory_id)
        record = store.get(memory_id)
        if record is None and not history:
            raise NotFoundError(memory_id)
        relations = _supported(self.backends, record) if record is not None else []
        return {
            "id": memory_id,
            "memory": get_memory(self.backends, memory_id),
            "deleted": record is None,
            "versions": [_version(v) for v in store.versions(memory_id)],
            "history": history,
            "sources": [
                SourceMessageItem(id=m.id, role=m.role, content=m.content, name=m.name)
                for m in store.sources(memory_id)
            ],
            "entities": _entities(relations),
            "relations": [r.as_dict() for r in relations],
        }

    def graph_view(
        self,
        *,
        user_id: Id | None = None,
        agent_id: Id | None = None,
        run_id: Id | None = None,
        max_entities: int = 150,
        include_invalidated: bool = True,
    ) -> GraphViewResult:
        """A scope's graph for drawing: its ``max_entities`` most connected entities and the
        relations between them (at most five per entity, newest first), each with the ids of
        the memories behind it; invalidated relations too unless ``include_invalidated`` is
        False. ``enabled`` is False (and the rest empty) when the graph is off."""
        scope = exact_scope(user_id, agent_id, run_id)
        if scope.is_empty():
            raise InvalidInputError("graph_view() needs a user_id, agent_id or run_id")
        if (
            isinstance(max_entities, bool)
            or not isinstance(max_entities, int)
            or not (1 <= max_entities <= MAX_GRAPH_ENTITIES)
        ):
            raise InvalidInputError(
                f"max_entities must be an integer from 1 to {MAX_GRAPH_ENTITIES}, got {max_entities!r}"
            )
        graph = self.backends.graph
        if graph is None:
            return GraphViewResult(
                enabled=False, entities=[], relations=[], total_entities=0, total_relations=0, truncated=False
            )
        every = graph.list_relations(scope, limit=None, include_invalidated=include_invalidated)
        entities = _entities(every)
        kept = {e["id"] for e in entities[:max_entities]}
        between = [r for r in every if r.source_id in kept and r.destination_id in kept]
        shown = between[: RELATIONS_PER_ENTITY * max_entities]
        return GraphViewResult(
            enabled=True,
            entities=_entities(shown),
            relations=[r.as_dict() for r in shown],
            total_entities=len(entities),
            total_relations=len(every),
            truncated=len(shown) < len(every),
        )


def _version(v: MemoryVersion) -> MemoryVersionItem:
    return MemoryVersionItem(
        version=v.version,
        text=v.text,
        valid_from=v.valid_from,
        valid_to=v.valid_to,
        recorded_at=v.recorded_at,
        expired_at=v.expired_at,
    )


def _scope_items(key: str, records: Sequence[MemoryRecord]) -> list[ScopeItem]:
    found: dict[str, ScopeItem] = {}
    for record in records:
        name = getattr(record.scope, key)
        item = found.setdefault(
            name,
            ScopeItem(type=_KINDS[key], id=name, total_memories=0, created_at=None, last_activity=None),
        )
        item["total_memories"] += 1
        if item["created_at"] is None or record.created_at < item["created_at"]:
            item["created_at"] = record.created_at
        latest = max(record.created_at, record.updated_at or record.created_at)
        if item["last_activity"] is None or latest > item["last_activity"]:
            item["last_activity"] = latest
    return [found[name] for name in sorted(found)]


def _supported(backends: Backends, record: MemoryRecord) -> list[Relation]:
    """The relations of the memory's scope that ``record`` supports, current and invalidated."""
    if backends.graph is None:
        return []
    every = backends.graph.list_relations(record.scope, limit=None, include_invalidated=True)
    return [r for r in every if record.id in r.memory_ids]


def _entities(relations: Sequence[Relation]) -> list[GraphEntityItem]:
    """The entities the relations touch, most connected first (then by name)."""
    degree: Counter[str] = Counter()
    names: dict[str, str] = {}
    for r in relations:
        for entity_id, name in ((r.source_id, r.source), (r.destination_id, r.destination)):
            degree[entity_id] += 1
            names.setdefault(entity_id, name)
    ranked = sorted(degree, key=lambda e: (-degree[e], names[e].casefold(), e))
    return [GraphEntityItem(id=e, name=names[e], degree=degree[e]) for e in ranked]
