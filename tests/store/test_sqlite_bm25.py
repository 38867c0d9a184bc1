"""SQLite's BM25 for large scopes: a term with more than ``FULL_TERM_ROWS`` matches in the scope
is not ranked over all of them, yet every score it gives is exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane.filters import Cond
from memlane.store.sqlite import SQLiteStore, fts
from tests.store.test_contract import put, rec
from tests.store.test_contract_bm25 import WORDS, corpora, reference_bm25


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    corpus=corpora, query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), limit=st.integers(1, 12)
)
def test_capped_terms_give_exact_scores(
    monkeypatch: pytest.MonkeyPatch, corpus: list[tuple[str, list[str]]], query: list[str], limit: int
) -> None:
    monkeypatch.setattr(fts, "FULL_TERM_ROWS", 2)
    store = SQLiteStore(":memory:")
    store.ensure_dimension(64)
    try:
        records = [rec(" ".join(words), user_id=user) for user, words in corpus]
        put(store, *records)
        mine = [r for r in records if r.scope.user_id == "u1"]
        expected = reference_bm25(records, mine, query)
        hits = store.keyword_search(query, Cond("user_id", "eq", "u1"), limit)
        assert len(hits) == min(limit, len(expected))
        for mid, score in hits:
            assert score == pytest.approx(expected[mid], rel=1e-6, abs=1e-9)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    finally:
        store.close()


def test_a_word_in_every_memory_costs_the_answer_not_the_scope(tmp_path: Path) -> None:
    """Only ``limit`` memories of a scope-wide word reach Python, however large the scope."""
    store = SQLiteStore(tmp_path / "m.db")
    store.ensure_dimension(64)
    put(store, *[rec(f"caroline said {WORDS[i % len(WORDS)]}") for i in range(3000)])
    rows: list[str] = []
    store._conn.set_trace_callback(rows.append)
    try:
        hits = store.keyword_search(["caroline"], Cond("user_id", "eq", "u1"), 5)
    finally:
        store._conn.set_trace_callback(None)
    assert len(hits) == 5
    assert all(score == pytest.approx(hits[0][1], rel=0.5) for _, score in hits)
    assert not any("bm25" in sql and "LIMIT" not in sql for sql in rows)  # no unbounded ranking


def test_the_probe_tokenizes_as_the_index() -> None:
    store = SQLiteStore(":memory:")
    try:
        row = store._conn.execute("SELECT sql FROM sqlite_master WHERE name = 'memories_fts'").fetchone()
        assert f"tokenize='{fts.TOKENIZE}'" in row[0]
    finally:
        store.close()


def test_keyword_search_writes_nothing_to_the_store(tmp_path: Path) -> None:
    """The probe is a private database: searching leaves the connection's change count (which
    keeps the store's cached selections valid) as it was."""
    store = SQLiteStore(tmp_path / "m.db")
    store.ensure_dimension(64)
    put(store, *[rec(f"caroline said {WORDS[i % len(WORDS)]}") for i in range(50)])
    before = store._conn.total_changes
    assert store.keyword_search(["caroline", "zorb"], Cond("user_id", "eq", "u1"), 5)
    assert store._conn.total_changes == before
    store.close()


def test_a_speakers_name_in_a_small_filtered_scope_is_summed_from_its_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A word in half the scope or more (a speaker's name) sits at the floor IDF; in a filtered
    scope whose matches were all fetched, its share comes from them: the capped path (a probe
    index per search, about 5 ms on LoCoMo) is not taken, and the scores stay exact."""
    store = SQLiteStore(":memory:")
    store.ensure_dimension(64)
    try:
        mine = [rec(f"caroline {WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]}") for i in range(40)]
        others = [rec(f"melanie {WORDS[i % len(WORDS)]}", user_id="u2") for i in range(40)]
        put(store, *mine, *others)

        def refuse(*_: object) -> None:
            raise AssertionError("the capped path ran for a fully fetched term")

        monkeypatch.setattr(fts, "_add_capped", refuse)
        query = ["caroline", WORDS[3]]
        hits = store.keyword_search(query, Cond("user_id", "eq", "u1"), 10)
        expected = reference_bm25([*mine, *others], mine, query)
        assert len(hits) == 10
        for mid, score in hits:
            assert score == pytest.approx(expected[mid], rel=1e-6, abs=1e-9)
    finally:
        store.close()
