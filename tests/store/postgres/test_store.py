"""``PostgresStore`` beyond the contract suite: tenants sharing one database, the transaction a
thread holds (and that companions join through ``connection()``), no lost update between two
writers of one memory, records that move between back ends, backups, and errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memlane.errors import ConfigError, InvalidInputError, NotFoundError, StoreError
from memlane.filters import All, parse_filters
from memlane.models import Message, Scope, new_id
from memlane.store.base import MemoryStore, PendingAdd
from memlane.store.postgres.store import PostgresStore
from memlane.store.sqlite import SQLiteStore
from tests.store.conftest import CONTRACT_DIMS
from tests.store.test_contract import event, put, rec, ts, updated, vec

pytestmark = pytest.mark.integration


@pytest.fixture
def stores(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two tenants ("acme", "globex") of one database."""
    a = PostgresStore(postgres_url, tenant="acme", max_size=3)
    b = PostgresStore(postgres_url, tenant="globex", max_size=3)
    for store in (a, b):
        store.ensure_dimension(CONTRACT_DIMS)
    yield a, b
    a.close()
    b.close()


def fill(store: MemoryStore, user: str = "alice") -> list[str]:
    """Two memories of ``user`` with a source message, history, a profile slot and a pending add."""
    message = Message(role="user", content="I drink green tea", id=new_id())
    first = rec("alice drinks green tea", user_id=user, sources=[message.id])
    second = rec("alice plays the cello", user_id=user)
    with store.transaction() as tx:
        tx.add_messages(Scope(user), [message], ts(0))
        put_records = (first, second)
        for record in put_records:
            tx.insert(record, vec(record.text))
        tx.add_history([event(first, "ADD", 0), event(second, "ADD", 0)])
        tx.set_profile(Scope(user), "drink", "green tea", observed_at=ts(0), at=ts(0))
        tx.add_pending(PendingAdd(id=new_id(), scope=Scope(user), messages=[message], created_at=ts(0)))
    return [first.id, second.id]


def visible(store: PostgresStore, ids: list[str]) -> dict[str, object]:
    """What every read of ``store`` shows of the memories ``ids`` and of user alice."""
    return {
        "count": store.count(All()),
        "records": [r.id for r in store.list_records(parse_filters({"user_id": "alice"}))],
        "got": sorted(store.get_many(ids)),
        "vector": store.vector_search(vec("alice drinks green tea"), All(), 5),
        "keyword": store.keyword_search(["tea", "cello"], All(), 5),
        "vectors": sorted(store.vectors(ids)),
        "history": [e.id for i in ids for e in store.history(i)],
        "versions": [v.version for i in ids for v in store.versions(i)],
        "sources": [m.id for i in ids for m in store.sources(i)],
        "prefix": [p for i in ids for p in store.ids_with_prefix(i[:8])],
        "profile": [s.value for s in store.profile(Scope("alice"))],
        "pending": store.pending_count(),
    }


def seen_history(store: PostgresStore, ids: list[str]) -> list[str]:
    return [e.id for i in ids for e in store.history(i)]


def test_a_second_tenant_sees_none_of_the_firsts_rows(stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = stores
    ids = fill(a)
    seen = visible(a, ids)
    assert (seen["count"], len(seen_history(a, ids)), seen["pending"]) == (2, 2, 1)
    assert visible(b, ids) == {
        "count": 0, "records": [], "got": [], "vector": [], "keyword": [], "vectors": [], "history": [],
        "versions": [], "sources": [], "prefix": [], "profile": [], "pending": 0,
    }  # fmt: skip
    assert [r["kind"] for r in b.dump()] == ["meta"]  # its own vector size only
    with pytest.raises(NotFoundError), b.transaction() as tx:  # nor can it change them
        tx.delete(ids[0], ts(1))


def test_the_same_ids_in_two_tenants_stay_apart(stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = stores
    record = rec("a memory with a shared id")
    put(a, record)
    twin = updated(record, "the other tenant's text", 0)
    put(b, twin)
    got_a, got_b = a.get(record.id), b.get(record.id)
    assert got_a is not None and got_b is not None
    assert (got_a.text, got_b.text) == ("a memory with a shared id", "the other tenant's text")


def test_reset_and_purge_touch_one_tenant(stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = stores
    fill(a)
    ids_b = fill(b)
    before = visible(b, ids_b)
    assert a.purge(scope=Scope("alice")) == 2
    assert a.count(All()) == 0 and a.pending_count() == 0 and a.profile(Scope("alice")) == []
    a.reset()
    assert visible(b, ids_b) == before


def test_the_dimension_and_embedder_are_per_tenant(postgres_url: str) -> None:
    a = PostgresStore(postgres_url, tenant="a")
    b = PostgresStore(postgres_url, tenant="b")
    try:
        a.ensure_dimension(8)
        a.ensure_embedder("hash-8")
        b.ensure_dimension(16)  # another tenant may use another embedder
        b.ensure_embedder("hash-16")
        again = PostgresStore(postgres_url, tenant="a")
        try:
            with pytest.raises(StoreError, match="16"):
                again.ensure_dimension(16)
        finally:
            again.close()
    finally:
        a.close()
        b.close()


def test_connection_joins_the_threads_open_transaction(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, max_size=2)
    try:
        store.ensure_dimension(CONTRACT_DIMS)
        record = rec("written with a companion row")
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.insert(record, vec(record.text))
            with store.connection() as conn:
                assert conn is tx.conn
                conn.execute("CREATE TABLE companion (x INTEGER)")
            raise RuntimeError("roll back both")
        assert store.get(record.id) is None
        with store.connection() as conn:  # outside a transaction: a pooled connection
            assert conn.execute("SELECT to_regclass('companion')").fetchone() == (None,)
    finally:
        store.close()


def test_two_writers_of_one_memory_lose_no_update(postgres_url: str) -> None:
    """Two stores (two pools, as two processes would have) update one memory at once, many
    times: the versions are numbered 1..n without a gap or a repeat and every text is kept."""
    first = PostgresStore(postgres_url, max_size=2)
    second = PostgresStore(postgres_url, max_size=2)
    try:
        first.ensure_dimension(CONTRACT_DIMS)
        record = rec("version one")
        put(first, record)
        errors: list[BaseException] = []

        def writer(store: PostgresStore, name: str) -> None:
            try:
                for i in range(15):
                    new = updated(record, f"{name} update {i}", i + 1)
                    with store.transaction() as tx:
                        tx.update(new, vec(new.text), ts(i + 1))
            except BaseException as exc:  # noqa: BLE001 - asserted on below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(s, n)) for s, n in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        versions = first.versions(record.id)
        assert [v.version for v in versions] == list(range(1, 32))
        assert {v.text for v in versions[1:]} == {f"{n} update {i}" for n in "ab" for i in range(15)}
        assert [v.expired_at is None for v in versions].count(True) == 1
        current = first.get(record.id)
        assert current is not None and current.version == 31 and current.text == versions[-1].text
    finally:
        first.close()
        second.close()


def test_an_sqlite_dump_loads_into_postgres_and_dumps_the_same(postgres_url: str, tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "source.db")
    target = PostgresStore(postgres_url, tenant="moved")
    try:
        source.ensure_dimension(CONTRACT_DIMS)
        source.ensure_embedder("hash-64")
        ids = fill(source)
        first = source.get(ids[0])
        assert first is not None
        with source.transaction() as tx:
            tx.delete(ids[1], ts(2))
            tx.update(updated(first, "alice drinks black tea", 3), vec("alice drinks black tea"), ts(3))
        records = list(source.dump())
        counts = target.load(records)
        assert counts["memory"] == 2 and counts["pending"] == 1
        index = f"memory_search_hnsw_{CONTRACT_DIMS}"
        assert not _exists(target, index)  # a load leaves the index to the next ensure_dimension
        target.ensure_dimension(CONTRACT_DIMS)
        assert _exists(target, index)
        assert list(target.dump()) == records
        assert target.vector_search(vec("alice drinks black tea"), All(), 1)[0][0] == ids[0]
        assert target.keyword_search(["black"], All(), 5)[0][0] == ids[0]
        back = SQLiteStore(tmp_path / "back.db")
        try:
            back.load(target.dump())
            assert list(back.dump()) == records
        finally:
            back.close()
    finally:
        source.close()
        target.close()


def _exists(store: PostgresStore, index: str) -> bool:
    with store.connection() as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (index,)).fetchone()
    return bool(row and row[0])


def test_a_bad_record_loads_nothing(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    try:
        store.ensure_dimension(CONTRACT_DIMS)
        put(store, rec("kept"))
        records = list(store.dump())
        with pytest.raises(InvalidInputError, match="conflicts"):
            store.load([records[-1]])  # the same memory id again
        with pytest.raises(InvalidInputError, match="record 1"):
            store.load([{"kind": "nonsense", "data": {}}])
        assert store.count(All()) == 1
    finally:
        store.close()


def test_backup_writes_an_export_and_refuses_to_overwrite(postgres_url: str, tmp_path: Path) -> None:
    store = PostgresStore(postgres_url)
    try:
        store.ensure_dimension(CONTRACT_DIMS)
        store.ensure_embedder("hash-64")
        put(store, rec("backed up"))
        target = tmp_path / "backup.jsonl"
        store.backup(target)
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert lines[0]["format"] == "memlane-export" and lines[0]["dimension"] == CONTRACT_DIMS
        assert lines[1:] == list(store.dump())
        with pytest.raises(InvalidInputError, match="already exists"):
            store.backup(target)
        put(store, rec("second"))
        store.backup(target, overwrite=True)
        assert len(target.read_text().splitlines()) == len(lines) + 2  # a memory and its version
        with pytest.raises(InvalidInputError, match="does not exist"):
            store.backup(tmp_path / "missing" / "b.jsonl")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.jsonl"]
    finally:
        store.close()


def test_a_bad_tenant_is_refused(postgres_url: str) -> None:
    for tenant in ("", "Acme", "a b", "-x", "x" * 64, "a/b"):
        with pytest.raises(ConfigError, match="tenant"):
            PostgresStore(postgres_url, tenant=tenant)


def test_errors_and_repr_hide_the_password(postgres_url: str) -> None:
    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://user:hunter2secret@/nowhere?host=/nonexistent-dir", timeout_s=2)
    assert "hunter2secret" not in str(info.value)
    assert "postgres:@" in postgres_url
    store = PostgresStore(postgres_url.replace("postgres:@", "postgres:pw123456@"))  # trust: not checked
    try:
        assert "pw123456" not in repr(store)
    finally:
        store.close()


HOSTILE = [
    "nul \x00 inside",
    "mark \uffff inside",
    "both \uffff0 and \x00\uffff\uffff",
    "\x00",
    "\uffff",
    "plain",
]


def test_any_text_round_trips_nul_and_the_escape_mark_included(postgres_url: str) -> None:
    """PostgreSQL refuses NUL in text and JSONB: the store escapes it (and its escape mark) on
    the wire, so texts, messages, history, metadata and profile values come back unchanged."""
    store = PostgresStore(postgres_url)
    try:
        store.ensure_dimension(CONTRACT_DIMS)
        for text in HOSTILE:
            message = Message(role="user", content=text, id=new_id())
            metadata = {"tag": text, "list": [text, {text: text}]}
            record = rec(text, metadata=metadata, sources=[message.id])
            with store.transaction() as tx:
                tx.add_messages(Scope("u1"), [message], ts(0))
                tx.insert(record, vec(text))
                tx.add_history([event(record, "ADD", 0)])
                tx.set_profile(Scope("u1"), "home_city", text, observed_at=ts(0), at=ts(0))
            got = store.get(record.id)
            assert got is not None and (got.text, got.metadata) == (text, metadata)
            assert [m.content for m in store.sources(record.id)] == [text]
            assert [e.new_memory for e in store.history(record.id)] == [text]
            assert [v.text for v in store.versions(record.id)] == [text]
            assert [s.value for s in store.profile(Scope("u1"))] == [text]
        marked = parse_filters({"tag": {"contains": "mark \uffff"}})
        assert [r.text for r in store.list_records(marked)] == ["mark \uffff inside"]
        dumped = list(store.dump())
        other = PostgresStore(postgres_url, tenant="copy")
        try:
            other.load(dumped)
            assert list(other.dump()) == dumped
        finally:
            other.close()
    finally:
        store.close()


def conversation_fill(store: MemoryStore) -> list[str]:
    """Two conversations of alice (two observation times), one of bob, and an agent's: each
    message the source of one memory; a few memories deleted or metadata-tagged."""
    ids: list[str] = []
    for scope, at, size in (
        (Scope("alice"), 0, 8),
        (Scope("alice"), 1, 4),
        (Scope("bob"), 0, 5),
        (Scope(None, "a1"), 0, 3),
    ):
        messages = [
            Message(role="user", content=f"turn {i} of {scope} at {at}", id=new_id()) for i in range(size)
        ]
        records = [
            rec(m.content, user_id=scope.user_id, agent_id=scope.agent_id, sources=[m.id], metadata={"n": i})
            for i, m in enumerate(messages)
        ]
        with store.transaction() as tx:
            tx.add_messages(scope, messages, ts(at))
            for record in records:
                tx.insert(record, vec(record.text))
            if size == 8:
                tx.delete(records[4].id, ts(2))
        ids += [r.id for r in records]
    return ids


def test_conversation_neighbours_match_the_sqlite_store(postgres_url: str, tmp_path: Path) -> None:
    sqlite = SQLiteStore(tmp_path / "n.db")
    postgres = PostgresStore(postgres_url)
    try:
        for store in (sqlite, postgres):
            store.ensure_dimension(CONTRACT_DIMS)
        records = list(sqlite.dump())
        conversation_fill(sqlite)
        postgres.load(list(sqlite.dump())[len(records) :])  # the same rows, ids and order
        ids = [r.id for r in sqlite.list_records(All())]
        for window, filters in ((1, {}), (2, {}), (3, {"user_id": "alice"}), (2, {"n": {"lt": 3}}), (9, {})):
            where = parse_filters(filters)
            expected = sqlite.neighbours(ids, window, where)
            assert expected, (window, filters)
            assert postgres.neighbours(ids, window, where) == expected, (window, filters)
    finally:
        sqlite.close()
        postgres.close()


def test_stores_opening_a_new_database_at_once_agree_on_the_dimension(postgres_url: str) -> None:
    """Processes starting together on an empty database race to record the vector size and to
    build its index: every one of them succeeds (the loser of a race tries again)."""
    stores = [PostgresStore(postgres_url, max_size=1) for _ in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def bind(store: PostgresStore) -> None:
        try:
            start.wait(30)
            store.ensure_dimension(48)
            store.ensure_embedder("hash-48")
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=bind, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
    finally:
        for store in stores:
            store.close()
