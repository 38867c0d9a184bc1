"""Memory types against a real llama.cpp server (gemma-3-270m): the single call's schema, with its
``type`` and ``when`` fields, still yields output that parses, and an inferring add stores only
known types and event dates that are ISO times. The model is tiny: these check the protocol, not
how well it types facts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from memlane import LLMError, Memory
from memlane.models import ChatMessage
from memlane.prompts import memory_update
from memlane.registry import providers
from tests.llama_server import LlamaServer
from tests.memory.write.test_infer_llama import llm_config, memory_config

pytestmark = pytest.mark.integration

EVENT = "Last Saturday I ran the Berlin half marathon in 1:52. I always stretch for ten minutes before a run."


def test_the_typed_answer_parses(llama: LlamaServer) -> None:
    llm = providers.create("llm", "openai", llm_config(llama))
    data = memory_update.MemoryUpdateInput(conversation=f"user: {EVENT}", observation_date="2024-05-06")
    messages: list[ChatMessage] = memory_update.build_messages(data)
    result = llm.complete(messages, memory_update.MemoryUpdate)  # an LLMError here fails the test
    print(f"raw: {result.raw!r}")
    for op in result.value.memory:
        assert op.type in (None, "semantic", "episodic", "procedural")
        assert op.when is None or datetime.fromisoformat(op.when)
    llm.close()


def test_an_inferring_add_stores_known_types(llama: LlamaServer, tmp_path: Path) -> None:
    with Memory(memory_config(tmp_path, llama)) as memory:
        try:
            memory.add(EVENT, user_id="alice", timestamp="2024-05-06T09:00:00Z")
        except LLMError as exc:  # a tiny model's unusable answer is a clear error, never another one
            assert "model" in str(exc) or "output" in str(exc), exc
            return
        for item in memory.get_all(user_id="alice")["results"]:
            kind = (item["metadata"] or {}).get("memory_type", "semantic")
            assert kind in ("semantic", "episodic", "procedural"), item
            record = memory.store.get(item["id"])
            assert record is not None and record.valid_from is not None
            datetime.fromisoformat(record.valid_from)
            print(kind, record.valid_from, item["memory"])
