"""The store contract: what every back end of ``MemoryStore`` must do.

Runs over every factory in ``conftest.STORE_FACTORIES`` and touches only the protocol in
``memlane.store.base`` (plus the record types and parsed filters it speaks).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from memlane.embed.hash import HashEmbedder
from memlane.errors import DimensionMismatchError, NotFoundError, StoreError
from memlane.filters import All, Cond, Filter, parse_filters
from memlane.models import HistoryEvent, MemoryRecord, Message, Scope, Vectors, new_id, text_hash
from memlane.store.base import MemoryStore, ScoredId
from tests.store.conftest import CONTRACT_DIMS

EMBED = HashEmbedder(CONTRACT_DIMS)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Boom(Exception):
    pass


def ts(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def vec(text: str) -> Vectors:
    return EMBED.embed([text]).reshape(-1)


def top(hits: list[ScoredId]) -> tuple[str, float]:
    """The best hit, which must exist."""
    assert hits, "no hits"
    return hits[0]


def is_exact(hit: tuple[str, float], memory_id: str) -> bool:
    """``hit`` is ``memory_id`` with similarity 1 (the query was its own text)."""
    return hit[0] == memory_id and abs(hit[1] - 1.0) < 1e-5


def rec(
    text: str,
    *,
    user_id: str | None = "u1",
    agent_id: str | None = None,
    run_id: str | None = None,
    actor_id: str | None = None,
    role: str | None = "user",
    metadata: dict[str, Any] | None = None,
    at: int = 0,
    expiration_date: str | None = None,
    sources: Sequence[str] = (),
) -> MemoryRecord:
    return MemoryRecord(
        id=new_id(),
        text=text,
        scope=Scope(user_id, agent_id, run_id),
        created_at=ts(at),
        updated_at=ts(at),
        actor_id=actor_id,
        role=role,
        metadata=dict(metadata or {}),
        valid_from=ts(at),
        expiration_date=expiration_date,
        sources=list(sources),
    )


def put(store: MemoryStore, *records: MemoryRecord) -> None:
    with store.transaction() as tx:
        for record in records:
            tx.insert(record, vec(record.text))


def event(record: MemoryRecord, name: str, at: int, new: str | None = None) -> HistoryEvent:
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=None if name == "ADD" else record.text,
        new_memory=record.text if name == "ADD" else new,
        event=name,  # type: ignore[arg-type]
        created_at=ts(at),
        updated_at=ts(at) if name == "UPDATE" else None,
        is_deleted=name == "DELETE",
        actor_id=record.actor_id,
        role=record.role,
    )


def texts(records: Iterable[MemoryRecord]) -> set[str]:
    return {r.text for r in records}


def found(store: MemoryStore, where: Filter) -> set[str]:
    return texts(store.list_records(where))


def assert_empty(store: MemoryStore, *records: MemoryRecord) -> None:
    """Nothing of ``records`` is visible through any read."""
    assert store.count(All()) == 0
    assert store.list_records(All()) == []
    assert store.vector_search(vec("anything"), All(), 10) == []
    for record in records:
        assert store.get(record.id) is None
        assert store.history(record.id) == []
        assert store.versions(record.id) == []
        assert store.sources(record.id) == []
        assert store.keyword_search(record.text.split(), All(), 10) == []


# -- transactions ------------------------------------------------------------------------


def test_a_transaction_commits_everything_together(contract_store: MemoryStore) -> None:
    a, b = rec("alpha one", at=1), rec("bravo two", at=2)
    with contract_store.transaction() as tx:
        tx.insert(a, vec(a.text))
        tx.insert(b, vec(b.text))
        tx.add_history([event(a, "ADD", 1), event(b, "ADD", 2)])
    assert contract_store.count(All()) == 2
    assert [e.memory_id for e in contract_store.history(a.id)] == [a.id]


def test_an_exception_in_a_transaction_leaves_nothing(contract_store: MemoryStore) -> None:
    message = Message(role="user", content="alpha one")
    a, b = rec("alpha one", sources=[message.id]), rec("bravo two")
    with pytest.raises(Boom), contract_store.transaction() as tx:
        tx.add_messages(a.scope, [message], ts(0))
        tx.insert(a, vec(a.text))
        tx.insert(b, vec(b.text))
        tx.add_history([event(a, "ADD", 0), event(b, "ADD", 0)])
        raise Boom
    assert_empty(contract_store, a, b)


def test_a_failed_update_keeps_the_old_state(contract_store: MemoryStore) -> None:
    a = rec("alpha one")
    put(contract_store, a)
    changed = rec("changed text")
    changed.id = a.id
    with pytest.raises(Boom), contract_store.transaction() as tx:
        tx.update(changed, vec(changed.text), ts(5))
        tx.add_history([event(a, "UPDATE", 5, new="changed text")])
        raise Boom
    current = contract_store.get(a.id)
    assert current is not None and current.text == "alpha one" and current.version == 1
    assert [v.text for v in contract_store.versions(a.id)] == ["alpha one"]
    assert contract_store.versions(a.id)[0].expired_at is None
    assert contract_store.history(a.id) == []
    assert contract_store.vector_search(vec("alpha one"), All(), 1)[0][0] == a.id
    assert [mid for mid, _ in contract_store.keyword_search(["alpha"], All(), 5)] == [a.id]
    assert contract_store.keyword_search(["changed"], All(), 5) == []


def test_a_failed_delete_keeps_the_memory(contract_store: MemoryStore) -> None:
    a = rec("alpha one")
    put(contract_store, a)
    with pytest.raises(Boom), contract_store.transaction() as tx:
        tx.delete(a.id, ts(5))
        raise Boom
    assert contract_store.get(a.id) is not None
    assert contract_store.vector_search(vec("alpha one"), All(), 1)[0][0] == a.id
    assert contract_store.versions(a.id)[0].expired_at is None


def test_a_not_found_inside_a_transaction_rolls_back_its_other_writes(contract_store: MemoryStore) -> None:
    a = rec("alpha one")
    with pytest.raises(NotFoundError), contract_store.transaction() as tx:
        tx.insert(a, vec(a.text))
        tx.delete("no-such-memory", ts(1))
    assert_empty(contract_store, a)


def test_the_store_works_after_a_rollback(contract_store: MemoryStore) -> None:
    with pytest.raises(Boom), contract_store.transaction() as tx:
        tx.insert(rec("lost"), vec("lost"))
        raise Boom
    kept = rec("kept memory")
    put(contract_store, kept)
    assert found(contract_store, All()) == {"kept memory"}
    assert contract_store.vector_search(vec("kept memory"), All(), 5)[0][0] == kept.id


def test_concurrent_transactions_from_threads(contract_store: MemoryStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                put(contract_store, rec(f"thread {n} item {i}", user_id=f"t{n}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert contract_store.count(All()) == 80
    assert contract_store.count(parse_filters({"user_id": "t2"})) == 20


# -- insert and reads --------------------------------------------------------------------


def test_insert_then_get_keeps_every_field(contract_store: MemoryStore) -> None:
    a = rec(
        "Ünïcode ☕ text",
        user_id="u1",
        agent_id="a1",
        run_id="r1",
        actor_id="alice",
        role="assistant",
        metadata={"topic": "café", "n": 3, "x": 1.5, "ok": True, "nested": {"list": [1, "two", None]}},
        at=7,
        expiration_date="2030-01-01",
    )
    a.valid_to = ts(99)
    put(contract_store, a)
    got = contract_store.get(a.id)
    assert got is not None
    assert got.id == a.id
    assert got.text == a.text
    assert got.hash == text_hash(a.text)
    assert got.scope == Scope("u1", "a1", "r1")
    assert (got.actor_id, got.role) == ("alice", "assistant")
    assert got.metadata == a.metadata
    assert (got.created_at, got.updated_at) == (ts(7), ts(7))
    assert (got.valid_from, got.valid_to) == (ts(7), ts(99))
    assert got.expired_at is None
    assert got.expiration_date == "2030-01-01"
    assert got.version == 1


def test_optional_fields_stay_empty(contract_store: MemoryStore) -> None:
    a = rec("bare", user_id=None, agent_id="a1", role=None)
    put(contract_store, a)
    got = contract_store.get(a.id)
    assert got is not None
    assert got.scope == Scope(None, "a1", None)
    assert (got.actor_id, got.role, got.expiration_date, got.valid_to) == (None, None, None, None)
    assert got.metadata == {}


def test_get_unknown_is_none(contract_store: MemoryStore) -> None:
    assert contract_store.get("no-such-id") is None


def test_get_many(contract_store: MemoryStore) -> None:
    records = [rec(f"memory {i}") for i in range(3)]
    put(contract_store, *records)
    wanted = [records[0].id, "unknown", records[2].id, records[0].id]
    got = contract_store.get_many(wanted)
    assert set(got) == {records[0].id, records[2].id}
    assert got[records[2].id].text == "memory 2"
    assert contract_store.get_many([]) == {}


def test_get_many_with_more_ids_than_one_query_takes(contract_store: MemoryStore) -> None:
    records = [rec(f"memory {i}") for i in range(3)]
    put(contract_store, *records)
    wanted = [new_id() for _ in range(1200)] + [r.id for r in records]
    assert set(contract_store.get_many(wanted)) == {r.id for r in records}


def test_list_records_newest_first_with_limit(contract_store: MemoryStore) -> None:
    old, mid, new = rec("old", at=1), rec("mid", at=2), rec("new", at=3)
    put(contract_store, mid)
    put(contract_store, new, old)
    assert [r.text for r in contract_store.list_records(All())] == ["new", "mid", "old"]
    assert [r.text for r in contract_store.list_records(All(), limit=2)] == ["new", "mid"]
    assert contract_store.list_records(All(), limit=0) == []


def test_list_records_of_one_instant_are_newest_insert_first(contract_store: MemoryStore) -> None:
    first, second = rec("first", at=1), rec("second", at=1)
    put(contract_store, first, second)
    assert [r.text for r in contract_store.list_records(All())] == ["second", "first"]


def test_list_records_pages_with_offset(contract_store: MemoryStore) -> None:
    records = [rec(f"m{i}", at=i) for i in range(7)]
    put(contract_store, *records)
    newest_first = [f"m{i}" for i in reversed(range(7))]
    pages = [[r.text for r in contract_store.list_records(All(), limit=3, offset=o)] for o in (0, 3, 6, 9)]
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:], []]
    assert [r.text for r in contract_store.list_records(All(), offset=5)] == newest_first[5:]
    assert contract_store.list_records(All(), limit=2**62, offset=2**62) == []


def test_count(contract_store: MemoryStore) -> None:
    put(contract_store, rec("a"), rec("b"), rec("c", user_id="u2"))
    assert contract_store.count(All()) == 3
    assert contract_store.count(parse_filters({"user_id": "u1"})) == 2
    assert contract_store.count(parse_filters({"user_id": "nobody"})) == 0


# -- filters -----------------------------------------------------------------------------


def filter_dataset() -> list[MemoryRecord]:
    return [
        rec(
            "alpha",
            user_id="u1",
            agent_id="a1",
            actor_id="alice",
            role="user",
            metadata={"kind": "fact", "n": 1, "score": 0.5, "tags": "red,green", "flag": True, "a.b": "dot"},
            at=1,
        ),
        rec(
            "bravo",
            user_id="u1",
            run_id="r1",
            actor_id="bob",
            role="assistant",
            metadata={"kind": "Pref", "n": 5, "flag": False},
            at=2,
        ),
        rec("charlie", user_id="u2", agent_id="a1", role="user", metadata={"n": 10, "tags": "blue"}, at=3),
        rec("delta", user_id="u2", agent_id="a2", run_id="r1", role="assistant", at=4),
    ]


FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"alpha", "bravo", "charlie", "delta"}),
    # columns
    ({"user_id": "u1"}, {"alpha", "bravo"}),
    ({"user_id": {"eq": "u2"}}, {"charlie", "delta"}),
    ({"user_id": {"ne": "u1"}}, {"charlie", "delta"}),
    ({"agent_id": {"ne": "a1"}}, {"bravo", "delta"}),
    ({"agent_id": {"exists": True}}, {"alpha", "charlie", "delta"}),
    ({"run_id": {"exists": True}}, {"bravo", "delta"}),
    ({"run_id": {"exists": False}}, {"alpha", "charlie"}),
    ({"actor_id": "alice"}, {"alpha"}),
    ({"actor_id": {"exists": True}}, {"alpha", "bravo"}),
    ({"role": {"in": ["assistant"]}}, {"bravo", "delta"}),
    ({"role": {"nin": ["assistant"]}}, {"alpha", "charlie"}),
    ({"agent_id": {"in": ["a1", "a2"]}}, {"alpha", "charlie", "delta"}),
    ({"agent_id": {"nin": ["a1"]}}, {"bravo", "delta"}),
    ({"user_id": {"contains": "2"}}, {"charlie", "delta"}),
    ({"actor_id": {"icontains": "ALI"}}, {"alpha"}),
    ({"actor_id": {"contains": "ALI"}}, set()),
    ({"hash": text_hash("charlie")}, {"charlie"}),
    ({"created_at": {"gt": ts(2)}}, {"charlie", "delta"}),
    ({"created_at": {"gte": ts(2)}}, {"bravo", "charlie", "delta"}),
    ({"created_at": {"lt": ts(2)}}, {"alpha"}),
    ({"created_at": {"lte": ts(2)}}, {"alpha", "bravo"}),
    ({"created_at": {"gte": ts(2), "lt": ts(4)}}, {"bravo", "charlie"}),
    ({"updated_at": {"gt": ts(3)}}, {"delta"}),
    # metadata keys
    ({"kind": "fact"}, {"alpha"}),
    ({"kind": {"eq": "Pref"}}, {"bravo"}),
    ({"kind": {"ne": "fact"}}, {"bravo", "charlie", "delta"}),
    ({"kind": {"contains": "Pref"}}, {"bravo"}),
    ({"kind": {"contains": "pref"}}, set()),
    ({"kind": {"icontains": "PREF"}}, {"bravo"}),
    ({"kind": "*"}, {"alpha", "bravo"}),
    ({"kind": {"in": ["fact", "Pref"]}}, {"alpha", "bravo"}),
    ({"kind": {"nin": ["fact"]}}, {"bravo", "charlie", "delta"}),
    ({"n": 5}, {"bravo"}),
    ({"n": {"gt": 1}}, {"bravo", "charlie"}),
    ({"n": {"gte": 5}}, {"bravo", "charlie"}),
    ({"n": {"lt": 5}}, {"alpha"}),
    ({"n": {"lte": 5}}, {"alpha", "bravo"}),
    ({"n": {"gte": 5, "lte": 5}}, {"bravo"}),
    ({"n": {"in": [1, 10]}}, {"alpha", "charlie"}),
    ({"n": {"nin": [1]}}, {"bravo", "charlie", "delta"}),
    ({"n": {"ne": 5}}, {"alpha", "charlie", "delta"}),
    ({"score": 0.5}, {"alpha"}),
    ({"score": {"gt": 0.4}}, {"alpha"}),
    ({"flag": True}, {"alpha"}),
    ({"flag": False}, {"bravo"}),
    ({"tags": {"contains": "green"}}, {"alpha"}),
    ({"tags": "*"}, {"alpha", "charlie"}),
    ({"a.b": "dot"}, {"alpha"}),
    ({"missing": "x"}, set()),
    ({"missing": {"ne": "x"}}, {"alpha", "bravo", "charlie", "delta"}),
    # logic
    ({"user_id": "u1", "role": "assistant"}, {"bravo"}),
    ({"AND": [{"user_id": "u1"}, {"role": "assistant"}]}, {"bravo"}),
    ({"OR": [{"user_id": "u2"}, {"actor_id": "alice"}]}, {"alpha", "charlie", "delta"}),
    ({"OR": [{"kind": "fact"}, {"n": {"gt": 5}}]}, {"alpha", "charlie"}),
    ({"NOT": [{"user_id": "u1"}]}, {"charlie", "delta"}),
    ({"user_id": "u2", "NOT": [{"agent_id": "a2"}]}, {"charlie"}),
    ({"NOT": [{"user_id": "u1"}, {"role": "user"}]}, {"bravo", "charlie", "delta"}),
    ({"OR": [{"AND": [{"user_id": "u1"}, {"n": {"gt": 1}}]}, {"agent_id": "a2"}]}, {"bravo", "delta"}),
    # NOT of a condition on a missing key holds for the memories that lack the key
    ({"NOT": [{"run_id": "r1"}]}, {"alpha", "charlie"}),
    ({"NOT": [{"kind": "fact"}]}, {"bravo", "charlie", "delta"}),
    ({"NOT": [{"n": {"gt": 1}}]}, {"alpha", "delta"}),
    ({"NOT": [{"OR": [{"kind": "fact"}, {"run_id": "r1"}]}]}, {"charlie"}),
    ({"NOT": [{"NOT": [{"kind": "fact"}]}]}, {"alpha"}),
    ({"NOT": [{"run_id": {"exists": True}}]}, {"alpha", "charlie"}),
    ({"kind": {"exists": False}}, {"charlie", "delta"}),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES, ids=[str(c[0]) for c in FILTER_CASES])
def test_filters(contract_store: MemoryStore, filters: dict[str, Any], expected: set[str]) -> None:
    put(contract_store, *filter_dataset())
    where = parse_filters(filters)
    assert found(contract_store, where) == expected
    assert contract_store.count(where) == len(expected)
    everything = 4
    assert {mid for mid, _ in contract_store.vector_search(vec("alpha"), where, everything)} == {
        r.id for r in contract_store.list_records(where)
    }


def list_dataset() -> list[MemoryRecord]:
    return [
        rec("xy", metadata={"tags": ["x", "y"]}),
        rec("banana", metadata={"tags": ["banana"]}),
        rec("mixed", metadata={"tags": ["Red", 3, True, None, ["x"], {"x": 1}]}),
        rec("empty", metadata={"tags": []}),
        rec("string", metadata={"tags": "x, y"}),
        rec("object", metadata={"tags": {"x": "y"}}),
        rec("none"),
    ]


LIST_CASES: list[tuple[dict[str, Any], set[str]]] = [
    # contains / icontains on a list: some string element equals the value (never a piece of
    # the list's JSON); on a string: a substring
    ({"tags": {"contains": "x"}}, {"xy", "string"}),
    ({"tags": {"contains": "banana"}}, {"banana"}),
    ({"tags": {"contains": "ban"}}, set()),
    ({"tags": {"contains": ","}}, {"string"}),
    ({"tags": {"contains": '"'}}, set()),
    ({"tags": {"contains": "["}}, set()),
    ({"tags": {"contains": "red"}}, set()),
    ({"tags": {"icontains": "RED"}}, {"mixed"}),
    ({"tags": {"contains": "3"}}, set()),
    # in / nin: some element (or the scalar) is one of the values
    ({"tags": {"in": ["banana"]}}, {"banana"}),
    ({"tags": {"in": ["y", "z"]}}, {"xy"}),
    ({"tags": {"in": [3]}}, {"mixed"}),
    ({"tags": {"in": ["x, y"]}}, {"string"}),
    ({"tags": {"in": ['["x", "y"]', '["x","y"]']}}, set()),
    ({"tags": {"nin": ["x", "banana"]}}, {"mixed", "empty", "string", "object", "none"}),
    # eq / ne / comparisons see the whole list, which equals no scalar
    ({"tags": "x"}, set()),
    ({"tags": '["x","y"]'}, set()),
    ({"tags": {"ne": "x"}}, {"xy", "banana", "mixed", "empty", "string", "object", "none"}),
    ({"tags": {"gt": ""}}, {"string"}),
    ({"tags": "*"}, {"xy", "banana", "mixed", "empty", "string", "object"}),
    ({"NOT": [{"tags": {"contains": "x"}}]}, {"banana", "mixed", "empty", "object", "none"}),
]


@pytest.mark.parametrize(("filters", "expected"), LIST_CASES, ids=[str(c[0]) for c in LIST_CASES])
def test_list_metadata_filters(
    contract_store: MemoryStore, filters: dict[str, Any], expected: set[str]
) -> None:
    put(contract_store, *list_dataset())
    where = parse_filters(filters)
    assert found(contract_store, where) == expected
    assert contract_store.count(where) == len(expected)


def test_filters_apply_to_keyword_search(contract_store: MemoryStore) -> None:
    records = [rec(f"shared word {t}", user_id=u) for t, u in [("one", "u1"), ("two", "u2"), ("three", "u2")]]
    put(contract_store, *records, rec("nothing here", user_id="u2"), rec("unrelated", user_id="u3"))
    hits = contract_store.keyword_search(["shared"], parse_filters({"user_id": "u2"}), 10)
    assert {mid for mid, _ in hits} == {records[1].id, records[2].id}


# -- vector search -----------------------------------------------------------------------

VECTOR_TEXTS = [
    "I moved to Bangalore last month",
    "I like pizza with extra cheese",
    "my cat sleeps all day",
    "Bangalore has nice weather",
    "pizza is my favourite food",
]


def test_vector_search_orders_by_cosine(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in VECTOR_TEXTS]
    put(contract_store, *records)
    query = vec("I moved to Bangalore last month")
    hits = contract_store.vector_search(query, All(), 10)
    assert is_exact(top(hits), records[0].id)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    expected = {r.id: float(vec(r.text) @ query) for r in records}
    for mid, score in hits:
        assert score == pytest.approx(expected[mid], abs=1e-5)
    assert {mid for mid, _ in hits} == {r.id for r in records}


def test_vector_search_limit(contract_store: MemoryStore) -> None:
    put(contract_store, *[rec(t) for t in VECTOR_TEXTS])
    assert len(contract_store.vector_search(vec("pizza"), All(), 2)) == 2
    assert contract_store.vector_search(vec("pizza"), All(), 0) == []


def test_vector_search_on_an_empty_store(contract_store: MemoryStore) -> None:
    assert contract_store.vector_search(vec("pizza"), All(), 5) == []


def test_vector_search_is_scoped(contract_store: MemoryStore) -> None:
    mine = rec("pizza is my favourite food", user_id="u1")
    theirs = rec("pizza is my favourite food", user_id="u2")
    other = rec("my cat sleeps all day", user_id="u1")
    put(contract_store, mine, theirs, other)
    hits = contract_store.vector_search(vec("pizza"), parse_filters({"user_id": "u1"}), 10)
    assert [mid for mid, _ in hits] == [mine.id, other.id]
    assert contract_store.vector_search(vec("pizza"), parse_filters({"user_id": "nobody"}), 10) == []


def test_vector_search_sees_new_inserts(contract_store: MemoryStore) -> None:
    put(contract_store, rec("first memory"))
    assert len(contract_store.vector_search(vec("memory"), All(), 10)) == 1
    later = rec("second memory")
    put(contract_store, later)
    hits = contract_store.vector_search(vec("second memory"), All(), 10)
    assert len(hits) == 2 and hits[0][0] == later.id


def test_similarities(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in VECTOR_TEXTS]
    put(contract_store, *records)
    query = vec("Bangalore weather")
    wanted = [records[0].id, records[3].id, "unknown"]
    got = contract_store.similarities(query, wanted)
    assert set(got) == {records[0].id, records[3].id}
    for record in (records[0], records[3]):
        assert got[record.id] == pytest.approx(float(vec(record.text) @ query), abs=1e-5)
    assert contract_store.similarities(query, []) == {}


def test_vectors(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in VECTOR_TEXTS]
    put(contract_store, *records)
    got = contract_store.vectors([records[1].id, records[2].id, "unknown"])
    assert set(got) == {records[1].id, records[2].id}
    for record in (records[1], records[2]):
        assert got[record.id] == pytest.approx(vec(record.text), abs=1e-6)
    with contract_store.transaction() as tx:
        tx.delete(records[1].id, ts(5))
    assert set(contract_store.vectors([records[1].id, records[2].id])) == {records[2].id}
    assert contract_store.vectors([]) == {}


# -- keyword search ----------------------------------------------------------------------

KEYWORD_TEXTS = [
    "pizza pizza pizza",
    "I like pizza and pasta and a long list of many other words here",
    "the cat sleeps",
    "dogs bark loudly",
    "rain falls in spring",
    "the sun shines",
    "she runs every morning",
    "he moved to Bangalore",
]


def test_keyword_search_ranks_by_bm25(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in KEYWORD_TEXTS]
    put(contract_store, *records)
    hits = contract_store.keyword_search(["pizza"], All(), 10)
    assert [mid for mid, _ in hits] == [records[0].id, records[1].id]
    assert hits[0][1] > hits[1][1] > 0


def test_keyword_search_matches_any_term(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in KEYWORD_TEXTS]
    put(contract_store, *records)
    hits = contract_store.keyword_search(["cat", "dogs", "nowhere"], All(), 10)
    assert {mid for mid, _ in hits} == {records[2].id, records[3].id}


def test_keyword_search_a_document_matching_more_terms_ranks_higher(contract_store: MemoryStore) -> None:
    both, one = rec("cats and dogs play"), rec("cats sleep a lot")
    put(contract_store, both, one, *[rec(t) for t in KEYWORD_TEXTS])
    hits = contract_store.keyword_search(["cats", "dogs"], All(), 10)
    assert hits[0][0] == both.id


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("running", "she runs every morning"),
        ("moving", "he moved to Bangalore"),
        ("barking", "dogs bark loudly"),
    ],
)
def test_keyword_search_stems(contract_store: MemoryStore, term: str, text: str) -> None:
    records = {t: rec(t) for t in KEYWORD_TEXTS}
    put(contract_store, *records.values())
    assert [mid for mid, _ in contract_store.keyword_search([term], All(), 10)] == [records[text].id]


def test_keyword_search_ignores_case(contract_store: MemoryStore) -> None:
    records = [rec(t) for t in KEYWORD_TEXTS]
    put(contract_store, *records)
    assert [mid for mid, _ in contract_store.keyword_search(["BANGALORE"], All(), 10)] == [records[7].id]


def test_keyword_scores_of_a_scope_ignore_other_scopes(contract_store: MemoryStore) -> None:
    """BM25 statistics come from the memories searched: what other users store changes
    neither the scores nor the order of mine."""
    mine = [rec(t, user_id="u1") for t in KEYWORD_TEXTS]
    put(contract_store, *mine)
    where = Cond("user_id", "eq", "u1")
    before = contract_store.keyword_search(["pizza", "cat"], where, 10)
    put(contract_store, *[rec(f"pizza number {i} and a cat", user_id="u2") for i in range(30)])
    after = contract_store.keyword_search(["pizza", "cat"], where, 10)
    assert [mid for mid, _ in after] == [mid for mid, _ in before]
    for (_, old), (_, new) in zip(before, after, strict=True):
        assert new == pytest.approx(old, rel=0.15)  # document lengths use the table's average


def test_a_word_in_most_of_a_scope_weighs_little(contract_store: MemoryStore) -> None:
    """A speaker's name on every turn of one conversation is no evidence of relevance there,
    however rare it is in the rest of the table."""
    turns = [rec(f"Caroline: {t}", user_id="u1") for t in KEYWORD_TEXTS]
    put(contract_store, *turns, *[rec(f"note {i} about tea", user_id="u2") for i in range(40)])
    hits = dict(contract_store.keyword_search(["caroline", "cat"], Cond("user_id", "eq", "u1"), 10))
    cat = next(r.id for r in turns if "cat" in r.text)
    assert max(hits, key=lambda m: hits[m]) == cat
    others = [score for mid, score in hits.items() if mid != cat]
    assert max(others) < 0.01 * hits[cat]


def test_keyword_search_limit_and_no_terms(contract_store: MemoryStore) -> None:
    put(contract_store, *[rec(t) for t in KEYWORD_TEXTS])
    assert len(contract_store.keyword_search(["pizza"], All(), 1)) == 1
    assert contract_store.keyword_search(["pizza"], All(), 0) == []
    assert contract_store.keyword_search([], All(), 10) == []


@pytest.mark.parametrize(
    "term",
    ['"', "OR", "AND", "NOT", "NEAR(a b)", "*", 'a"b', "-x", "^", "col:val", "", "  ", "'; --", "(", ")"],
)
def test_keyword_search_takes_any_term_literally(contract_store: MemoryStore, term: str) -> None:
    put(contract_store, *[rec(t) for t in KEYWORD_TEXTS])
    hits = contract_store.keyword_search([term, "pizza"], All(), 10)
    assert len(hits) == 2
    assert contract_store.count(All()) == len(KEYWORD_TEXTS)


# -- update ------------------------------------------------------------------------------


def updated(record: MemoryRecord, text: str, at: int) -> MemoryRecord:
    new = rec(text, user_id=record.scope.user_id, at=0, metadata=record.metadata)
    new.id = record.id
    new.created_at = record.created_at
    new.updated_at = ts(at)
    return new


def test_update_writes_a_new_version_and_expires_the_old(contract_store: MemoryStore) -> None:
    a = rec("I live in Delhi", at=1)
    put(contract_store, a)
    with contract_store.transaction() as tx:
        tx.update(updated(a, "I live in Bangalore", 5), vec("I live in Bangalore"), ts(5))
    current = contract_store.get(a.id)
    assert current is not None
    assert current.text == "I live in Bangalore"
    assert current.hash == text_hash("I live in Bangalore")
    assert current.version == 2
    assert (current.created_at, current.updated_at) == (ts(1), ts(5))
    versions = contract_store.versions(a.id)
    assert [(v.version, v.text, v.hash) for v in versions] == [
        (1, "I live in Delhi", text_hash("I live in Delhi")),
        (2, "I live in Bangalore", text_hash("I live in Bangalore")),
    ]
    assert versions[0].expired_at == ts(5)
    assert versions[1].expired_at is None
    assert versions[1].recorded_at == ts(5)
    assert contract_store.count(All()) == 1


def test_update_moves_the_vector_and_the_full_text(contract_store: MemoryStore) -> None:
    a, b = rec("I live in Delhi"), rec("I like tea")
    put(contract_store, a, b, *[rec(t) for t in KEYWORD_TEXTS])
    with contract_store.transaction() as tx:
        tx.update(updated(a, "my dog Rex", 5), vec("my dog Rex"), ts(5))
    assert is_exact(top(contract_store.vector_search(vec("my dog Rex"), All(), 1)), a.id)
    assert contract_store.keyword_search(["delhi"], All(), 10) == []
    assert [mid for mid, _ in contract_store.keyword_search(["rex"], All(), 10)] == [a.id]


def test_chained_updates_number_the_versions(contract_store: MemoryStore) -> None:
    a = rec("v1")
    put(contract_store, a)
    for n in range(2, 5):
        with contract_store.transaction() as tx:
            tx.update(updated(a, f"v{n}", n), vec(f"v{n}"), ts(n))
    versions = contract_store.versions(a.id)
    assert [(v.version, v.text) for v in versions] == [(1, "v1"), (2, "v2"), (3, "v3"), (4, "v4")]
    assert [v.expired_at for v in versions] == [ts(2), ts(3), ts(4), None]
    current = contract_store.get(a.id)
    assert current is not None and current.version == 4


def test_an_update_without_a_new_text_keeps_the_version_and_vector(contract_store: MemoryStore) -> None:
    a = rec("I like tea", metadata={"k": 1})
    put(contract_store, a, rec("something else entirely"))
    new = updated(a, "I like tea", 3)
    new.metadata = {"k": 2}
    new.expiration_date = "2031-01-01"
    with contract_store.transaction() as tx:
        tx.update(new, None, ts(3))
    current = contract_store.get(a.id)
    assert current is not None
    assert (current.metadata, current.expiration_date, current.version) == ({"k": 2}, "2031-01-01", 1)
    assert len(contract_store.versions(a.id)) == 1
    assert is_exact(top(contract_store.vector_search(vec("I like tea"), All(), 1)), a.id)
    assert contract_store.count(parse_filters({"k": 2})) == 1


def test_update_of_an_unknown_memory_raises(contract_store: MemoryStore) -> None:
    with pytest.raises(NotFoundError), contract_store.transaction() as tx:
        tx.update(rec("ghost"), vec("ghost"), ts(1))
    assert contract_store.count(All()) == 0


# -- delete ------------------------------------------------------------------------------


def test_delete_hides_from_every_read(contract_store: MemoryStore) -> None:
    message = Message(role="user", content="the pizza place")
    gone = rec("the pizza place", sources=[message.id])
    kept = rec("the cat sleeps")
    with contract_store.transaction() as tx:
        tx.add_messages(gone.scope, [message], ts(0))
        tx.insert(gone, vec(gone.text))
        tx.insert(kept, vec(kept.text))
        tx.add_history([event(gone, "ADD", 0)])
    put(contract_store, *[rec(t) for t in VECTOR_TEXTS])
    with contract_store.transaction() as tx:
        tx.delete(gone.id, ts(9))
        tx.add_history([event(gone, "DELETE", 9)])
    assert contract_store.get(gone.id) is None
    assert gone.id not in contract_store.get_many([gone.id, kept.id])
    assert gone.id not in {r.id for r in contract_store.list_records(All())}
    assert contract_store.count(All()) == 1 + len(VECTOR_TEXTS)
    assert gone.id not in {mid for mid, _ in contract_store.vector_search(vec(gone.text), All(), 50)}
    assert contract_store.similarities(vec(gone.text), [gone.id]) == {}
    assert contract_store.keyword_search(["place"], All(), 10) == []
    # what was, stays: versions (now expired), history and provenance
    versions = contract_store.versions(gone.id)
    assert [(v.text, v.expired_at) for v in versions] == [("the pizza place", ts(9))]
    assert [e.event for e in contract_store.history(gone.id)] == ["ADD", "DELETE"]
    assert [m.id for m in contract_store.sources(gone.id)] == [message.id]


def test_delete_twice_raises(contract_store: MemoryStore) -> None:
    a = rec("once")
    put(contract_store, a)
    with contract_store.transaction() as tx:
        tx.delete(a.id, ts(1))
    with pytest.raises(NotFoundError), contract_store.transaction() as tx:
        tx.delete(a.id, ts(2))


def test_a_deleted_memory_cannot_be_updated(contract_store: MemoryStore) -> None:
    a = rec("once")
    put(contract_store, a)
    with contract_store.transaction() as tx:
        tx.delete(a.id, ts(1))
    with pytest.raises(NotFoundError), contract_store.transaction() as tx:
        tx.update(updated(a, "again", 2), vec("again"), ts(2))
    assert contract_store.get(a.id) is None


# -- history and sources -----------------------------------------------------------------


def test_history_is_oldest_first_across_transactions(contract_store: MemoryStore) -> None:
    a, b = rec("alpha"), rec("bravo")
    put(contract_store, a, b)
    rows = [event(a, "ADD", 1), event(a, "UPDATE", 2, new="alpha 2"), event(a, "DELETE", 3)]
    with contract_store.transaction() as tx:
        tx.add_history([rows[0], event(b, "ADD", 1)])
    with contract_store.transaction() as tx:
        tx.add_history([rows[1]])
    with contract_store.transaction() as tx:
        tx.add_history([rows[2]])
    assert contract_store.history(a.id) == rows
    assert [e.event for e in contract_store.history(b.id)] == ["ADD"]
    assert contract_store.history("unknown") == []


def test_history_rows_keep_every_field(contract_store: MemoryStore) -> None:
    a = rec("alpha", actor_id="alice", role="user")
    row = HistoryEvent(
        id=new_id(),
        memory_id=a.id,
        old_memory="old",
        new_memory="new",
        event="UPDATE",
        created_at=ts(1),
        updated_at=ts(2),
        is_deleted=False,
        actor_id="alice",
        role="user",
    )
    with contract_store.transaction() as tx:
        tx.insert(a, vec(a.text))
        tx.add_history([row])
    assert contract_store.history(a.id) == [row]
    assert contract_store.history(a.id)[0].as_dict()["is_deleted"] is False


def test_sources_are_the_messages_a_memory_came_from(contract_store: MemoryStore) -> None:
    scope = Scope("u1")
    said = [
        Message(role="user", content="I moved", name="alice"),
        Message(role="assistant", content="Where to?"),
        Message(role="user", content="Bangalore", name="alice"),
    ]
    other = Message(role="user", content="unrelated")
    a = rec("alice moved to Bangalore", sources=[said[0].id, said[2].id])
    b = rec("asked where", sources=[said[1].id])
    with contract_store.transaction() as tx:
        tx.add_messages(scope, [*said, other], ts(0))
        tx.insert(a, vec(a.text))
        tx.insert(b, vec(b.text))
    assert contract_store.sources(a.id) == [said[0], said[2]]
    assert contract_store.sources(b.id) == [said[1]]
    assert contract_store.sources("unknown") == []


def test_an_update_adds_sources(contract_store: MemoryStore) -> None:
    first, second = Message(role="user", content="one"), Message(role="user", content="two")
    a = rec("fact", sources=[first.id])
    with contract_store.transaction() as tx:
        tx.add_messages(a.scope, [first], ts(0))
        tx.insert(a, vec(a.text))
    new = updated(a, "fact, revised", 1)
    new.sources = [second.id]
    with contract_store.transaction() as tx:
        tx.add_messages(a.scope, [second], ts(1))
        tx.update(new, vec(new.text), ts(1))
    assert [m.content for m in contract_store.sources(a.id)] == ["one", "two"]


# -- reset and dimension -----------------------------------------------------------------


def test_reset_removes_everything(contract_store: MemoryStore) -> None:
    message = Message(role="user", content="hello there")
    a = rec("hello there", sources=[message.id])
    with contract_store.transaction() as tx:
        tx.add_messages(a.scope, [message], ts(0))
        tx.insert(a, vec(a.text))
        tx.add_history([event(a, "ADD", 0)])
    with contract_store.transaction() as tx:
        tx.update(updated(a, "hello again", 1), vec("hello again"), ts(1))
    contract_store.reset()
    assert_empty(contract_store, a)
    assert contract_store.keyword_search(["hello"], All(), 10) == []


def test_the_store_is_usable_after_reset(contract_store: MemoryStore) -> None:
    put(contract_store, rec("before"))
    contract_store.reset()
    contract_store.ensure_dimension(CONTRACT_DIMS)
    after = rec("after the reset")
    put(contract_store, after)
    hits = contract_store.vector_search(vec("after the reset"), All(), 5)
    assert len(hits) == 1 and is_exact(hits[0], after.id)
    assert [mid for mid, _ in contract_store.keyword_search(["reset"], All(), 5)] == [after.id]


def test_ensure_dimension_accepts_the_same_size(contract_store: MemoryStore) -> None:
    contract_store.ensure_dimension(CONTRACT_DIMS)
    contract_store.ensure_dimension(CONTRACT_DIMS)


def test_ensure_dimension_refuses_another_size(contract_store: MemoryStore) -> None:
    put(contract_store, rec("something"))
    with pytest.raises(DimensionMismatchError) as info:
        contract_store.ensure_dimension(CONTRACT_DIMS * 2)
    assert (info.value.stored, info.value.embedder) == (CONTRACT_DIMS, CONTRACT_DIMS * 2)
    assert str(CONTRACT_DIMS) in str(info.value) and str(CONTRACT_DIMS * 2) in str(info.value)
    assert isinstance(info.value, StoreError)
    contract_store.ensure_dimension(CONTRACT_DIMS)  # still fine


def test_vectors_are_unit_float32_rows(contract_store: MemoryStore) -> None:
    # the store gives back exactly the cosine of what it was given
    a = rec("exact")
    v = vec("exact")
    assert v.dtype == np.float32
    put(contract_store, a)
    [(mid, score)] = contract_store.vector_search(v, All(), 1)
    assert mid == a.id
    assert score == pytest.approx(float(v @ v), abs=1e-6)
