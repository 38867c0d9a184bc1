"""Crash safety: SIGKILL a writer 50 times at random moments; nothing acknowledged is lost.

A child process (``crash_child.py``) adds, updates and deletes in a loop on one SQLite file and
prints every write once its call returned. The parent kills it with SIGKILL 0.05-0.6 s after it
is ready, then checks the file: it opens, ``PRAGMA integrity_check`` is ok, the FTS5 index holds
exactly the current memories with their current text, vectors exist exactly for current
memories, every add is all-or-nothing, history / versions / messages agree with the memories,
and every acknowledged write is there.

Note on FTS5: ``memories_fts`` is an external-content table over ``memories``, so
``SELECT rowid FROM memories_fts`` reads the *content* table (deleted memories included), not
the index. The index's documents are read through an ``fts5vocab`` table instead.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from memlane.store.sqlite import SQLiteStore
from tests.stress._figures import record
from tests.stress._support import DIMS, open_memory, run_and_kill, sqlite_store

KILLS = 50
DELAY_S = (0.05, 0.6)
CHILD = Path(__file__).with_name("crash_child.py")
_TOKEN = re.compile(r"tok(r\d+i\d+)([abu])")


@dataclass
class Ledger:
    """What the children acknowledged, over all runs."""

    adds: dict[str, tuple[str, str]] = field(default_factory=dict)
    """tag -> (first id, second id)"""
    updates: dict[str, str] = field(default_factory=dict)
    """id -> tag of the acknowledged update"""
    deletes: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)
    """ids whose update or delete may have been in flight at a kill (either state is fine)"""
    checked: int = 0
    """acknowledged adds checked, summed over every kill"""

    def apply(self, lines: list[str]) -> None:
        last_tag: str | None = None
        for line in lines:
            kind, tag, *ids = line.split()
            if kind == "A":
                self.adds[tag] = (ids[0], ids[1])
                last_tag = tag
            elif kind == "U":
                self.updates[ids[0]] = tag
            elif kind == "D":
                self.deletes.add(ids[0])
        if last_tag is not None:
            self.maybe.update(self.adds[last_tag])

    def settle(self, store: SQLiteStore) -> None:
        """Take the state found for in-flight writes as acknowledged from now on."""
        for memory_id in self.maybe:
            text, deleted_at = store.execute(
                "SELECT text, deleted_at FROM memories WHERE id = ?", (memory_id,)
            )[0]
            if deleted_at is not None:
                self.deletes.add(memory_id)
            match = _TOKEN.search(text)
            if match is not None and match.group(2) == "u":
                self.updates[memory_id] = match.group(1)
        self.maybe.clear()


def _one(store: SQLiteStore, sql: str, params: tuple[Any, ...] = ()) -> int:
    return int(store.execute(sql, params)[0][0])


def _check_tables(store: SQLiteStore) -> dict[str, int]:
    """Integrity, vectors, atomic adds, and history / versions / messages against the memories."""
    assert store.execute("PRAGMA integrity_check") == [("ok",)]
    rows = _one(store, "SELECT count(*) FROM memories")
    live = _one(store, "SELECT count(*) FROM memories WHERE deleted_at IS NULL")
    deleted = rows - live
    bad_vectors = _one(
        store,
        "SELECT count(*) FROM memories WHERE deleted_at IS NULL "
        "AND (embedding IS NULL OR length(embedding) != ?)",
        (DIMS * 4,),
    )
    assert bad_vectors == 0, f"{bad_vectors} current memories lack a {DIMS}-float vector"
    assert (
        _one(store, "SELECT count(*) FROM memories WHERE deleted_at IS NOT NULL AND embedding IS NOT NULL")
        == 0
    )
    halves = store.execute(
        "SELECT json_extract(metadata, '$.run'), json_extract(metadata, '$.item'), count(*) FROM memories "
        "WHERE json_extract(metadata, '$.run') IS NOT NULL GROUP BY 1, 2 HAVING count(*) != 2"
    )
    assert not halves, f"adds that were written in part: {halves[:5]}"
    assert _one(store, "SELECT count(*) FROM messages") == rows
    assert _one(store, "SELECT count(*) FROM memory_sources") == rows
    assert _one(store, "SELECT count(*) FROM history WHERE event = 'ADD'") == rows
    assert _one(store, "SELECT count(*) FROM history WHERE event = 'DELETE'") == deleted
    versions = _one(store, "SELECT count(*) FROM memory_versions")
    assert _one(store, "SELECT count(*) FROM history WHERE event = 'UPDATE'") == versions - rows
    assert _one(store, "SELECT count(*) FROM memory_versions WHERE expired_at IS NULL") == live
    current = _one(
        store,
        "SELECT count(*) FROM memories m JOIN memory_versions v ON v.memory_id = m.id "
        "AND v.version = m.version AND v.text = m.text AND v.expired_at IS NULL WHERE m.deleted_at IS NULL",
    )
    assert current == live, "current memories whose current version is missing or differs"
    return {"rows": rows, "live": live, "deleted": deleted, "versions": versions}


def _check_fts(path: Path, store: SQLiteStore, run: int) -> int:
    """The FTS5 index holds exactly the current memories, each under its current text's token."""
    raw = sqlite3.connect(str(path), isolation_level=None)
    try:
        raw.execute("INSERT INTO memories_fts(memories_fts) VALUES ('integrity-check')")
        raw.execute("CREATE VIRTUAL TABLE temp.fts_docs USING fts5vocab(main, memories_fts, instance)")
        indexed = {int(r[0]) for r in raw.execute("SELECT DISTINCT doc FROM temp.fts_docs")}
        raw.execute("DROP TABLE temp.fts_docs")
    finally:
        raw.close()
    live = {int(r[0]) for r in store.execute("SELECT seq FROM memories WHERE deleted_at IS NULL")}
    assert indexed == live, (
        f"FTS documents without a current memory: {sorted(indexed - live)[:5]}; "
        f"current memories not indexed: {sorted(live - indexed)[:5]}"
    )
    touched = store.execute(
        "SELECT seq, text, deleted_at FROM memories WHERE json_extract(metadata, '$.run') = ?", (run,)
    )
    for seq, text, deleted_at in touched:
        match = _TOKEN.search(text)
        assert match is not None, text
        tag, which = match.groups()
        expected = [] if deleted_at else [seq]
        assert _fts_rows(store, f"tok{tag}{which}") == expected, f"FTS disagrees on {text!r}"
        if which == "u":
            assert _fts_rows(store, f"tok{tag}a") == [], f"FTS still holds the old text of {seq}"
    return len(touched)


def _fts_rows(store: SQLiteStore, token: str) -> list[int]:
    rows = store.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (f'"{token}"',))
    return [int(r[0]) for r in rows]


def _check_ledger(store: SQLiteStore, ledger: Ledger) -> int:
    """Every acknowledged add, update and delete is in the file."""
    rows = {r[0]: (r[1], r[2]) for r in store.execute("SELECT id, text, deleted_at FROM memories")}
    missing, wrong = [], []
    for tag, ids in ledger.adds.items():
        for memory_id in ids:
            if memory_id not in rows:
                missing.append((tag, memory_id))
                continue
            text, deleted_at = rows[memory_id]
            if memory_id in ledger.maybe:
                continue
            if (deleted_at is not None) != (memory_id in ledger.deletes):
                wrong.append((tag, memory_id, "deleted" if deleted_at else "live"))
            update = ledger.updates.get(memory_id)
            if update is not None and f"tok{update}u" not in text:
                wrong.append((tag, memory_id, f"update lost: {text!r}"))
    assert not missing, f"{len(missing)} acknowledged memories lost: {missing[:5]}"
    assert not wrong, f"{len(wrong)} acknowledged updates/deletes lost: {wrong[:5]}"
    return len(ledger.adds)


@pytest.mark.stress
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(20_261_122)
    ledger = Ledger()
    start = time.perf_counter()
    kills = fts_checked = 0
    tables: dict[str, int] = {}
    ok = False
    try:
        for run in range(KILLS):
            lines = run_and_kill(CHILD, path, run, rng, tmp_path / f"child-{run}.log", DELAY_S)
            kills += 1
            ledger.apply(lines)
            memory = open_memory(path)
            try:
                store = sqlite_store(memory)
                tables = _check_tables(store)
                fts_checked += _check_fts(path, store, run)
                ledger.checked += _check_ledger(store, ledger)
                ledger.settle(store)
                memory.search("crash item", user_id="crash-0", top_k=3)
                probe = memory.add("post-crash probe", user_id="probe", infer=False)["results"][0]["id"]
                memory.delete(probe)
            finally:
                memory.close()
        ok = True
    finally:
        seconds = time.perf_counter() - start
        acked = len(ledger.adds)
        record(
            "crash_safety",
            f"{kills} SIGKILLs at random moments, {acked:,} acknowledged add() calls "
            f"({2 * acked:,} memories) + {len(ledger.updates)} updates + {len(ledger.deletes)} deletes, "
            f"0 lost; {ledger.checked:,} acknowledged adds checked in all, integrity_check ok, "
            f"FTS and vectors consistent every time, in {seconds:.0f} s",
            {
                "kills": kills,
                "acknowledged_adds": acked,
                "acknowledged_memories": 2 * acked,
                "acknowledged_updates": len(ledger.updates),
                "acknowledged_deletes": len(ledger.deletes),
                "acknowledged_adds_checked": ledger.checked,
                "fts_memories_checked": fts_checked,
                "final_tables": tables,
                "seconds": round(seconds, 1),
            },
            ok=ok,
        )
    assert kills == KILLS
