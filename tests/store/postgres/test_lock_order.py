"""Issue 14: one lock order for every PostgreSQL write (``memlane.store.postgres.locks``).

An add writes its relations (the graph's scope lock) and then its profile slot (the slot's row);
a delete of the memory that wrote the slot clears the slot (its row) and then drops the memory's
relations (the graph's scope lock): the opposite order. Interleaved at the worst moment they
used to deadlock (PostgreSQL aborted one: a StoreError asking to retry). The owner lock that
every write takes first now makes the second writer wait for the first instead."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from memlane import Memory
from memlane.llm import FakeLLM
from memlane.models import Scope, now_iso
from tests.store.postgres._workers import pg_memory_config

pytestmark = pytest.mark.integration

OWNER = Scope(user_id="racing")


def reply(text: str, city: str, value: str) -> dict[str, Any]:
    return {
        "memory": [{"event": "ADD", "id": None, "text": text}],
        "entities": [{"name": "racing", "type": "person"}, {"name": city, "type": "city"}],
        "relations": [{"source": "racing", "relationship": "likes", "destination": city}],
        "profile": [{"key": "home_city", "value": value}],
    }


@pytest.fixture
def memory(postgres_url: str) -> Iterator[Memory]:
    config = {**pg_memory_config(postgres_url), "enable_graph": True, "profile": {"enabled": True}}
    llm = FakeLLM([reply("likes Porto", "Porto", "Porto"), reply("likes Lisbon", "Lisbon", "Lisbon")])
    m = Memory(config, llm=llm)
    yield m
    m.close()


def test_an_add_and_a_delete_crossing_at_the_worst_moment_both_commit(memory: Memory) -> None:
    other = memory.add("I like Porto", user_id="racing")["results"][0]["id"]  # a relation of the scope
    deleted = memory.add("I like Lisbon", user_id="racing")["results"][0]["id"]  # wrote the slot
    store, graph = memory.backends.store, memory.backends.graph
    assert graph is not None and memory.get_profile(user_id="racing")["profile"] == {"home_city": "Lisbon"}
    slot_locked, graph_locked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def delete() -> None:  # erase.delete's steps, paused between the slot and the graph
        try:
            with store.transaction() as tx:
                tx.delete(deleted, now_iso())
                tx.expire_profile(now_iso(), memory_ids=[deleted])  # the slot's row
                slot_locked.set()
                graph_locked.wait(2)  # the add holds the graph's lock now (before the fix)
                graph.remove_memories([deleted])
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    def add() -> None:  # apply_plan's order: the graph first, then the profile slot
        try:
            slot_locked.wait(5)
            with store.transaction() as tx:
                graph.remove_memories([other])  # takes the scope's graph lock
                graph_locked.set()
                tx.set_profile(OWNER, "home_city", "Faro", observed_at=now_iso(), at=now_iso())
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=delete), threading.Thread(target=add)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert memory.get(deleted) is None and memory.get_profile(user_id="racing")["profile"] == {
        "home_city": "Faro"
    }
    assert (
        graph.list_relations(Scope(user_id="racing"), limit=None, as_of=None, include_invalidated=True) == []
    )


def test_writers_of_several_owners_lock_them_in_one_order(memory: Memory) -> None:
    """``lock_scopes`` (``delete_all`` and ``prune`` across owners) takes the owner locks sorted:
    two transactions naming the same owners in opposite orders never deadlock."""
    store = memory.backends.store
    owners = [Scope(user_id=f"owner-{i}") for i in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(order: list[Scope], rounds: int) -> None:
        for _ in range(rounds):
            try:
                start.wait(10)
                with store.transaction() as tx:
                    tx.lock_scopes(order)
                    for scope in order:
                        tx.set_profile(scope, "home_city", f"city {_}", observed_at=now_iso(), at=now_iso())
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(owners, 20)),
        threading.Thread(target=write, args=(owners[::-1], 20)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(memory.get_profile(user_id=s.user_id)["profile"] == {"home_city": "city 19"} for s in owners)
