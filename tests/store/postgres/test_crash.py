"""Crash safety on PostgreSQL: SIGKILL a writer at random moments; nothing acknowledged is lost.

A child process (``crash_child.py``) adds, updates and deletes in a loop through its own
``Memory`` and prints every write once its call returned; the parent kills it with SIGKILL
0.05-0.6 s after it is ready (often inside a transaction), then checks the database: every add
is all-or-nothing, history / versions / messages agree with the memories, the search rows are
exactly the live memories under their current text, and every acknowledged write is there.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from psycopg import Connection

from memlane import Memory
from memlane.filters import All
from memlane.store.postgres.store import PostgresStore
from tests.store.postgres._workers import pg_memory_config
from tests.stress._support import run_and_kill
from tests.stress.test_stress_crash import _TOKEN, Ledger

pytestmark = pytest.mark.integration

KILLS = 8
DELAY_S = (0.05, 0.6)
CHILD = Path(__file__).with_name("crash_child.py")


def _one(conn: Connection[Any], query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _check_tables(conn: Connection[Any]) -> dict[str, int]:
    """Atomic adds, and history / versions / messages / search rows against the memories."""
    rows = _one(conn, "SELECT count(*) FROM memories")
    live = _one(conn, "SELECT count(*) FROM memories WHERE deleted_at IS NULL")
    halves = conn.execute(
        "SELECT metadata->>'run', metadata->>'item', count(*) FROM memories "
        "WHERE metadata->'run' IS NOT NULL GROUP BY 1, 2 HAVING count(*) <> 2"
    ).fetchall()
    assert not halves, f"adds that were written in part: {halves[:5]}"
    assert _one(conn, "SELECT count(*) FROM messages") == rows
    assert _one(conn, "SELECT count(*) FROM memory_sources") == rows
    assert _one(conn, "SELECT count(*) FROM history WHERE event = 'ADD'") == rows
    assert _one(conn, "SELECT count(*) FROM history WHERE event = 'DELETE'") == rows - live
    versions = _one(conn, "SELECT count(*) FROM memory_versions")
    assert _one(conn, "SELECT count(*) FROM history WHERE event = 'UPDATE'") == versions - rows
    current = _one(
        conn,
        "SELECT count(*) FROM memories m JOIN memory_versions v "
        "ON v.tenant = m.tenant AND v.memory_id = m.id AND v.version = m.version AND v.text = m.text "
        "AND v.expired_at IS NULL WHERE m.deleted_at IS NULL",
    )
    assert current == live == _one(conn, "SELECT count(*) FROM memory_versions WHERE expired_at IS NULL")
    searchable = _one(
        conn,
        "SELECT count(*) FROM memory_search s JOIN memories m ON m.tenant = s.tenant AND m.id = s.memory_id "
        "AND m.deleted_at IS NULL WHERE s.embedding IS NOT NULL",
    )
    assert searchable == live == _one(conn, "SELECT count(*) FROM memory_search")
    return {"rows": rows, "live": live, "versions": versions}


def _check_ledger(store: PostgresStore, ledger: Ledger) -> None:
    """Every acknowledged add, update and delete is there; full text follows the current text."""
    with store.connection() as conn:
        found = {
            str(r[0]): (str(r[1]), r[2]) for r in conn.execute("SELECT id, text, deleted_at FROM memories")
        }
    missing, wrong = [], []
    for tag, ids in ledger.adds.items():
        for memory_id in ids:
            if memory_id not in found:
                missing.append((tag, memory_id))
                continue
            text, deleted_at = found[memory_id]
            if memory_id not in ledger.maybe and (deleted_at is not None) != (memory_id in ledger.deletes):
                wrong.append((tag, memory_id, "deleted" if deleted_at else "live"))
            update = ledger.updates.get(memory_id)
            if memory_id not in ledger.maybe and update is not None and f"tok{update}u" not in text:
                wrong.append((tag, memory_id, f"update lost: {text!r}"))
    assert not missing, f"{len(missing)} acknowledged memories lost: {missing[:5]}"
    assert not wrong, f"{len(wrong)} acknowledged updates/deletes lost: {wrong[:5]}"
    for memory_id, (text, deleted_at) in random.Random(len(found)).sample(
        sorted(found.items()), min(20, len(found))
    ):
        match = _TOKEN.search(text)
        if match is None:  # the probe written after each crash
            assert text == "post-crash probe"
            continue
        hits = [mid for mid, _ in store.keyword_search([match.group(0)], All(), 5)]
        assert hits == ([] if deleted_at else [memory_id]), f"full text disagrees on {text!r}"


def _settle(store: PostgresStore, ledger: Ledger) -> None:
    """Take the state found for in-flight writes as acknowledged from now on."""
    with store.connection() as conn:
        for memory_id in ledger.maybe:
            row = conn.execute("SELECT text, deleted_at FROM memories WHERE id = %s", (memory_id,)).fetchone()
            assert row is not None
            if row[1] is not None:
                ledger.deletes.add(memory_id)
            match = _TOKEN.search(str(row[0]))
            if match is not None and match.group(2) == "u":
                ledger.updates[memory_id] = match.group(1)
    ledger.maybe.clear()


def test_sigkill_loses_no_acknowledged_write(postgres_url: str, tmp_path: Path) -> None:
    rng = random.Random(20_261_129)
    ledger = Ledger()
    start = time.perf_counter()
    tables: dict[str, int] = {}
    for run in range(KILLS):
        # the child takes the URL where the SQLite child takes its path (Path() would mangle "//")
        lines = run_and_kill(CHILD, postgres_url, run, rng, tmp_path / f"child-{run}.log", DELAY_S)  # type: ignore[arg-type]
        ledger.apply(lines)
        memory = Memory(pg_memory_config(postgres_url))
        try:
            store = memory.store
            assert isinstance(store, PostgresStore)
            with store.connection() as conn:
                tables = _check_tables(conn)
            _check_ledger(store, ledger)
            _settle(store, ledger)
            probe = memory.add("post-crash probe", user_id="probe", infer=False)["results"][0]["id"]
            memory.delete(probe)
        finally:
            memory.close()
    print(
        f"\npostgres crash safety: {KILLS} SIGKILLs, {len(ledger.adds)} acknowledged adds "
        f"({2 * len(ledger.adds)} memories) + {len(ledger.updates)} updates + {len(ledger.deletes)} deletes, "
        f"0 lost, tables {tables}, {time.perf_counter() - start:.0f} s (machine shared with other jobs)"
    )
    assert ledger.adds, "the child never acknowledged a write"
