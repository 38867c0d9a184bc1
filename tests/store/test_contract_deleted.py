"""The store contract for a deleted memory's vector (issue 14): every back end drops it with the
deletion (SQLite clears the row's embedding, PostgreSQL its search row), keeps the memory's
versions for ``as_of`` (which embeds past texts at query time), exports it without an embedding,
and an import keeps it deleted and without one. Runs over every factory in
``conftest.STORE_FACTORIES``."""

from __future__ import annotations

from typing import Any

from memlane.filters import All
from memlane.store.base import MemoryStore
from tests.store.conftest import CONTRACT_DIMS
from tests.store.test_contract import put, rec, ts, vec


def memories(store: MemoryStore) -> dict[str, dict[str, Any]]:
    return {r["data"]["id"]: r["data"] for r in store.dump() if r["kind"] == "memory"}


def test_a_deleted_memory_keeps_no_vector_anywhere(contract_store: MemoryStore) -> None:
    gone, kept = rec("the pizza place", at=1), rec("the cat sleeps", at=1)
    put(contract_store, gone, kept)
    with contract_store.transaction() as tx:
        tx.delete(gone.id, ts(9))
    assert set(contract_store.vectors([gone.id, kept.id])) == {kept.id}
    assert contract_store.similarities(vec(gone.text), [gone.id, kept.id]).keys() == {kept.id}
    [(_, version)] = [p for p in contract_store.versions_as_of(All(), ts(5), 10) if p[0].id == gone.id]
    assert (version.text, version.expired_at) == ("the pizza place", ts(9))
    dumped = memories(contract_store)
    assert dumped[gone.id]["deleted_at"] == ts(9) and dumped[gone.id]["embedding"] is None
    assert dumped[kept.id]["deleted_at"] is None and dumped[kept.id]["embedding"] is not None


def test_an_import_keeps_a_deleted_memory_deleted_and_without_a_vector(contract_store: MemoryStore) -> None:
    gone, kept = rec("the pizza place", at=1), rec("the cat sleeps", at=1)
    put(contract_store, gone, kept)
    with contract_store.transaction() as tx:
        tx.delete(gone.id, ts(9))
    records = list(contract_store.dump())
    before = memories(contract_store)
    contract_store.reset()
    contract_store.ensure_dimension(CONTRACT_DIMS)
    contract_store.load(records)
    assert contract_store.get(gone.id) is None and contract_store.get(kept.id) is not None
    assert set(contract_store.vectors([gone.id, kept.id])) == {kept.id}
    assert gone.id not in {i for i, _ in contract_store.vector_search(vec(gone.text), All(), 10)}
    assert memories(contract_store) == before
