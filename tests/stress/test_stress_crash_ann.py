"""Crash safety of the approximate vector index: SIGKILL a writer whose searches go through the
index (``ann_threshold`` 1), reopen, and every acknowledged memory is found by vector search.

The index lives in the process (a cache built from the ``memories`` table and following its
changes), so after a kill the next process builds it again from the table: nothing acknowledged
may be missing from it, and nothing deleted may come back.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from memlane import Memory
from memlane.filters import Cond
from memlane.store.sqlite.vectors import from_blob
from tests.stress._figures import record
from tests.stress._support import config_for, run_and_kill, sqlite_store

KILLS = 12
DELAY_S = (0.3, 1.5)
CHILD = Path(__file__).with_name("crash_ann_child.py")


def _open(path: Path) -> Memory:
    config = config_for(path)
    config["vector_store"]["config"]["ann_threshold"] = 1
    return Memory(config)


def _check(memory: Memory, acked: set[str], deleted: set[str]) -> int:
    """Each acknowledged, undeleted memory is a best vector match of its own stored vector; no
    deleted one is returned; the index holds exactly the current memories. Returns how many
    were searched for."""
    store = sqlite_store(memory)
    rows = store.execute("SELECT id, embedding FROM memories WHERE deleted_at IS NULL")
    live = {mid: blob for mid, blob in rows}
    where = Cond("user_id", "eq", "ann")
    missing = sorted(acked - deleted - set(live))
    assert not missing, f"{len(missing)} acknowledged memories lost: {missing[:5]}"
    lost = []
    for mid in sorted(acked - deleted):
        hits = store.vector_search(from_blob(live[mid]), where, 10)
        best = {hit for hit, score in hits if score > hits[0][1] - 1e-5}  # the hash embedder collides
        if mid not in best:
            lost.append(mid)
        assert not deleted & {hit for hit, _ in hits}, f"a deleted memory came back: {hits}"
    assert store._ann is not None and store._ann.builds + store._ann.restores >= 1
    indexed = {int(key) for key in store._ann._index.keys}
    current = {int(r[0]) for r in store.execute("SELECT seq FROM memories WHERE deleted_at IS NULL")}
    assert indexed == current, f"index and table differ: {sorted(indexed ^ current)[:5]}"
    assert not lost, f"{len(lost)} acknowledged memories not found by search: {lost[:5]}"
    return len(acked - deleted)


@pytest.mark.stress
def test_sigkill_with_the_approximate_index_loses_no_acknowledged_memory(tmp_path: Path) -> None:
    path = tmp_path / "crash-ann.db"
    rng = random.Random(20_261_129)
    acked: set[str] = set()
    deleted: set[str] = set()
    start = time.perf_counter()
    kills = searched = 0
    ok = False
    try:
        for run in range(KILLS):
            lines = run_and_kill(CHILD, path, run, rng, tmp_path / f"child-{run}.log", DELAY_S)
            kills += 1
            for line in lines:
                kind, mid = line.split()
                (acked if kind == "A" else deleted).add(mid)
            memory = _open(path)
            try:
                # an add or delete cut by the kill may have landed: take what the file says
                store = sqlite_store(memory)
                acked |= {str(r[0]) for r in store.execute("SELECT id FROM memories")}
                deleted |= {
                    str(r[0]) for r in store.execute("SELECT id FROM memories WHERE deleted_at IS NOT NULL")
                }
                searched += _check(memory, acked, deleted)
            finally:
                memory.close()
        ok = True
    finally:
        seconds = time.perf_counter() - start
        record(
            "crash_safety_ann",
            f"{kills} SIGKILLs of a writer searching through the approximate index, {len(acked):,} "
            f"acknowledged memories ({len(deleted)} deleted), 0 lost; {searched:,} vector searches "
            f"after reopening each found their memory among the best, in {seconds:.0f} s",
            {"kills": kills, "acknowledged": len(acked), "deleted": len(deleted), "searched": searched},
            ok=ok,
        )
    assert kills == KILLS
