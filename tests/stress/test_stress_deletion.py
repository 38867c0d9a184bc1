"""Deletion at scale: ``delete_all`` removes every one of 10,000 memories of a scope (mem0 stopped
at 100), in one call, while another scope sharing the file keeps all of its memories; the
scope's profile slots are cleared with them and the other scope's profile stays."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from memlane.filters import All, Cond
from memlane.models import Scope, now_iso
from tests.stress._figures import record
from tests.stress._support import open_memory, sqlite_store

SCOPE_SIZE = 10_000
BATCH = 100
OTHER_SIZE = 500


def _batch(owner: str, start: int) -> list[dict[str, str]]:
    topics = ("coffee", "hiking", "jazz", "travel")
    return [
        {"role": "user", "content": f"{owner} memory {n} about {topics[n % len(topics)]}"}
        for n in range(start, start + BATCH)
    ]


@pytest.mark.stress
def test_delete_all_removes_every_memory_of_a_10k_scope(tmp_path: Path) -> None:
    memory = open_memory(tmp_path / "scale.db")
    try:
        store = sqlite_store(memory)
        started = time.perf_counter()
        for start in range(0, SCOPE_SIZE, BATCH):
            memory.add(_batch("gdpr", start), user_id="gdpr-user", infer=False)
        for start in range(0, OTHER_SIZE, BATCH):
            memory.add(_batch("keep", start), user_id="keep-user", agent_id="agent-1", infer=False)
        add_seconds = time.perf_counter() - started
        now = now_iso()
        with store.transaction() as tx:
            for user in ("gdpr-user", "keep-user"):
                tx.set_profile(Scope(user_id=user), "home_city", f"{user} town", observed_at=now, at=now)
        before = store.count(Cond("user_id", "eq", "gdpr-user"))
        assert before == SCOPE_SIZE
        assert len(memory.get_all(user_id="gdpr-user", top_k=SCOPE_SIZE)["results"]) == SCOPE_SIZE
        assert memory.search("memory about coffee", user_id="gdpr-user")["results"]

        started = time.perf_counter()
        result = memory.delete_all(user_id="gdpr-user")
        delete_seconds = time.perf_counter() - started

        after = store.count(Cond("user_id", "eq", "gdpr-user"))
        listed = memory.get_all(user_id="gdpr-user", top_k=SCOPE_SIZE)["results"]
        found = [
            memory.search(q, user_id="gdpr-user", top_k=100)["results"]
            for q in ("memory about coffee", "gdpr memory 9999", "jazz", "travel hiking")
        ]
        events = int(
            store.execute(
                "SELECT count(*) FROM history h JOIN memories m ON m.id = h.memory_id "
                "WHERE h.event = 'DELETE' AND m.user_id = 'gdpr-user'"
            )[0][0]
        )
        vectors_left = int(
            store.execute(
                "SELECT count(*) FROM memories WHERE user_id = 'gdpr-user' AND embedding IS NOT NULL"
            )[0][0]
        )
        kept = store.count(Cond("user_id", "eq", "keep-user"))
        profiles = {u: memory.get_profile(user_id=u)["profile"] for u in ("gdpr-user", "keep-user")}
        kept_hits = memory.search("memory about jazz", user_id="keep-user", top_k=5)["results"]
        fresh = open_memory(tmp_path / "scale.db")
        try:
            fresh_after = len(fresh.get_all(user_id="gdpr-user", top_k=SCOPE_SIZE)["results"])
            fresh_hits = len(fresh.search("memory about coffee", user_id="gdpr-user")["results"])
        finally:
            fresh.close()
        kept_profile = profiles == {"gdpr-user": {}, "keep-user": {"home_city": "keep-user town"}}
        ok = after == 0 and not listed and not any(found) and kept == OTHER_SIZE and kept_profile
        record(
            "deletion_at_scale",
            f"delete_all removed {before - after:,} of {before:,} memories of one scope in "
            f"{delete_seconds:.2f} s ({after} left, searches return {sum(map(len, found))}); "
            f"the other scope kept {kept} of {OTHER_SIZE}",
            {
                "scope_size": before,
                "left_after": after,
                "delete_seconds": round(delete_seconds, 3),
                "add_seconds": round(add_seconds, 2),
                "add_calls": (SCOPE_SIZE + OTHER_SIZE) // BATCH,
                "delete_history_rows": events,
                "vectors_left": vectors_left,
                "other_scope_kept": kept,
                "profiles_after": profiles,
                "total_live": store.count(All()),
            },
            ok=ok,
        )
        assert result == {"message": "Memories deleted successfully!", "deleted": SCOPE_SIZE}
        assert after == 0, f"{after} memories survived delete_all"
        assert listed == [] and fresh_after == 0
        assert not any(found) and fresh_hits == 0, "search still finds deleted memories"
        assert events == SCOPE_SIZE, "every deleted memory has a DELETE history row"
        assert vectors_left == 0, "deleted memories keep their vectors"
        assert kept == OTHER_SIZE and len(kept_hits) == 5, "the other scope lost memories"
        assert kept_profile, f"delete_all left or took the wrong profile slots: {profiles}"
    finally:
        memory.close()
