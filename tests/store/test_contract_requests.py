"""The store contract for stored requests (``add(idempotency_key=...)``, issue 14): a key is
claimed once, its answer kept with the writes of the claiming call, repeats see it, a failed or
stale claim is freed or taken over, old keys are forgotten, purge and reset erase them, export
leaves them out. Runs over every factory in ``conftest.STORE_FACTORIES``."""

from __future__ import annotations

from typing import Any

import pytest

from memlane.filters import All
from memlane.models import Scope
from memlane.store.base import MemoryStore, StoredRequest
from tests.store.test_contract import Boom, put, rec, ts, vec

ALICE = Scope(user_id="alice")
FAR_PAST = ts(-100_000)


def claim(
    store: MemoryStore, key: str, token: str, *, at: int = 10, h: str = "h1", scope: Scope = ALICE,
    stale: int = -100_000, expired: int = -100_000,
) -> StoredRequest:  # fmt: skip
    return store.claim_request(
        key, h, scope, token, ts(at), stale_before=ts(stale), expired_before=ts(expired)
    )


def answer(store: MemoryStore, key: str, token: str, result: dict[str, Any]) -> bool:
    with store.transaction() as tx:
        return tx.finish_request(key, token, result)


RESULT: dict[str, Any] = {
    "results": [{"id": "m1", "memory": "likes tea", "event": "ADD"}],
    "relations": {"added_entities": []},
}


def test_a_key_is_claimed_once_and_its_answer_kept(contract_store: MemoryStore) -> None:
    first = claim(contract_store, "k", "t1")
    assert (first.key, first.request_hash, first.token, first.result) == ("k", "h1", "t1", None)
    assert first.created_at == ts(10)
    held = claim(contract_store, "k", "t2", at=11)
    assert (held.token, held.result, held.created_at) == ("t1", None, ts(10))  # in flight: unchanged
    assert answer(contract_store, "k", "t1", RESULT)
    done = claim(contract_store, "k", "t3", at=12, h="other")
    assert (done.token, done.result, done.request_hash) == (None, RESULT, "h1")  # the caller compares
    assert not answer(contract_store, "k", "t1", {"again": 1})  # done: nothing to finish
    assert claim(contract_store, "k", "t4").result == RESULT


def test_the_answer_lands_only_with_the_writes(contract_store: MemoryStore) -> None:
    claim(contract_store, "k", "t1")
    record = rec("likes tea")
    with pytest.raises(Boom), contract_store.transaction() as tx:
        tx.finish_request("k", "t1", RESULT)
        tx.insert(record, vec(record.text))
        raise Boom
    assert contract_store.get(record.id) is None
    assert claim(contract_store, "k", "t2").token == "t1"  # still in flight, no answer


def test_another_token_cannot_finish_and_a_release_frees_the_key(contract_store: MemoryStore) -> None:
    claim(contract_store, "k", "t1")
    assert not answer(contract_store, "k", "t2", RESULT)
    contract_store.release_request("k", "t2")  # not the holder: no effect
    assert claim(contract_store, "k", "t3").token == "t1"
    contract_store.release_request("k", "t1")
    again = claim(contract_store, "k", "t3", h="h2", at=20)
    assert (again.token, again.request_hash, again.created_at) == ("t3", "h2", ts(20))


def test_a_stale_claim_is_taken_over_and_its_holder_cannot_finish(contract_store: MemoryStore) -> None:
    claim(contract_store, "k", "t1", at=10)
    assert claim(contract_store, "k", "t2", at=20, stale=5).token == "t1"  # claimed after 5: alive
    taken = claim(contract_store, "k", "t2", at=20, stale=15)
    assert (taken.token, taken.created_at) == ("t2", ts(20))
    assert not answer(contract_store, "k", "t1", {"late": True})
    assert answer(contract_store, "k", "t2", RESULT)
    assert claim(contract_store, "k", "t3", at=30, stale=25).result == RESULT  # done rows never go stale


def test_expired_keys_are_forgotten(contract_store: MemoryStore) -> None:
    claim(contract_store, "old", "t1", at=10)
    answer(contract_store, "old", "t1", RESULT)
    claim(contract_store, "young", "t2", at=30)
    answer(contract_store, "young", "t2", RESULT)
    fresh = claim(contract_store, "old", "t3", at=40, expired=20)  # the expired row itself
    assert (fresh.token, fresh.result) == ("t3", None)
    claim(contract_store, "other", "t4", at=40, expired=35)  # forgets "young" on the way
    assert claim(contract_store, "young", "t5", at=41).token == "t5"


def test_purge_and_reset_erase_requests_and_export_leaves_them_out(contract_store: MemoryStore) -> None:
    record = rec("likes tea", user_id="bob")
    put(contract_store, record)
    claim(contract_store, "names-it", "t1", scope=Scope(user_id="carol"))
    answer(contract_store, "names-it", "t1", {"results": [{"id": record.id, "memory": record.text}]})
    claim(contract_store, "alice", "t2")
    answer(contract_store, "alice", "t2", RESULT)
    claim(contract_store, "carol", "t3", scope=Scope(user_id="carol"))
    answer(contract_store, "carol", "t3", RESULT)
    assert "likes tea" not in str(
        [r for r in contract_store.dump() if r["kind"] not in ("memory", "version")]
    )
    assert {r["kind"] for r in contract_store.dump()} <= {"meta", "memory", "version", "history", "source"}
    contract_store.purge([record.id])
    assert claim(contract_store, "names-it", "n").token == "n"  # its answer held the erased text
    assert claim(contract_store, "carol", "n").result == RESULT
    contract_store.purge(scope=Scope(user_id="carol"))
    assert claim(contract_store, "carol", "n2").token == "n2"
    assert claim(contract_store, "alice", "n").result == RESULT
    contract_store.reset()
    assert claim(contract_store, "alice", "n3").token == "n3"
    assert contract_store.count(All()) == 0


def test_concurrent_claims_of_one_key_give_it_to_one(contract_store: MemoryStore) -> None:
    import threading

    got: list[str | None] = []
    start = threading.Barrier(4)

    def run(token: str) -> None:
        start.wait()
        got.append(claim(contract_store, "k", token).token)

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and len(set(got)) == 1
