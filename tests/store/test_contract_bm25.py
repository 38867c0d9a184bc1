"""Store contract, BM25: ``keyword_search`` ranks by Okapi BM25 over the scope's own statistics,
checked against a brute-force reference over random small corpora, after inserts, updates and
deletes, and for a large scope against a small one."""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane.filters import All, Cond, Filter
from memlane.models import MemoryRecord
from memlane.store.base import MemoryStore, ScoredId
from tests.store.conftest import CONTRACT_DIMS, StoreFactory
from tests.store.test_contract import put, rec, ts, updated, vec

WORDS = ("zorb", "quix", "flam", "trel", "vont", "glim", "brak", "plon", "drum", "kelt")
"""Words the porter stemmer keeps apart (each is its own stem)."""


def reference_bm25(
    live: Sequence[MemoryRecord], scope: Sequence[MemoryRecord], terms: Sequence[str]
) -> dict[str, float]:
    """Okapi BM25 (k1 1.2, b 0.75) of each memory of ``scope`` that has a term: IDFs over
    ``scope`` (FTS5's formula, at least 1e-6), lengths normalised by the average over ``live``."""
    average = sum(len(r.text.split()) for r in live) / len(live) if live else 1.0
    bags = {r.id: Counter(r.text.split()) for r in scope}
    scores: dict[str, float] = {}
    for term in dict.fromkeys(terms):
        hits = sum(1 for bag in bags.values() if term in bag)
        if not hits:
            continue
        idf = max(math.log((len(scope) - hits + 0.5) / (hits + 0.5)), 1e-6)
        for mid, bag in bags.items():
            tf = bag[term]
            if tf:
                norm = 1.2 * (1 - 0.75 + 0.75 * sum(bag.values()) / average)
                scores[mid] = scores.get(mid, 0.0) + idf * tf * 2.2 / (tf + norm)
    return scores


def assert_matches_reference(hits: list[ScoredId], expected: dict[str, float], limit: int) -> None:
    """Every hit has its reference score and the hits' scores are the reference's best ones
    (ties may come in any order; scores near the floor IDF, 1e-6, count as ties)."""
    assert len(hits) == min(limit, len(expected))
    for mid, score in hits:
        assert score == pytest.approx(expected[mid], rel=1e-6, abs=1e-5)
    best = sorted(expected.values(), reverse=True)[:limit]
    assert [s for _, s in hits] == pytest.approx(best, rel=1e-6, abs=1e-5)


corpora = st.lists(
    st.tuples(st.sampled_from(["u1", "u2"]), st.lists(st.sampled_from(WORDS), min_size=1, max_size=7)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    corpus=corpora,
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    edits=st.lists(
        st.tuples(st.integers(0, 29), st.booleans(), st.lists(st.sampled_from(WORDS), max_size=5))
    ),
    limit=st.integers(1, 12),
)
def test_keyword_search_is_scope_local_bm25(
    store_factory: StoreFactory,
    request: pytest.FixtureRequest,
    corpus: list[tuple[str, list[str]]],
    query: list[str],
    edits: list[tuple[int, bool, list[str]]],
    limit: int,
) -> None:
    store = store_factory(request, Path(tempfile.mkdtemp()))
    store.ensure_dimension(CONTRACT_DIMS)
    try:
        records = {r.id: r for r in (rec(" ".join(words), user_id=user) for user, words in corpus)}
        put(store, *records.values())
        ids = list(records)
        for at, (index, delete, words) in enumerate(edits, start=1):
            mid = ids[index % len(ids)]
            if mid not in records:
                continue
            with store.transaction() as tx:
                if delete or not words:
                    tx.delete(mid, ts(at))
                    del records[mid]
                else:
                    records[mid] = updated(records[mid], " ".join(words), at)
                    tx.update(records[mid], vec(records[mid].text), ts(at))
        live = list(records.values())
        where: Filter = Cond("user_id", "eq", "u1")
        mine = [r for r in live if r.scope.user_id == "u1"]
        assert_matches_reference(
            store.keyword_search(query, where, limit), reference_bm25(live, mine, query), limit
        )
        assert_matches_reference(
            store.keyword_search(query, All(), limit), reference_bm25(live, live, query), limit
        )
    finally:
        store.close()


def test_a_large_scope_ranks_its_rare_matches_as_a_small_one(contract_store: MemoryStore) -> None:
    """A scope of thousands of memories, where one word is in every memory and another in 40 %,
    ranks as the brute-force reference does, and puts the same memories first as a small scope."""
    rng = random.Random(5)
    filler = [
        rec(" ".join(["zorb", *(["quix"] if i % 5 < 2 else []), *rng.choices(("flam", "plon", "drum"), k=4)]))
        for i in range(3000)
    ]
    texts = ("trel vont zorb quix", "trel zorb quix", "glim zorb quix")
    large = [rec(t, user_id="u1") for t in texts]
    small = [rec(t, user_id="u2") for t in texts] + [rec("zorb quix flam", user_id="u2") for _ in range(6)]
    put(contract_store, *filler, *large, *small)
    query = ["trel", "vont", "zorb", "quix"]
    large_hits = contract_store.keyword_search(query, Cond("user_id", "eq", "u1"), 5)
    assert_matches_reference(
        large_hits, reference_bm25([*filler, *large, *small], [*filler, *large], query), 5
    )
    small_hits = contract_store.keyword_search(query, Cond("user_id", "eq", "u2"), 2)
    assert [m for m, _ in large_hits[:2]] == [r.id for r in large[:2]]
    assert [m for m, _ in small_hits] == [r.id for r in small[:2]]
