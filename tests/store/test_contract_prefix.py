"""Store contract: ``ids_with_prefix`` finds the memories a short, typed id prefix names."""

from __future__ import annotations

from dataclasses import replace

from memlane.store.base import MemoryStore
from tests.store.test_contract import put, rec, ts


def test_ids_with_prefix(contract_store: MemoryStore) -> None:
    a = replace(rec("alpha"), id="abcd1234-0000-4000-8000-000000000001")
    b = replace(rec("beta"), id="abcd1234-0000-4000-8000-000000000002")
    c = replace(rec("gamma"), id="abce0000-0000-4000-8000-000000000003")
    put(contract_store, a, b, c)
    assert contract_store.ids_with_prefix("abcd1234", limit=10) == [a.id, b.id]
    assert contract_store.ids_with_prefix("abcd", limit=1) == [a.id]
    assert contract_store.ids_with_prefix("abce") == [c.id]
    assert contract_store.ids_with_prefix(c.id) == [c.id]
    assert contract_store.ids_with_prefix("abcf") == []
    assert contract_store.ids_with_prefix("%") == [] and contract_store.ids_with_prefix("") == []


def test_ids_with_prefix_includes_deleted_memories(contract_store: MemoryStore) -> None:
    record = replace(rec("gone"), id="dead0000-0000-4000-8000-000000000001")
    put(contract_store, record)
    with contract_store.transaction() as tx:
        tx.delete(record.id, ts(1))
    assert contract_store.ids_with_prefix("dead") == [record.id]  # history still knows it
