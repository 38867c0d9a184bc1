"""``apply`` once for every back end: resolve entities, then add, mention or invalidate relations.

``write`` runs on a back end's ``GraphOps`` (``memlane.graph.ops``), inside one unit of work
(an SQLite transaction; single Cypher statements under a lock for FalkorDB). The rules:

1. Entities resolve within the exact scope: by normalised name or alias first, then by name
   embedding at ``match_threshold`` or more (the new name becomes an alias), else a new entity.
2. A relation already current (same source, relationship, destination) gets one more mention and
   the new memory ids. Otherwise it is added, and when the model flags ``replaces`` or the
   relationship is single-valued, the source's current relations of that name to other
   destinations are invalidated: ``invalidated_at`` (record time) and ``valid_to`` (world time)
   are set and the rows stay, for history and ``as_of``.
3. ``ended`` invalidates the matching current relation and adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from memlane.embed.base import Embedder, normalize_rows
from memlane.errors import InvalidInputError
from memlane.graph.models import Entity, GraphChanges, Relation
from memlane.graph.ops import GraphOps
from memlane.graph.resolve import (
    PreparedGraph,
    PreparedRelation,
    best_match,
    normalize_name,
    scope_key,
)
from memlane.graph.settings import GraphSettings
from memlane.models import Scope, Vectors, new_id

__all__ = ["embed_names", "missing_names", "require_scope", "write"]

MAX_ALIASES = 20


def require_scope(scope: Scope) -> None:
    if scope.is_empty():
        raise InvalidInputError("the graph needs a user_id, agent_id or run_id")


def missing_names(ops: GraphOps, scope: Scope, prepared: PreparedGraph) -> list[str]:
    """Norms of the prepared entities that no name or alias of the scope matches yet."""
    known = ops.entities_by_names(scope_key(scope), list(prepared.entities))
    return [norm for norm in prepared.entities if norm not in known]


def embed_names(
    prepared: PreparedGraph,
    norms: Sequence[str],
    embedder: Embedder | None,
    vectors: Mapping[str, Vectors] | None,
) -> dict[str, Vectors]:
    """Vectors of the entities ``norms`` by norm: given ones first, the rest in one batch."""
    given = {normalize_name(text): vector for text, vector in (vectors or {}).items()}
    out: dict[str, Vectors] = {}
    for norm in norms:
        if norm in given:
            out[norm] = normalize_rows(given[norm])[0]
    rest = [norm for norm in norms if norm not in out]
    if rest and embedder is not None:
        rows = embedder.embed([prepared.entities[n].name for n in rest], purpose="add")
        out.update(zip(rest, rows, strict=True))
    return out


def write(
    ops: GraphOps,
    scope: Scope,
    prepared: PreparedGraph,
    vectors: Mapping[str, Vectors],
    settings: GraphSettings,
    *,
    memory_ids: Sequence[str],
    observed_at: str,
    recorded_at: str,
) -> GraphChanges:
    """Resolve the entities and apply the relations; everything inside the caller's unit of work."""
    changes = GraphChanges()
    entities = _resolve(ops, scope, prepared, vectors, settings, recorded_at, changes)
    batch = _Batch(ops, changes, list(dict.fromkeys(memory_ids)), recorded_at)
    single = set(settings.single_valued)
    keys = [(entities[r.source].id, r.relationship) for r in prepared.relations]
    every = {
        k for k, r in zip(keys, prepared.relations, strict=True) if r.replaces or r.relationship in single
    }
    wanted = [
        (*key, None if key in every else entities[r.destination].id)
        for key, r in zip(keys, prepared.relations, strict=True)
    ]
    batch.view = ops.current_relations(list(dict.fromkeys(wanted)))
    for rel, key in zip(prepared.relations, keys, strict=True):
        source, destination = entities[rel.source], entities[rel.destination]
        current = batch.view.setdefault(key, [])
        same = [r for r in current if r.destination_id == destination.id]
        start = rel.since or observed_at
        if rel.ended:
            batch.invalidate(key, same, start)
            continue
        if rel.replaces or rel.relationship in single:
            batch.invalidate(key, [r for r in current if r.destination_id != destination.id], start)
        if same:
            batch.mention(key, same[0])
        else:
            batch.add(
                key, _new_relation(scope, rel, source, destination, start, recorded_at, batch.memory_ids)
            )
    batch.flush()
    return changes


def _new_relation(
    scope: Scope,
    rel: PreparedRelation,
    source: Entity,
    destination: Entity,
    start: str,
    at: str,
    memory_ids: Sequence[str],
) -> Relation:
    return Relation(
        id=new_id(),
        source=source.name,
        relationship=rel.relationship,
        destination=destination.name,
        source_id=source.id,
        destination_id=destination.id,
        scope=scope,
        created_at=at,
        updated_at=at,
        valid_from=start,
        memory_ids=tuple(memory_ids),
    )


class _Batch:
    """The relation writes of one call: updates at once, inserts together at the end."""

    def __init__(self, ops: GraphOps, changes: GraphChanges, memory_ids: list[str], at: str) -> None:
        self.ops, self.changes, self.memory_ids, self.at = ops, changes, memory_ids, at
        self.view: dict[tuple[str, str], list[Relation]] = {}
        self.pending: dict[str, Relation] = {}

    def add(self, key: tuple[str, str], relation: Relation) -> None:
        self.pending[relation.id] = relation
        self.view[key].append(relation)

    def mention(self, key: tuple[str, str], relation: Relation) -> None:
        if relation.id in self.pending:  # two names of one entity in the same call
            ids = tuple(dict.fromkeys((*relation.memory_ids, *self.memory_ids)))
            updated = replace(relation, mentions=relation.mentions + 1, memory_ids=ids)
            self.pending[relation.id] = updated
        else:
            updated = self.ops.mention(relation, self.memory_ids, self.at)
            self.changes.mentioned.append(updated)
        self.view[key] = [updated if r.id == relation.id else r for r in self.view[key]]

    def invalidate(self, key: tuple[str, str], relations: Sequence[Relation], valid_to: str) -> None:
        for relation in relations:
            if relation.id in self.pending:  # added earlier in this call
                ended = replace(
                    relation,
                    invalidated_at=self.at,
                    updated_at=self.at,
                    valid_to=relation.valid_to or valid_to,
                )
                self.pending[relation.id] = ended
            else:
                ended = self.ops.invalidate(relation, valid_to, self.at)
            self.changes.invalidated.append(ended)
        gone = {r.id for r in relations}
        self.view[key] = [r for r in self.view[key] if r.id not in gone]

    def flush(self) -> None:
        self.ops.insert_relations(list(self.pending.values()))
        self.changes.added = list(self.pending.values())


def _resolve(
    ops: GraphOps,
    scope: Scope,
    prepared: PreparedGraph,
    vectors: Mapping[str, Vectors],
    settings: GraphSettings,
    at: str,
    changes: GraphChanges,
) -> dict[str, Entity]:
    """Every prepared entity as a stored one, by norm."""
    skey = scope_key(scope)
    threshold = settings.match_threshold
    found = ops.entities_by_names(skey, list(prepared.entities))
    similar = _stored_matches(ops, skey, [n for n in prepared.entities if n not in found], vectors, threshold)
    pool = _Pool()
    created: dict[str, tuple[Entity, Vectors | None]] = {}
    out: dict[str, Entity] = {}
    for norm, wanted in prepared.entities.items():
        vector = vectors.get(norm)
        entity = found.get(norm) or pool.pick(vector, threshold, similar.get(norm))
        if entity is None:
            entity = Entity(
                id=new_id(), name=wanted.name, type=wanted.type, scope=scope, created_at=at, updated_at=at
            )
            created[entity.id] = (entity, vector)
        elif norm not in found or (not entity.type and wanted.type):
            entity = replace(_with_alias(entity, wanted.name), type=entity.type or wanted.type, updated_at=at)
            if entity.id in created:
                created[entity.id] = (entity, created[entity.id][1])
            else:
                ops.update_entity(entity)
        pool.put(entity, vector)
        out.update({other: entity for other, known in out.items() if known.id == entity.id})
        out[norm] = entity
    ops.create_entities(list(created.values()))
    changes.entities_added = [e for e, _ in created.values()]
    return out


def _stored_matches(
    ops: GraphOps, skey: str, norms: Sequence[str], vectors: Mapping[str, Vectors], threshold: float
) -> dict[str, tuple[Entity, float]]:
    """Committed entities resembling the names no exact match found, by norm (one batch)."""
    wanted = [n for n in norms if n in vectors]
    if not wanted or threshold >= 1.0:
        return {}
    matrix = np.stack([np.asarray(vectors[n], dtype=np.float32).reshape(-1) for n in wanted])
    found = ops.nearest_entities(skey, matrix, threshold)
    return {norm: match for norm, match in zip(wanted, found, strict=True) if match is not None}


class _Pool:
    """Entities resolved or created by this call with their name vectors (newest record each)."""

    def __init__(self) -> None:
        self._entities: list[Entity] = []
        self._rows: list[Vectors] = []
        self._index: dict[str, int] = {}

    def put(self, entity: Entity, vector: Vectors | None) -> None:
        at = self._index.get(entity.id)
        if at is not None:
            self._entities[at] = entity
        elif vector is not None:
            self._index[entity.id] = len(self._entities)
            self._entities.append(entity)
            self._rows.append(np.asarray(vector, dtype=np.float32).reshape(-1))

    def pick(
        self, vector: Vectors | None, threshold: float, stored: tuple[Entity, float] | None
    ) -> Entity | None:
        """The better of ``stored`` and this call's most similar entity (``>= threshold``)."""
        fresh = None
        if vector is not None and self._rows and threshold < 1.0:
            fresh = best_match(vector, np.stack(self._rows), threshold)
        if fresh is not None and (stored is None or fresh[1] > stored[1]):
            return self._entities[fresh[0]]
        if stored is None:
            return None
        at = self._index.get(stored[0].id)
        return stored[0] if at is None else self._entities[at]


def _with_alias(entity: Entity, name: str) -> Entity:
    norms = {normalize_name(entity.name), *(normalize_name(a) for a in entity.aliases)}
    if normalize_name(name) in norms or len(entity.aliases) >= MAX_ALIASES:
        return entity
    return replace(entity, aliases=(*entity.aliases, name))
