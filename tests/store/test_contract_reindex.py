"""The store contract for meta settings and reindex staging (``unstaged`` ... ``drop_staged``).
Runs over every factory in ``conftest.STORE_FACTORIES``."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.embed.hash import HashEmbedder
from memlane.errors import StoreError
from memlane.filters import parse_filters
from memlane.models import MemoryRecord, text_hash
from memlane.store.base import MemoryStore
from tests.store.test_contract import put, rec, ts

SMALL = HashEmbedder(16)
NEW = "hash:16"


def staged_items(records: list[tuple[str, str, str]]) -> list[tuple[str, str, np.ndarray]]:
    rows = SMALL.embed([text for _, text, _ in records])
    return [(mid, digest, rows[i]) for i, (mid, _, digest) in enumerate(records)]


def three(store: MemoryStore) -> list[MemoryRecord]:
    records = [rec(f"note {i} about tea", at=i) for i in range(3)]
    for record in records:
        record.hash = text_hash(record.text)
    put(store, *records)
    store.ensure_dimension(64)
    return records


def test_meta_settings_are_set_read_and_removed(contract_store: MemoryStore) -> None:
    assert contract_store.meta("migration") is None
    contract_store.set_meta("migration", '{"copied": 3}')
    assert contract_store.meta("migration") == '{"copied": 3}'
    contract_store.set_meta("migration", None)
    assert contract_store.meta("migration") is None


def test_staging_pages_in_write_order_and_skips_what_is_staged(contract_store: MemoryStore) -> None:
    records = three(contract_store)
    with contract_store.transaction() as tx:
        assert tx.count_unstaged(NEW) == 3
        first = tx.unstaged(NEW, limit=2)
        assert [mid for mid, _, _ in first] == [r.id for r in records[:2]]
        assert [mid for mid, _, _ in tx.unstaged(NEW, after=first[-1][0])] == [records[2].id]
        tx.stage_vectors(NEW, staged_items(first))
    with contract_store.transaction() as tx:
        assert [mid for mid, _, _ in tx.unstaged(NEW)] == [records[2].id]
        assert tx.count_unstaged("another:16") == 3  # staged for another embedder: not for this one
    hits = contract_store.vector_search(
        HashEmbedder(64).embed(["tea"])[0], parse_filters({"user_id": "u1"}), 3
    )
    assert len(hits) == 3  # searches still use the current vectors


def test_a_changed_text_is_staged_again_and_the_switch_needs_every_memory(
    contract_store: MemoryStore,
) -> None:
    records = three(contract_store)
    with contract_store.transaction() as tx:
        tx.stage_vectors(NEW, staged_items(tx.unstaged(NEW)))
    changed = records[0]
    changed.text, changed.hash = "note about coffee", text_hash("note about coffee")
    with contract_store.transaction() as tx:
        tx.update(changed, HashEmbedder(64).embed([changed.text])[0], ts(9))
    with (
        pytest.raises(StoreError, match="1 memories have no vector staged"),
        contract_store.transaction() as tx,
    ):
        assert [mid for mid, _, _ in tx.unstaged(NEW)] == [changed.id]
        tx.switch_vectors(NEW, 16)
    assert contract_store.meta("dimension") == "64"  # nothing changed
    with contract_store.transaction() as tx:
        tx.stage_vectors(NEW, staged_items(tx.unstaged(NEW)))
        assert tx.switch_vectors(NEW, 16) == 3
    assert (contract_store.meta("embedder"), contract_store.meta("dimension")) == (NEW, "16")
    vectors = contract_store.vectors([r.id for r in records])
    assert {v.shape for v in vectors.values()} == {(16,)}
    assert np.allclose(vectors[changed.id], SMALL.embed(["note about coffee"])[0], atol=1e-6)
    hits = contract_store.vector_search(SMALL.embed(["coffee"])[0], parse_filters({"user_id": "u1"}), 1)
    assert hits[0][0] == changed.id


def test_deleted_memories_need_no_vector_and_drop_staged_forgets(contract_store: MemoryStore) -> None:
    records = three(contract_store)
    with contract_store.transaction() as tx:
        tx.stage_vectors(NEW, staged_items(tx.unstaged(NEW)))
        tx.delete(records[1].id, ts(5))
    with contract_store.transaction() as tx:
        assert tx.count_unstaged(NEW) == 0
        assert tx.drop_staged() >= 2
        assert tx.count_unstaged(NEW) == 2
