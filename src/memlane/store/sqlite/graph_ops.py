"""``SQLiteOps``: the SQLite graph's ``GraphOps`` on one connection (``memlane.graph.ops``).

Tables (migration 2 of ``memlane.store.sqlite.schema``): ``graph_entities`` (with the name
embedding as a float32 BLOB), ``graph_names`` (each entity's normalised name and aliases, for
exact matches), ``graph_relations`` and ``graph_relation_memories`` (the supporting memories,
in the order they came). Multi-hop search is one recursive CTE that walks best-first (an
ordered queue with a row limit); entity name vectors are scored exactly with numpy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import numpy as np

from memlane.graph.models import Entity, Relation
from memlane.graph.rank import Candidate, WalkRequest
from memlane.graph.resolve import normalize_name, scope_key
from memlane.models import Scope, Vectors
from memlane.store.sqlite.graph_rows import (
    CHUNK,
    ENTITY_COLUMNS,
    EntityVectors,
    chunks,
    entity,
    relations,
    scope_sql,
    time_sql,
)
from memlane.store.sqlite.vectors import from_blob, to_blob

__all__ = ["TABLES", "SQLiteOps"]

TABLES = ("graph_relation_memories", "graph_relations", "graph_names", "graph_entities")


class SQLiteOps:
    """``GraphOps`` on one connection, inside the caller's unit of work (``SQLiteGraphStore``)."""

    def __init__(self, conn: sqlite3.Connection, cache: EntityVectors) -> None:
        self.conn = conn
        self.cache = cache
        self.new_vectors: list[tuple[int, Vectors]] = []
        """Name vectors of the entities this unit inserted (for the cache, once committed)."""
        self.deleted = False
        """Whether this unit deleted entities (the cache reloads)."""

    # -- entity resolution and relation writes ---------------------------------------------

    def entities_by_names(self, skey: str, norms: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for part, marks in chunks(list(norms)):
            rows = self.conn.execute(
                f"SELECT n.norm, {ENTITY_COLUMNS} FROM graph_names n JOIN graph_entities e "
                f"ON e.id = n.entity_id WHERE n.scope_key = ? AND n.norm IN ({marks}) "
                "ORDER BY n.is_alias, e.seq",
                [skey, *part],
            ).fetchall()
            for row in rows:
                out.setdefault(row[0], entity(row[1:]))
        return out

    def nearest_entities(
        self, skey: str, vectors: Vectors, threshold: float
    ) -> list[tuple[Entity, float] | None]:
        self.cache.sync(self.conn)
        rows = self.conn.execute("SELECT seq FROM graph_entities WHERE scope_key = ?", (skey,)).fetchall()
        seqs, scores = self.cache.scores(vectors, [r[0] for r in rows])
        out: list[tuple[Entity, float] | None] = [None] * len(vectors)
        if not len(seqs):
            return out
        best = np.argmax(scores, axis=1)
        for i, column in enumerate(best):
            score = float(scores[i, column])
            if score >= threshold:
                row = self.conn.execute(
                    f"SELECT {ENTITY_COLUMNS} FROM graph_entities e WHERE e.seq = ?", (int(seqs[column]),)
                ).fetchone()
                out[i] = (entity(row), score)
        return out

    def create_entities(self, items: Sequence[tuple[Entity, Vectors | None]]) -> None:
        for new, vector in items:
            s = new.scope
            cursor = self.conn.execute(
                "INSERT INTO graph_entities (id, scope_key, user_id, agent_id, run_id, name, type, "
                "aliases, created_at, updated_at, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.id, scope_key(s), s.user_id, s.agent_id, s.run_id, new.name, new.type,
                    json.dumps(list(new.aliases), ensure_ascii=False), new.created_at, new.updated_at,
                    None if vector is None else to_blob(vector),
                ),
            )  # fmt: skip
            self._add_names(new)
            if vector is not None and cursor.lastrowid is not None:
                self.new_vectors.append((cursor.lastrowid, np.asarray(vector, dtype=np.float32).reshape(-1)))

    def update_entity(self, changed: Entity) -> None:
        self.conn.execute(
            "UPDATE graph_entities SET type = ?, aliases = ?, updated_at = ? WHERE id = ?",
            (
                changed.type,
                json.dumps(list(changed.aliases), ensure_ascii=False),
                changed.updated_at,
                changed.id,
            ),
        )
        self._add_names(changed)

    def _add_names(self, item: Entity) -> None:
        skey = scope_key(item.scope)
        names = [(skey, normalize_name(item.name), item.id, 0)]
        names += [(skey, normalize_name(a), item.id, 1) for a in item.aliases]
        self.conn.executemany(
            "INSERT OR IGNORE INTO graph_names (scope_key, norm, entity_id, is_alias) VALUES (?, ?, ?, ?)",
            [n for n in names if n[1]],
        )

    def current_relations(
        self, keys: Sequence[tuple[str, str, str | None]]
    ) -> dict[tuple[str, str], list[Relation]]:
        out: dict[tuple[str, str], list[Relation]] = {(s, r): [] for s, r, _ in keys}
        seen: set[str] = set()
        for start in range(0, len(keys), CHUNK):
            for relation in relations(
                self.conn,
                "r.invalidated_at IS NULL AND r.id IN (SELECT x.id FROM json_each(?) j "
                "JOIN graph_relations x ON x.source_id = json_extract(j.value, '$[0]') "
                "AND x.relationship = json_extract(j.value, '$[1]') AND (json_extract(j.value, '$[2]') "
                "IS NULL OR x.destination_id = json_extract(j.value, '$[2]')))",
                (json.dumps([list(k) for k in keys[start : start + CHUNK]]),),
                " ORDER BY r.seq",
            ):
                if relation.id not in seen:
                    seen.add(relation.id)
                    out[(relation.source_id, relation.relationship)].append(relation)
        return out

    def insert_relations(self, items: Sequence[Relation]) -> None:
        self.conn.executemany(
            "INSERT INTO graph_relations (id, scope_key, user_id, agent_id, run_id, source_id, "
            "relationship, destination_id, valid_from, valid_to, created_at, updated_at, "
            "invalidated_at, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id, scope_key(r.scope), r.scope.user_id, r.scope.agent_id, r.scope.run_id,
                    r.source_id, r.relationship, r.destination_id, r.valid_from, r.valid_to,
                    r.created_at, r.updated_at, r.invalidated_at, r.mentions,
                )
                for r in items
            ],
        )  # fmt: skip
        self.conn.executemany(
            "INSERT OR IGNORE INTO graph_relation_memories (relation_id, memory_id) VALUES (?, ?)",
            [(r.id, m) for r in items for m in r.memory_ids],
        )

    def _support(self, relation_id: str, memory_ids: Sequence[str]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO graph_relation_memories (relation_id, memory_id) VALUES (?, ?)",
            [(relation_id, m) for m in memory_ids],
        )

    def mention(self, relation: Relation, memory_ids: Sequence[str], at: str) -> Relation:
        self.conn.execute(
            "UPDATE graph_relations SET mentions = mentions + 1, updated_at = ? WHERE id = ?",
            (at, relation.id),
        )
        self._support(relation.id, memory_ids)
        return relations(self.conn, "r.id = ?", (relation.id,))[0]

    def invalidate(self, relation: Relation, valid_to: str, at: str) -> Relation:
        self.conn.execute(
            "UPDATE graph_relations SET invalidated_at = ?, updated_at = ?, "
            "valid_to = coalesce(valid_to, ?) WHERE id = ?",
            (at, at, valid_to, relation.id),
        )
        return relations(self.conn, "r.id = ?", (relation.id,))[0]

    # -- search ----------------------------------------------------------------------------

    def named_entities(self, scope: Scope, norms: Sequence[str]) -> list[str]:
        where, params = scope_sql(scope, "e")
        out: list[str] = []
        for part, marks in chunks(list(norms)):
            out += [
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT n.entity_id FROM graph_names n CROSS JOIN graph_entities e "
                    f"ON e.id = n.entity_id WHERE n.norm IN ({marks}) AND {where}",
                    [*part, *params],
                )
            ]
        return out

    def similar_entities(
        self, scope: Scope, vector: Vectors, threshold: float, limit: int
    ) -> list[tuple[str, float]]:
        ids = self.cache.scope_entities(self.conn, scope)
        seqs, scores = self.cache.scores(np.asarray(vector, dtype=np.float32).reshape(1, -1), list(ids))
        if not len(seqs):
            return []
        row = scores[0]
        top = np.argsort(-row, kind="stable")[:limit]
        return [(ids[int(seqs[i])], float(row[i])) for i in top if row[i] >= threshold]

    def walk(self, request: WalkRequest) -> dict[str, Candidate]:
        """The best-first walk of ``rank.walk`` as one recursive query (keep the two in step)."""
        stems, seeds = request.stems, request.seeds
        lexical = "0.75"
        if stems:
            matched = " + ".join("(instr(r.relationship, ?) > 0)" for _ in stems)
            lexical = f"(0.75 + 0.25 * ({matched}) / {len(stems)}.0)"
        when, when_params = time_sql("r", request.as_of)
        query = (
            "WITH RECURSIVE walk(entity_id, depth, score, via, source, destination, mentions, created) AS ("
            " SELECT key, 0, value, '', '', '', 0, '' FROM json_each(?)"
            " UNION ALL"
            " SELECT CASE WHEN r.source_id = w.entity_id THEN r.destination_id ELSE r.source_id END,"
            f"  w.depth + 1, w.score * (CASE WHEN w.depth = 0 THEN 1.0 ELSE ? END) * {lexical},"
            "  r.id, r.source_id, r.destination_id, r.mentions, r.created_at"
            " FROM walk w JOIN graph_relations r"
            "  ON (r.source_id = w.entity_id OR r.destination_id = w.entity_id)"
            f" WHERE w.depth < ? AND r.id != w.via AND {when}"
            " ORDER BY 3 DESC, 7 DESC, 8 DESC LIMIT ?)"
            " SELECT via, min(depth), max(score), source, destination, mentions, created"
            " FROM walk WHERE depth > 0 GROUP BY via"
        )
        # the queue holds the seeds' rows too
        params = [
            json.dumps(dict(seeds)), request.decay, *stems, request.hops, *when_params,
            len(seeds) + request.limit,
        ]  # fmt: skip
        return {
            row[0]: Candidate(int(row[1]), float(row[2]), row[3], row[4], int(row[5]), row[6])
            for row in self.conn.execute(query, params)
        }

    def relations_by_ids(self, ids: Sequence[str]) -> list[Relation]:
        out: list[Relation] = []
        for part, marks in chunks(ids):
            out += relations(self.conn, f"r.id IN ({marks})", part)
        return out

    def list_relations(
        self, scope: Scope, *, limit: int | None, as_of: str | None, include_invalidated: bool
    ) -> list[Relation]:
        where, params = scope_sql(scope, "r")
        if not include_invalidated:
            when, more = time_sql("r", as_of)
            where, params = f"{where} AND {when}", [*params, *more]
        tail = " ORDER BY r.created_at DESC, r.seq DESC"
        if limit is not None:
            tail += " LIMIT ?"
            params.append(max(limit, 0))
        return relations(self.conn, where, params, tail)

    # -- copies ----------------------------------------------------------------------------

    def dump_entities(self, after: str | None, limit: int) -> list[tuple[Entity, Vectors | None]]:
        rows = self.conn.execute(
            f"SELECT {ENTITY_COLUMNS}, e.embedding FROM graph_entities e WHERE e.seq > "
            "coalesce((SELECT seq FROM graph_entities WHERE id = ?), 0) ORDER BY e.seq LIMIT ?",
            (after, limit),
        ).fetchall()
        return [(entity(row[:-1]), None if row[-1] is None else from_blob(row[-1])) for row in rows]

    def dump_relations(self, after: str | None, limit: int) -> list[Relation]:
        return relations(
            self.conn,
            "r.seq > coalesce((SELECT seq FROM graph_relations WHERE id = ?), 0)",
            (after, limit),
            " ORDER BY r.seq LIMIT ?",
        )

    def set_entity_vectors(self, items: Sequence[tuple[str, Vectors]]) -> None:
        self.deleted = True  # the cached vectors reload
        self.conn.executemany(
            "UPDATE graph_entities SET embedding = ? WHERE id = ?", [(to_blob(v), eid) for eid, v in items]
        )

    # -- deletes ---------------------------------------------------------------------------

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        self.deleted = True
        touched: list[str] = []
        for part, marks in chunks(memory_ids):
            touched += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT relation_id FROM graph_relation_memories WHERE memory_id IN ({marks})",
                    part,
                )
            ]
            self.conn.execute(f"DELETE FROM graph_relation_memories WHERE memory_id IN ({marks})", part)
        unsupported = (
            "NOT EXISTS (SELECT 1 FROM graph_relation_memories m WHERE m.relation_id = graph_relations.id)"
        )
        gone: list[str] = []
        endpoints: list[str] = []
        for part, marks in chunks(list(dict.fromkeys(touched))):
            for rel_id, source_id, destination_id in self.conn.execute(
                f"SELECT id, source_id, destination_id FROM graph_relations "
                f"WHERE id IN ({marks}) AND {unsupported}",
                part,
            ):
                gone.append(rel_id)
                endpoints += [source_id, destination_id]
        for part, marks in chunks(gone):
            self.conn.execute(f"DELETE FROM graph_relations WHERE id IN ({marks})", part)
        self._drop_orphans(list(dict.fromkeys(endpoints)))
        return len(gone)

    def _drop_orphans(self, entity_ids: Sequence[str]) -> None:
        """Delete the given entities (and their names) that no relation uses any more."""
        for part, marks in chunks(entity_ids):
            self.conn.execute(
                f"DELETE FROM graph_entities WHERE id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.source_id = graph_entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.destination_id = graph_entities.id)",
                part,
            )
            self.conn.execute(
                f"DELETE FROM graph_names WHERE entity_id IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM graph_entities e WHERE e.id = graph_names.entity_id)",
                part,
            )

    def delete_scope(self, scope: Scope) -> int:
        self.deleted = True
        where, params = scope_sql(scope, "")
        self.conn.execute(
            "DELETE FROM graph_relation_memories WHERE relation_id IN "
            f"(SELECT id FROM graph_relations WHERE {where})",
            params,
        )
        count = self.conn.execute(f"DELETE FROM graph_relations WHERE {where}", params).rowcount
        self.conn.execute(
            f"DELETE FROM graph_names WHERE entity_id IN (SELECT id FROM graph_entities WHERE {where})",
            params,
        )
        self.conn.execute(f"DELETE FROM graph_entities WHERE {where}", params)
        return int(count)

    def reset(self) -> None:
        self.deleted = True
        for table in TABLES:
            self.conn.execute(f"DELETE FROM {table}")
