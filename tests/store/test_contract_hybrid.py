"""The store contract for ``hybrid_search`` (issue 14): both legs of one query, exactly what
``vector_search`` and ``keyword_search`` return one after the other (same ids, same scores, same
order). Inside a transaction: ``tests/store/postgres/test_search_parallel.py`` (SQLite's
searches do not run inside one). Runs over every factory in ``conftest.STORE_FACTORIES``."""

from __future__ import annotations

import random

from memlane.filters import All, Filter, parse_filters
from memlane.store.base import MemoryStore
from tests.store.test_contract import put, rec, vec
from tests.store.test_contract_bm25 import WORDS

QUERIES = ["zorb flam pizza", "kelt", "quix trel vont glim", "cat sleeps", "nothing matches zzz"]


def corpus(store: MemoryStore) -> None:
    rng = random.Random(7)
    users = ("u1", "u2")
    put(store, *[rec(" ".join(rng.choices(WORDS, k=rng.randint(2, 8))), user_id=rng.choice(users), at=i)
                 for i in range(80)])  # fmt: skip


def check(store: MemoryStore, where: Filter, limit: int) -> None:
    for query in QUERIES:
        terms = query.split()
        expected = (store.vector_search(vec(query), where, limit), store.keyword_search(terms, where, limit))
        assert store.hybrid_search(vec(query), terms, where, limit) == expected


def test_hybrid_search_equals_the_two_legs(contract_store: MemoryStore) -> None:
    corpus(contract_store)
    for where in (All(), parse_filters({"user_id": "u2"}), parse_filters({"user_id": "nobody"})):
        for limit in (1, 10, 200):
            check(contract_store, where, limit)


def test_hybrid_search_without_terms_or_limit(contract_store: MemoryStore) -> None:
    corpus(contract_store)
    dense, keyword = contract_store.hybrid_search(vec("pizza"), [], All(), 5)
    assert (len(dense), keyword) == (5, [])
    assert contract_store.hybrid_search(vec("pizza"), ["pizza"], All(), 0) == ([], [])
