"""``PostgresOps``: the PostgreSQL graph's ``GraphOps`` on one connection (``memlane.graph.ops``).

Tables: ``graph_schema``. Lists travel as arrays (``= ANY(%s)``, ``unnest``), so no operation
is split into chunks. Name vectors are scored exactly by pgvector within the scope (a scope's
entities are few; the btree on ``(tenant, scope_key)`` or the scope ids selects them). The
multi-hop walk is ``rank.walk`` driven from Python, one scored and ordered statement per hop
(PostgreSQL's recursive queries cannot order their work queue as SQLite's can).

Entity resolution is serialised per exact scope: in a write unit, the first operation on a
scope takes that scope's transaction-level advisory lock (``graph_sql.lock_scopes``), held
until the transaction ends, so two processes adding the same new name to one scope create one
entity: the second waits, then sees the first's committed entity. The deletes lock the scopes
they touch too, so an entity is never deleted under a writer that just resolved it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from memlane.errors import StoreError
from memlane.graph.models import Entity, Relation
from memlane.graph.rank import Candidate, Step, WalkRequest, walk
from memlane.graph.resolve import normalize_name, scope_key
from memlane.models import Scope, Vectors
from memlane.store.postgres.graph_schema import GRAPH_TABLES
from memlane.store.postgres.graph_sql import (
    ENTITY_COLUMNS,
    dimension_error,
    entity,
    lock_scopes,
    relations,
    scope_sql,
    time_sql,
)

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["PostgresOps"]


class PostgresOps:
    """``GraphOps`` on one connection, inside the caller's unit (``PostgresGraphStore``)."""

    def __init__(self, conn: Connection[Any], tenant: str, *, locking: bool = False) -> None:
        self.conn = conn
        self.tenant = tenant
        self.locking = locking
        """Whether this is a write unit (it takes the scope locks)."""
        self._locked: set[str] = set()

    def _lock(self, skeys: Sequence[str]) -> None:
        wanted = [s for s in dict.fromkeys(skeys) if s not in self._locked]
        if self.locking and wanted:
            lock_scopes(self.conn, self.tenant, wanted)
            self._locked.update(wanted)

    @contextmanager
    def _vectors(self) -> Iterator[None]:
        """pgvector's dimension errors as ``DimensionMismatchError``."""
        try:
            yield
        except Exception as exc:
            mismatch = dimension_error(exc)
            if mismatch is None:
                raise
            raise mismatch from None

    # -- entity resolution and relation writes ---------------------------------------------

    def entities_by_names(self, skey: str, norms: Sequence[str]) -> dict[str, Entity]:
        self._lock([skey])
        out: dict[str, Entity] = {}
        rows = self.conn.execute(
            f"SELECT n.norm, {ENTITY_COLUMNS} FROM graph_names n JOIN graph_entities e "
            "ON e.tenant = n.tenant AND e.id = n.entity_id WHERE n.tenant = %s AND n.scope_key = %s "
            "AND n.norm = ANY(%s) ORDER BY n.is_alias, e.seq",
            (self.tenant, skey, list(norms)),
        ).fetchall()
        for row in rows:
            out.setdefault(row[0], entity(row[1:]))
        return out

    def nearest_entities(
        self, skey: str, vectors: Vectors, threshold: float
    ) -> list[tuple[Entity, float] | None]:
        self._lock([skey])
        out: list[tuple[Entity, float] | None] = [None] * len(vectors)
        with self._vectors():
            rows = self.conn.execute(
                f"SELECT q.n, {ENTITY_COLUMNS}, -(e.embedding <#> q.v) FROM unnest(%s::vector[]) "
                "WITH ORDINALITY AS q(v, n) CROSS JOIN LATERAL (SELECT * FROM graph_entities x "
                "WHERE x.tenant = %s AND x.scope_key = %s AND x.embedding IS NOT NULL "
                "ORDER BY x.embedding <#> q.v, x.seq LIMIT 1) e",
                ([_row(v) for v in vectors], self.tenant, skey),
            ).fetchall()
        for row in rows:
            if float(row[10]) >= threshold:
                out[int(row[0]) - 1] = (entity(row[1:10]), float(row[10]))
        return out

    def create_entities(self, items: Sequence[tuple[Entity, Vectors | None]]) -> None:
        if not items:
            return
        self._lock([scope_key(e.scope) for e, _ in items])
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO graph_entities (tenant, id, scope_key, user_id, agent_id, run_id, name, "
                "type, aliases, created_at, updated_at, embedding) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        self.tenant, e.id, scope_key(e.scope), e.scope.user_id, e.scope.agent_id,
                        e.scope.run_id, e.name, e.type, list(e.aliases), e.created_at, e.updated_at,
                        None if v is None else _row(v),
                    )
                    for e, v in items
                ],
            )  # fmt: skip
        self._add_names([e for e, _ in items])

    def update_entity(self, changed: Entity) -> None:
        self.conn.execute(
            "UPDATE graph_entities SET type = %s, aliases = %s, updated_at = %s "
            "WHERE tenant = %s AND id = %s",
            (changed.type, list(changed.aliases), changed.updated_at, self.tenant, changed.id),
        )
        self._add_names([changed])

    def _add_names(self, items: Sequence[Entity]) -> None:
        rows: list[tuple[str, str, str, str, bool]] = []
        for item in items:
            skey = scope_key(item.scope)
            rows.append((self.tenant, skey, normalize_name(item.name), item.id, False))
            rows += [(self.tenant, skey, normalize_name(a), item.id, True) for a in item.aliases]
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO graph_names (tenant, scope_key, norm, entity_id, is_alias) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [r for r in rows if r[2]],
            )

    def current_relations(
        self, keys: Sequence[tuple[str, str, str | None]]
    ) -> dict[tuple[str, str], list[Relation]]:
        out: dict[tuple[str, str], list[Relation]] = {(s, r): [] for s, r, _ in keys}
        if not keys:
            return out
        found = relations(
            self.conn, self.tenant,
            # the ids first (an init plan driven by the keys), then the rows by primary key: a
            # plan that stays right however stale the table's statistics are
            "r.invalidated_at IS NULL AND r.id = ANY(ARRAY(SELECT x.id FROM unnest(%s::text[], "
            "%s::text[], %s::text[]) AS k(s, rel, d) JOIN graph_relations x ON x.tenant = %s "
            "AND x.source_id = k.s AND x.relationship = k.rel AND (k.d IS NULL OR x.destination_id = k.d)))",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], self.tenant),
            " ORDER BY r.seq",
        )  # fmt: skip
        for relation in found:
            out[(relation.source_id, relation.relationship)].append(relation)
        return out

    def insert_relations(self, items: Sequence[Relation]) -> None:
        if not items:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO graph_relations (tenant, id, scope_key, user_id, agent_id, run_id, "
                "source_id, relationship, destination_id, valid_from, valid_to, created_at, updated_at, "
                "invalidated_at, mentions) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        self.tenant, r.id, scope_key(r.scope), r.scope.user_id, r.scope.agent_id,
                        r.scope.run_id, r.source_id, r.relationship, r.destination_id, r.valid_from,
                        r.valid_to, r.created_at, r.updated_at, r.invalidated_at, r.mentions,
                    )
                    for r in items
                ],
            )  # fmt: skip
        self._support([(r.id, m) for r in items for m in r.memory_ids])

    def _support(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Link memories to relations, in the order given (a link already there stays first)."""
        if pairs:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO graph_relation_memories (tenant, relation_id, memory_id) "
                    "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [(self.tenant, rel_id, memory_id) for rel_id, memory_id in pairs],
                )

    def mention(self, relation: Relation, memory_ids: Sequence[str], at: str) -> Relation:
        """One statement: the links it lacks inserted, the count raised, the stored state read
        back (the links already there, by their order, then the new ones)."""
        row = self.conn.execute(
            "WITH linked AS (INSERT INTO graph_relation_memories (tenant, relation_id, memory_id) "
            "SELECT %(tenant)s, %(id)s, u.m FROM unnest(%(memory_ids)s::text[]) WITH ORDINALITY AS u(m, n) "
            "ORDER BY u.n ON CONFLICT DO NOTHING RETURNING memory_id, seq) "
            "UPDATE graph_relations r SET mentions = mentions + 1, updated_at = %(at)s "
            "WHERE r.tenant = %(tenant)s AND r.id = %(id)s RETURNING r.mentions, "
            "ARRAY(SELECT m.memory_id FROM graph_relation_memories m WHERE m.tenant = r.tenant "
            "AND m.relation_id = r.id ORDER BY m.seq) || ARRAY(SELECT memory_id FROM linked ORDER BY seq)",
            {"tenant": self.tenant, "id": relation.id, "memory_ids": list(memory_ids), "at": at},
        ).fetchone()
        if row is None:
            raise _vanished(relation)
        return replace(relation, mentions=int(row[0]), updated_at=at, memory_ids=tuple(row[1]))

    def invalidate(self, relation: Relation, valid_to: str, at: str) -> Relation:
        row = self.conn.execute(
            "UPDATE graph_relations SET invalidated_at = %s, updated_at = %s, "
            "valid_to = coalesce(valid_to, %s) WHERE tenant = %s AND id = %s RETURNING valid_to",
            (at, at, valid_to, self.tenant, relation.id),
        ).fetchone()
        if row is None:
            raise _vanished(relation)
        return replace(relation, invalidated_at=at, updated_at=at, valid_to=row[0])

    # -- search ----------------------------------------------------------------------------

    def named_entities(self, scope: Scope, norms: Sequence[str]) -> list[str]:
        where, params = scope_sql(scope, "e")
        rows = self.conn.execute(
            "SELECT DISTINCT n.entity_id FROM graph_names n JOIN graph_entities e "
            "ON e.tenant = n.tenant AND e.id = n.entity_id "
            f"WHERE n.tenant = %s AND n.norm = ANY(%s) AND {where} ORDER BY 1",
            [self.tenant, list(norms), *params],
        ).fetchall()
        return [r[0] for r in rows]

    def similar_entities(
        self, scope: Scope, vector: Vectors, threshold: float, limit: int
    ) -> list[tuple[str, float]]:
        where, params = scope_sql(scope, "e")
        query = _row(vector)
        with self._vectors():
            rows = self.conn.execute(
                "SELECT e.id, -(e.embedding <#> %s) FROM graph_entities e "
                f"WHERE e.tenant = %s AND {where} AND e.embedding IS NOT NULL "
                "ORDER BY e.embedding <#> %s, e.seq LIMIT %s",
                [query, self.tenant, *params, query, limit],
            ).fetchall()
        return [(r[0], float(r[1])) for r in rows if float(r[1]) >= threshold]

    def walk(self, request: WalkRequest) -> dict[str, Candidate]:
        """``rank.walk`` driven from Python: one scored, ordered and limited statement per hop."""
        stems = list(request.stems)
        lexical = "0.75::float8"
        if stems:
            hits = "(SELECT count(*) FROM unnest(%(stems)s::text[]) t WHERE strpos(r.relationship, t) > 0)"
            lexical = f"(0.75::float8 + 0.25::float8 * {hits}::float8 / %(stem_count)s::float8)"
        when, when_params = time_sql("r", request.as_of)
        when = when.replace("%s", "%(as_of)s")
        statement = (
            f"SELECT f.score * %(factor)s::float8 * {lexical}, r.id, CASE WHEN r.source_id = f.id "
            "THEN r.destination_id ELSE r.source_id END, r.mentions, r.created_at, r.source_id, "
            "r.destination_id FROM unnest(%(ids)s::text[], %(scores)s::float8[]) AS f(id, score) "
            "JOIN graph_relations r ON r.tenant = %(tenant)s "
            "AND (r.source_id = f.id OR r.destination_id = f.id) "
            f"WHERE {when} AND r.id <> ALL(%(seen)s::text[]) "
            "ORDER BY 1 DESC, 4 DESC, 5 DESC, 2, 3 LIMIT %(limit)s"
        )
        facts: dict[str, tuple[str, str, int, str]] = {}

        def expand(
            frontier: Mapping[str, float], factor: float, seen: Collection[str], limit: int
        ) -> list[Step]:
            params = {
                "factor": factor, "stems": stems, "stem_count": len(stems), "tenant": self.tenant,
                "ids": list(frontier), "scores": [float(s) for s in frontier.values()],
                "seen": list(seen), "limit": limit, "as_of": when_params[0] if when_params else None,
            }  # fmt: skip
            steps: list[Step] = []
            for score, rel_id, other, mentions, created, source_id, destination_id in self.conn.execute(
                statement, params
            ):
                facts[rel_id] = (source_id, destination_id, int(mentions), created)
                steps.append((float(score), rel_id, other, int(mentions), created))
            return steps

        found = walk(expand, request.seeds, hops=request.hops, decay=request.decay, limit=request.limit)
        return {rel_id: Candidate(hops, path, *facts[rel_id]) for rel_id, (hops, path) in found.items()}

    def relations_by_ids(self, ids: Sequence[str]) -> list[Relation]:
        if not ids:
            return []
        return relations(self.conn, self.tenant, "r.id = ANY(%s)", (list(ids),))

    def list_relations(
        self, scope: Scope, *, limit: int | None, as_of: str | None, include_invalidated: bool
    ) -> list[Relation]:
        where, params = scope_sql(scope, "r")
        if not include_invalidated:
            when, more = time_sql("r", as_of)
            where, params = f"{where} AND {when}", [*params, *more]
        tail = " ORDER BY r.created_at DESC, r.seq DESC"
        if limit is not None:
            tail += " LIMIT %s"
            params.append(max(limit, 0))
        return relations(self.conn, self.tenant, where, params, tail)

    # -- deletes ---------------------------------------------------------------------------

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(memory_ids)
        scopes = self.conn.execute(
            "SELECT DISTINCT r.scope_key FROM graph_relation_memories m JOIN graph_relations r "
            "ON r.tenant = m.tenant AND r.id = m.relation_id WHERE m.tenant = %s AND m.memory_id = ANY(%s)",
            (self.tenant, ids),
        ).fetchall()
        lock_scopes(self.conn, self.tenant, [r[0] for r in scopes])
        touched = self.conn.execute(
            "DELETE FROM graph_relation_memories WHERE tenant = %s AND memory_id = ANY(%s) "
            "RETURNING relation_id",
            (self.tenant, ids),
        ).fetchall()
        gone = self.conn.execute(
            "DELETE FROM graph_relations r WHERE r.tenant = %s AND r.id = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM graph_relation_memories m WHERE m.tenant = r.tenant AND m.relation_id = r.id) "
            "RETURNING r.source_id, r.destination_id",
            (self.tenant, list({r[0] for r in touched})),
        ).fetchall()
        self._drop_orphans(list(dict.fromkeys(e for row in gone for e in row)))
        return len(gone)

    def _drop_orphans(self, entity_ids: Sequence[str]) -> None:
        """Delete the given entities (their names go with them) that no relation uses any more."""
        if entity_ids:
            self.conn.execute(
                "DELETE FROM graph_entities e WHERE e.tenant = %s AND e.id = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.tenant = e.tenant "
                "AND r.source_id = e.id) "
                "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.tenant = e.tenant "
                "AND r.destination_id = e.id)",
                (self.tenant, list(entity_ids)),
            )

    def delete_scope(self, scope: Scope) -> int:
        where, params = scope_sql(scope, "")
        scopes = self.conn.execute(
            f"SELECT DISTINCT scope_key FROM graph_entities WHERE tenant = %s AND {where}",
            [self.tenant, *params],
        ).fetchall()
        lock_scopes(self.conn, self.tenant, [r[0] for r in scopes])
        count = self.conn.execute(
            f"DELETE FROM graph_relations WHERE tenant = %s AND {where}", [self.tenant, *params]
        ).rowcount
        self.conn.execute(f"DELETE FROM graph_entities WHERE tenant = %s AND {where}", [self.tenant, *params])
        return int(count)

    # -- copies and re-embedding (``GraphStore.dump``, ``reembed``): write order, by seq -------

    def dump_entities(self, after: str | None, limit: int) -> list[tuple[Entity, Vectors | None]]:
        rows = self.conn.execute(
            f"SELECT {ENTITY_COLUMNS}, e.embedding::real[] FROM graph_entities e WHERE e.tenant = %(t)s "
            "AND e.seq > coalesce((SELECT seq FROM graph_entities WHERE tenant = %(t)s AND id = %(a)s), 0) "
            "ORDER BY e.seq LIMIT %(n)s",
            {"t": self.tenant, "a": after, "n": limit},
        ).fetchall()
        return [(entity(r[:9]), None if r[9] is None else np.asarray(r[9], dtype=np.float32)) for r in rows]

    def dump_relations(self, after: str | None, limit: int) -> list[Relation]:
        return relations(
            self.conn,
            self.tenant,
            "r.seq > coalesce((SELECT seq FROM graph_relations WHERE tenant = %s AND id = %s), 0)",
            [self.tenant, after, limit],
            " ORDER BY r.seq LIMIT %s",
        )

    def set_entity_vectors(self, items: Sequence[tuple[str, Vectors]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE graph_entities SET embedding = %s WHERE tenant = %s AND id = %s",
                [(_row(v), self.tenant, eid) for eid, v in items],
            )

    def reset(self) -> None:
        for table in GRAPH_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE tenant = %s", (self.tenant,))


def _vanished(relation: Relation) -> StoreError:
    """A relation this unit read is gone (the scope locks make this a bug, not a race)."""
    return StoreError(f"graph relation {relation.id} disappeared during a write; retry the call")


def _row(vector: Vectors) -> Vectors:
    """One vector as a flat float32 row (pgvector's dumper sends it as a ``vector``)."""
    return np.asarray(vector, dtype=np.float32).reshape(-1)
