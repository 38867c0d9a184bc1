"""``PostgresStore.hybrid_search``: the keyword leg on a worker thread with a pooled connection
of its own while the caller runs the vector leg; inside the caller's transaction both on its
connection, one after the other."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from memlane.errors import StoreError
from memlane.filters import All, Cond, Filter
from memlane.store.base import ScoredId
from memlane.store.postgres.store import PostgresStore
from tests.store.conftest import CONTRACT_DIMS
from tests.store.test_contract import rec, vec
from tests.store.test_contract_hybrid import check, corpus

pytestmark = pytest.mark.integration


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(postgres_url, max_size=4)
    opened.ensure_dimension(CONTRACT_DIMS)
    corpus(opened)
    yield opened
    opened.close()


def spy(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads the keyword leg runs on, one name per call."""
    threads: list[str] = []
    original = store.keyword_search

    def keyword_search(terms: Sequence[str], where: Filter, limit: int) -> list[ScoredId]:
        threads.append(threading.current_thread().name)
        return original(terms, where, limit)

    monkeypatch.setattr(store, "keyword_search", keyword_search)
    return threads


def requests(store: PostgresStore) -> int:
    return int(store.pool.get_stats().get("requests_num", 0))


def test_the_legs_run_at_once_on_two_connections(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = spy(store, monkeypatch)
    where = Cond("user_id", "eq", "u1")
    before = requests(store)
    got = store.hybrid_search(vec("zorb flam"), ["zorb", "flam"], where, 10)
    assert requests(store) - before == 2  # one per leg
    assert threads and threads[0] != threading.current_thread().name
    assert threads[0].startswith("memlane-pg-search")
    assert got == (
        store.vector_search(vec("zorb flam"), where, 10),
        store.keyword_search(["zorb", "flam"], where, 10),
    )
    assert got[0] and got[1]


def test_inside_a_transaction_no_second_connection(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = spy(store, monkeypatch)
    with store.transaction() as tx:
        fresh = rec("kelt zorb written in the transaction", at=99)
        tx.insert(fresh, vec(fresh.text))
        before = requests(store)
        dense, keyword = store.hybrid_search(vec(fresh.text), ["kelt", "zorb"], All(), 200)
        assert requests(store) == before  # the transaction's connection, nothing from the pool
        check(store, Cond("user_id", "eq", "u1"), 10)
    assert set(threads) == {threading.current_thread().name}
    assert fresh.id in {mid for mid, _ in dense} and fresh.id in {mid for mid, _ in keyword}
    assert not store._workers.started  # no worker thread was ever made


def test_a_failing_leg_surfaces_and_gives_every_connection_back(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = spy(store, monkeypatch)

    def failing(vector: object, where: Filter, limit: int) -> list[ScoredId]:
        raise StoreError("PostgreSQL failed: the vector leg")

    monkeypatch.setattr(store, "vector_search", failing)
    with pytest.raises(StoreError, match="the vector leg"):
        store.hybrid_search(vec("zorb"), ["zorb"], All(), 10)
    assert len(threads) == 1  # the keyword leg ran to its end before the error surfaced
    stats = store.pool.get_stats()
    assert stats.get("pool_available", 0) == stats.get("pool_size", 0)  # every connection back


def test_many_threads_search_at_once(store: PostgresStore) -> None:
    where = Cond("user_id", "eq", "u2")
    expected = (store.vector_search(vec("quix"), where, 20), store.keyword_search(["quix"], where, 20))
    results: list[object] = []

    def run() -> None:
        for _ in range(5):
            results.append(store.hybrid_search(vec("quix"), ["quix"], where, 20))

    workers = [threading.Thread(target=run) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [expected] * 30
