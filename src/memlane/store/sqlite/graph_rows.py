"""The SQLite graph's rows: SQL fragments, relations read whole, and the entity-vector cache.

Tables (migration 2 of ``memlane.store.sqlite.schema``): ``graph_entities`` (with the name
embedding as a float32 BLOB), ``graph_names`` (each entity's normalised name and aliases, for
exact matches), ``graph_relations`` and ``graph_relation_memories`` (the supporting memories,
in the order they came).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from memlane.errors import DimensionMismatchError
from memlane.graph.models import Entity, Relation
from memlane.models import Scope, Vectors
from memlane.store.graph_sql import scope_condition, time_condition

__all__ = ["ENTITY_COLUMNS", "EntityVectors", "chunks", "entity", "relations", "scope_sql", "time_sql"]

ENTITY_COLUMNS = (
    "e.id, e.name, e.type, e.aliases, e.user_id, e.agent_id, e.run_id, e.created_at, e.updated_at"
)
_RELATION_SELECT = (
    "SELECT r.id, s.name, r.relationship, d.name, r.source_id, r.destination_id, r.user_id, "
    "r.agent_id, r.run_id, r.created_at, r.updated_at, r.valid_from, r.valid_to, r.invalidated_at, "
    "r.mentions FROM graph_relations r JOIN graph_entities s ON s.id = r.source_id "
    "JOIN graph_entities d ON d.id = r.destination_id"
)
CHUNK = 500


def chunks(items: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """Slices of at most 500 items, each with its ``?, ?, ...`` placeholders."""
    for start in range(0, len(items), CHUNK):
        part = list(items[start : start + CHUNK])
        yield part, ", ".join("?" for _ in part)


def scope_sql(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    """``alias.user_id = ? AND ...`` for the ids the scope sets (a read or delete filter)."""
    return scope_condition(scope, alias, "?")


def time_sql(alias: str, as_of: str | None) -> tuple[str, list[Any]]:
    """Relations current now, or current at record time ``as_of``."""
    return time_condition(alias, as_of, "?")


def entity(row: Sequence[Any]) -> Entity:
    return Entity(
        id=row[0],
        name=row[1],
        type=row[2],
        aliases=tuple(json.loads(row[3])),
        scope=Scope(row[4], row[5], row[6]),
        created_at=row[7],
        updated_at=row[8],
    )


def relations(conn: sqlite3.Connection, where: str, params: Sequence[Any], tail: str = "") -> list[Relation]:
    """Relations matching ``where`` (on ``r``), with their endpoints' names and memory ids."""
    rows = conn.execute(f"{_RELATION_SELECT} WHERE {where}{tail}", list(params)).fetchall()
    support: dict[str, list[str]] = {}
    for ids, marks in chunks([r[0] for r in rows]):
        for relation_id, memory_id in conn.execute(
            "SELECT relation_id, memory_id FROM graph_relation_memories "
            f"WHERE relation_id IN ({marks}) ORDER BY rowid",
            ids,
        ):
            support.setdefault(relation_id, []).append(memory_id)
    return [
        Relation(
            id=r[0], source=r[1], relationship=r[2], destination=r[3], source_id=r[4],
            destination_id=r[5], scope=Scope(r[6], r[7], r[8]), created_at=r[9], updated_at=r[10],
            valid_from=r[11], valid_to=r[12], invalidated_at=r[13], mentions=r[14],
            memory_ids=tuple(support.get(r[0], ())),
        )
        for r in rows
    ]  # fmt: skip


class EntityVectors:
    """Unit name vectors of every entity, sorted by ``seq``, kept in step with this process's
    writes and reloaded when another connection commits (``PRAGMA data_version``)."""

    def __init__(self) -> None:
        self._seqs: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._matrix: Vectors = np.zeros((0, 0), dtype=np.float32)
        self._stale = True
        self._version: int | None = None
        self.generation = 0
        """Changes whenever the cached vectors do (for caches derived from them)."""
        self._scopes: dict[tuple[str, ...], tuple[int, dict[int, str]]] = {}

    def invalidate(self) -> None:
        self._stale = True
        self.generation += 1

    def sync(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if self._stale or version != self._version:
            rows = conn.execute(
                "SELECT seq, embedding FROM graph_entities WHERE embedding IS NOT NULL ORDER BY seq"
            ).fetchall()
            self._seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            dim = len(rows[0][1]) // 4 if rows else 0
            blob = b"".join(r[1] for r in rows)
            self._matrix = np.frombuffer(blob, dtype="<f4").astype(np.float32).reshape(len(rows), dim)
            self._version, self._stale = version, False
            self.generation += 1

    def append(self, rows: Sequence[tuple[int, Vectors]]) -> None:
        """Record this process's committed inserts; anything out of order reloads later."""
        if self._stale or not rows:
            return
        seqs = np.asarray([s for s, _ in rows], dtype=np.int64)
        matrix = np.stack([np.asarray(v, dtype=np.float32).reshape(-1) for _, v in rows])
        in_order = not len(self._seqs) or int(seqs.min()) > int(self._seqs[-1])
        same_dim = not len(self._seqs) or matrix.shape[1] == self._matrix.shape[1]
        if not (in_order and same_dim and bool(np.all(np.diff(seqs) > 0))):
            self._stale = True
            return
        self._seqs = np.concatenate([self._seqs, seqs])
        self._matrix = matrix if not len(self._matrix) else np.concatenate([self._matrix, matrix])
        self.generation += 1

    def scores(self, queries: Vectors, seqs: Sequence[int]) -> tuple[npt.NDArray[np.int64], Vectors]:
        """(the seqs among ``seqs`` that have a vector, a len(queries) x len(found) score matrix)."""
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, queries.shape[-1])
        wanted = np.asarray(seqs, dtype=np.int64)
        if not len(self._seqs) or not wanted.size:
            return np.zeros(0, dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        if queries.shape[1] != self._matrix.shape[1]:
            raise DimensionMismatchError(self._matrix.shape[1], queries.shape[1])
        pos = np.searchsorted(self._seqs, wanted)
        pos[pos >= len(self._seqs)] = 0
        hit = self._seqs[pos] == wanted
        rows = pos[hit]
        if len(rows) * 4 >= len(self._seqs):  # most rows: score them all rather than copy them
            found: Vectors = (queries @ self._matrix.T)[:, rows]
        else:
            found = queries @ self._matrix[rows].T
        return wanted[hit], found

    def scope_entities(self, conn: sqlite3.Connection, scope: Scope) -> dict[int, str]:
        """Entity id by seq for the scope's entities, cached while the entity vectors stay the same."""
        self.sync(conn)
        where, params = scope_sql(scope, "e")
        key = (where, *params)
        cached = self._scopes.get(key)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        rows = conn.execute(f"SELECT e.seq, e.id FROM graph_entities e WHERE {where}", params).fetchall()
        if len(self._scopes) >= 64:
            self._scopes.clear()
        self._scopes[key] = (self.generation, dict(rows))
        return self._scopes[key][1]
