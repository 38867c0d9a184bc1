from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from memlane.errors import LLMError, MissingDependencyError
from memlane.llm.anthropic import AnthropicLLM, AnthropicLLMConfig
from memlane.llm.litellm import LiteLLM, LiteLLMConfig
from memlane.llm.sdk import translate_error
from memlane.llm.structured import TransientLLMError

from .bad_outputs import Facts
from .scripted_server import Reply, ScriptedServer

ASK = [
    {"role": "system", "content": "Extract facts."},
    {"role": "user", "content": "I moved to Bangalore"},
]
GOOD = {"facts": ["Lives in Bangalore"]}


class StatusError(Exception):
    def __init__(self, status_code: int, text: str = "") -> None:
        super().__init__(f"status {status_code}" + (f": {text}" if text else ""))
        self.status_code = status_code
        self.response = SimpleNamespace(headers={"retry-after": "0"})


class APITimeoutError(Exception):
    pass


class Messages:
    """Stands in for ``anthropic.Anthropic().messages``."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.calls: list[dict[str, Any]] = []

    def create(self, **params: Any) -> Any:
        self.calls.append(params)
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def anthropic_reply(tool_input: Any = None, text: str | None = None, stop: str = "tool_use") -> Any:
    content: list[Any] = []
    if text is not None:
        content.append(SimpleNamespace(type="text", text=text))
    if tool_input is not None:
        content.append(SimpleNamespace(type="tool_use", name="Facts", input=tool_input, id="t1"))
    usage = SimpleNamespace(input_tokens=21, output_tokens=8)
    return SimpleNamespace(content=content, usage=usage, stop_reason=stop)


def make_anthropic(*replies: Any, **config: Any) -> tuple[AnthropicLLM, Messages]:
    messages = Messages(*replies)
    llm = AnthropicLLM(AnthropicLLMConfig(backoff=0, **config), client=SimpleNamespace(messages=messages))
    return llm, messages


def test_anthropic_forces_a_tool_call_with_the_schema() -> None:
    llm, messages = make_anthropic(anthropic_reply(GOOD), temperature=0.2)
    result = llm.complete(ASK, Facts, max_tokens=64)
    assert result.value.facts == GOOD["facts"]
    assert (result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens) == (1, 21, 8)
    (params,) = messages.calls
    assert params["system"] == "Extract facts."
    assert params["messages"] == [{"role": "user", "content": "I moved to Bangalore"}]
    assert params["max_tokens"] == 64 and params["extra_body"] == {"temperature": 0.2}
    (tool,) = params["tools"]
    assert tool["name"] == "Facts" and tool["input_schema"]["properties"]["facts"]["maxItems"] == 5
    assert params["tool_choice"] == {"type": "tool", "name": "Facts"}


def test_anthropic_prose_instead_of_a_tool_call_is_repaired() -> None:
    llm, messages = make_anthropic(
        anthropic_reply(text="I think she lives in Bangalore."), anthropic_reply(GOOD)
    )
    assert llm.complete(ASK, Facts).value.facts == GOOD["facts"]
    repair = messages.calls[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": "I think she lives in Bangalore."}


def test_anthropic_retries_rate_limits_and_overload() -> None:
    llm, messages = make_anthropic(
        StatusError(429), StatusError(529), APITimeoutError("t"), anthropic_reply(GOOD)
    )
    assert llm.complete(ASK, Facts).value.facts == GOOD["facts"]
    assert len(messages.calls) == 4


def test_anthropic_bad_request_is_not_retried() -> None:
    llm, messages = make_anthropic(StatusError(400))
    with pytest.raises(LLMError, match="StatusError: status 400"):
        llm.complete(ASK, Facts)
    assert len(messages.calls) == 1


def test_anthropic_retries_only_what_can_succeed_on_retry() -> None:
    llm, messages = make_anthropic(StatusError(500, "invalid_request_error: tools.0.input_schema"))
    with pytest.raises(LLMError, match="status 500"):
        llm.complete(ASK, Facts)
    assert len(messages.calls) == 1
    llm, messages = make_anthropic(StatusError(501))
    with pytest.raises(LLMError, match="status 501"):
        llm.complete(ASK, Facts)
    assert len(messages.calls) == 1
    llm, messages = make_anthropic(StatusError(502), StatusError(500, "boom"), anthropic_reply(GOOD))
    assert llm.complete(ASK, Facts).value.facts == GOOD["facts"]
    assert len(messages.calls) == 3


def test_anthropic_requests_get_the_deadline_and_errors_hide_the_key() -> None:
    key = "sk-ant-api03-secretsecret"
    llm, messages = make_anthropic(
        StatusError(401, f"invalid x-api-key {key}"), api_key=key, timeout=30, deadline=5
    )
    with pytest.raises(LLMError) as info:
        llm.complete(ASK, Facts)
    assert 0 < messages.calls[0]["timeout"] <= 5
    assert key not in str(info.value) and "invalid x-api-key ***" in str(info.value)
    assert info.value.__cause__ is None  # the SDK error shows the key


def test_anthropic_max_tokens_stop_marks_truncation() -> None:
    llm, _ = make_anthropic(anthropic_reply({"facts": "x"}, stop="max_tokens"), anthropic_reply(GOOD))
    llm.complete(ASK, Facts)
    assert "cut off" in _.calls[1]["messages"][-1]["content"]


def test_anthropic_images_become_its_image_blocks() -> None:
    llm, messages = make_anthropic(anthropic_reply(GOOD))
    parts = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}},
    ]
    llm.complete([{"role": "user", "content": parts}], Facts)
    content = messages.calls[0]["messages"][0]["content"]
    assert content[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
    }
    assert content[2]["source"] == {"type": "url", "url": "https://example.invalid/cat.png"}


def test_missing_sdks_name_their_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)
    monkeypatch.setitem(sys.modules, "litellm", None)
    with pytest.raises(MissingDependencyError, match=r"memlane\[anthropic\]"):
        AnthropicLLM().complete(ASK, Facts)
    with pytest.raises(MissingDependencyError, match=r"memlane\[litellm\]"):
        LiteLLM().complete(ASK, Facts)


def litellm_response(content: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 13, "completion_tokens": 5},
    }


def test_litellm_uses_json_mode_with_the_schema_in_the_prompt() -> None:
    calls: list[dict[str, Any]] = []

    def completion(**params: Any) -> Any:
        calls.append(params)
        return litellm_response(json.dumps(GOOD))

    config = LiteLLMConfig.model_validate(
        {"model": "ollama/llama3", "api_base": "http://127.0.0.1:9", "api_key": "k"}
    )
    result = LiteLLM(config, completion=completion).complete(ASK, Facts)
    assert result.value.facts == GOOD["facts"] and result.usage.prompt_tokens == 13
    (params,) = calls
    assert params["response_format"] == {"type": "json_object"}
    assert params["model"] == "ollama/llama3" and params["api_base"] == "http://127.0.0.1:9"
    assert params["num_retries"] == 0 and params["api_key"] == "k"
    assert '"maxItems":5' in params["messages"][0]["content"]


def test_litellm_json_schema_mode_and_object_responses() -> None:
    calls: list[dict[str, Any]] = []

    def completion(**params: Any) -> Any:
        calls.append(params)
        message = SimpleNamespace(content=json.dumps(GOOD))
        usage = SimpleNamespace(prompt_tokens=3, completion_tokens=2)
        return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")], usage=usage)

    result = LiteLLM(LiteLLMConfig(structured_output="json_schema"), completion=completion).complete(
        ASK, Facts
    )
    assert result.value.facts == GOOD["facts"]
    assert calls[0]["response_format"]["json_schema"]["schema"]["properties"]["facts"]["maxItems"] == 5
    assert calls[0]["messages"] == ASK


def test_litellm_retries_transient_errors() -> None:
    class RateLimitError(Exception):
        pass

    replies: list[Any] = [RateLimitError("busy"), litellm_response(json.dumps(GOOD))]

    def completion(**params: Any) -> Any:
        reply = replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    assert LiteLLM(LiteLLMConfig(backoff=0), completion=completion).complete(ASK, Facts).value.facts
    assert not replies


def test_litellm_requests_get_the_deadline() -> None:
    calls: list[dict[str, Any]] = []

    def completion(**params: Any) -> Any:
        calls.append(params)
        return litellm_response(json.dumps(GOOD))

    LiteLLM(LiteLLMConfig(timeout=30, deadline=4), completion=completion).complete(ASK, Facts)
    assert 0 < calls[0]["timeout"] <= 4
    LiteLLM(LiteLLMConfig(timeout=2, deadline=None), completion=completion).complete(ASK, Facts)
    assert calls[1]["timeout"] == 2


def test_translate_error_by_status_and_name() -> None:
    assert isinstance(translate_error(StatusError(503), "x"), TransientLLMError)
    assert isinstance(translate_error(ConnectionError("reset"), "x"), TransientLLMError)
    assert not isinstance(translate_error(StatusError(401), "x"), TransientLLMError)
    assert not isinstance(translate_error(KeyError("k"), "x"), TransientLLMError)
    error = translate_error(StatusError(429), "provider")
    assert isinstance(error, TransientLLMError) and error.retry_after == 0.0
    assert str(error) == "provider: StatusError: status 429"
    assert not isinstance(
        translate_error(StatusError(500, "response_format invalid"), "x"), TransientLLMError
    )
    assert isinstance(translate_error(StatusError(500, "crashed"), "x"), TransientLLMError)
    assert not isinstance(translate_error(StatusError(501), "x"), TransientLLMError)
    assert str(translate_error(StatusError(401, "key sk-abcdef"), "x", ["sk-abcdef"])) == (
        "x: StatusError: status 401: key ***"
    )


def test_anthropic_through_the_real_sdk_and_a_local_server(server: ScriptedServer) -> None:
    pytest.importorskip("anthropic", reason="the anthropic extra is not installed")
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "Facts", "input": GOOD}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 30, "output_tokens": 12},
    }
    server.add(Reply(529, {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}))
    server.add(Reply(body=message))
    config = AnthropicLLMConfig.model_validate(
        {
            "api_key": "sk-ant",
            "base_url": server.url.removesuffix("/v1"),
            "backoff": 0,
            "top_k": 5,
            "model": "claude-haiku-4-5",
        }
    )
    llm = AnthropicLLM(config)
    result = llm.complete(ASK, Facts)
    llm.close()
    assert result.value.facts == GOOD["facts"]
    assert (result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens) == (1, 30, 12)
    assert [r.path for r in server.requests] == ["/v1/messages"] * 2
    sent = server.requests[-1]
    assert "sk-ant" in str(sent.headers), sent.headers
    assert sent.body["tool_choice"] == {"type": "tool", "name": "Facts"}
    assert sent.body["top_k"] == 5 and "temperature" not in sent.body
