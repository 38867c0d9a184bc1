"""The store contract for pending adds (issue 11): kept with their messages, listed and counted
by scope, claimed once, released with an error, finished in the write's transaction, dropped,
purged, dumped and loaded, reset. Runs over every factory in ``conftest.STORE_FACTORIES``."""

from __future__ import annotations

import pytest

from memlane.models import Message, Scope
from memlane.store.base import MemoryStore, PendingAdd
from tests.store.test_contract import ts


def keep(store: MemoryStore, scope: Scope, *texts: str, at: int = 0, pid: str | None = None) -> PendingAdd:
    messages = [Message(role="user", content=t) for t in texts]
    batch = PendingAdd(
        pid or f"p-{texts[0]}", scope, messages, {"prompt": "p", "metadata": {"k": 1}}, ts(at), 1
    )
    with store.transaction() as tx:
        tx.add_messages(scope, messages, ts(at))
        tx.add_pending(batch)
    return batch


ALICE = Scope(user_id="alice")
BOB_RUN = Scope(user_id="bob", run_id="r1")


def test_kept_adds_are_listed_oldest_first_with_their_messages(contract_store: MemoryStore) -> None:
    keep(contract_store, ALICE, "one", "two", at=1)
    keep(contract_store, BOB_RUN, "three", at=2)
    listed = contract_store.pending()
    assert [b.id for b in listed] == ["p-one", "p-three"]
    first = listed[0]
    assert [m.content for m in first.messages] == ["one", "two"] and first.scope == ALICE
    assert first.params == {"prompt": "p", "metadata": {"k": 1}} and first.attempts == 1
    assert [b.id for b in contract_store.pending(Scope(run_id="r1"))] == ["p-three"]
    assert contract_store.pending_count() == 3 and contract_store.pending_count(ALICE) == 2
    assert contract_store.pending_count(Scope(user_id="nobody")) == 0


def test_an_add_in_flight_is_claimed_only_when_stale_or_released(contract_store: MemoryStore) -> None:
    keep(contract_store, ALICE, "one", at=10)
    assert not contract_store.claim_pending("p-one", ts(11), stale_before=ts(5))
    assert contract_store.claim_pending("p-one", ts(30), stale_before=ts(20))  # stale: taken
    assert not contract_store.claim_pending("p-one", ts(31), stale_before=ts(20))  # now held
    contract_store.release_pending("p-one", "LLMError: down")
    [batch] = contract_store.pending()
    assert batch.error == "LLMError: down" and batch.attempts == 2
    assert contract_store.claim_pending("p-one", ts(32), stale_before=ts(0))
    assert not contract_store.claim_pending("missing", ts(32), stale_before=ts(99))


def test_finish_is_transactional_and_once(contract_store: MemoryStore) -> None:
    keep(contract_store, ALICE, "one")
    with pytest.raises(RuntimeError), contract_store.transaction() as tx:
        assert tx.finish_pending("p-one")
        raise RuntimeError("the memories failed to write")
    assert contract_store.pending_count() == 1
    with contract_store.transaction() as tx:
        assert tx.finish_pending("p-one")
        assert not tx.finish_pending("p-one")
    assert contract_store.pending() == []
    assert contract_store.pending_count() == 0


def test_drop_purge_and_reset(contract_store: MemoryStore) -> None:
    keep(contract_store, ALICE, "one")
    keep(contract_store, BOB_RUN, "two")
    keep(contract_store, Scope(user_id="carol"), "three")
    with contract_store.transaction() as tx:
        assert tx.drop_pending(Scope(user_id="bob")) == 1
    assert [m.content for m in contract_store.sources("x")] == []  # messages stay as provenance
    contract_store.purge(scope=ALICE)
    assert [b.id for b in contract_store.pending()] == ["p-three"]
    contract_store.reset()
    assert contract_store.pending() == []


def test_dump_and_load_carry_pending_adds(contract_store: MemoryStore) -> None:
    keep(contract_store, ALICE, "one", "two")
    records = list(contract_store.dump())
    assert [r["kind"] for r in records].count("pending") == 1
    contract_store.reset()
    counts = contract_store.load(records)
    assert counts["pending"] == 1
    [batch] = contract_store.pending()
    assert [m.content for m in batch.messages] == ["one", "two"]
