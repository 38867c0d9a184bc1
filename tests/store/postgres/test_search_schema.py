"""The ``search`` component's migration 2 on a database that has data: the terms move to
``memory_search_text``, both tables get the scope, the HNSW indexes are built again later."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.store.postgres.schema import migrate
from memlane.store.postgres.search import keyword_search, prepare_dimension, vector_search
from memlane.store.postgres.search_fts import CONFIG, search_text
from memlane.store.postgres.search_schema import SEARCH_STEPS
from tests.store.postgres.search_helpers import TENANT, connected, record, unit, where

pytestmark = pytest.mark.integration


def test_version_2_moves_the_terms_and_adds_the_scope(postgres_url: str) -> None:
    vecs = unit(np.random.default_rng(3), 3, 8)
    records = [record("a", "alice drinks green tea", "u1"), record("b", "bob drinks coffee", "u2"),
               record("c", "alice walks the dog", "u1", at=1)]  # fmt: skip
    with connected(postgres_url, search_steps=SEARCH_STEPS[:1]) as conn:
        for r, v in zip(records, vecs, strict=True):  # as version 1 wrote them
            conn.execute(
                "INSERT INTO memories (tenant, id, text, hash, user_id, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (TENANT, r.id, r.text, r.hash, r.scope.user_id, r.created_at, r.updated_at),
            )
            text, length = search_text(r.text)
            conn.execute(
                "INSERT INTO memory_search (tenant, memory_id, terms, length, embedding) "
                "VALUES (%s, %s, to_tsvector(%s, %s), %s, %s::vector)",
                (TENANT, r.id, CONFIG, text, length, str(v.tolist())),
            )
        conn.execute(
            "CREATE INDEX memory_search_hnsw_8 ON memory_search USING hnsw "
            "((embedding::vector(8)) vector_cosine_ops) WHERE vector_dims(embedding) = 8"
        )
        assert migrate(conn, "search", SEARCH_STEPS) == 2
        rows = conn.execute(
            "SELECT t.memory_id, t.user_id, s.user_id, t.length FROM memory_search_text t "
            "JOIN memory_search s USING (tenant, memory_id) ORDER BY 1"
        ).fetchall()
        assert rows == [(r.id, r.scope.user_id, r.scope.user_id, search_text(r.text)[1]) for r in records]
        assert conn.execute("SELECT to_regclass('memory_search_hnsw_8')").fetchone() == (None,)
        hits = keyword_search(conn, TENANT, ["alice"], where("u1"), 5)
        assert {mid for mid, _ in hits} == {"a", "c"}
        prepare_dimension(conn, TENANT, 8)  # what the store's next ensure_dimension does
        assert vector_search(conn, TENANT, vecs[1], where("u2"), 1)[0][0] == "b"
