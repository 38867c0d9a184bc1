"""Vectors in pgvector: exact cosine search in small scopes, HNSW with iterative scans in
large ones, and a selective filter that still gets ``limit`` rows where plain HNSW does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest

from memlane.errors import InvalidInputError
from memlane.models import MemoryRecord, Scope
from memlane.store.postgres import search
from memlane.store.postgres.search import (
    index_memories,
    prepare_dimension,
    similarities,
    unindex_memories,
    vector_literal,
    vector_search,
    vectors,
)
from memlane.store.postgres.search_copy import copy_memories
from tests.store.postgres.search_helpers import TENANT, connected, live, put, record, unit, where

pytestmark = pytest.mark.integration

DIMS = 16


def test_exact_search_scores_are_cosine_similarities(postgres_url: str) -> None:
    rng = np.random.default_rng(0)
    vecs = unit(rng, 40, DIMS)
    records = [record(f"v{i:02d}", f"memory {i}", "u1" if i % 2 else "u2", at=i) for i in range(40)]
    with connected(postgres_url) as conn:
        put(conn, records, list(vecs))
        prepare_dimension(conn, TENANT, DIMS)
        query = unit(rng, 1, DIMS)[0]
        hits = vector_search(conn, TENANT, query, where("u1"), 5)
        mine = [i for i in range(40) if i % 2]
        cosines = vecs[mine] @ query
        best = np.argsort(-cosines)[:5]
        assert [mid for mid, _ in hits] == [f"v{mine[i]:02d}" for i in best]
        assert [s for _, s in hits] == pytest.approx(cosines[best].tolist(), abs=1e-6)
        assert vector_search(conn, TENANT, query, where("u1"), 0) == []
        assert vector_search(conn, "other", query, where("u1"), 5) == []


def test_similarities_and_vectors_of_live_memories(postgres_url: str) -> None:
    rng = np.random.default_rng(1)
    vecs = unit(rng, 3, DIMS)
    with connected(postgres_url) as conn:
        put(conn, [record("a", "one"), record("b", "two", at=1), record("c", "three", at=2)], list(vecs))
        conn.execute("UPDATE memories SET deleted_at = '2026-02-01' WHERE id = 'c'")
        got = similarities(conn, TENANT, vecs[0], ["a", "b", "c", "missing"])
        assert got == pytest.approx({"a": 1.0, "b": float(vecs[1] @ vecs[0])}, abs=1e-6)
        stored = vectors(conn, TENANT, ["a", "b", "c"])
        assert set(stored) == {"a", "b"} and stored["b"].dtype == np.float32
        np.testing.assert_allclose(stored["b"], vecs[1], rtol=1e-6)
        assert similarities(conn, "other", vecs[0], ["a"]) == {} and vectors(conn, TENANT, []) == {}


def test_a_text_change_keeps_the_vector_and_unindex_forgets_it(postgres_url: str) -> None:
    rng = np.random.default_rng(2)
    vecs = unit(rng, 2, DIMS)
    with connected(postgres_url) as conn:
        put(conn, [record("a", "old text")], [vecs[0]])
        index_memories(conn, TENANT, [(record("a", "new text"), None)])
        np.testing.assert_allclose(vectors(conn, TENANT, ["a"])["a"], vecs[0], rtol=1e-6)
        index_memories(conn, TENANT, [(record("a", "newer text"), vecs[1])])
        np.testing.assert_allclose(vectors(conn, TENANT, ["a"])["a"], vecs[1], rtol=1e-6)
        unindex_memories(conn, TENANT, ["a"])
        assert vectors(conn, TENANT, ["a"]) == {}
        assert vector_search(conn, TENANT, vecs[1], where("u1"), 3) == []


def test_prepare_dimension_is_idempotent_and_sizes_live_side_by_side(postgres_url: str) -> None:
    rng = np.random.default_rng(3)
    with connected(postgres_url) as conn:
        prepare_dimension(conn, TENANT, DIMS)
        prepare_dimension(conn, TENANT, DIMS)
        prepare_dimension(conn, TENANT, 8)
        names = {
            r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'memory_search'")
        }
        assert {"memory_search_hnsw_16", "memory_search_hnsw_8"} <= names
        small, large = unit(rng, 1, 8)[0], unit(rng, 1, DIMS)[0]
        put(conn, [record("s", "small"), record("l", "large", at=1)], [small, large])
        assert [m for m, _ in vector_search(conn, TENANT, small, where("u1"), 5)] == ["s"]
        assert [m for m, _ in vector_search(conn, TENANT, large, where("u1"), 5)] == ["l"]
        with pytest.raises(InvalidInputError, match="between 1 and 2000"):
            prepare_dimension(conn, TENANT, 4096)


def test_bad_vectors_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="NaN"):
        vector_literal(np.array([1.0, np.nan], dtype=np.float32))
    with pytest.raises(InvalidInputError):
        vector_literal(np.zeros(0, dtype=np.float32))


ROWS, SCOPES, BIG_DIMS, K = 20_000, 100, 32, 10


@pytest.fixture(scope="module")
def many_scopes(postgres_server: Any) -> Iterator[tuple[str, np.ndarray]]:
    """20k memories over 100 scopes (0.5 % each) with an HNSW index: loaded once, by COPY."""
    name = "t_search_many_scopes"
    url = postgres_server.database(name)
    rng = np.random.default_rng(7)
    vecs = unit(rng, ROWS, BIG_DIMS)
    rows = [
        (
            MemoryRecord(
                id=f"m{i:05d}", text=f"memory {i}", scope=Scope(user_id=f"s{i % SCOPES:03d}"),
                created_at="2026-01-01T00:00:00+00:00", updated_at="2026-01-01T00:00:00+00:00",
            ),
            vecs[i],
        )
        for i in range(ROWS)
    ]  # fmt: skip
    try:
        with connected(url) as conn:
            with conn.transaction():
                assert copy_memories(conn, TENANT, rows) == ROWS
            prepare_dimension(conn, TENANT, BIG_DIMS)
            conn.execute("ANALYZE")
        yield url, vecs
    finally:
        postgres_server.drop(name)


def exact_top(vecs: np.ndarray, query: np.ndarray, scope: int) -> list[str]:
    members = np.arange(scope, ROWS, SCOPES)
    order = np.argsort(-(vecs[members] @ query))[:K]
    return [f"m{members[i]:05d}" for i in order]


def plain_hnsw(conn: psycopg.Connection[Any], query: np.ndarray, user: str) -> list[str]:
    """The query a store without iterative scans runs: HNSW order, then the scope filter."""
    statement = psycopg.sql.SQL(
        "SELECT m.id FROM memory_search s JOIN memories m ON m.tenant = s.tenant AND m.id = s.memory_id "
        "WHERE {where} AND vector_dims(s.embedding) = {d} "
        "ORDER BY s.embedding::vector({d}) <=> {q}::vector({d}) LIMIT {k}"
    ).format(where=live(user), d=BIG_DIMS, q=vector_literal(query), k=K)
    with conn.transaction():
        conn.execute("SET LOCAL enable_sort = off")  # the HNSW plan, as on a large table
        plan = "\n".join(str(r[0]) for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + statement))
        assert "memory_search_hnsw_32" in plan
        return [str(r[0]) for r in conn.execute(statement)]


def test_a_selective_scope_gets_top_k_where_plain_hnsw_does_not(
    many_scopes: tuple[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, vecs = many_scopes
    rng = np.random.default_rng(8)
    queries = unit(rng, 5, BIG_DIMS)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        plain = [len(plain_hnsw(conn, q, f"s{i:03d}")) for i, q in enumerate(queries)]
        assert sum(plain) < K * len(queries) // 2, plain  # post-filtering loses most of them
        for i, query in enumerate(queries):  # a small scope: exact
            hits = vector_search(conn, TENANT, query, where(f"s{i:03d}"), K)
            assert [mid for mid, _ in hits] == exact_top(vecs, query, i)
        monkeypatch.setattr(search, "EXACT_ROWS", 0)  # every scope through HNSW, iterative
        found = 0
        for i, query in enumerate(queries):
            hits = vector_search(conn, TENANT, query, where(f"s{i:03d}"), K)
            assert len(hits) == K
            assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
            found += len({mid for mid, _ in hits} & set(exact_top(vecs, query, i)))
        assert found / (K * len(queries)) >= 0.8


def plans(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plans (EXPLAIN ANALYZE, with the same settings) of the vector searches run on ``conn``."""
    seen: list[str] = []
    original = conn.execute

    def spy(statement: Any, *args: Any, **kwargs: Any) -> Any:
        text = statement.as_string(conn) if isinstance(statement, psycopg.sql.Composable) else str(statement)
        if "near AS" in text:
            *settings, query, _ = text.split("; ")
            with conn.transaction():
                for setting in settings:
                    original(setting)
                seen.append("\n".join(str(r[0]) for r in original("EXPLAIN ANALYZE " + query)))
        return original(statement, *args, **kwargs)

    monkeypatch.setattr(conn, "execute", spy)
    return seen


def test_a_large_scope_goes_through_hnsw(
    many_scopes: tuple[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_ROWS the statement reads the HNSW index (its plan says so) in the same
    round trip; a small scope never touches it."""
    url, vecs = many_scopes
    monkeypatch.setattr(search, "EXACT_ROWS", 1000)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        seen = plans(conn, monkeypatch)
        hits = vector_search(conn, TENANT, vecs[0], where(), K)
        small = vector_search(conn, TENANT, vecs[0], where("s000"), K)
    assert hits[0][0] == "m00000" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert small[0][0] == "m00000" and len(small) == K
    assert len(hits) == K and len(seen) == 2
    used = [line for line in seen[0].splitlines() if "memory_search_hnsw_32" in line]
    assert used and "never executed" not in used[0], seen[0]
    unused = [line for line in seen[1].splitlines() if "memory_search_hnsw_32" in line]
    assert all("never executed" in line for line in unused), seen[1]


def test_a_large_scope_that_is_a_small_share_is_searched_exactly(
    many_scopes: tuple[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An iterative scan would read about limit * tenant / scope vectors: past half of
    MAX_SCAN_TUPLES the scope is searched exactly instead (all of its top k, in order)."""
    url, vecs = many_scopes
    monkeypatch.setattr(search, "EXACT_ROWS", 0)
    monkeypatch.setattr(search, "MAX_SCAN_TUPLES", 1000)  # 10 * 20,000 / 200 = 1,000 > 500
    query = unit(np.random.default_rng(9), 1, BIG_DIMS)[0]
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        hits = vector_search(conn, TENANT, query, where("s004"), K)
    assert [mid for mid, _ in hits] == exact_top(vecs, query, 4)
