"""Shared set-up of the search tests: a connection to a fresh database with the ``store`` and
``search`` schemas, memories written as the store writes them, and filters as it compiles them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from memlane.filters import All, Cond, Filter
from memlane.models import MemoryRecord, Scope, Vectors
from memlane.store.postgres.schema import migrate
from memlane.store.postgres.search import SEARCH_STEPS, index_memories
from memlane.store.postgres.sql import live_where
from memlane.store.postgres.store_schema import STORE_STEPS

TENANT = "default"


@contextmanager
def connected(url: str, search_steps: Sequence[str] = SEARCH_STEPS) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection with both schemas applied (the search one up to ``search_steps``)."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        migrate(conn, "store", STORE_STEPS)
        migrate(conn, "search", search_steps)
        yield conn


def record(mid: str, text: str, user: str = "u1", at: int = 0) -> MemoryRecord:
    stamp = f"2026-01-01T00:{at // 60 % 60:02d}:{at % 60:02d}+00:00"
    return MemoryRecord(id=mid, text=text, scope=Scope(user_id=user), created_at=stamp, updated_at=stamp)


def put(
    conn: psycopg.Connection[Any],
    records: Sequence[MemoryRecord],
    vectors: Sequence[Vectors | None] | None = None,
    tenant: str = TENANT,
) -> None:
    """Insert memory rows (as the store does) and index them."""
    for r in records:
        conn.execute(
            "INSERT INTO memories (tenant, id, text, hash, user_id, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (tenant, r.id, r.text, r.hash, r.scope.user_id, r.created_at, r.updated_at),
        )
    index_memories(conn, tenant, list(zip(records, vectors or [None] * len(records), strict=True)))


def where(user: str | None = None) -> Filter:
    """The filter of one user's memories (or all of the tenant's)."""
    return Cond("user_id", "eq", user) if user else All()


def live(user: str | None = None, tenant: str = TENANT) -> sql.Composed:
    """The store's compiled filter of one user's live memories (or all of the tenant's)."""
    return live_where(where(user), tenant)


def unit(rng: np.random.Generator, count: int, dims: int) -> Vectors:
    vectors = rng.standard_normal((count, dims)).astype(np.float32)
    result: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return result
