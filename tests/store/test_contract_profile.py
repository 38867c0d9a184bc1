"""The store contract for profile slots: set, supersede, clear, read as of a time, expire,
purge, dump/load and reset. Runs over every factory in ``conftest.STORE_FACTORIES``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane.errors import InvalidInputError
from memlane.models import ProfileChange, Scope
from memlane.store.base import MemoryStore
from tests.store.test_contract import put, rec, ts

ALICE = Scope(user_id="alice")


def put_slot(
    store: MemoryStore,
    key: str,
    value: str | None,
    at: int,
    *,
    scope: Scope = ALICE,
    observed: int | None = None,
    memory_id: str | None = None,
) -> ProfileChange | None:
    with store.transaction() as tx:
        return tx.set_profile(
            scope,
            key,
            value,
            observed_at=ts(at if observed is None else observed),
            at=ts(at),
            memory_id=memory_id,
        )


def current(store: MemoryStore, scope: Scope = ALICE, as_of: int | None = None) -> dict[str, str]:
    return {s.key: s.value for s in store.profile(scope, as_of=None if as_of is None else ts(as_of))}


def test_a_new_slot_is_current_with_both_clocks(contract_store: MemoryStore) -> None:
    change = put_slot(contract_store, "home_city", "Delhi", 5, observed=1, memory_id="m1")
    assert change == ProfileChange("home_city", "Delhi", None, "m1")
    assert change.event == "ADD"
    [slot] = contract_store.profile(ALICE)
    assert (slot.scope, slot.key, slot.value, slot.memory_id) == (ALICE, "home_city", "Delhi", "m1")
    assert (slot.valid_from, slot.recorded_at, slot.valid_to, slot.expired_at) == (ts(1), ts(5), None, None)


def test_a_new_value_supersedes_and_the_old_one_stays_a_version(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1)
    change = put_slot(contract_store, "home_city", "Bangalore", 2)
    assert change == ProfileChange("home_city", "Bangalore", "Delhi", None) and change.event == "UPDATE"
    assert current(contract_store) == {"home_city": "Bangalore"}
    old, new = contract_store.profile_versions(ALICE, "home_city")
    assert (old.value, old.valid_to, old.expired_at) == ("Delhi", ts(2), ts(2))
    assert (new.value, new.valid_from, new.expired_at) == ("Bangalore", ts(2), None)


def test_the_same_value_again_changes_nothing(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "diet", "Vegetarian", 1)
    assert put_slot(contract_store, "diet", "  vegetarian ", 2) is None
    assert len(contract_store.profile_versions(ALICE, "diet")) == 1


def test_clearing_expires_the_slot_and_keeps_its_value(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "employer", "Acme", 1)
    change = put_slot(contract_store, "employer", None, 3)
    assert change == ProfileChange("employer", None, "Acme", None) and change.event == "DELETE"
    assert current(contract_store) == {}
    [old] = contract_store.profile_versions(ALICE, "employer")
    assert (old.value, old.valid_to, old.expired_at) == ("Acme", ts(3), ts(3))
    assert put_slot(contract_store, "employer", None, 4) is None  # nothing left to clear


def test_an_older_observation_is_kept_as_history_only(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Bangalore", 10, observed=10)
    assert put_slot(contract_store, "home_city", "Delhi", 11, observed=2) is None
    assert current(contract_store) == {"home_city": "Bangalore"}
    versions = contract_store.profile_versions(ALICE, "home_city")
    assert [v.value for v in versions] == ["Delhi", "Bangalore"]  # oldest first by valid time
    assert (versions[0].valid_from, versions[0].valid_to) == (ts(2), ts(10))
    assert current(contract_store, as_of=11) == {"home_city": "Bangalore"}  # never current


def test_an_older_observation_ends_before_the_next_later_version(contract_store: MemoryStore) -> None:
    """Issue 11 #19: an observation older than several versions ends where the next one begins."""
    put_slot(contract_store, "home_city", "Delhi", 10, observed=10)
    put_slot(contract_store, "home_city", "Bangalore", 20, observed=20)
    assert put_slot(contract_store, "home_city", "Pune", 21, observed=2) is None
    assert put_slot(contract_store, "home_city", "Mumbai", 22, observed=15) is None
    versions = contract_store.profile_versions(ALICE, "home_city")
    assert [(v.value, v.valid_from, v.valid_to) for v in versions] == [
        ("Pune", ts(2), ts(10)),
        ("Delhi", ts(10), ts(15)),  # Mumbai was observed while Delhi held
        ("Mumbai", ts(15), ts(20)),
        ("Bangalore", ts(20), None),
    ]
    assert current(contract_store) == {"home_city": "Bangalore"}


def test_an_observation_after_a_clear_ends_with_the_clear(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "employer", "Acme", 10, observed=10)
    put_slot(contract_store, "employer", None, 20, observed=20)
    assert put_slot(contract_store, "employer", "Initech", 21, observed=15) is None  # inside Acme's time
    assert put_slot(contract_store, "employer", "Globex", 22, observed=5) is None  # before it
    versions = contract_store.profile_versions(ALICE, "employer")
    assert [(v.value, v.valid_from, v.valid_to) for v in versions] == [
        ("Globex", ts(5), ts(10)),
        ("Acme", ts(10), ts(15)),
        ("Initech", ts(15), ts(20)),
    ]
    assert current(contract_store) == {}
    assert put_slot(contract_store, "employer", "Hooli", 23, observed=25) is not None
    assert current(contract_store) == {"employer": "Hooli"}


_SCOPES = itertools.count()
_OBSERVATIONS = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from(["Delhi", "Bangalore", "Pune", None])), max_size=12
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(observations=_OBSERVATIONS)
def test_valid_intervals_of_a_slot_never_overlap(
    contract_store: MemoryStore, observations: list[tuple[int, str | None]]
) -> None:
    """Observations (values and clears) in any order: the versions are sorted by valid time,
    their intervals never overlap, at most one is current and it is the open one."""
    scope = Scope(user_id=f"prop-{next(_SCOPES)}")
    for recorded, (observed, value) in enumerate(observations, start=100):
        put_slot(contract_store, "home_city", value, recorded, scope=scope, observed=observed)
    versions = contract_store.profile_versions(scope, "home_city")
    starts = [v.valid_from or "" for v in versions]
    assert starts == sorted(starts)
    for earlier, later in itertools.pairwise(versions):
        assert earlier.valid_to is not None and earlier.valid_to <= starts[versions.index(later)]
    live = [v for v in versions if v.expired_at is None]
    assert len(live) <= 1 and all(v is versions[-1] and v.valid_to is None for v in live)
    if observations and all(value is not None for _, value in observations):
        assert len(live) == 1  # values only: exactly one current


def test_as_of_reads_record_time(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1)
    put_slot(contract_store, "employer", "Acme", 2)
    put_slot(contract_store, "home_city", "Bangalore", 3)
    put_slot(contract_store, "employer", None, 4)
    assert current(contract_store, as_of=0) == {}
    assert current(contract_store, as_of=1) == {"home_city": "Delhi"}
    assert current(contract_store, as_of=2) == {"home_city": "Delhi", "employer": "Acme"}
    assert current(contract_store, as_of=3) == {"home_city": "Bangalore", "employer": "Acme"}
    assert current(contract_store, as_of=9) == current(contract_store) == {"home_city": "Bangalore"}


def test_slots_belong_to_the_exact_scope(contract_store: MemoryStore) -> None:
    bob, agent = Scope(user_id="bob"), Scope(agent_id="helper")
    alice_agent = Scope(user_id="alice", agent_id="helper")
    put_slot(contract_store, "home_city", "Delhi", 1)
    put_slot(contract_store, "home_city", "Paris", 1, scope=bob)
    put_slot(contract_store, "home_city", "Mars", 1, scope=agent)
    put_slot(contract_store, "home_city", "Oslo", 1, scope=alice_agent)
    assert current(contract_store) == {"home_city": "Delhi"}
    assert current(contract_store, bob) == {"home_city": "Paris"}
    assert current(contract_store, agent) == {"home_city": "Mars"}
    assert current(contract_store, alice_agent) == {"home_city": "Oslo"}
    assert current(contract_store, Scope(user_id="nobody")) == {}
    assert [v.value for v in contract_store.profile_versions(bob, "home_city")] == ["Paris"]


def test_expire_by_scope_is_a_filter_and_keeps_the_versions(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1)
    put_slot(contract_store, "diet", "vegan", 1)
    put_slot(contract_store, "home_city", "Oslo", 1, scope=Scope(user_id="alice", agent_id="helper"))
    put_slot(contract_store, "home_city", "Paris", 1, scope=Scope(user_id="bob"))
    with contract_store.transaction() as tx:
        cleared = tx.expire_profile(ts(5), scope=ALICE)
    assert sorted((c.key, c.previous, c.event) for c in cleared) == [
        ("diet", "vegan", "DELETE"),
        ("home_city", "Delhi", "DELETE"),
        ("home_city", "Oslo", "DELETE"),
    ]
    assert current(contract_store) == {}
    assert current(contract_store, Scope(user_id="bob")) == {"home_city": "Paris"}
    [old] = contract_store.profile_versions(ALICE, "home_city")
    assert (old.value, old.expired_at, old.valid_to) == ("Delhi", ts(5), None)


def test_expire_by_memory_ids(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1, memory_id="m1")
    put_slot(contract_store, "diet", "vegan", 1, memory_id="m2")
    ids = ["m1", *(f"other-{i}" for i in range(1200))]  # more ids than one query takes
    with contract_store.transaction() as tx:
        cleared = tx.expire_profile(ts(2), memory_ids=ids)
        assert tx.expire_profile(ts(2)) == []  # neither a scope nor ids: nothing
    assert [(c.key, c.previous, c.memory_id) for c in cleared] == [("home_city", "Delhi", "m1")]
    assert current(contract_store) == {"diet": "vegan"}


def test_profile_writes_roll_back_with_their_transaction(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1)
    with pytest.raises(RuntimeError), contract_store.transaction() as tx:
        tx.set_profile(ALICE, "home_city", "Bangalore", observed_at=ts(2), at=ts(2))
        tx.set_profile(ALICE, "pets", "a cat", observed_at=ts(2), at=ts(2))
        raise RuntimeError("boom")
    assert current(contract_store) == {"home_city": "Delhi"}
    assert len(contract_store.profile_versions(ALICE, "home_city")) == 1


def test_purge_erases_the_slots_of_a_scope_and_of_purged_memories(contract_store: MemoryStore) -> None:
    carol = Scope(user_id="carol")
    memory = rec("Lives in Lisbon", user_id="carol")
    put(contract_store, memory)
    put_slot(contract_store, "home_city", "Delhi", 1)
    put_slot(contract_store, "home_city", "Bangalore", 2)
    put_slot(contract_store, "home_city", "Lisbon", 1, scope=carol, memory_id=memory.id)
    put_slot(contract_store, "diet", "vegan", 1, scope=carol)
    contract_store.purge(scope=ALICE)
    assert contract_store.profile_versions(ALICE, "home_city") == []
    contract_store.purge([memory.id])
    assert contract_store.profile_versions(carol, "home_city") == []
    assert current(contract_store, carol) == {"diet": "vegan"}


def test_dump_and_load_carry_every_version(contract_store: MemoryStore) -> None:
    put_slot(contract_store, "home_city", "Delhi", 1, memory_id="m1")
    put_slot(contract_store, "home_city", "Bangalore", 2)
    dumped = list(contract_store.dump())
    rows = [r for r in dumped if r["kind"] == "profile"]
    assert [r["data"]["value"] for r in rows] == ["Delhi", "Bangalore"]
    contract_store.reset()
    assert current(contract_store) == {} and contract_store.profile_versions(ALICE, "home_city") == []
    counts = contract_store.load(dumped)
    assert counts["profile"] == 2
    assert current(contract_store) == {"home_city": "Bangalore"}
    assert [v.value for v in contract_store.profile_versions(ALICE, "home_city")] == ["Delhi", "Bangalore"]
    with pytest.raises(InvalidInputError, match="conflicts"):
        contract_store.load(rows)  # the same versions again: refused, nothing lands
    assert len(contract_store.profile_versions(ALICE, "home_city")) == 2
