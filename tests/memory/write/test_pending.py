"""Issue 11: a failed LLM call of add(infer=True) keeps the conversation; reprocess retries it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, LLMError, Memory
from memlane.filters import All
from memlane.llm import FakeLLM
from memlane.store.sqlite import SQLiteStore
from tests.memory.test_erase import every_text


def config(path: Path) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
    }


def make(tmp_path: Path, *replies: Any) -> tuple[Memory, FakeLLM]:
    llm = FakeLLM(replies)
    return Memory(config(tmp_path / "m.db"), llm=llm), llm


def adds(*texts: str) -> dict[str, Any]:
    return {"memory": [{"event": "ADD", "id": None, "text": t} for t in texts]}


def test_a_failed_call_keeps_the_conversation_and_says_how_to_retry(tmp_path: Path) -> None:
    m, llm = make(tmp_path, LLMError("connection refused"))
    with pytest.raises(LLMError, match="connection refused") as caught:
        m.add(
            [{"role": "user", "content": "I live in Pune"}, {"role": "assistant", "content": "Nice"}],
            user_id="u",
        )
    message = str(caught.value)
    assert "2 message(s)" in message and "Memory.reprocess(user_id='u')" in message
    assert "memlane reprocess --user-id u" in message and caught.value.pending == 2
    assert m.store.pending_count() == 2 and m.store.count(All()) == 0

    llm.add(adds("Lives in Pune"))
    out = m.reprocess(user_id="u")
    assert out["remaining"] == 0 and "error" not in out
    [batch] = out["results"]
    assert batch["user_id"] == "u" and batch["messages"] == 2
    assert [r["memory"] for r in batch["results"]] == ["Lives in Pune"]
    assert m.store.pending() == [] and m.reprocess()["results"] == []
    item = m.get(batch["results"][0]["id"])
    assert item is not None and [s.content for s in m.store.sources(item["id"])] == ["I live in Pune", "Nice"]
    assert "I live in Pune" in llm.calls[-1].text


def test_reprocess_replays_the_adds_arguments(tmp_path: Path) -> None:
    m, llm = make(tmp_path, LLMError("down"))
    with pytest.raises(LLMError):
        m.add(
            "I moved last week",
            user_id="u",
            metadata={"topic": "home"},
            prompt="Keep places only.",
            timestamp="2024-02-10T09:00:00Z",
            expiration_date="2030-01-01",
        )
    llm.add(adds("Moved in early February 2024"))
    [batch] = m.reprocess()["results"]
    assert "Observation date: 2024-02-10" in llm.calls[-1].text and "Keep places only." in llm.calls[-1].text
    item = m.get(batch["results"][0]["id"])
    assert item is not None and item["metadata"] == {"topic": "home"}
    assert item["expiration_date"] == "2030-01-01"


def test_reprocess_stops_at_a_failure_and_counts_what_waits(tmp_path: Path) -> None:
    m, llm = make(tmp_path, LLMError("down"), LLMError("down"), LLMError("down"))
    for user in ("a", "b"):
        with pytest.raises(LLMError):
            m.add(f"I am {user}", user_id=user)
    with pytest.raises(LLMError, match="2 message"):
        m.add("I am a again", user_id="a")  # a's two messages wait (b's are another scope)
    assert m.store.pending_count() == 3
    llm.add(LLMError("still down"))
    out = m.reprocess()
    assert out["results"] == [] and "still down" in out["error"] and out["remaining"] == 3
    llm.add(adds("Is b"))
    out = m.reprocess(user_id="b")
    assert out["remaining"] == 0 and [r["user_id"] for r in out["results"]] == ["b"]
    assert m.store.pending_count() == 2


def test_procedural_add_is_kept_and_replayed_too(tmp_path: Path) -> None:
    m, llm = make(tmp_path, LLMError("down"))
    with pytest.raises(LLMError):
        m.add("step 1: search", agent_id="bot", memory_type="procedural_memory")
    llm.add({"summary": "Task: search. 1. searched"})
    [batch] = m.reprocess(agent_id="bot")["results"]
    item = m.get(batch["results"][0]["id"])
    assert item is not None and item["metadata"] == {"memory_type": "procedural_memory"}


def test_purge_delete_all_and_reset_clear_pending_adds(tmp_path: Path) -> None:
    m, _llm = make(tmp_path, *(LLMError("down") for _ in range(4)))
    for user in ("a", "b", "c"):
        with pytest.raises(LLMError):
            m.add(f"secret of {user}", user_id=user, metadata={"note": f"note-{user}"})
    m.purge(user_id="a")
    assert "secret of a" not in every_text(m.store) and "note-a" not in every_text(m.store)  # type: ignore[arg-type]
    m.delete_all(user_id="b")
    assert m.store.pending_count() == 1 and m.reprocess(user_id="b")["results"] == []
    m.reset()
    assert m.store.pending_count() == 0


def test_export_and_import_keep_pending_adds(tmp_path: Path) -> None:
    m, _llm = make(tmp_path, LLMError("down"))
    with pytest.raises(LLMError):
        m.add("I like tea", user_id="u")
    counts = m.export(tmp_path / "x.jsonl")
    assert counts["pending"] == 1 and counts["message"] == 1
    n = Memory(config(tmp_path / "n.db"), llm=FakeLLM([adds("Likes tea")]))
    n.import_data(tmp_path / "x.jsonl")
    assert [r["memory"] for r in n.reprocess()["results"][0]["results"]] == ["Likes tea"]


def test_an_add_in_flight_is_not_taken_by_reprocess(tmp_path: Path) -> None:
    seen: list[Mapping[str, Any]] = []

    def reply(call: Any) -> dict[str, Any]:
        seen.append(m.reprocess())  # another caller, while this add waits for its model
        return adds("Likes tea")

    m, _ = make(tmp_path, reply)
    assert [r["memory"] for r in m.add("I like tea", user_id="u")["results"]] == ["Likes tea"]
    assert seen == [{"results": [], "remaining": 1}]
    assert m.store.pending_count() == 0


def test_reprocess_without_llm_is_a_config_error(tmp_path: Path) -> None:
    from memlane import ConfigError

    with pytest.raises(ConfigError, match="LLM"):
        Memory(config(tmp_path / "m.db")).reprocess()


def test_async_memory_has_reprocess(tmp_path: Path) -> None:
    async def main() -> Mapping[str, Any]:
        memory = AsyncMemory(config(tmp_path / "m.db"))
        try:
            memory.sync.llm = FakeLLM([])
            return await memory.reprocess(user_id="u")
        finally:
            await memory.close()

    assert asyncio.run(main()) == {"results": [], "remaining": 0}


def test_store_keeps_one_row_per_pending_add(tmp_path: Path) -> None:
    m, _ = make(tmp_path, LLMError("down"))
    with pytest.raises(LLMError):
        m.add("I like tea", user_id="u")
    assert isinstance(m.store, SQLiteStore)
    [row] = m.store.execute("SELECT user_id, attempts, error, claimed_at FROM pending")
    assert row[0] == "u" and row[1] == 1 and "down" in row[2] and row[3] is None
