"""Short-term memory: a run's memories expire after the TTL, rank first within their run next to
the owner's long-term memories, are promoted by hand or when they recur, and are pruned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, ConfigError, InvalidInputError, Memory, NotFoundError
from memlane.config import MemoryConfig
from memlane.memory import times
from tests.memory.write._support import config, make, op

DAY = timedelta(days=1)


def freeze(monkeypatch: pytest.MonkeyPatch, later: timedelta) -> None:
    """Expiry is read as if it were ``later`` from now."""
    moment = datetime.now(UTC) + later
    monkeypatch.setattr(times, "clock", lambda: moment)


def memory(tmp_path: Path, **short_term: Any) -> Memory:
    extra = {"short_term": short_term} if short_term else {}
    return Memory(config(tmp_path / "m.db", **extra))


def ids(result: Any) -> set[str]:
    return {item["id"] for item in result["results"]}


def one(m: Memory, text: str, **scope: Any) -> str:
    return str(m.add(text, infer=False, **scope)["results"][0]["id"])


def test_ttl_parses_durations() -> None:
    assert MemoryConfig().short_term.ttl is None  # as mem0: run memories stay
    for given, seconds in (("7d", 604_800), ("12h", 43_200), ("30m", 1_800), ("2w", 1_209_600), (90, 90)):
        assert MemoryConfig.load({"short_term": {"ttl": given}}).short_term.ttl == seconds
    assert MemoryConfig.load({"short_term": {"ttl": None}}).short_term.ttl is None
    for bad in ("soon", "-1d", 0):
        with pytest.raises(ConfigError, match="ttl"):
            MemoryConfig.load({"short_term": {"ttl": bad}})


def test_a_runs_memories_expire_after_the_ttl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = memory(tmp_path, ttl="1h")
    run = one(m, "Booked table 12 at the bistro", user_id="u", run_id="r1")
    kept = one(m, "Likes the bistro", user_id="u")
    assert ids(m.get_all(user_id="u")) == {run, kept}
    freeze(monkeypatch, timedelta(minutes=59))
    assert ids(m.get_all(user_id="u")) == {run, kept}
    freeze(monkeypatch, timedelta(minutes=61))
    assert ids(m.get_all(user_id="u")) == {kept}
    assert ids(m.search("bistro", user_id="u")) == {kept}
    assert ids(m.get_all(user_id="u", show_expired=True)) == {run, kept}
    assert ids(m.search("bistro", user_id="u", show_expired=True)) == {run, kept}
    assert m.get(run) is not None  # hidden from lists and search, not gone


def test_by_default_run_memories_stay_and_a_week_ttl_ends_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    week = memory(tmp_path / "a", ttl="7d")
    forever = memory(tmp_path / "b")
    for m in (week, forever):
        one(m, "In a meeting", user_id="u", run_id="r")
    freeze(monkeypatch, 6 * DAY)
    assert len(week.get_all(run_id="r")["results"]) == 1
    freeze(monkeypatch, 8 * DAY)
    assert week.get_all(run_id="r")["results"] == []
    freeze(monkeypatch, 4000 * DAY)
    assert len(forever.get_all(run_id="r")["results"]) == 1


def test_long_term_search_reads_the_run_and_the_owners_memories(tmp_path: Path) -> None:
    m = memory(tmp_path, run_boost=0.5)
    old = one(m, "Prefers green tea with breakfast", user_id="u")
    here = one(m, "Prefers green tea without sugar today", user_id="u", run_id="r1")
    elsewhere = one(m, "Prefers green tea at the office", user_id="u", run_id="r2")
    other_user = one(m, "Prefers green tea too", user_id="v")
    assert ids(m.search("prefers green tea", user_id="u", run_id="r1")) == {here}  # mem0: the run only
    found = m.search("prefers green tea", user_id="u", run_id="r1", long_term=True, explain=True)
    assert ids(found) == {old, here}
    assert elsewhere not in ids(found) and other_user not in ids(found)
    first, second = found["results"]
    assert first["id"] == here
    details: Any = first["score_details"]
    assert details["run_boost"] > 0 and second["score_details"]["run_boost"] == 0
    base = details["final_score"] - details["run_boost"]
    assert details["run_boost"] == pytest.approx(0.5 * (1 - base))
    assert ids(m.get_all(user_id="u", run_id="r1", long_term=True)) == {old, here}


def test_the_boost_lifts_a_run_memory_over_a_better_long_term_one(tmp_path: Path) -> None:
    m = memory(tmp_path, run_boost=0.0)
    best = one(m, "Flight to Lisbon departs at 9", user_id="u")
    run = one(m, "Flight changed to Lisbon", user_id="u", run_id="r")
    query = "flight to lisbon departs at 9"
    unboosted = m.search(query, user_id="u", run_id="r", long_term=True)["results"]
    assert [i["id"] for i in unboosted] == [best, run]
    m.close()
    m = memory(tmp_path, run_boost=1.0)
    boosted = m.search(query, user_id="u", run_id="r", long_term=True)["results"]
    assert [i["id"] for i in boosted] == [run, best]


def test_long_term_needs_a_run_and_an_owner(tmp_path: Path) -> None:
    m = memory(tmp_path)
    scopes: list[dict[str, Any]] = [{"user_id": "u"}, {"run_id": "r"}]
    for scope in scopes:
        with pytest.raises(InvalidInputError, match="long_term"):
            m.search("q", long_term=True, **scope)
        with pytest.raises(InvalidInputError, match="long_term"):
            m.get_all(long_term=True, **scope)


def test_promote_makes_a_memory_long_term(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = memory(tmp_path, ttl="1d")
    mid = str(
        m.add("Keys are under the mat", user_id="u", run_id="r", infer=False, expiration_date="2099-01-01")[
            "results"
        ][0]["id"]
    )
    out = m.promote(mid)
    assert out == {"message": "Memory promoted to long-term!", "id": mid, "promoted": True}
    item = m.get(mid)
    assert item is not None and "run_id" not in item and item.get("expiration_date") is None
    assert item["metadata"] == {"promoted_from_run": "r"}
    events = [(h["event"], h["old_memory"], h["new_memory"]) for h in m.history(mid)]
    assert events[-1] == ("UPDATE", "Keys are under the mat", "Keys are under the mat")
    freeze(monkeypatch, 30 * DAY)
    assert ids(m.get_all(user_id="u")) == {mid}  # no longer expires with the run
    assert m.promote(mid)["promoted"] is False
    assert len(m.history(mid)) == 2


def test_promote_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    m = memory(tmp_path)
    lonely = one(m, "Step two done", run_id="r")
    with pytest.raises(InvalidInputError, match="user_id"):
        m.promote(lonely)
    assert m.get(lonely) is not None and m.get(lonely)["run_id"] == "r"  # type: ignore[index]
    with pytest.raises(NotFoundError):
        m.promote("00000000-0000-4000-8000-000000000000")


def test_a_fact_recurring_in_another_run_is_promoted(tmp_path: Path) -> None:
    m = memory(tmp_path, promote_recurring=True)
    first = one(m, "I am allergic to cats", user_id="u", run_id="r1")
    same_run = one(m, "I am allergic to cats", user_id="u", run_id="r1")
    assert m.get(first)["run_id"] == "r1"  # type: ignore[index]  # the same run: no recurrence
    one(m, "I am allergic to cats", user_id="v", run_id="r2")  # another user: none either
    assert m.get(first)["run_id"] == "r1"  # type: ignore[index]
    again = one(m, "I am allergic to cats", user_id="u", run_id="r2")
    runs: dict[str, Any] = {mid: dict(m.get(mid) or {}).get("run_id") for mid in (first, same_run, again)}
    assert runs[again] == "r2"  # the new one stays in its run
    assert sorted(str(runs[mid]) for mid in (first, same_run)) == ["None", "r1"]  # one promoted
    promoted = first if runs[first] is None else same_run
    assert m.history(promoted)[-1]["event"] == "UPDATE"


def test_near_same_text_recurs_but_a_different_fact_does_not(tmp_path: Path) -> None:
    m = memory(tmp_path, promote_recurring=True, promote_similarity=0.8)
    first = one(m, "I am allergic to cats", user_id="u", run_id="r1")
    one(m, "I work at the harbour", user_id="u", run_id="r2")
    assert m.get(first)["run_id"] == "r1"  # type: ignore[index]
    one(m, "i am allergic to cats!", user_id="u", run_id="r3")
    assert "run_id" not in m.get(first)  # type: ignore[operator]


def test_recurrence_promotion_is_off_by_default(tmp_path: Path) -> None:
    m = memory(tmp_path)
    first = one(m, "I am allergic to cats", user_id="u", run_id="r1")
    one(m, "I am allergic to cats", user_id="u", run_id="r2")
    assert m.get(first)["run_id"] == "r1"  # type: ignore[index]


def test_the_model_saying_a_run_fact_is_known_promotes_it(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"memory": [op("ADD", "Is allergic to cats")]},
        {"memory": [op("NONE", "Is allergic to cats", id="0")]},
        short_term={"promote_recurring": True},
    )
    first = m.add("I'm allergic to cats", user_id="u", run_id="r1")["results"][0]["id"]
    out = m.add("Cats make me sneeze, I'm allergic", user_id="u", run_id="r2")
    assert out["results"] == []
    assert "0: Is allergic to cats" in llm.calls[1].text
    item = m.get(first)
    assert item is not None and "run_id" not in item and item["metadata"] == {"promoted_from_run": "r1"}


def test_prune_deletes_what_expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = memory(tmp_path, ttl="1d")
    run = one(m, "Parked on level 3", user_id="u", run_id="r")
    dated = str(
        m.add("Sale ends", user_id="u", infer=False, expiration_date="2000-01-01")["results"][0]["id"]
    )
    kept = one(m, "Drives a red car", user_id="u")
    other = one(m, "Parked on level 5", user_id="w", run_id="r9")
    freeze(monkeypatch, 2 * DAY)
    dry = m.prune(dry_run=True)
    assert dry["pruned"] == 3 and set(dry["ids"]) == {run, dated, other} and dry["dry_run"] is True
    assert m.get(run) is not None
    scoped = m.prune(user_id="u")
    assert scoped["pruned"] == 2 and set(scoped["ids"]) == {run, dated}
    assert m.get(run) is None and m.get(dated) is None and m.get(kept) is not None
    assert m.history(run)[-1]["event"] == "DELETE"  # history keeps a trace
    assert [v.text for v in m.store.versions(run)] == ["Parked on level 3"]
    assert m.prune()["ids"] == [other]
    assert m.prune() == {"message": "0 expired memory(ies) pruned", "pruned": 0, "ids": [], "dry_run": False}


def test_async_memory_promotes_and_prunes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> tuple[bool, int]:
        m = AsyncMemory(config(tmp_path / "a.db", short_term={"ttl": "1d"}))
        added = await m.add("Gate B12", user_id="u", run_id="r", infer=False)
        await m.add("Seat 14C", user_id="u", run_id="r", infer=False)
        promoted = await m.promote(added["results"][0]["id"])
        freeze(monkeypatch, 2 * DAY)
        pruned = await m.prune()
        await m.close()
        return promoted["promoted"], pruned["pruned"]

    assert asyncio.run(run()) == (True, 1)


def test_get_context_leaves_out_expired_run_memories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = memory(tmp_path, ttl="1h")
    one(m, "Parked the car on level 3", user_id="u", run_id="r")
    one(m, "Drives a red car", user_id="u")
    assert "level 3" in m.get_context("car", user_id="u")["text"]
    freeze(monkeypatch, timedelta(hours=2))
    text = m.get_context("car", user_id="u")["text"]
    assert "level 3" not in text and "red car" in text
