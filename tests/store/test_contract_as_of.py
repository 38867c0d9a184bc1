"""Contract: ``versions_as_of``: every memory with the version current at a record time,
deleted memories until their deletion, over every back end."""

from __future__ import annotations

from dataclasses import replace

from memlane.filters import Cond, Filter, and_
from memlane.models import text_hash
from memlane.store.base import MemoryStore
from tests.store.test_contract import put, rec, ts, vec

U1 = Cond("user_id", "eq", "u1")


def then(
    store: MemoryStore, minutes: int, where: Filter = U1, limit: int = 100
) -> dict[str, tuple[str, int]]:
    """text of each memory at ``minutes``, with its version number, by memory id."""
    pairs = store.versions_as_of(where, ts(minutes), limit)
    return {record.id: (version.text, version.version) for record, version in pairs}


def test_versions_as_of_reads_each_memory_as_it_stood(contract_store: MemoryStore) -> None:
    a = rec("alpha one", at=0, metadata={"k": "x"})
    b = rec("beta", at=5)
    other = rec("gamma", user_id="u2", at=0)
    put(contract_store, a, b, other)
    with contract_store.transaction() as tx:
        tx.update(replace(a, text="alpha two", hash=text_hash("alpha two")), vec("alpha two"), ts(10))
        tx.delete(b.id, ts(20))
    assert then(contract_store, -1) == {}
    assert then(contract_store, 0) == {a.id: ("alpha one", 1)}
    assert then(contract_store, 7) == {a.id: ("alpha one", 1), b.id: ("beta", 1)}
    assert then(contract_store, 15) == {a.id: ("alpha two", 2), b.id: ("beta", 1)}
    assert then(contract_store, 20) == {a.id: ("alpha two", 2)}  # deleted at 20: gone from then on
    assert then(contract_store, 15, limit=1) == {a.id: ("alpha two", 2)}  # the latest recorded first
    assert then(contract_store, 15, and_(U1, Cond("k", "eq", "x"))) == {a.id: ("alpha two", 2)}
    pairs = contract_store.versions_as_of(U1, ts(15), 10)
    deleted = next(version for record, version in pairs if record.id == b.id)
    assert deleted.recorded_at == ts(5) and deleted.expired_at == ts(20)
    current = next(version for record, version in pairs if record.id == a.id)
    assert current.expired_at is None and current.recorded_at == ts(10)
