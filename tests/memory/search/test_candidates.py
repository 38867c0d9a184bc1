"""The period, profile and neighbour signals cost what they find, not the size of the scope.

Cost is counted in SQLite virtual-machine steps (a progress handler called every step), which
is deterministic: the same lookups over a scope ten times larger, with the same memories in
the period, behind the profile slots and next to the anchors, must cost about the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memlane import Memory
from memlane.config import SearchConfig
from memlane.filters import Filter, and_
from memlane.memory.scope import resolve_scope
from memlane.memory.search.candidates import Signals, period_candidates, profile_candidates
from memlane.memory.search.periods import Period
from memlane.memory.times import expiration_filter
from memlane.store.sqlite import SQLiteStore
from tests.conftest import hash_config

START = datetime(2023, 1, 1, 9, tzinfo=UTC)
INSIDE = START + timedelta(days=400)
"""The period searched: one day, after every filler conversation and before the last one."""


def fill(memory: Memory, conversations: int) -> None:
    for day in range(conversations):
        batch = [{"role": "user", "content": f"filler {day} turn {i} about nothing"} for i in range(100)]
        memory.add(batch, user_id="u", infer=False, timestamp=(START + timedelta(days=day)).isoformat())


def build(tmp_path: Path, conversations: int) -> tuple[Memory, SQLiteStore, list[str]]:
    """A scope of ``100 * conversations`` fillers plus one conversation of 20 turns in the period."""
    memory = Memory(hash_config(tmp_path / f"c{conversations}.db"))
    fill(memory, conversations)
    turns = [{"role": "user", "content": f"in the period turn {i}"} for i in range(20)]
    added = memory.add(turns, user_id="u", infer=False, timestamp=INSIDE.isoformat())["results"]
    store = memory.backends.store
    assert isinstance(store, SQLiteStore)
    return memory, store, [r["id"] for r in added]


Lookup = Callable[[Memory, SQLiteStore, list[str]], Callable[[], object]]


def compare(tmp_path: Path, lookup: Lookup) -> tuple[int, int]:
    """SQLite steps of one lookup over a scope of 220 and of 2,020 memories."""
    counts = []
    for conversations in (2, 20):
        memory, store, inside = build(tmp_path, conversations)
        counts.append(steps(store, lookup(memory, store, inside)))
        memory.close()
    return counts[0], counts[1]


def steps(store: SQLiteStore, run: Callable[[], object]) -> int:
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    run()  # warm-up: the vector copy is loaded once per process, not per search
    store._selections.clear()  # a new search names a new period: its filter is not cached
    store._conn.set_progress_handler(tick, 1)
    try:
        run()
    finally:
        store._conn.set_progress_handler(None, 0)
    return counted[0]


def where() -> Filter:
    return and_(resolve_scope({"user_id": "u"}, None)[1], expiration_filter())


def test_period_candidates_cost_follows_the_period(tmp_path: Path) -> None:
    period = Period(INSIDE - timedelta(hours=1), INSIDE + timedelta(hours=1), "that day")

    def lookup(memory: Memory, store: SQLiteStore, inside: list[str]) -> Callable[[], object]:
        vector = memory.backends.embedder.embed(["in the period"], purpose="search")[0]

        def run() -> None:
            found: dict[str, Signals] = {}
            period_candidates(store, SearchConfig(), vector, where(), period, 200, found)
            assert set(found) == set(inside) and all(found[m].time == 1.0 for m in inside)

        return run

    small, large = compare(tmp_path, lookup)
    assert large < 2 * small, f"{small} SQLite steps at 220 memories, {large} at 2,020"


def test_profile_candidates_cost_follows_the_slots(tmp_path: Path) -> None:
    def lookup(memory: Memory, store: SQLiteStore, inside: list[str]) -> Callable[[], object]:
        vector = memory.backends.embedder.embed(["in the period"], purpose="search")[0]

        def run() -> None:
            found: dict[str, Signals] = {}
            profile_candidates(store, vector, where(), inside[:3], found)
            assert set(found) == set(inside[:3]) and all(c.profile == 1.0 for c in found.values())

        return run

    small, large = compare(tmp_path, lookup)
    assert large < 2 * small, f"{small} SQLite steps at 220 memories, {large} at 2,020"


def test_neighbours_cost_follows_the_anchors(tmp_path: Path) -> None:
    def lookup(memory: Memory, store: SQLiteStore, inside: list[str]) -> Callable[[], object]:
        def run() -> None:
            links = store.neighbours(inside[5:8], 2, where())
            assert {m for m, d in links[inside[6]] if d == 1} == {inside[5], inside[7]}

        return run

    small, large = compare(tmp_path, lookup)
    assert large < 2 * small, f"{small} SQLite steps at 220 memories, {large} at 2,020"


def test_ties_rank_in_insertion_order_whichever_index_selects_them(tmp_path: Path) -> None:
    """Equal scores keep the order of writing, also when the period's time index (observation
    order) or the scope's id index (id order) is the one SQLite walks."""
    memory = Memory(hash_config(tmp_path / "t.db"))
    later = memory.add("same words", user_id="u", infer=False, timestamp="2023-05-02T10:00:00+00:00")
    earlier = memory.add("same words", user_id="u", infer=False, timestamp="2023-05-01T10:00:00+00:00")
    first, second = later["results"][0]["id"], earlier["results"][0]["id"]
    store = memory.backends.store
    vector = memory.backends.embedder.embed(["same words"], purpose="search")[0]
    period = Period(datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 5, 3, tzinfo=UTC), "early May")
    found: dict[str, Signals] = {}
    period_candidates(store, SearchConfig(), vector, where(), period, 200, found)
    assert list(found) == [first, second]
    found = {}
    profile_candidates(store, vector, where(), sorted([first, second], reverse=first < second), found)
    assert list(found) == [first, second]
    memory.close()
