"""The approximate vector path of the SQLite store: a selection of ``ann_threshold`` memories or
more is searched through the usearch index, its candidates scored exactly and filtered by the
selection; it must give what exact search gives on data this small, and follow every write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memlane.filters import All, Cond
from memlane.models import MemoryRecord, Scope, Vectors, new_id
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.vectors import top_positions

DIMS = 32
AT = "2026-01-01T00:00:00+00:00"


def unit_rows(count: int, seed: int) -> Vectors:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, DIMS))
    rows = centres[rng.integers(0, 8, count)] + 0.5 * rng.standard_normal((count, DIMS))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


def near(rows: Vectors) -> list[Vectors]:
    """Queries close to the given rows (so their top results are well apart: the index is exact
    there; its recall elsewhere is measured by benchmarks/bench_vectors.py)."""
    noisy = rows + 0.05 * np.random.default_rng(3).standard_normal(rows.shape)
    return list((noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32))


def record(user: str, text: str = "m") -> MemoryRecord:
    return MemoryRecord(id=new_id(), text=text, scope=Scope(user, None, None), created_at=AT, updated_at=AT)


def fill(store: SQLiteStore, rows: Vectors, user: str) -> list[str]:
    store.ensure_dimension(DIMS)
    ids = []
    with store.transaction() as tx:
        for row in rows:
            r = record(user)
            tx.insert(r, row)
            ids.append(r.id)
    return ids


@pytest.fixture
def pair(tmp_path: Path) -> tuple[SQLiteStore, SQLiteStore]:
    """Two stores on copies of the same data: one exact, one approximate from 50 memories."""
    approximate = SQLiteStore(tmp_path / "a.db", ann_threshold=50)
    exact = SQLiteStore(tmp_path / "e.db", ann_threshold=None)
    for store in (approximate, exact):
        fill(store, unit_rows(400, 1), "big")
        fill(store, unit_rows(30, 2), "small")
    return approximate, exact


def ranked(store: SQLiteStore, query: Vectors, user: str | None, limit: int = 10) -> list[float]:
    where = All() if user is None else Cond("user_id", "eq", user)
    return [round(score, 5) for _, score in store.vector_search(query, where, limit)]


def test_a_large_selection_goes_through_the_index_and_gives_the_exact_top(
    pair: tuple[SQLiteStore, SQLiteStore],
) -> None:
    approximate, exact = pair
    for query in near(unit_rows(400, 1)[::20]) + near(unit_rows(30, 2)[::3]):
        assert ranked(approximate, query, "big", 5) == ranked(exact, query, "big", 5)
        assert ranked(approximate, query, None, 5) == ranked(exact, query, None, 5)
    assert approximate._ann is not None and approximate._ann.builds == 1


def test_a_selective_scope_still_returns_its_top_rows(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    approximate, exact = pair
    query = near(unit_rows(30, 2)[:1])[0]
    hits = approximate.vector_search(query, Cond("user_id", "eq", "small"), 10)
    assert len(hits) == 10
    assert ranked(approximate, query, "small") == ranked(exact, query, "small")


def test_the_index_follows_inserts_updates_and_deletes(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    approximate, _ = pair
    big = Cond("user_id", "eq", "big")
    approximate.vector_search(unit_rows(1, 5)[0], big, 10)  # builds the index
    target = unit_rows(1, 6)[0]
    [new] = fill(approximate, target[None, :], "big")
    assert approximate.vector_search(target, big, 1)[0][0] == new
    old = approximate.list_records(big, limit=1)[0]
    moved = unit_rows(1, 7)[0]
    with approximate.transaction() as tx:
        tx.update(old, moved, AT)
    assert approximate.vector_search(moved, big, 1)[0][0] == old.id
    with approximate.transaction() as tx:
        tx.delete(old.id, AT)
    assert old.id not in {mid for mid, _ in approximate.vector_search(moved, big, 50)}
    assert approximate._ann is not None and approximate._ann.builds == 1


def test_the_index_follows_another_connections_writes(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "s.db", ann_threshold=50)
    fill(first, unit_rows(200, 8), "u")
    first.vector_search(unit_rows(1, 9)[0], All(), 5)
    second = SQLiteStore(tmp_path / "s.db", ann_threshold=50)
    target = unit_rows(1, 10)[0]
    [new] = fill(second, target[None, :], "u")
    victim = first.list_records(All(), limit=1, offset=5)[0]
    with second.transaction() as tx:
        tx.update(victim, -target, AT)
    assert first.vector_search(target, All(), 1)[0][0] == new
    assert first.vector_search(-target, All(), 1)[0][0] == victim.id


def test_a_reset_store_rebuilds_its_index(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.db", ann_threshold=50)
    fill(store, unit_rows(100, 11), "u")
    store.vector_search(unit_rows(1, 12)[0], All(), 5)
    store.reset()
    ids = fill(store, unit_rows(100, 13), "u")
    hits = store.vector_search(unit_rows(1, 14)[0], All(), 5)
    assert len(hits) == 5 and {mid for mid, _ in hits} <= set(ids)


def test_top_is_a_stable_sort_cut_short() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5, 0.3, 0.5] * 10, dtype=np.float32)
    for limit in (1, 3, 5, 12, 80, 100):
        assert top_positions(scores, limit).tolist() == np.argsort(-scores, kind="stable")[:limit].tolist()


def test_a_new_process_reads_the_saved_index_and_catches_up_with_the_table(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    first = SQLiteStore(path, ann_threshold=50)
    ids = fill(first, unit_rows(200, 15), "u")
    first.vector_search(unit_rows(1, 16)[0], All(), 5)
    assert Path(f"{path}.ann").exists()
    # written after the save, by a process that never saves (as if killed)
    writer = SQLiteStore(path, ann_threshold=None)
    target = unit_rows(1, 17)[0]
    [late] = fill(writer, target[None, :], "u")
    moved = first.get(ids[3])
    assert moved is not None
    with writer.transaction() as tx:
        tx.update(moved, -target, AT)
        tx.delete(ids[4], AT)
    second = SQLiteStore(path, ann_threshold=50)
    assert second.vector_search(target, All(), 1)[0][0] == late
    assert second.vector_search(-target, All(), 1)[0][0] == ids[3]
    assert ids[4] not in {mid for mid, _ in second.vector_search(unit_rows(200, 15)[4], All(), 20)}
    assert second._ann is not None and (second._ann.restores, second._ann.builds) == (1, 0)


def test_a_torn_cache_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    fill(SQLiteStore(path, ann_threshold=None), unit_rows(100, 18), "u")
    Path(f"{path}.ann").write_bytes(b"PK\x03\x04 not a whole file")
    store = SQLiteStore(path, ann_threshold=50)
    assert len(store.vector_search(unit_rows(1, 19)[0], All(), 5)) == 5
    assert store._ann is not None and (store._ann.restores, store._ann.builds) == (0, 1)


def test_purge_removes_the_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    store = SQLiteStore(path, ann_threshold=50)
    ids = fill(store, unit_rows(100, 20), "u")
    store.vector_search(unit_rows(1, 21)[0], All(), 5)
    cache = Path(f"{path}.ann")
    assert cache.exists()
    [(erased,)] = store.execute("SELECT seq FROM memories WHERE id = ?", (ids[0],))
    store.purge([ids[0]])
    assert not cache.exists()
    assert ids[0] not in {mid for mid, _ in store.vector_search(unit_rows(100, 20)[0], All(), 10)}
    store.close()
    assert cache.exists()  # saved again on close, without the erased memory
    reopened = SQLiteStore(path, ann_threshold=50)
    reopened.vector_search(unit_rows(1, 21)[0], All(), 5)
    assert reopened._ann is not None and reopened._ann.restores == 1
    assert not reopened._ann._index.contains(erased)


@pytest.mark.parametrize("threshold", [5, None])
def test_the_threshold_is_vector_store_config(tmp_path: Path, threshold: int | None) -> None:
    from memlane import Memory

    config = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": DIMS}},
        "vector_store": {
            "provider": "sqlite",
            "config": {"path": str(tmp_path / "m.db"), "ann_threshold": threshold},
        },
    }
    memory = Memory(config)
    try:
        store = memory.store
        assert isinstance(store, SQLiteStore)
        assert store._ann_threshold == threshold and (store._ann is None) == (threshold is None)
    finally:
        memory.close()


def test_the_default_threshold_keeps_small_scopes_exact(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "d.db")
    fill(store, unit_rows(300, 22), "u")
    store.vector_search(unit_rows(1, 23)[0], All(), 5)
    assert store._ann is not None and store._ann.builds == 0
    assert not Path(f"{tmp_path / 'd.db'}.ann").exists()
