"""``Memory.add(infer=True)`` end to end against a real llama.cpp server running gemma-3-270m.

The model is tiny: its facts may be poor or unusable. These tests check the protocol, not the
model's wisdom: an add returns mem0-shaped results or raises ``LLMError`` with a clear message,
never another exception; it never stores the prompt's example texts; it spends one LLM call in
the single-call pipeline (two with one repair request) and at most two in the classic one; and a
second add shows the model the memories of the first. Each call takes seconds on a busy machine,
so the whole file makes about four calls.

Needs the ``llama`` extra, which ``make test`` installs. Without it the tests fail (they do not
skip) unless ``MEMLANE_SKIP_LLAMA=1`` is set.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from memlane import LLMError, Memory
from memlane.llm.base import LLM, LLMResult
from memlane.llm.openai import OpenAILLM
from memlane.llm.structured import message_text
from memlane.models import ChatMessage
from memlane.prompts import fact_extraction, memory_update
from memlane.prompts.common import normalize_fact
from memlane.registry import providers
from tests.llama_server import LlamaServer

pytestmark = pytest.mark.integration

T = TypeVar("T", bound=BaseModel)
USER = "alice"
FIRST = "I moved from Delhi to Bangalore last month. I work at Acme as a data engineer."
SECOND = "I just got promoted to senior data engineer at Acme. I also adopted a dog named Bruno."
EVENTS = {"ADD", "UPDATE", "DELETE"}
MAX_TOKENS = 300


def llm_config(server: LlamaServer) -> dict[str, Any]:
    return {
        "base_url": server.url,
        "model": server.model,
        "temperature": 0,
        "seed": 0,
        "repeat_penalty": 1.3,
        "max_tokens": MAX_TOKENS,
        "max_retries": 1,
    }


def memory_config(tmp_path: Path, server: LlamaServer, **extra: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": 64}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "memlane.db")}},
        "llm": {"provider": "openai", "config": llm_config(server)},
        **extra,
    }


@dataclass(slots=True)
class Exchange:
    """One ``complete()`` through the recorder: what was asked and what it cost."""

    messages: list[ChatMessage]
    response_model: str
    calls: int = 0
    """Requests this ``complete()`` made: 1, or 2 when a repair request followed bad output."""
    raw: str = ""
    error: str | None = None


@dataclass(slots=True)
class RecordingLLM:
    """An ``LLM`` that records every ``complete()`` and delegates it to a real provider."""

    inner: LLM
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.inner.label

    def complete(
        self,
        messages: Sequence[ChatMessage],
        response_model: type[T],
        *,
        max_tokens: int | None = None,
    ) -> LLMResult[T]:
        exchange = Exchange([dict(m) for m in messages], response_model.__name__)
        self.exchanges.append(exchange)
        try:
            result = self.inner.complete(messages, response_model, max_tokens=max_tokens)
        except LLMError as exc:
            exchange.error = str(exc)
            exchange.calls = exc.usage.calls if exc.usage is not None else 1
            raise
        exchange.calls = result.usage.calls
        exchange.raw = result.raw
        return result

    def close(self) -> None:
        self.inner.close()


@dataclass(slots=True)
class Outcome:
    results: Sequence[Mapping[str, Any]] | None
    error: LLMError | None
    seconds: float
    calls: int


def timed_add(memory: Memory, text: str, label: str) -> Outcome:
    """``memory.add(text)``: its results or its ``LLMError``; any other exception fails the test."""
    before = memory.llm_usage.calls
    started = time.perf_counter()
    try:
        answer = memory.add(text, user_id=USER)
    except LLMError as exc:
        outcome = Outcome(None, exc, time.perf_counter() - started, memory.llm_usage.calls - before)
    else:
        assert set(answer) == {"results"}, answer
        results = answer["results"]
        outcome = Outcome(results, None, time.perf_counter() - started, memory.llm_usage.calls - before)
    shown = outcome.results if outcome.error is None else f"LLMError: {outcome.error}"
    print(f"{label}: {outcome.seconds:.2f}s wall, {outcome.calls} LLM call(s) counted; {shown}")
    if isinstance(memory.llm, RecordingLLM):
        for exchange in memory.llm.exchanges:
            print(f"  {exchange.response_model} x{exchange.calls}: {exchange.error or exchange.raw!r}")
    return outcome


def check_results(memory: Memory, outcome: Outcome, before: set[str]) -> None:
    """mem0's shape; ADD ids are new, UPDATE/DELETE ids were existing memories."""
    if outcome.error is not None:
        message = str(outcome.error)
        assert len(message) > 20 and ("model" in message or "output" in message or "LLM" in message), message
        return
    assert outcome.results is not None
    for item in outcome.results:
        assert {"id", "memory", "event"} <= set(item), item
        assert item["event"] in EVENTS, item
        assert isinstance(item["memory"], str) and item["memory"].strip(), item
        uuid.UUID(item["id"])  # a real id, never the "0", "1", ... the model saw
        if item["event"] == "ADD":
            assert item["id"] not in before, item
            stored = memory.get(item["id"])
            assert stored is not None and stored["memory"] == item["memory"]
        else:
            assert item["id"] in before, f"{item['event']} of a memory that did not exist: {item}"
        if item["event"] == "UPDATE":
            assert "previous_memory" in item, item
            stored = memory.get(item["id"])
            assert stored is not None and stored["memory"] == item["memory"]
        if item["event"] == "DELETE":
            assert memory.get(item["id"]) is None


def stored_texts(memory: Memory) -> dict[str, str]:
    return {m["id"]: m["memory"] for m in memory.get_all(user_id=USER)["results"]}


def assert_no_example_text(memory: Memory) -> None:
    examples = {normalize_fact(t) for t in (*memory_update.EXAMPLE_TEXTS, *fact_extraction.EXAMPLE_TEXTS)}
    copied = [t for t in stored_texts(memory).values() if normalize_fact(t) in examples]
    assert not copied, f"the prompt's example text was stored: {copied}"


def stems(text: str) -> set[str]:
    return {w[:6].casefold() for w in re.findall(r"[A-Za-z]{6,}", text)}


def near_copies(memory: Memory, conversations: Sequence[str]) -> list[str]:
    """Stored texts sharing 2+ long words (6-letter stems) with an example, not with the input.

    Only reported (printed): the library drops exact copies of its examples, not paraphrases
    such as "Has an allergy to peanuts" for the example "Is allergic to peanuts".
    """
    said = set().union(*(stems(text) for text in conversations))
    examples = [*memory_update.EXAMPLE_TEXTS, *fact_extraction.EXAMPLE_TEXTS]
    return [
        text
        for text in stored_texts(memory).values()
        if any(len((stems(text) - said) & stems(example)) >= 2 for example in examples)
    ]


def assert_call_budget(outcome: Outcome, exchanges: Sequence[Exchange], allowed: int, label: str) -> None:
    """``allowed`` complete() calls at most; each is one request, or two when repaired."""
    assert 1 <= len(exchanges) <= allowed, f"{label}: {len(exchanges)} complete() calls: {exchanges}"
    spent = sum(e.calls for e in exchanges)
    repaired = [e for e in exchanges if e.calls == 2]
    note = f"{label}: {len(repaired)} repair request(s) after unusable output" if repaired else label
    assert all(e.calls in (1, 2) for e in exchanges), f"{note}: {exchanges}"
    if outcome.error is None:
        assert outcome.calls == spent, f"{note}: llm_usage counted {outcome.calls}, the provider made {spent}"
    else:
        # A failed add may not count the requests of the failing complete() (see the report);
        # it never counts more than were made.
        assert outcome.calls <= spent, f"{note}: llm_usage counted {outcome.calls} of {spent}"


def existing_section(exchange: Exchange) -> str:
    """The "Existing memories" section of the request's user turn (the system turn has an example)."""
    text = message_text([m for m in exchange.messages if m.get("role") == "user"][:1])
    assert "Existing memories:" in text, text
    return text.split("Existing memories:", 1)[1].split("\n\nNew ", 1)[0].strip()


def test_single_call_pipeline_end_to_end(llama: LlamaServer, tmp_path: Path) -> None:
    inner = providers.create("llm", "openai", llm_config(llama))
    assert isinstance(inner, OpenAILLM)
    recorder = RecordingLLM(inner)
    with Memory(memory_config(tmp_path, llama), llm=recorder) as memory:
        assert memory.config.pipeline == "single"

        first = timed_add(memory, FIRST, "single add 1")
        check_results(memory, first, before=set())
        if first.results is not None:
            assert all(item["event"] == "ADD" for item in first.results), first.results  # nothing to update
            assert {i["id"] for i in first.results} == set(stored_texts(memory))
        assert_no_example_text(memory)
        assert_call_budget(first, recorder.exchanges, 1, "single add 1")
        assert existing_section(recorder.exchanges[0]) == "(none)"
        assert FIRST in message_text(recorder.exchanges[0].messages)

        known = stored_texts(memory)
        if not known:  # the model gave nothing usable: still check that a second add sees memories
            memory.add(FIRST, user_id=USER, infer=False)
            known = stored_texts(memory)
        recorder.exchanges.clear()

        second = timed_add(memory, SECOND, "single add 2")
        check_results(memory, second, before=set(known))
        assert_no_example_text(memory)
        assert_call_budget(second, recorder.exchanges, 1, "single add 2")
        section = existing_section(recorder.exchanges[0])
        assert section != "(none)", "the second add did not show the model the first add's memories"
        for text in known.values():  # at most 10 candidates are shown; here there are fewer
            assert text in section, f"{text!r} missing from the prompt's existing memories:\n{section}"
        assert all(i not in section for i in known), "the model must see small keys, never ids"
        print(f"llm_usage after two adds: {memory.llm_usage}")
        print(f"near-copies of the prompt's example (not asserted): {near_copies(memory, [FIRST, SECOND])}")


def test_classic_pipeline_end_to_end(llama: LlamaServer, tmp_path: Path) -> None:
    with Memory(memory_config(tmp_path, llama, pipeline="classic")) as memory:
        assert isinstance(memory.llm, OpenAILLM)  # built from the config dict
        recorder = RecordingLLM(memory.llm)
        memory.llm = recorder

        outcome = timed_add(memory, FIRST, "classic add")
        check_results(memory, outcome, before=set())
        assert_no_example_text(memory)
        assert_call_budget(outcome, recorder.exchanges, 2, "classic add")
        kinds = [e.response_model for e in recorder.exchanges]
        assert kinds[0] == "Facts", kinds
        if len(kinds) == 2:
            assert kinds[1] == "MemoryUpdate", kinds
            decision = message_text(recorder.exchanges[1].messages)
            assert "New facts:\n- " in decision, decision
            assert existing_section(recorder.exchanges[1]) == "(none)"
        elif outcome.error is None:
            # one call: the model found no facts, so the decision call was skipped
            assert outcome.results == [], outcome.results
        if outcome.results is not None:
            assert all(item["event"] == "ADD" for item in outcome.results), outcome.results
        print(f"classic llm_usage: {memory.llm_usage}; mode {getattr(recorder.inner, 'mode', None)}")
        print(f"near-copies of the prompt's example (not asserted): {near_copies(memory, [FIRST])}")


def test_procedural_memory_does_not_crash_the_server(llama: LlamaServer, tmp_path: Path) -> None:
    """The summary's schema (maxLength 8000) once made llama.cpp's grammar builder segfault."""
    config = memory_config(tmp_path, llama)
    config["llm"]["config"]["max_tokens"] = 60
    run = [
        {"role": "user", "content": "Open example.com and read its title."},
        {"role": "assistant", "content": "Opened https://example.com; the title is 'Example Domain'."},
    ]
    with Memory(config) as memory:
        started = time.perf_counter()
        try:
            answer = memory.add(run, agent_id="agent-1", memory_type="procedural_memory")
        except LLMError as exc:  # a tiny model may not finish in 60 tokens; the server must live on
            print(f"procedural: {time.perf_counter() - started:.2f}s, LLMError: {exc}")
            assert "connection" not in str(exc), exc
        else:
            print(f"procedural: {time.perf_counter() - started:.2f}s, {answer}")
            (item,) = answer["results"]
            assert item["event"] == "ADD" and item["memory"].strip()
    assert llama.proc.poll() is None, llama.log_tail()
