"""Bulk loading by binary COPY: the same rows as the store's writes, searchable at once."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.models import MemoryRecord, Scope
from memlane.store.postgres.search import keyword_search, vector_search
from memlane.store.postgres.search_copy import copy_memories
from tests.store.postgres.search_helpers import TENANT, connected, put, record, unit, where

pytestmark = pytest.mark.integration


def test_copied_memories_match_indexed_ones(postgres_url: str) -> None:
    rng = np.random.default_rng(0)
    vecs = unit(rng, 2, 8)
    copied = MemoryRecord(
        id="c", text="Caroline's naïve café plans", scope=Scope(user_id="u1", agent_id="a1"),
        created_at="2026-01-01T00:00:00+00:00", updated_at="2026-01-02T00:00:00+00:00",
        actor_id="caroline", role="user", metadata={"topic": "food", "n": 3, "tags": ["x"]},
        valid_from="2025-12-31T00:00:00+00:00", expiration_date="2027-01-01",
    )  # fmt: skip
    with connected(postgres_url) as conn:
        with conn.transaction():
            assert copy_memories(conn, TENANT, [(copied, vecs[0])], batch=1) == 1
        put(conn, [record("i", copied.text, at=1)], [vecs[1]])
        row = conn.execute(
            "SELECT id, text, hash, user_id, agent_id, actor_id, role, metadata, valid_from, "
            "expiration_date, version, deleted_at FROM memories WHERE id = 'c'"
        ).fetchone()
        assert row == (
            "c", copied.text, copied.hash, "u1", "a1", "caroline", "user", copied.metadata,
            copied.valid_from, "2027-01-01", 1, None,
        )  # fmt: skip
        terms = conn.execute(
            "SELECT memory_id, terms::text, length FROM memory_search_text ORDER BY memory_id"
        ).fetchall()
        assert terms[0][1:] == terms[1][1:]
        assert conn.execute("SELECT sum(rows), sum(tokens) FROM memory_search_totals").fetchone() == (2, 10)
        hits = keyword_search(conn, TENANT, ["cafe"], where("u1"), 5)
        assert {mid for mid, _ in hits} == {"c", "i"}
        assert vector_search(conn, TENANT, vecs[0], where("u1"), 1)[0][0] == "c"
