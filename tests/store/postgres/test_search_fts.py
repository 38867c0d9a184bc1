"""Full text in PostgreSQL: BM25 over the scope's own statistics, as the SQLite store ranks."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from memlane.filters import Cond
from memlane.models import MemoryRecord
from memlane.store.postgres import search_fts
from memlane.store.postgres.search import index_memories, keyword_search, unindex_memories
from memlane.store.postgres.search_fts import fold, search_text
from memlane.store.sqlite import SQLiteStore
from tests.store.postgres.search_helpers import TENANT, connected, put, record, where
from tests.store.test_contract_bm25 import WORDS, assert_matches_reference, reference_bm25

pytestmark = pytest.mark.integration


def corpus(seed: int, size: int, users: Sequence[str] = ("u1", "u2")) -> list[MemoryRecord]:
    rng = random.Random(seed)
    return [
        record(f"m{seed}-{i:04d}", " ".join(rng.choices(WORDS, k=rng.randint(1, 7))), rng.choice(users), at=i)
        for i in range(size)
    ]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "in-sql"])
@pytest.mark.parametrize("seed", range(3))
def test_bm25_matches_the_reference_over_the_scope(
    postgres_url: str, seed: int, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths: the matches ranked from one statement, and (past DIRECT_MATCHES) in SQL."""
    if not direct:
        monkeypatch.setattr(search_fts, "DIRECT_MATCHES", 0)
    records = corpus(seed, 60)
    terms = random.Random(seed).sample(WORDS, 3)
    with connected(postgres_url) as conn:
        put(conn, records)
        for user in ("u1", "u2"):
            scope = [r for r in records if r.scope.user_id == user]
            hits = keyword_search(conn, TENANT, terms, where(user), 10)
            assert_matches_reference(hits, reference_bm25(records, scope, terms), 10)
        hits = keyword_search(conn, TENANT, terms, where(), 100)
        assert_matches_reference(hits, reference_bm25(records, records, terms), 100)


def test_scores_equal_the_sqlite_stores(postgres_url: str, tmp_path: Path) -> None:
    texts = [
        "Caroline: I went to a LGBTQ support group yesterday and it was so powerful.",
        "Melanie: That's great! I'm painting a sunrise over the lake these days.",
        "Caroline: The transgender stories were inspiring; I'm thinking about counseling.",
        "Melanie: My kids love camping, we went camping at the beach last summer.",
        "Caroline: I have been researching adoption agencies for months now.",
        "Melanie: I ran a charity race for mental health on Saturday.",
        "Caroline: Running the support group again next week, painting after.",
    ]
    records = [record(f"t{i}", text, at=i) for i, text in enumerate(texts)]
    terms = ["caroline", "support", "group", "painting", "camping", "running", "adoption"]
    sqlite = SQLiteStore(tmp_path / "s.db")
    try:
        sqlite.ensure_dimension(4)
        with sqlite.transaction() as tx:
            for r in records:
                tx.insert(r, np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32))
        expected = sqlite.keyword_search(terms, Cond("user_id", "eq", "u1"), 10)
    finally:
        sqlite.close()
    with connected(postgres_url) as conn:
        put(conn, records)
        got = keyword_search(conn, TENANT, terms, where("u1"), 10)
    assert [mid for mid, _ in got] == [mid for mid, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-6)


def test_terms_are_stemmed_and_folded_as_the_tokenizer_reads_them(postgres_url: str) -> None:
    with connected(postgres_url) as conn:
        put(conn, [record("a", "She runs to the Café daily"), record("b", "Alice's naïve plan", at=1)])
        assert [m for m, _ in keyword_search(conn, TENANT, ["running"], where("u1"), 5)] == ["a"]
        assert [m for m, _ in keyword_search(conn, TENANT, ["cafe"], where("u1"), 5)] == ["a"]
        assert [m for m, _ in keyword_search(conn, TENANT, ["CAFÉ"], where("u1"), 5)] == ["a"]
        assert [m for m, _ in keyword_search(conn, TENANT, ["alice", "naive"], where("u1"), 5)] == ["b"]
        assert keyword_search(conn, TENANT, ["absent"], where("u1"), 5) == []
        assert keyword_search(conn, TENANT, [], where("u1"), 5) == []
        assert keyword_search(conn, TENANT, ["runs"], where("u1"), 0) == []
        assert keyword_search(conn, TENANT, ["runs"], where("nobody"), 5) == []


def test_fold_and_search_text() -> None:
    assert fold("naïve") == "naive" and fold("plain") == "plain"
    assert search_text("Alice's CAFÉ, 2 cups!") == ("alice cafe 2 cups", 5)


def test_another_tenant_changes_nothing(postgres_url: str) -> None:
    records = corpus(7, 40)
    terms = list(WORDS[:4])
    with connected(postgres_url) as conn:
        put(conn, records)
        before = keyword_search(conn, TENANT, terms, where("u1"), 10)
        put(conn, corpus(8, 80, users=("u1",)), tenant="other")
        assert keyword_search(conn, TENANT, terms, where("u1"), 10) == before
        other = keyword_search(conn, "other", terms, where("u1"), 100)
        assert {mid for mid, _ in other} <= {f"m8-{i:04d}" for i in range(80)}


def test_totals_follow_replacements_and_removals(postgres_url: str) -> None:
    records = corpus(3, 30)
    terms = list(WORDS[:5])
    with connected(postgres_url) as conn:
        put(conn, records)
        changed = [
            record(r.id, "zorb " * 9, r.scope.user_id or "u1", at=i) for i, r in enumerate(records[:5])
        ]
        index_memories(conn, TENANT, [(r, None) for r in changed])
        unindex_memories(conn, TENANT, [r.id for r in records[5:10]])
        conn.execute(
            "UPDATE memories SET deleted_at = '2026' WHERE id = ANY(%s)", ([r.id for r in records[5:10]],)
        )
        live = changed + records[10:]
        totals = conn.execute("SELECT sum(rows), sum(tokens) FROM memory_search_totals").fetchone()
        assert totals == (len(live), sum(search_text(r.text)[1] for r in live))
        scope = [r for r in live if r.scope.user_id == "u1"]
        assert_matches_reference(
            keyword_search(conn, TENANT, terms, where("u1"), 10), reference_bm25(live, scope, terms), 10
        )


def test_totals_are_folded_into_one_row(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from memlane.store.postgres import search

    monkeypatch.setattr(search, "FOLD_EVERY", 3)
    records = corpus(4, 12)
    with connected(postgres_url) as conn:
        for r in records:
            put(conn, [r])
        rows = conn.execute("SELECT count(*), sum(rows), sum(tokens) FROM memory_search_totals").fetchone()
        assert rows is not None and rows[0] <= 4
        assert rows[1:] == (12, sum(search_text(r.text)[1] for r in records))


def test_common_terms_are_capped_yet_fill_the_list(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above FULL_TERM_ROWS matches a term only adds its share to the rarer terms' matches and
    fills the list with its most recent matches: every score given is still exact."""
    monkeypatch.setattr(search_fts, "FULL_TERM_ROWS", 5)
    monkeypatch.setattr(search_fts, "DIRECT_MATCHES", 10)
    rng = random.Random(1)
    texts = ["zorb " + " ".join(rng.choices(WORDS[2:], k=3)) for _ in range(30)] + ["quix zorb", "quix flam"]
    records = [record(f"c{i:02d}", text, at=i) for i, text in enumerate(texts)]
    with connected(postgres_url) as conn:
        put(conn, records)
        expected = reference_bm25(records, records, ["zorb", "quix"])
        hits = keyword_search(conn, TENANT, ["zorb", "quix"], where("u1"), 8)
        assert len(hits) == 8
        assert {mid for mid, _ in hits[:2]} == {"c30", "c31"}  # the rare term's matches first
        for mid, score in hits:
            assert score == pytest.approx(expected[mid], rel=1e-6)
        # the fill: the most recent of the common term's other matches
        assert {mid for mid, _ in hits[2:]} == {f"c{i:02d}" for i in range(24, 30)}
