"""``CypherOps``: the FalkorDB graph's ``GraphOps`` (``memlane.graph.ops``), one openCypher
statement each (``cypher``), batched by ``UNWIND`` in rows of 500."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

from memlane.graph.models import Entity, Relation
from memlane.graph.rank import Candidate, Step, WalkRequest, walk
from memlane.graph.resolve import normalize_name, scope_key
from memlane.models import Scope, Vectors
from memlane.store.falkordb import cypher

__all__ = ["CypherOps", "Query"]

Query = Callable[[str, Mapping[str, Any]], list[list[Any]]]
"""Run one statement with its parameters; the rows of its result."""

_BATCH = 500
"""Rows per UNWIND statement."""


class CypherOps:
    """``GraphOps`` as single Cypher statements, each atomic (``FalkorDBGraphStore``)."""

    def __init__(self, query: Query) -> None:
        self._query = query

    # -- entity resolution and relation writes ---------------------------------------------

    def entities_by_names(self, skey: str, norms: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for row in self._query(cypher.ENTITIES_BY_NAMES, {"skey": skey, "norms": list(norms)}):
            out.setdefault(row[0], _entity(row[2:]))
        return out

    def nearest_entities(
        self, skey: str, vectors: Vectors, threshold: float
    ) -> list[tuple[Entity, float] | None]:
        out: list[tuple[Entity, float] | None] = [None] * len(vectors)
        params = {"skey": skey, "vectors": [[float(x) for x in v] for v in vectors], "threshold": threshold}
        for row in self._query(cypher.NEAREST_ENTITIES, params):
            best = out[row[0]]
            if best is None or row[10] > best[1] or (row[10] == best[1] and row[1] < best[0].id):
                out[row[0]] = (_entity(row[1:10]), float(row[10]))
        return out

    def create_entities(self, items: Sequence[tuple[Entity, Vectors | None]]) -> None:
        rows: list[dict[str, Any]] = [
            {
                "id": e.id, "skey": scope_key(e.scope), **_scope_values(e.scope), "name": e.name,
                "norm": normalize_name(e.name), "names": _names(e), "type": e.type,
                "aliases": list(e.aliases), "created_at": e.created_at, "updated_at": e.updated_at,
                "vector": None if v is None else [float(x) for x in v.reshape(-1)],
            }
            for e, v in items
        ]  # fmt: skip
        with_vectors = [r for r in rows if r["vector"] is not None]
        without = [r for r in rows if r["vector"] is None]
        for start in range(0, len(with_vectors), _BATCH):
            self._query(cypher.CREATE_ENTITIES_WITH_VECTORS, {"rows": with_vectors[start : start + _BATCH]})
        for start in range(0, len(without), _BATCH):
            self._query(cypher.CREATE_ENTITIES, {"rows": without[start : start + _BATCH]})

    def update_entity(self, entity: Entity) -> None:
        self._query(
            cypher.UPDATE_ENTITY,
            {"id": entity.id, "type": entity.type, "aliases": list(entity.aliases),
             "names": _names(entity), "updated_at": entity.updated_at},
        )  # fmt: skip

    def current_relations(
        self, keys: Sequence[tuple[str, str, str | None]]
    ) -> dict[tuple[str, str], list[Relation]]:
        out: dict[tuple[str, str], list[Relation]] = {(s, r): [] for s, r, _ in keys}
        for start in range(0, len(keys), _BATCH):
            part = [list(k) for k in keys[start : start + _BATCH]]
            for row in self._query(cypher.CURRENT_RELATIONS, {"keys": part}):
                relation = _relation(row)
                found = out[(relation.source_id, relation.relationship)]
                if all(r.id != relation.id for r in found):
                    found.append(relation)
        return out

    def insert_relations(self, relations: Sequence[Relation]) -> None:
        rows = [
            {
                "id": r.id, "skey": scope_key(r.scope), **_scope_values(r.scope),
                "source_id": r.source_id, "destination_id": r.destination_id, "name": r.relationship,
                "valid_from": r.valid_from, "valid_to": r.valid_to, "created_at": r.created_at,
                "updated_at": r.updated_at, "invalidated_at": r.invalidated_at, "mentions": r.mentions,
                "memory_ids": list(r.memory_ids),
            }
            for r in relations
        ]  # fmt: skip
        for start in range(0, len(rows), _BATCH):
            self._query(cypher.INSERT_RELATIONS, {"rows": rows[start : start + _BATCH]})

    def mention(self, relation: Relation, memory_ids: Sequence[str], at: str) -> Relation:
        rows = self._query(cypher.MENTION, {"id": relation.id, "memory_ids": list(memory_ids), "at": at})
        return _relation(rows[0])

    def invalidate(self, relation: Relation, valid_to: str, at: str) -> Relation:
        rows = self._query(cypher.INVALIDATE, {"id": relation.id, "valid_to": valid_to, "at": at})
        return _relation(rows[0])

    # -- search ----------------------------------------------------------------------------

    def named_entities(self, scope: Scope, norms: Sequence[str]) -> list[str]:
        params = {**cypher.scope_params(scope), "norms": list(norms)}
        return [r[0] for r in self._query(cypher.seed_names(scope), params)]

    def similar_entities(
        self, scope: Scope, vector: Vectors, threshold: float, limit: int
    ) -> list[tuple[str, float]]:
        params = {
            **cypher.scope_params(scope), "vector": [float(x) for x in vector.reshape(-1)],
            "threshold": threshold, "limit": limit,
        }  # fmt: skip
        return [(r[0], float(r[1])) for r in self._query(cypher.seed_similar(scope), params)]

    def walk(self, request: WalkRequest) -> dict[str, Candidate]:
        """``rank.walk`` driven from Python, one ``cypher.expand`` statement per hop."""
        statement = cypher.expand(request.as_of)
        stems, as_of = list(request.stems), request.as_of

        def expand(
            frontier: Mapping[str, float], factor: float, seen: Collection[str], limit: int
        ) -> list[Step]:
            params = {
                "frontier": [[k, v] for k, v in frontier.items()], "factor": factor, "seen": list(seen),
                "stems": stems, "stem_count": max(len(stems), 1), "limit": limit, "as_of": as_of,
            }  # fmt: skip
            return [(float(r[0]), r[1], r[2], int(r[3]), r[4]) for r in self._query(statement, params)]

        hits = walk(expand, request.seeds, hops=request.hops, decay=request.decay, limit=request.limit)
        return {
            row[0]: Candidate(*hits[row[0]], row[1], row[2], int(row[3]), row[4])
            for row in self._query(cypher.RELATION_FACTS, {"ids": list(hits)})
        }

    def relations_by_ids(self, ids: Sequence[str]) -> list[Relation]:
        return [_relation(r) for r in self._query(cypher.RELATIONS_BY_IDS, {"ids": list(ids)})]

    def list_relations(
        self, scope: Scope, *, limit: int | None, as_of: str | None, include_invalidated: bool
    ) -> list[Relation]:
        statement = cypher.list_relations(scope, as_of, include_invalidated, limit is not None)
        params: dict[str, Any] = {**cypher.scope_params(scope), "as_of": as_of}
        if limit is not None:
            params["limit"] = max(limit, 0)
        return [_relation(r) for r in self._query(statement, params)]

    # -- copies ----------------------------------------------------------------------------

    def dump_entities(self, after: str | None, limit: int) -> list[tuple[Entity, Vectors | None]]:
        statement = cypher.DUMP_ENTITIES if after is None else cypher.DUMP_ENTITIES_AFTER
        rows = self._query(statement, {"after": after, "limit": limit})
        return [(_entity(r[:9]), None if r[9] is None else np.asarray(r[9], dtype=np.float32)) for r in rows]

    def dump_relations(self, after: str | None, limit: int) -> list[Relation]:
        statement = cypher.DUMP_RELATIONS if after is None else cypher.DUMP_RELATIONS_AFTER
        return [_relation(r) for r in self._query(statement, {"after": after, "limit": limit})]

    def set_entity_vectors(self, items: Sequence[tuple[str, Vectors]]) -> None:
        rows = [{"id": eid, "vector": [float(x) for x in v.reshape(-1)]} for eid, v in items]
        for start in range(0, len(rows), _BATCH):
            self._query(cypher.SET_ENTITY_VECTORS, {"rows": rows[start : start + _BATCH]})

    # -- deletes ---------------------------------------------------------------------------

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        rows = self._query(cypher.DETACH_MEMORIES, {"memory_ids": list(memory_ids)})
        gone = [r[0] for r in rows if r[1] == 0]
        endpoints = list(dict.fromkeys(e for r in rows if r[1] == 0 for e in (r[2], r[3])))
        if gone:
            self._query(cypher.DELETE_RELATIONS, {"ids": gone})
            self._query(cypher.DELETE_ORPHANS, {"ids": endpoints})
        return len(gone)

    def delete_scope(self, scope: Scope) -> int:
        params = cypher.scope_params(scope)
        count = int(self._query(cypher.count_scope(scope), params)[0][0])
        self._query(cypher.delete_scope(scope), params)
        return count

    def reset(self) -> None:
        self._query(cypher.RESET, {})


def _scope_values(scope: Scope) -> dict[str, str | None]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "run_id": scope.run_id}


def _names(entity: Entity) -> list[str]:
    norms = [normalize_name(entity.name), *(normalize_name(a) for a in entity.aliases)]
    return [n for n in dict.fromkeys(norms) if n]


def _entity(row: Sequence[Any]) -> Entity:
    return Entity(
        id=row[0],
        name=row[1],
        type=row[2] or "",
        aliases=tuple(row[3] or ()),
        scope=Scope(row[4], row[5], row[6]),
        created_at=row[7],
        updated_at=row[8],
    )


def _relation(r: Sequence[Any]) -> Relation:
    return Relation(
        id=r[0], source=r[1], relationship=r[2], destination=r[3], source_id=r[4],
        destination_id=r[5], scope=Scope(r[6], r[7], r[8]), created_at=r[9], updated_at=r[10],
        valid_from=r[11], valid_to=r[12], invalidated_at=r[13], mentions=int(r[14]),
        memory_ids=tuple(r[15] or ()),
    )  # fmt: skip
