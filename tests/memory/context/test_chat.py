"""chat: one structured call over the packed context; citations kept only when they exist,
usage, remember=True through add(), no LLM -> ConfigError, LLM failures, the async twin."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, ConfigError, InvalidInputError, LLMError, Memory
from memlane.llm import FakeLLM
from memlane.llm.fake import FakeCall
from tests.conftest import hash_config


def make(tmp_path: Path, *replies: Any) -> tuple[Memory, FakeLLM]:
    llm = FakeLLM(replies)
    memory = Memory(hash_config(tmp_path / "chat.db"), llm=llm)
    memory.add("My dog is called Rex", user_id="alice", infer=False, timestamp="2024-06-01")
    memory.add("I live in Bangalore", user_id="alice", infer=False, timestamp="2024-05-01")
    return memory, llm


def test_chat_answers_from_the_context_in_one_call_and_cites_it(tmp_path: Path) -> None:
    memory, llm = make(tmp_path, {"answer": "Your dog is Rex [m2].", "citations": ["m2"]})
    out = memory.chat("what is my dog called?", user_id="alice")
    assert out["answer"] == "Your dog is Rex [m2]."
    [cited] = out["citations"]
    assert cited["id"] == "m2" and cited["text"] == "My dog is called Rex"
    assert out["context"] == memory.get_context("what is my dog called?", user_id="alice")
    [call] = llm.calls
    assert call.response_model == "ChatAnswer" and out["context"]["text"] in call.text
    assert "Question: what is my dog called?" in call.text
    assert out["usage"]["calls"] == 1 and out["usage"]["prompt_tokens"] > 0
    assert memory.llm_usage.calls == 1


def test_invented_citations_are_dropped_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reply = {"answer": "Rex, see [m9].", "citations": ["[M2]", "m2", "m7", "p1", "banana"]}
    memory, _ = make(tmp_path, reply)
    with caplog.at_level(logging.WARNING, logger="memlane"):
        out = memory.chat("dog?", user_id="alice")
    assert [c["id"] for c in out["citations"]] == ["m2"]
    assert "'m7'" in caplog.text and "'banana'" in caplog.text and "'m9'" in caplog.text


def test_ids_named_in_the_answer_text_count_as_citations(tmp_path: Path) -> None:
    memory, _ = make(tmp_path, {"answer": "Bangalore [m1], with Rex [m2].", "citations": []})
    out = memory.chat("where do I live?", user_id="alice")
    assert [c["id"] for c in out["citations"]] == ["m1", "m2"]


def test_remember_stores_the_exchange_through_add(tmp_path: Path) -> None:
    extracted = {"memory": [{"event": "ADD", "id": None, "text": "Has a dog named Rex"}]}
    memory, llm = make(tmp_path, {"answer": "Rex.", "citations": ["m2"]}, extracted)
    out = memory.chat("what is my dog called?", user_id="alice", remember=True, reference_date="2024-07-01")
    assert [c.response_model for c in llm.calls] == ["ChatAnswer", "MemoryUpdate"]
    assert "what is my dog called?" in llm.calls[1].text and "Rex." in llm.calls[1].text
    [added] = out["remembered"]["results"]
    assert added["memory"] == "Has a dog named Rex" and added["event"] == "ADD"
    stored = memory.get(added["id"])
    assert stored is not None and stored["user_id"] == "alice"
    record = memory.store.get(added["id"])
    assert record is not None and str(record.valid_from).startswith("2024-07-01")  # said "today"


def test_without_remember_nothing_is_stored(tmp_path: Path) -> None:
    memory, _ = make(tmp_path, {"answer": "Rex.", "citations": []})
    before = memory.get_all(user_id="alice")["results"]
    out = memory.chat("dog?", user_id="alice")
    assert "remembered" not in out and memory.get_all(user_id="alice")["results"] == before


def test_without_an_llm_chat_raises_the_same_config_error_as_add(memory: Memory) -> None:
    with pytest.raises(ConfigError, match=r"chat\(\) needs an LLM: configure one") as chat_error:
        memory.chat("hello", user_id="alice")
    with pytest.raises(ConfigError, match=r"needs an LLM: configure one") as add_error:
        memory.add("hi", user_id="alice", infer=True)
    assert type(chat_error.value) is type(add_error.value)


def test_a_failed_llm_call_raises_and_is_still_counted(tmp_path: Path) -> None:
    memory, _ = make(tmp_path, "not json", "still not json", "nope")
    with pytest.raises(LLMError):
        memory.chat("dog?", user_id="alice")
    assert memory.llm_usage.calls >= 1


def test_remember_needs_a_plain_scope(tmp_path: Path) -> None:
    memory, llm = make(tmp_path)
    with pytest.raises(InvalidInputError):
        memory.chat("dog?", filters={"user_id": {"in": ["alice", "bob"]}}, remember=True)
    assert llm.calls == []


def test_the_prompt_bounds_the_answer(tmp_path: Path) -> None:
    seen: list[FakeCall] = []

    def reply(call: FakeCall) -> dict[str, Any]:
        seen.append(call)
        return {"answer": "I do not know.", "citations": []}

    memory, _ = make(tmp_path, reply)
    out = memory.chat("who is my boss?", user_id="bob")  # nothing stored for bob
    assert out["answer"] == "I do not know." and out["citations"] == []
    assert "(no memories)" in seen[0].text and seen[0].max_tokens == 512


def test_async_chat(tmp_path: Path) -> None:
    async def run() -> Any:
        m = AsyncMemory(hash_config(tmp_path / "a.db"), llm=FakeLLM([{"answer": "Rex", "citations": ["m1"]}]))
        try:
            await m.add("My dog is called Rex", user_id="alice", infer=False)
            return await m.chat("dog?", user_id="alice")
        finally:
            await m.close()

    out = asyncio.run(run())
    assert out["answer"] == "Rex" and out["citations"][0]["text"] == "My dog is called Rex"
