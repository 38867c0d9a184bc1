"""``Memory.chat`` end to end against a real llama.cpp server (gemma-3-270m): the protocol
(one structured call through the openai provider, the packed context in the prompt), the
citations (only ids the context has) and the usage the server reported.

The model is tiny: its answer may be poor. The test checks what memlane guarantees, not the
model's wisdom. Needs the ``llama`` extra (``make test`` installs it); fails without it unless
``MEMLANE_SKIP_LLAMA=1``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from memlane import Memory
from memlane.llm.openai import OpenAILLM
from memlane.registry import providers
from tests.llama_server import LlamaServer
from tests.memory.write.test_infer_llama import RecordingLLM, llm_config

pytestmark = pytest.mark.integration


def test_chat_against_llama_cpp(tmp_path: Path, llama: LlamaServer, caplog: pytest.LogCaptureFixture) -> None:
    inner = providers.create("llm", "openai", llm_config(llama))
    assert isinstance(inner, OpenAILLM)
    recorder = RecordingLLM(inner)
    config = {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "chat.db")}},
    }
    with Memory(config, llm=recorder) as memory:
        memory.add("My dog is called Bruno", user_id="alice", infer=False, timestamp="2024-06-01")
        memory.add("I work at Acme as a data engineer", user_id="alice", infer=False, timestamp="2024-05-01")
        with caplog.at_level(logging.WARNING, logger="memlane"):
            out = memory.chat("What is my dog called?", user_id="alice", max_tokens=200)
    [exchange] = recorder.exchanges
    assert exchange.response_model == "ChatAnswer" and exchange.error is None
    assert out["context"]["text"] in exchange.messages[-1]["content"]
    assert "[m1]" in out["context"]["text"] and out["context"]["tokens"] <= 200
    assert isinstance(out["answer"], str) and out["answer"].strip()
    assert all(c["id"] in out["context"]["citations"] for c in out["citations"])
    usage = out["usage"]
    assert usage["calls"] == exchange.calls >= 1
    assert usage["prompt_tokens"] > 50 and usage["completion_tokens"] > 0  # the server's counts
    assert memory.llm_usage.calls == usage["calls"]
