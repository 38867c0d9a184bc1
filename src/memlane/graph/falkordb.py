"""``FalkorDBGraphStore``: the graph on a FalkorDB server (openCypher over the Redis protocol).

The SDK (``falkordb``) is imported when a store is built; without it, ``MissingDependencyError``
names the extra (``pip install 'memlane[falkordb]'``). Statements live in ``memlane.graph.cypher``.
FalkorDB runs each statement atomically but has no multi-statement transactions: writes of one
process are serialised by a lock, so ``apply`` resolves entities consistently within a process.
Name similarity is exact (``vec.cosineDistance`` over the scope's entities, in the server).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from memlane.embed.base import Embedder
from memlane.errors import MissingDependencyError, StoreError
from memlane.graph import cypher
from memlane.graph.engine import embed_names, missing_names, require_scope, write
from memlane.graph.extraction import ExtractedEntity, ExtractedRelation
from memlane.graph.models import Entity, GraphChanges, GraphSearchResult, Relation
from memlane.graph.rank import Candidate, Step, rank, result, seed_scores, walk, walk_rows
from memlane.graph.resolve import normalize_name, prepare, query_terms, scope_key
from memlane.graph.settings import GraphSettings
from memlane.models import Scope, Vectors, now_iso

__all__ = ["FalkorDBGraphStore"]


def _unreachable(exc: BaseException | None) -> bool:
    """Whether a failure means the server could not be reached or refused us (not a bad query)."""
    names = {cls.__name__ for cls in type(exc).__mro__} if exc is not None else set()
    return bool(names & {"ConnectionError", "TimeoutError", "AuthenticationError", "OSError"})


_BATCH = 500
"""Rows per UNWIND statement."""


class FalkorDBGraphStore:
    """The ``GraphStore`` on FalkorDB: one named graph holds every scope."""

    def __init__(
        self,
        *,
        unix_socket_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 6379,
        password: str | None = None,
        graph_name: str = "memlane",
        settings: GraphSettings | None = None,
    ) -> None:
        try:
            sdk: Any = importlib.import_module("falkordb")
        except ImportError:
            raise MissingDependencyError("falkordb", "falkordb") from None
        address = f"unix socket {unix_socket_path}" if unix_socket_path else f"{host}:{port}"
        self._db: Any = None
        try:
            if unix_socket_path:
                self._db = sdk.FalkorDB(unix_socket_path=unix_socket_path, password=password)
            else:
                self._db = sdk.FalkorDB(host=host, port=port, password=password)
            self._graph: Any = self._db.select_graph(graph_name)
            self.settings = settings or GraphSettings()
            self._lock = threading.RLock()
            self._ensure_indexes()
        except Exception as exc:  # the SDK's (redis') own errors: refused, timeout, auth…
            self._close_quietly()
            if isinstance(exc, StoreError) and not _unreachable(exc.__cause__):
                raise
            reason = exc.__cause__ if isinstance(exc, StoreError) else exc
            raise StoreError(
                f"cannot reach the FalkorDB server at {address} ({type(reason).__name__}: {reason}); "
                "start it (e.g. docker run -p 6379:6379 falkordb/falkordb), fix graph_store.config "
                "(host, port, unix_socket_path, password or url), or use the embedded graph "
                "(graph_store provider 'sqlite')"
            ) from None

    def _close_quietly(self) -> None:
        if self._db is None:
            return
        with contextlib.suppress(Exception):  # closing a connection that never opened
            self._db.close()

    def _ensure_indexes(self) -> None:
        for statement in cypher.INDEXES:
            try:
                self._graph.query(statement)
            except Exception as exc:
                if "already indexed" not in str(exc):
                    raise StoreError(f"FalkorDB: {exc}") from exc

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement; the rows of its result."""
        try:
            rows: list[list[Any]] = self._graph.query(statement, dict(params or {})).result_set
        except Exception as exc:
            raise StoreError(f"FalkorDB: {exc}") from exc
        return rows

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
        ops = _CypherOps(self)
        found = embed_names(prepared, missing_names(ops, scope, prepared), embedder, vectors)
        at = recorded_at or now_iso()
        with self._lock:
            return write(
                ops, scope, prepared, found, self.settings,
                memory_ids=memory_ids, observed_at=observed_at or at, recorded_at=at,
            )  # fmt: skip

    def remove_memories(self, memory_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(memory_ids))
        if not ids:
            return 0
        with self._lock:
            rows = self.query(cypher.DETACH_MEMORIES, {"memory_ids": ids})
            gone = [r[0] for r in rows if r[1] == 0]
            endpoints = list(dict.fromkeys(e for r in rows if r[1] == 0 for e in (r[2], r[3])))
            if gone:
                self.query(cypher.DELETE_RELATIONS, {"ids": gone})
                self.query(cypher.DELETE_ORPHANS, {"ids": endpoints})
        return len(gone)

    def delete_scope(self, scope: Scope) -> int:
        require_scope(scope)
        params = cypher.scope_params(scope)
        with self._lock:
            count = int(self.query(cypher.count_scope(scope), params)[0][0])
            self.query(cypher.delete_scope(scope), params)
        return count

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Deletes like ``remove_memories`` and ``delete_scope``; a server that persists (RDB,
        AOF) keeps old copies until its next save or rewrite."""
        if scope is not None:
            require_scope(scope)
        count = self.remove_memories(memory_ids)
        return count + (self.delete_scope(scope) if scope is not None else 0)

    def reset(self) -> None:
        with self._lock:
            self.query(cypher.RESET)

    def close(self) -> None:
        self._db.close()

    def drop(self) -> None:
        """Delete the whole named graph, indexes included (tests and tools)."""
        self._graph.delete()

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
        params = cypher.scope_params(scope)
        named = [r[0] for r in self.query(cypher.seed_names(scope), {**params, "norms": terms.names})]
        similar: list[tuple[str, float]] = []
        if query_vector is not None and self.settings.seed_limit > 0:
            vector = [float(x) for x in query_vector.reshape(-1)]
            rows = self.query(
                cypher.seed_similar(scope),
                {**params, "vector": vector, "threshold": self.settings.search_threshold,
                 "limit": self.settings.seed_limit},
            )  # fmt: skip
            similar = [(r[0], float(r[1])) for r in rows]
        seeds = seed_scores(named, similar)
        if not seeds or limit <= 0:
            return GraphSearchResult(seeds=seeds)
        statement = cypher.expand(as_of)

        def expand(
            frontier: Mapping[str, float], factor: float, seen: Collection[str], limit: int
        ) -> list[Step]:
            params = {
                "frontier": [[k, v] for k, v in frontier.items()], "factor": factor, "seen": list(seen),
                "stems": terms.stems, "stem_count": max(len(terms.stems), 1), "limit": limit, "as_of": as_of,
            }  # fmt: skip
            return [(float(r[0]), r[1], r[2], int(r[3]), r[4]) for r in self.query(statement, params)]

        depth = max(1, min(hops or self.settings.hops, 3))
        hits = walk(
            expand, seeds, hops=depth, decay=self.settings.hop_decay,
            limit=walk_rows(self.settings.walk_limit, limit),
        )  # fmt: skip
        candidates = {
            row[0]: Candidate(*hits[row[0]], row[1], row[2], int(row[3]), row[4])
            for row in self.query(cypher.RELATION_FACTS, {"ids": list(hits)})
        }
        ranked = rank(candidates, seeds, limit)
        found = self._relations(cypher.RELATIONS_BY_IDS, {"ids": [rel_id for rel_id, _, _ in ranked]})
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
        statement = cypher.list_relations(scope, as_of, include_invalidated, limit is not None)
        params: dict[str, Any] = {**cypher.scope_params(scope), "as_of": as_of}
        if limit is not None:
            params["limit"] = max(limit, 0)
        return self._relations(statement, params)

    def _relations(self, statement: str, params: Mapping[str, Any]) -> list[Relation]:
        return [_relation(r) for r in self.query(statement, params)]


class _CypherOps:
    """``GraphOps`` as single Cypher statements (see ``engine.write``)."""

    def __init__(self, store: FalkorDBGraphStore) -> None:
        self._store = store

    def entities_by_names(self, skey: str, norms: Sequence[str]) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for row in self._store.query(cypher.ENTITIES_BY_NAMES, {"skey": skey, "norms": list(norms)}):
            out.setdefault(row[0], _entity(row[2:]))
        return out

    def nearest_entities(
        self, skey: str, vectors: Vectors, threshold: float
    ) -> list[tuple[Entity, float] | None]:
        out: list[tuple[Entity, float] | None] = [None] * len(vectors)
        params = {"skey": skey, "vectors": [[float(x) for x in v] for v in vectors], "threshold": threshold}
        for row in self._store.query(cypher.NEAREST_ENTITIES, params):
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
            self._store.query(
                cypher.CREATE_ENTITIES_WITH_VECTORS, {"rows": with_vectors[start : start + _BATCH]}
            )
        for start in range(0, len(without), _BATCH):
            self._store.query(cypher.CREATE_ENTITIES, {"rows": without[start : start + _BATCH]})

    def update_entity(self, entity: Entity) -> None:
        self._store.query(
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
            for row in self._store.query(cypher.CURRENT_RELATIONS, {"keys": part}):
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
            self._store.query(cypher.INSERT_RELATIONS, {"rows": rows[start : start + _BATCH]})

    def mention(self, relation: Relation, memory_ids: Sequence[str], at: str) -> Relation:
        rows = self._store.query(
            cypher.MENTION, {"id": relation.id, "memory_ids": list(memory_ids), "at": at}
        )
        return _relation(rows[0])

    def invalidate(self, relation: Relation, valid_to: str, at: str) -> Relation:
        rows = self._store.query(cypher.INVALIDATE, {"id": relation.id, "valid_to": valid_to, "at": at})
        return _relation(rows[0])


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
