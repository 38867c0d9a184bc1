"""``SQLiteGraphStore``: the embedded graph, in the same SQLite file as the memories.

It shares an ``SQLiteStore``'s connection and lock (or opens its own store on a path), so a
graph write can join the memory store's transaction: called inside ``store.transaction()``,
``apply`` and ``remove_memories`` run in a SAVEPOINT of that transaction and land (or roll
back) with the memories. Multi-hop search is one recursive CTE that walks best-first (an
ordered queue with a row limit); entity name vectors are scored exactly with numpy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from memlane.embed.base import Embedder
from memlane.graph.engine import embed_names, missing_names, require_scope, write
from memlane.graph.extraction import ExtractedEntity, ExtractedRelation
from memlane.graph.models import GraphChanges, GraphSearchResult, Relation
from memlane.graph.rank import Candidate, rank, result, seed_scores, walk_rows
from memlane.graph.resolve import prepare, query_terms
from memlane.graph.settings import GraphSettings
from memlane.graph.sqlite_ops import EntityVectors, SQLiteOps, chunks, relations, scope_sql, time_sql
from memlane.models import Scope, Vectors, now_iso
from memlane.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteGraphStore"]

_TABLES = ("graph_relation_memories", "graph_relations", "graph_names", "graph_entities")


class SQLiteGraphStore:
    """The ``GraphStore`` of the embedded default. Thread-safe (the memory store's lock)."""

    def __init__(self, store: SQLiteStore | str | Path, settings: GraphSettings | None = None) -> None:
        self._owns = not isinstance(store, SQLiteStore)
        self._store = store if isinstance(store, SQLiteStore) else SQLiteStore(store)
        self.settings = settings or GraphSettings()
        self._cache = EntityVectors()
        self._scopes: dict[tuple[str, ...], tuple[int, dict[int, str]]] = {}

    # -- writes --------------------------------------------------------------------------

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
        with self._store.locked() as conn:
            missing = missing_names(SQLiteOps(conn, self._cache), scope, prepared)
        found = embed_names(prepared, missing, embedder, vectors)
        at = recorded_at or now_iso()
        with self._write() as ops:
            return write(
                ops, scope, prepared, found, self.settings,
                memory_ids=memory_ids, observed_at=observed_at or at, recorded_at=at,
            )  # fmt: skip

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return 0
        with self._write() as ops:
            count = _remove_memories(ops.conn, ids)
        self._cache.invalidate()
        return count

    def delete_scope(self, scope: Scope) -> int:
        require_scope(scope)
        with self._write() as ops:
            count = _delete_scope(ops.conn, scope)
        self._cache.invalidate()
        return count

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        if scope is not None:
            require_scope(scope)
        ids = list(dict.fromkeys(memory_ids))
        with self._store.locked() as conn:
            conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._write() as ops:
                    count = _remove_memories(ops.conn, ids) if ids else 0
                    count += _delete_scope(ops.conn, scope) if scope is not None else 0
                if not conn.in_transaction:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.execute("PRAGMA secure_delete = OFF")
        self._cache.invalidate()
        return count

    def reset(self) -> None:
        with self._write() as ops:
            for table in _TABLES:
                ops.conn.execute(f"DELETE FROM {table}")
        self._cache.invalidate()

    def close(self) -> None:
        if self._owns:
            self._store.close()

    # -- reads ---------------------------------------------------------------------------

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
        depth = max(1, min(hops or self.settings.hops, 3))
        with self._store.locked() as conn:
            seeds = seed_scores(
                self._named(conn, scope, terms.names), self._similar(conn, scope, query_vector)
            )
            if not seeds or limit <= 0:
                return GraphSearchResult(seeds=seeds)
            ranked = rank(self._walk(conn, seeds, terms.stems, depth, as_of, limit), seeds, limit)
            ids = [rel_id for rel_id, _, _ in ranked]
            found = {r.id: r for r in relations(conn, f"r.id IN ({', '.join('?' for _ in ids)})", ids)}
        return result(ranked, found, seeds)

    def list_relations(
        self,
        scope: Scope,
        *,
        limit: int | None = 100,
        as_of: str | None = None,
        include_invalidated: bool = False,
    ) -> list[Relation]:
        require_scope(scope)
        where, params = scope_sql(scope, "r")
        if not include_invalidated:
            when, more = time_sql("r", as_of)
            where, params = f"{where} AND {when}", [*params, *more]
        tail = " ORDER BY r.created_at DESC, r.seq DESC"
        if limit is not None:
            tail += " LIMIT ?"
            params.append(max(limit, 0))
        with self._store.locked() as conn:
            return relations(conn, where, params, tail)

    # -- helpers -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[SQLiteOps]:
        """One unit of writes: its own transaction, or a savepoint of the caller's."""
        with self._store.locked() as conn:
            nested = conn.in_transaction
            conn.execute("SAVEPOINT graph_write" if nested else "BEGIN IMMEDIATE")
            ops = SQLiteOps(conn, self._cache)
            try:
                yield ops
            except BaseException:
                if nested:
                    conn.execute("ROLLBACK TO graph_write")
                    conn.execute("RELEASE graph_write")
                else:
                    conn.execute("ROLLBACK")
                self._cache.invalidate()
                raise
            conn.execute("RELEASE graph_write" if nested else "COMMIT")
            if nested:
                self._cache.invalidate()  # the caller's transaction may still roll back
            else:
                self._cache.append(ops.new_vectors)

    def _named(self, conn: sqlite3.Connection, scope: Scope, names: Sequence[str]) -> list[str]:
        where, params = scope_sql(scope, "e")
        out: list[str] = []
        for part, marks in chunks(list(names)):
            out += [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT n.entity_id FROM graph_names n CROSS JOIN graph_entities e "
                    f"ON e.id = n.entity_id WHERE n.norm IN ({marks}) AND {where}",
                    [*part, *params],
                )
            ]
        return out

    def _similar(
        self, conn: sqlite3.Connection, scope: Scope, vector: Vectors | None
    ) -> list[tuple[str, float]]:
        if vector is None or self.settings.seed_limit <= 0:
            return []
        ids = self._scope_entities(conn, scope)
        seqs, scores = self._cache.scores(np.asarray(vector, dtype=np.float32).reshape(1, -1), list(ids))
        if not len(seqs):
            return []
        row = scores[0]
        top = np.argsort(-row, kind="stable")[: self.settings.seed_limit]
        return [(ids[int(seqs[i])], float(row[i])) for i in top if row[i] >= self.settings.search_threshold]

    def _scope_entities(self, conn: sqlite3.Connection, scope: Scope) -> dict[int, str]:
        """Entity id by seq for the scope's entities, cached while the entity vectors stay the same."""
        self._cache.sync(conn)
        where, params = scope_sql(scope, "e")
        key = (where, *params)
        cached = self._scopes.get(key)
        if cached is not None and cached[0] == self._cache.generation:
            return cached[1]
        rows = conn.execute(f"SELECT e.seq, e.id FROM graph_entities e WHERE {where}", params).fetchall()
        if len(self._scopes) >= 64:
            self._scopes.clear()
        self._scopes[key] = (self._cache.generation, dict(rows))
        return self._scopes[key][1]

    def _walk(
        self,
        conn: sqlite3.Connection,
        seeds: Mapping[str, float],
        stems: Sequence[str],
        hops: int,
        as_of: str | None,
        limit: int,
    ) -> dict[str, Candidate]:
        """The best-first walk of ``rank.walk`` as one recursive query (keep the two in step)."""
        lexical = "0.75"
        if stems:
            matched = " + ".join("(instr(r.relationship, ?) > 0)" for _ in stems)
            lexical = f"(0.75 + 0.25 * ({matched}) / {len(stems)}.0)"
        when, when_params = time_sql("r", as_of)
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
        params = [
            json.dumps(dict(seeds)), self.settings.hop_decay, *stems, hops, *when_params,
            len(seeds) + walk_rows(self.settings.walk_limit, limit),
        ]  # fmt: skip
        return {
            row[0]: Candidate(int(row[1]), float(row[2]), row[3], row[4], int(row[5]), row[6])
            for row in conn.execute(query, params)
        }


def _remove_memories(conn: sqlite3.Connection, memory_ids: Sequence[str]) -> int:
    touched: list[str] = []
    for part, marks in chunks(memory_ids):
        touched += [
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT relation_id FROM graph_relation_memories WHERE memory_id IN ({marks})", part
            )
        ]
        conn.execute(f"DELETE FROM graph_relation_memories WHERE memory_id IN ({marks})", part)
    unsupported = (
        "NOT EXISTS (SELECT 1 FROM graph_relation_memories m WHERE m.relation_id = graph_relations.id)"
    )
    gone: list[str] = []
    endpoints: list[str] = []
    for part, marks in chunks(list(dict.fromkeys(touched))):
        for rel_id, source_id, destination_id in conn.execute(
            f"SELECT id, source_id, destination_id FROM graph_relations "
            f"WHERE id IN ({marks}) AND {unsupported}",
            part,
        ):
            gone.append(rel_id)
            endpoints += [source_id, destination_id]
    for part, marks in chunks(gone):
        conn.execute(f"DELETE FROM graph_relations WHERE id IN ({marks})", part)
    _drop_orphans(conn, list(dict.fromkeys(endpoints)))
    return len(gone)


def _drop_orphans(conn: sqlite3.Connection, entity_ids: Sequence[str]) -> None:
    """Delete the given entities (and their names) that no relation uses any more."""
    for part, marks in chunks(entity_ids):
        conn.execute(
            f"DELETE FROM graph_entities WHERE id IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.source_id = graph_entities.id) "
            "AND NOT EXISTS (SELECT 1 FROM graph_relations r WHERE r.destination_id = graph_entities.id)",
            part,
        )
        conn.execute(
            f"DELETE FROM graph_names WHERE entity_id IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM graph_entities e WHERE e.id = graph_names.entity_id)",
            part,
        )


def _delete_scope(conn: sqlite3.Connection, scope: Scope) -> int:
    where, params = scope_sql(scope, "")
    conn.execute(
        "DELETE FROM graph_relation_memories WHERE relation_id IN "
        f"(SELECT id FROM graph_relations WHERE {where})",
        params,
    )
    count = conn.execute(f"DELETE FROM graph_relations WHERE {where}", params).rowcount
    conn.execute(
        f"DELETE FROM graph_names WHERE entity_id IN (SELECT id FROM graph_entities WHERE {where})", params
    )
    conn.execute(f"DELETE FROM graph_entities WHERE {where}", params)
    return int(count)
