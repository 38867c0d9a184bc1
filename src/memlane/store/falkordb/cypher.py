"""Every openCypher statement of the graph back ends, in one place (FalkorDB now; a Neo4j or
Memgraph back end can reuse them).

The model: ``(:Entity {id, skey, user_id, agent_id, run_id, name, norm, names, type, aliases,
created_at, updated_at, embedding})`` and ``(:Entity)-[:RELATES {id, skey, user_id, agent_id,
run_id, name, valid_from, valid_to, created_at, updated_at, invalidated_at, mentions,
memory_ids}]->(:Entity)``. ``skey`` is the exact scope; ``names`` holds the normalised name and
aliases (for exact matches); one edge type with the relationship in ``name`` keeps every
statement parameterised. Unset properties are absent (Cypher has no null properties).
Patterns that find an edge by an indexed property leave its endpoints unlabelled: FalkorDB
plans ``(s:Entity)-[r {id: $id}]->()`` as a scan of every entity.
Vector functions (``vecf32``, ``vec.cosineDistance``) are FalkorDB's.
"""

from __future__ import annotations

from memlane.models import SCOPE_KEYS, Scope

__all__ = [
    "CREATE_ENTITIES",
    "CREATE_ENTITIES_WITH_VECTORS",
    "CURRENT_RELATIONS",
    "DELETE_ORPHANS",
    "DELETE_RELATIONS",
    "DETACH_MEMORIES",
    "DUMP_ENTITIES",
    "DUMP_ENTITIES_AFTER",
    "DUMP_RELATIONS",
    "DUMP_RELATIONS_AFTER",
    "ENTITIES_BY_NAMES",
    "INDEXES",
    "INSERT_RELATIONS",
    "INVALIDATE",
    "MENTION",
    "NEAREST_ENTITIES",
    "RELATIONS_BY_IDS",
    "RELATION_FACTS",
    "RESET",
    "SET_ENTITY_VECTORS",
    "UPDATE_ENTITY",
    "count_scope",
    "delete_scope",
    "expand",
    "list_relations",
    "scope_params",
    "seed_names",
    "seed_similar",
    "when",
]

INDEXES = (
    "CREATE INDEX FOR (e:Entity) ON (e.id)",
    "CREATE INDEX FOR (e:Entity) ON (e.skey)",
    "CREATE INDEX FOR (e:Entity) ON (e.names)",
    "CREATE INDEX FOR (e:Entity) ON (e.user_id)",
    "CREATE INDEX FOR (e:Entity) ON (e.agent_id)",
    "CREATE INDEX FOR (e:Entity) ON (e.run_id)",
    "CREATE INDEX FOR ()-[r:RELATES]-() ON (r.id)",
    "CREATE INDEX FOR ()-[r:RELATES]-() ON (r.memory_ids)",
    "CREATE INDEX FOR ()-[r:RELATES]-() ON (r.user_id)",
    "CREATE INDEX FOR ()-[r:RELATES]-() ON (r.agent_id)",
    "CREATE INDEX FOR ()-[r:RELATES]-() ON (r.run_id)",
)

_ENTITY = "e.id, e.name, e.type, e.aliases, e.user_id, e.agent_id, e.run_id, e.created_at, e.updated_at"
_RELATION = (
    "r.id, s.name, r.name, d.name, s.id, d.id, r.user_id, r.agent_id, r.run_id, r.created_at, "
    "r.updated_at, r.valid_from, r.valid_to, r.invalidated_at, r.mentions, r.memory_ids"
)

ENTITIES_BY_NAMES = (
    "UNWIND $norms AS norm MATCH (e:Entity) WHERE e.skey = $skey AND norm IN e.names "
    f"RETURN norm, e.norm = norm AS own, {_ENTITY} ORDER BY own DESC, e.created_at, e.id"
)
NEAREST_ENTITIES = (
    "UNWIND range(0, size($vectors) - 1) AS i WITH i, vecf32($vectors[i]) AS v MATCH (e:Entity) "
    "WHERE e.skey = $skey AND e.embedding IS NOT NULL "
    "WITH i, e, 1 - vec.cosineDistance(e.embedding, v) AS sim WHERE sim >= $threshold "
    f"RETURN i, {_ENTITY}, sim"
)
_CREATE = (
    "UNWIND $rows AS row CREATE (e:Entity {id: row.id, skey: row.skey, user_id: row.user_id, "
    "agent_id: row.agent_id, run_id: row.run_id, name: row.name, norm: row.norm, names: row.names, "
    "type: row.type, aliases: row.aliases, created_at: row.created_at, updated_at: row.updated_at})"
)
CREATE_ENTITIES = _CREATE
CREATE_ENTITIES_WITH_VECTORS = f"{_CREATE} SET e.embedding = vecf32(row.vector)"
SET_ENTITY_VECTORS = "UNWIND $rows AS row MATCH (e:Entity {id: row.id}) SET e.embedding = vecf32(row.vector)"
UPDATE_ENTITY = (
    "MATCH (e:Entity {id: $id}) SET e.type = $type, e.aliases = $aliases, e.names = $names, "
    "e.updated_at = $updated_at"
)
CURRENT_RELATIONS = (
    "UNWIND $keys AS k MATCH (s:Entity {id: k[0]})-[r:RELATES]->(d:Entity) "
    "WHERE r.name = k[1] AND r.invalidated_at IS NULL AND (k[2] IS NULL OR d.id = k[2]) "
    f"RETURN DISTINCT {_RELATION} ORDER BY r.created_at, r.id"
)
INSERT_RELATIONS = (
    "UNWIND $rows AS row MATCH (s:Entity {id: row.source_id}), (d:Entity {id: row.destination_id}) "
    "CREATE (s)-[r:RELATES {id: row.id, skey: row.skey, user_id: row.user_id, agent_id: row.agent_id, "
    "run_id: row.run_id, name: row.name, valid_from: row.valid_from, valid_to: row.valid_to, "
    "created_at: row.created_at, updated_at: row.updated_at, invalidated_at: row.invalidated_at, "
    "mentions: row.mentions, memory_ids: row.memory_ids}]->(d)"
)
MENTION = (
    "MATCH (s)-[r:RELATES {id: $id}]->(d) SET r.mentions = r.mentions + 1, "
    "r.updated_at = $at, r.memory_ids = r.memory_ids + [m IN $memory_ids WHERE NOT m IN r.memory_ids] "
    f"RETURN {_RELATION}"
)
INVALIDATE = (
    "MATCH (s)-[r:RELATES {id: $id}]->(d) SET r.invalidated_at = $at, r.updated_at = $at, "
    f"r.valid_to = coalesce(r.valid_to, $valid_to) RETURN {_RELATION}"
)
RELATIONS_BY_IDS = f"UNWIND $ids AS rid MATCH (s)-[r:RELATES {{id: rid}}]->(d) RETURN {_RELATION}"
RELATION_FACTS = (
    "UNWIND $ids AS rid MATCH (s)-[r:RELATES {id: rid}]->(d) "
    "RETURN r.id, s.id, d.id, r.mentions, r.created_at"
)
DETACH_MEMORIES = (
    "UNWIND $memory_ids AS mid MATCH (s)-[r:RELATES]->(d) WHERE mid IN r.memory_ids "
    "WITH DISTINCT r, s, d SET r.memory_ids = [m IN r.memory_ids WHERE NOT m IN $memory_ids] "
    "RETURN r.id, size(r.memory_ids), s.id, d.id"
)
DELETE_RELATIONS = "UNWIND $ids AS rid MATCH ()-[r:RELATES {id: rid}]->() DELETE r"
DELETE_ORPHANS = (
    "UNWIND $ids AS eid MATCH (e:Entity {id: eid}) OPTIONAL MATCH (e)-[x:RELATES]-() "
    "WITH e, count(x) AS n WHERE n = 0 DELETE e"
)
RESET = "MATCH (e) DETACH DELETE e"
_AFTER = "{var}.created_at > a.created_at OR ({var}.created_at = a.created_at AND id({var}) > id(a))"
DUMP_ENTITIES = f"MATCH (e:Entity) RETURN {_ENTITY}, e.embedding ORDER BY e.created_at, id(e) LIMIT $limit"
DUMP_ENTITIES_AFTER = (
    "MATCH (a:Entity {id: $after}) MATCH (e:Entity) WHERE "
    + _AFTER.format(var="e")
    + f" RETURN {_ENTITY}, e.embedding ORDER BY e.created_at, id(e) LIMIT $limit"
)
DUMP_RELATIONS = f"MATCH (s)-[r:RELATES]->(d) RETURN {_RELATION} ORDER BY r.created_at, id(r) LIMIT $limit"
DUMP_RELATIONS_AFTER = (
    "MATCH ()-[a:RELATES {id: $after}]->() MATCH (s)-[r:RELATES]->(d) WHERE "
    + _AFTER.format(var="r")
    + f" RETURN {_RELATION} ORDER BY r.created_at, id(r) LIMIT $limit"
)
"""A page of the whole graph (``GraphOps.dump_entities`` / ``dump_relations``) in write order (record
time, then the server's own id, which grows as items are created), after the item ``$after``."""


def scope_params(scope: Scope) -> dict[str, str]:
    """The parameters of ``_scope`` (the ids the scope sets)."""
    return scope.as_dict()


def _scope(var: str, scope: Scope) -> str:
    """``var.user_id = $user_id AND ...`` for the ids the scope sets (a read or delete filter)."""
    keys = [key for key in SCOPE_KEYS if key in scope.as_dict()]
    return " AND ".join(f"{var}.{key} = ${key}" for key in keys)


def when(var: str, as_of: str | None) -> str:
    """Relations current now, or current at record time ``$as_of``."""
    if as_of is None:
        return f"{var}.invalidated_at IS NULL"
    return f"{var}.created_at <= $as_of AND ({var}.invalidated_at IS NULL OR {var}.invalidated_at > $as_of)"


def seed_names(scope: Scope) -> str:
    return (
        "UNWIND $norms AS norm MATCH (e:Entity) "
        f"WHERE norm IN e.names AND {_scope('e', scope)} RETURN DISTINCT e.id"
    )


def seed_similar(scope: Scope) -> str:
    return (
        f"MATCH (e:Entity) WHERE {_scope('e', scope)} AND e.embedding IS NOT NULL "
        "WITH e, 1 - vec.cosineDistance(e.embedding, vecf32($vector)) AS sim WHERE sim >= $threshold "
        "RETURN e.id, sim ORDER BY sim DESC, e.id LIMIT $limit"
    )


def expand(as_of: str | None) -> str:
    """The best ``$limit`` steps from ``$frontier`` ([[entity id, score], ...]), scored as
    ``memlane.graph.rank`` does: score * ``$factor`` * (0.75 + 0.25 * share of ``$stems`` in the
    relationship's name, over ``$stem_count``)."""
    return (
        "UNWIND $frontier AS f MATCH (a:Entity {id: f[0]})-[r:RELATES]-(b:Entity) "
        f"WHERE {when('r', as_of)} AND NOT r.id IN $seen "
        "WITH r, b, f[1] * $factor * (0.75 + 0.25 * size([s IN $stems WHERE r.name CONTAINS s]) "
        "/ toFloat($stem_count)) AS score "
        "RETURN score, r.id, b.id, r.mentions, r.created_at "
        "ORDER BY score DESC, r.mentions DESC, r.created_at DESC, r.id, b.id LIMIT $limit"
    )


def list_relations(scope: Scope, as_of: str | None, include_invalidated: bool, limited: bool) -> str:
    condition = _scope("r", scope)
    if not include_invalidated:
        condition += f" AND {when('r', as_of)}"
    tail = " LIMIT $limit" if limited else ""
    return (
        f"MATCH (s)-[r:RELATES]->(d) WHERE {condition} "
        f"RETURN {_RELATION} ORDER BY r.created_at DESC, id(r) DESC{tail}"
    )


def count_scope(scope: Scope) -> str:
    return f"MATCH ()-[r:RELATES]->() WHERE {_scope('r', scope)} RETURN count(r)"


def delete_scope(scope: Scope) -> str:
    return f"MATCH (e:Entity) WHERE {_scope('e', scope)} DETACH DELETE e"
