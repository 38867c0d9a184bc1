"""PLACEHOLDER (pg-store branch only) with the agreed interface of the pg-search helper's module:
exact vector search and a plain ``ts_rank`` keyword search, so the store runs until the real
module (tsvector + BM25 statistics, pgvector HNSW) is merged over it. Not for merging.

Statements that embed ``where`` (``memlane.store.postgres.sql.live_where``) run without params.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql

from memlane.models import MemoryRecord, Vectors
from memlane.store.base import ScoredId
from memlane.store.postgres.sql import literals

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "SEARCH_STEPS",
    "index_memories",
    "keyword_search",
    "prepare_dimension",
    "similarities",
    "unindex_memories",
    "vector_search",
    "vectors",
]

SEARCH_STEPS: list[str] = [
    """
CREATE TABLE search_placeholder (
    tenant TEXT COLLATE "C" NOT NULL,
    memory_id TEXT COLLATE "C" NOT NULL,
    embedding vector,
    tsv tsvector NOT NULL,
    PRIMARY KEY (tenant, memory_id)
);
"""
]


def _vector(vector: Vectors) -> sql.Composed:
    values = ",".join(repr(float(x)) for x in np.asarray(vector, dtype=np.float32).reshape(-1))
    return sql.SQL("{}::vector").format(sql.Literal(f"[{values}]"))


def index_memories(
    conn: Connection[Any], tenant: str, rows: Sequence[tuple[MemoryRecord, Vectors | None]]
) -> None:
    for record, vector in rows:
        conn.execute(
            "INSERT INTO search_placeholder (tenant, memory_id, embedding, tsv) "
            "VALUES (%s, %s, %s, to_tsvector('english', %s)) ON CONFLICT (tenant, memory_id) DO UPDATE "
            "SET embedding = coalesce(EXCLUDED.embedding, search_placeholder.embedding), tsv = EXCLUDED.tsv",
            (tenant, record.id, vector, record.text),
        )


def unindex_memories(conn: Connection[Any], tenant: str, memory_ids: Sequence[str]) -> None:
    if memory_ids:
        conn.execute(
            "DELETE FROM search_placeholder WHERE tenant = %s AND memory_id = ANY(%s)",
            (tenant, list(memory_ids)),
        )


def prepare_dimension(conn: Connection[Any], tenant: str, dimension: int) -> None:
    """Nothing to prepare for exact search."""


def keyword_search(
    conn: Connection[Any], tenant: str, terms: Sequence[str], where: sql.Composable, limit: int
) -> list[ScoredId]:
    if not terms or limit <= 0:
        return []
    query = sql.SQL(" || ").join(
        sql.SQL("plainto_tsquery('english', {})").format(sql.Literal(t)) for t in terms
    )
    rows = conn.execute(
        sql.SQL(
            "SELECT m.id, ts_rank(s.tsv, q) FROM memories m JOIN search_placeholder s "
            "ON s.tenant = m.tenant AND s.memory_id = m.id, (SELECT {} AS q) AS query "
            "WHERE {} AND s.tenant = {} AND s.tsv @@ q ORDER BY 2 DESC, m.seq LIMIT {}"
        ).format(query, where, sql.Literal(tenant), sql.Literal(limit))
    ).fetchall()
    return [(str(r[0]), float(r[1])) for r in rows]


def vector_search(
    conn: Connection[Any], tenant: str, vector: Vectors, where: sql.Composable, limit: int
) -> list[ScoredId]:
    if limit <= 0:
        return []
    rows = conn.execute(
        sql.SQL(
            "SELECT m.id, 1 - (s.embedding <=> {q}) FROM memories m JOIN search_placeholder s "
            "ON s.tenant = m.tenant AND s.memory_id = m.id WHERE {w} AND s.tenant = {t} "
            "AND s.embedding IS NOT NULL ORDER BY s.embedding <=> {q}, m.seq LIMIT {n}"
        ).format(q=_vector(vector), w=where, t=sql.Literal(tenant), n=sql.Literal(limit))
    ).fetchall()
    return [(str(r[0]), float(r[1])) for r in rows]


def similarities(conn: Connection[Any], tenant: str, vector: Vectors, ids: Sequence[str]) -> dict[str, float]:
    found = vectors(conn, tenant, ids)
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    return {mid: float(v @ query) for mid, v in found.items()}


def vectors(conn: Connection[Any], tenant: str, ids: Sequence[str]) -> dict[str, Vectors]:
    if not ids:
        return {}
    rows = conn.execute(
        sql.SQL(
            "SELECT s.memory_id, s.embedding FROM search_placeholder s WHERE s.tenant = {} "
            "AND s.memory_id IN ({}) AND s.embedding IS NOT NULL"
        ).format(sql.Literal(tenant), literals(ids))
    ).fetchall()
    return {str(r[0]): np.asarray(r[1].to_numpy(), dtype=np.float32) for r in rows}
