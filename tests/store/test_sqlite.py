"""What only the SQLite store does: WAL, schema versions, FTS triggers, many connections, SQL safety."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane import Memory
from memlane.errors import DimensionMismatchError, InvalidFilterError, InvalidInputError, StoreError
from memlane.filters import All, parse_filters
from memlane.models import MemoryRecord
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.schema import SCHEMA_VERSION
from memlane.store.sqlite.sql import compile_filter
from memlane.store.sqlite.vectors import VectorIndex, from_blob, to_blob
from tests.conftest import hash_config, sqlite_of, table_counts
from tests.store.test_contract import is_exact, put, rec, top, ts, updated, vec


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- file, WAL, schema -------------------------------------------------------------------


def test_a_file_store_uses_wal(store: SQLiteStore) -> None:
    assert store.execute("PRAGMA journal_mode") == [("wal",)]


def test_an_in_memory_store_needs_no_file(db_dir: Path) -> None:
    store = SQLiteStore(":memory:")
    try:
        assert store.execute("PRAGMA journal_mode") == [("memory",)]
        put(store, rec("in memory"))
        assert store.count(All()) == 1
    finally:
        store.close()


def test_missing_folders_are_created(db_dir: Path) -> None:
    path = db_dir / "a" / "b" / "m.db"
    SQLiteStore(path).close()
    assert path.exists()


def test_the_schema_version_is_recorded(store: SQLiteStore, db_dir: Path) -> None:
    assert store.execute("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    with raw(db_dir / "store.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_newer_schema_is_refused_and_left_alone(db_dir: Path) -> None:
    path = db_dir / "future.db"
    SQLiteStore(path).close()
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer") as info:
        SQLiteStore(path)
    assert str(SCHEMA_VERSION + 1) in str(info.value)
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
    conn.close()


def test_a_file_that_is_not_a_database_is_a_store_error(db_dir: Path) -> None:
    path = db_dir / "junk.db"
    path.write_bytes(b"this is not SQLite " * 500)
    with pytest.raises(StoreError, match="not a database"):
        SQLiteStore(path)


def test_a_folder_is_not_a_database(db_dir: Path) -> None:
    with pytest.raises(StoreError):
        SQLiteStore(db_dir)


def test_reopening_keeps_everything(db_dir: Path) -> None:
    path = db_dir / "reopen.db"
    first = SQLiteStore(path)
    first.ensure_dimension(64)
    a, b = rec("I moved to Bangalore"), rec("I like pizza")
    put(first, a, b)
    with first.transaction() as tx:
        tx.update(updated(a, "I moved to Mumbai", 1), vec("I moved to Mumbai"), "2026-02-01T00:00:00+00:00")
    first.close()
    again = SQLiteStore(path)
    try:
        assert again.execute("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert again.count(All()) == 2
        assert again.vector_search(vec("I moved to Mumbai"), All(), 1)[0][0] == a.id
        assert [v.text for v in again.versions(a.id)] == ["I moved to Bangalore", "I moved to Mumbai"]
        with pytest.raises(DimensionMismatchError):
            again.ensure_dimension(128)
        again.ensure_dimension(64)
    finally:
        again.close()


def test_reset_forgets_the_dimension(store: SQLiteStore) -> None:
    store.ensure_dimension(64)
    store.reset()
    store.ensure_dimension(32)
    with pytest.raises(DimensionMismatchError):
        store.ensure_dimension(64)


# -- the full-text index follows the memories table --------------------------------------


def fts_rowids(store: SQLiteStore, token: str) -> set[int]:
    rows = store.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (f'"{token}"',))
    return {int(r[0]) for r in rows}


def live_rowids(store: SQLiteStore, token: str) -> set[int]:
    rows = store.execute("SELECT seq, text FROM memories WHERE deleted_at IS NULL")
    return {int(seq) for seq, text in rows if token in text.lower().split()}


def test_the_fts_index_agrees_with_the_table(store: SQLiteStore) -> None:
    tokens = [f"zq{c}" for c in "abcdefghij"]
    records = [rec(f"{tokens[i]} {tokens[(i + 1) % 10]} common") for i in range(10)]
    put(store, *records)
    at = "2026-03-01T00:00:00+00:00"
    with store.transaction() as tx:
        tx.update(updated(records[0], "zqx replaced common", 1), vec("zqx replaced"), at)
        tx.update(updated(records[1], "zqy zqb common", 1), vec("zqy zqb"), at)
        tx.delete(records[2].id, at)
        tx.delete(records[3].id, at)
    with store.transaction() as tx:  # metadata only: the text and its index entry stay
        same = updated(records[4], records[4].text, 2)
        same.metadata = {"k": 1}
        tx.update(same, None, at)
    put(store, rec("zqa zqx fresh"))
    for token in [*tokens, "zqx", "zqy", "replaced", "common", "fresh"]:
        assert fts_rowids(store, token) == live_rowids(store, token), token
    assert store.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'common'") == [(8,)]


def test_reset_empties_the_fts_index(store: SQLiteStore) -> None:
    put(store, rec("zqa zqb"))
    store.reset()
    assert fts_rowids(store, "zqa") == set()
    put(store, rec("zqa again"))
    assert len(fts_rowids(store, "zqa")) == 1


def test_a_rolled_back_insert_leaves_no_index_entry(store: SQLiteStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert(rec("zqghost"), vec("zqghost"))
        raise RuntimeError("no")
    assert fts_rowids(store, "zqghost") == set()


# -- two connections on one file ---------------------------------------------------------


@pytest.fixture
def pair(db_dir: Path) -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    path = db_dir / "shared.db"
    a, b = SQLiteStore(path), SQLiteStore(path)
    a.ensure_dimension(64)
    b.ensure_dimension(64)
    yield a, b
    a.close()
    b.close()


def test_vectors_follow_writes_from_another_connection(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    a, b = pair
    first, second, third = rec("I like green tea"), rec("the cat sleeps"), rec("rainy days in London")
    put(a, first, second)
    assert a.vector_search(vec("green tea"), All(), 1)[0][0] == first.id  # a loads its copy

    new = rec("espresso with sugar")
    put(b, new, third)  # another connection inserts...
    with b.transaction() as tx:  # ...changes a vector...
        tx.update(updated(first, "black coffee", 1), vec("black coffee"), "2026-02-01T00:00:00+00:00")
    with b.transaction() as tx:  # ...and deletes a memory
        tx.delete(second.id, "2026-02-01T00:00:00+00:00")

    hits = dict(a.vector_search(vec("espresso with sugar"), All(), 10))
    assert set(hits) == {first.id, new.id, third.id}
    assert hits[new.id] == pytest.approx(1.0, abs=1e-5)
    assert is_exact(top(a.vector_search(vec("black coffee"), All(), 1)), first.id)
    assert a.similarities(vec("the cat sleeps"), [second.id]) == {}


def test_the_kept_filter_selections_follow_every_write(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    """The vector search keeps which memories match a filter between searches; a metadata
    change (no vector touched) from this connection or another must still be seen."""
    a, b = pair
    work, home = (
        rec("green tea at work", metadata={"k": "work"}),
        rec("green tea at home", metadata={"k": "home"}),
    )
    put(a, work, home)
    where = parse_filters({"k": "work"})
    assert [m for m, _ in a.vector_search(vec("green tea"), where, 10)] == [work.id]
    assert [m for m, _ in a.vector_search(vec("green tea"), where, 10)] == [work.id]  # kept
    moved = updated(home, home.text, 1)
    moved.metadata = {"k": "work"}
    with a.transaction() as tx:  # this connection: metadata only, same vector
        tx.update(moved, None, ts(1))
    assert {m for m, _ in a.vector_search(vec("green tea"), where, 10)} == {work.id, home.id}
    back = updated(home, home.text, 2)
    back.metadata = {"k": "home"}
    with b.transaction() as tx:  # another connection
        tx.update(back, None, ts(2))
    assert [m for m, _ in a.vector_search(vec("green tea"), where, 10)] == [work.id]


def test_interleaved_writers_keep_both_indexes_right(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    a, b = pair
    records: list[MemoryRecord] = []
    for i in range(6):
        writer = a if i % 2 == 0 else b
        record = rec(f"memory number {i} about topic{i}")
        put(writer, record)
        records.append(record)
        # each store searches between the writes, so each keeps a loaded copy to update
        a.vector_search(vec("memory"), All(), 1)
        b.vector_search(vec("memory"), All(), 1)
    for store in (a, b):
        for record in records:
            assert is_exact(top(store.vector_search(vec(record.text), All(), 1)), record.id)
        assert len(store.vector_search(vec("memory"), All(), 100)) == 6


def test_concurrent_writers_on_one_file(db_dir: Path) -> None:
    path = db_dir / "busy.db"
    SQLiteStore(path).close()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        store = SQLiteStore(path)
        try:
            for i in range(15):
                put(store, rec(f"writer {n} memory {i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reader = SQLiteStore(path)
    try:
        assert reader.count(All()) == 45
        assert len(reader.vector_search(vec("memory"), All(), 100)) == 45
    finally:
        reader.close()


# -- the vector index on its own ---------------------------------------------------------


def test_blob_round_trip() -> None:
    v = vec("round trip")
    assert np.array_equal(from_blob(to_blob(v)), v)
    assert len(to_blob(v)) == 4 * v.shape[0]


def test_vector_index_put_drop_and_out_of_order_writes(store: SQLiteStore) -> None:
    index = VectorIndex()
    put(store, rec("one"), rec("two"))
    conn = store._conn
    index.sync(conn)
    assert index.scores(vec("one"), [1, 2, 99])[0].tolist() == [1, 2]
    index.put(3, vec("three"))
    seqs, scores = index.scores(vec("three"), [3])
    assert seqs.tolist() == [3] and scores[0] == pytest.approx(1.0, abs=1e-5)
    index.put(2, vec("three"))  # overwrite in place
    assert index.scores(vec("three"), [2])[1][0] == pytest.approx(1.0, abs=1e-5)
    index.drop(1)
    assert index.scores(vec("one"), [1])[0].tolist() == []
    index.put(2, vec("x"))
    index.put(1, vec("out of order"))  # a seq below the last one: reload on the next sync
    index.sync(conn)
    assert index.scores(vec("one"), [1])[0].tolist() == [1]  # back from the table


# -- SQL injection -----------------------------------------------------------------------

HOSTILE = [
    "u1' OR '1'='1",
    'u1" OR "1"="1',
    "x'); DROP TABLE memories; --",
    "'; DELETE FROM history; --",
    '$."a"',
    "%",
    "_",
    "\\",
    "NULL",
    "*/ OR 1=1 /*",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_filter_values_are_parameters(store: SQLiteStore, value: str) -> None:
    put(store, rec("a", user_id="u1", metadata={"k": "v"}), rec("b", user_id="u2"))
    before = table_counts(store)
    # (a column holding no id: values on the id keys must also be valid ids, and those with
    # whitespace are refused before any SQL; actor_id takes names, spaces included)
    for filters in (
        {"role": value},
        {"actor_id": value},
        {"k": value},
        {"role": {"in": [value, "zzz"]}},
        {"k": {"contains": value}},
        {"k": {"icontains": value}},
        {"k": {"gt": value}},
        {"k": {"in": [value]}},
        {"OR": [{"role": value}, {"k": {"ne": value}}]},
    ):
        where = parse_filters(filters)
        sql, params = compile_filter(where)
        assert value in params
        assert sql.count("?") == len(params)
        store.list_records(where)
        store.count(where)
        store.vector_search(vec("a"), where, 5)
        store.keyword_search([value, "a"], where, 5)
    assert store.list_records(parse_filters({"role": value})) == []
    assert table_counts(store) == before


@pytest.mark.parametrize(
    "key",
    [
        "user_id = 'x' OR 1=1 --",
        'a"b',
        "a'b",
        "x'); DROP TABLE memories; --",
        "k) OR (1=1",
        "$.k",
        "k[0]",
        "k\x00",
    ],
)
def test_hostile_filter_keys_are_refused(store: SQLiteStore, key: str) -> None:
    with pytest.raises(InvalidFilterError):
        parse_filters({key: "v"})


def test_metadata_keys_are_data(db_dir: Path) -> None:
    memory = Memory(hash_config(db_dir / "m.db"))
    try:
        nasty = {"x'); DROP TABLE memories; --": 1, 'a"b': 2, "$.k": 3, "a.b": 4, "k": "'; --"}
        mid = memory.add("hello", user_id="u1", metadata=nasty, infer=False)["results"][0]["id"]
        item = memory.get(mid)
        assert item is not None and item["metadata"] == nasty
        assert [r["id"] for r in memory.get_all(filters={"user_id": "u1", "a.b": 4})["results"]] == [mid]
        assert memory.get_all(filters={"user_id": "u1", "k": "'; --"})["results"][0]["id"] == mid
        assert table_counts(sqlite_of(memory))["memories"] == 1
    finally:
        memory.close()


def test_ids_with_quotes_match_only_themselves(db_dir: Path) -> None:
    memory = Memory(hash_config(db_dir / "m.db"))
    try:
        memory.add("mine", user_id="o'brien", infer=False)
        memory.add("theirs", user_id="x'OR'1'='1", infer=False)
        memory.add("other", user_id="other", infer=False)
        assert [r["memory"] for r in memory.get_all(user_id="o'brien")["results"]] == ["mine"]
        assert [r["memory"] for r in memory.get_all(user_id="x'OR'1'='1")["results"]] == ["theirs"]
        with pytest.raises(InvalidInputError):
            memory.get_all(user_id="u1' OR '1'='1")  # whitespace is not allowed in ids
        memory.delete_all(user_id="x'OR'1'='1")
        assert memory.store.count(All()) == 2
    finally:
        memory.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.one_of(
        # NUL and lone surrogates are refused by the input layer (SQLite's JSON functions cut
        # strings at NUL; a surrogate is not valid Unicode: InvalidInputError / InvalidFilterError
        # before the store); "*" is the filter language's wildcard ("the key is set"), not a value
        st.text(st.characters(codec="utf-8", blacklist_characters="\x00"), min_size=0, max_size=30).filter(
            lambda v: v != "*"
        ),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.booleans(),
    )
)
def test_any_metadata_value_is_found_by_equality(value: str | int | float | bool) -> None:
    store = SQLiteStore(":memory:")
    try:
        target = rec("target", metadata={"k": value})
        put(store, target, rec("other", metadata={"k": "sentinel-other"}), rec("none"))
        assert store.get(target.id) is not None
        assert store.get(target.id).metadata == {"k": value}  # type: ignore[union-attr]
        assert [r.id for r in store.list_records(parse_filters({"k": value}))] == [target.id]
    finally:
        store.close()


# -- scope-local BM25 (store/sqlite/fts.py) ----------------------------------------------


def test_the_fts_row_count_is_read_from_the_index(tmp_path: Path) -> None:
    from memlane.store.sqlite.fts import table_rows
    from tests.store.test_contract import ts

    store = SQLiteStore(str(tmp_path / "fts.db"))
    try:
        assert table_rows(store._conn) == 0
        records = [rec(f"fact number {i}") for i in range(300)]  # > 127: a two-byte varint
        put(store, *records)
        assert table_rows(store._conn) == 300
        with store.transaction() as tx:
            for record in records[:10]:
                tx.delete(record.id, ts(5))
        live = store._conn.execute("SELECT count(*) FROM memories WHERE deleted_at IS NULL").fetchone()[0]
        assert table_rows(store._conn) == live == 290
    finally:
        store.close()


@pytest.mark.parametrize(("rows", "hits"), [(10, 1), (10, 9), (10, 10), (1, 5), (0, 3), (5, -1)])
def test_idf_is_positive_and_defined_for_any_counts(rows: int, hits: int) -> None:
    from memlane.store.sqlite.fts import idf

    value = idf(rows, hits)
    assert value >= 1e-6
    assert idf(100, 1) > idf(100, 10) > idf(100, 60)


def test_vector_index_scores_a_few_or_most_rows_alike() -> None:
    """Small selections gather their rows; large ones score every row and pick: same numbers."""
    index = VectorIndex()
    index._stale = False
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(40, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    for seq, row in enumerate(rows, start=1):
        index.put(seq, row)
    query = rows[3]
    for wanted in ([4, 9, 99], [*range(1, 41), 99]):
        found, scores = index.scores(query, wanted)
        assert list(found) == [s for s in wanted if s != 99]
        assert scores == pytest.approx(rows[np.array(found) - 1] @ query, abs=1e-6)
