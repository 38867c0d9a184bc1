"""Which failures are retried, the call's deadline, hints and secrets in errors (scripted server)."""

from __future__ import annotations

import socket
import time
import traceback
from typing import Any

import pytest
from pydantic import ValidationError

from memlane.errors import LLMError
from memlane.llm.anthropic import AnthropicLLMConfig
from memlane.llm.litellm import LiteLLMConfig
from memlane.llm.openai import OpenAILLM, OpenAILLMConfig
from memlane.llm.retry import retryable_status
from memlane.redact import redact_secrets, redact_url
from memlane.registry import Registry

from .bad_outputs import Facts
from .scripted_server import ASK, GOOD, LLAMA_CPP_REJECTION, Reply, ScriptedServer, completion

KEY = "sk-live-0123456789abcdef"


def make(server: ScriptedServer, **config: Any) -> OpenAILLM:
    settings: dict[str, Any] = {"base_url": server.url, "api_key": KEY, "backoff": 0.01, **config}
    return OpenAILLM(OpenAILLMConfig.model_validate(settings))


@pytest.mark.parametrize(
    ("reply", "requests"),
    [
        (Reply(429, {"error": "slow down"}), 4),
        (Reply(408, {"error": "request timeout"}), 4),
        (Reply(500, "upstream crashed"), 4),
        (Reply(502, "bad gateway"), 4),
        (Reply(503, {"error": "overloaded"}), 4),
        (Reply(504, "gateway timeout"), 4),
        (Reply(400, {"error": {"message": "messages: field required"}}), 1),
        (Reply(401, {"error": "bad key"}), 1),
        (Reply(403, {"error": "forbidden"}), 1),
        (Reply(404, {"error": "model not found"}), 1),
        (Reply(422, {"detail": "unprocessable"}), 1),
        (Reply(501, "not implemented"), 1),
        (Reply(500, {"error": "Invalid request: unknown field 'top_k'"}), 1),
        (LLAMA_CPP_REJECTION, 1),
    ],
)
def test_only_what_can_succeed_on_retry_is_retried(
    server: ScriptedServer, reply: Reply, requests: int
) -> None:
    server.add(*[reply] * 4)
    with pytest.raises(LLMError, match=f"HTTP {reply.status}"):
        make(server, structured_output="tools", max_retries=3).complete(ASK, Facts)
    assert len(server.requests) == requests


def test_an_explicit_json_schema_refused_with_500_fails_at_once_with_a_hint(server: ScriptedServer) -> None:
    server.add(LLAMA_CPP_REJECTION, LLAMA_CPP_REJECTION)
    with pytest.raises(LLMError, match=r"HTTP 500.*set structured_output to 'auto'") as info:
        make(server, structured_output="json_schema").complete(ASK, Facts)
    assert "attempts" not in str(info.value)
    assert len(server.requests) == 1


def test_auto_moves_to_the_next_mode_instead_of_retrying(server: ScriptedServer) -> None:
    server.add(LLAMA_CPP_REJECTION, Reply(body=completion(GOOD)))
    llm = make(server)
    assert llm.complete(ASK, Facts).value.facts == ["Lives in Bangalore"]
    assert [r.body["response_format"]["type"] for r in server.requests] == ["json_schema", "json_object"]


def test_a_hung_endpoint_fails_within_the_deadline(server: ScriptedServer) -> None:
    server.add(*[Reply(body=completion(GOOD), delay=5.0)] * 5)
    llm = make(server, structured_output="tools", timeout=10, deadline=0.6, max_retries=3)
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"deadline of 0\.6s") as info:
        llm.complete(ASK, Facts)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    assert "`deadline` in the LLM config" in str(info.value)


def test_each_attempt_gets_the_timeout_and_retries_stop_at_the_deadline(server: ScriptedServer) -> None:
    server.add(*[Reply(body=completion(GOOD), delay=3.0)] * 10)
    llm = make(server, structured_output="tools", timeout=0.2, deadline=0.7, max_retries=10, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(LLMError, match="deadline"):
        llm.complete(ASK, Facts)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    assert 2 <= len(server.requests) <= 4


def test_a_slow_first_answer_leaves_the_repair_request_only_the_rest(server: ScriptedServer) -> None:
    server.add(Reply(body=completion("not json"), delay=0.4), Reply(body=completion(GOOD), delay=3.0))
    llm = make(server, structured_output="tools", timeout=10, deadline=0.8)
    started = time.monotonic()
    with pytest.raises(LLMError, match="deadline"):
        llm.complete(ASK, Facts)
    assert time.monotonic() - started < 1.6


def test_defaults_bound_one_call() -> None:
    for config in (OpenAILLMConfig(), AnthropicLLMConfig(), LiteLLMConfig()):
        assert (config.timeout, config.max_retries, config.deadline) == (60.0, 3, 180.0)
    assert OpenAILLMConfig(deadline=None).retry_policy().deadline is None
    with pytest.raises(ValidationError):
        OpenAILLMConfig(deadline=0)


def test_a_base_url_without_v1_gets_a_hint(server: ScriptedServer) -> None:
    server.add(Reply(404, "Not Found"))
    root = server.url.removesuffix("/v1")
    with pytest.raises(LLMError, match=rf"did you mean {root}/v1\?"):
        make(server, base_url=root, structured_output="tools").complete(ASK, Facts)
    assert len(server.requests) == 1


def test_a_404_under_v1_gets_no_v1_hint(server: ScriptedServer) -> None:
    server.add(Reply(404, {"error": "model 'x' not found"}))
    with pytest.raises(LLMError) as info:
        make(server, structured_output="tools").complete(ASK, Facts)
    assert "did you mean" not in str(info.value)


def _everything_shown(error: BaseException) -> str:
    return str(error) + "".join(traceback.format_exception(error))


def test_errors_never_show_the_api_key(server: ScriptedServer) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}; header was 'Bearer {KEY}'"}}
    server.add(Reply(401, echo))
    with pytest.raises(LLMError) as info:
        make(server, structured_output="tools").complete(ASK, Facts)
    shown = _everything_shown(info.value)
    assert "HTTP 401" in shown and "Incorrect API key" in shown
    assert KEY not in shown and KEY[:12] not in shown
    server.add(*[Reply(503, {"error": f"overloaded; Authorization: Bearer {KEY}"})] * 2)
    with pytest.raises(LLMError) as info:
        make(server, structured_output="tools", max_retries=1).complete(ASK, Facts)
    shown = _everything_shown(info.value)
    assert "failed after 2 attempts" in shown and KEY not in shown


def test_url_credentials_never_show() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = OpenAILLMConfig(base_url=f"http://admin:hunter2secret@127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(LLMError, match="connection failed") as info:
        OpenAILLM(config).complete(ASK, Facts)
    shown = _everything_shown(info.value)
    assert "hunter2secret" not in shown and f"***@127.0.0.1:{port}/v1" in shown


def test_retry_helpers() -> None:
    assert retryable_status(500, "crash") and not retryable_status(500, "response_format is invalid")
    assert retryable_status(529) and not retryable_status(400) and not retryable_status(505)
    assert redact_secrets(f"key {KEY} and Bearer abcdefgh1", [KEY]) == "key *** and Bearer ***"
    assert redact_url("https://u:p@h:1/v1") == "https://u:***@h:1/v1"
    assert redact_url("http://h/v1") == "http://h/v1"


@pytest.mark.parametrize(("kind", "mode"), [("json_schema", "json_schema"), ("json_object", "json_object")])
def test_lmstudio_response_format_picks_the_mode(server: ScriptedServer, kind: str, mode: str) -> None:
    server.add(Reply(body=completion(GOOD)))
    fmt: dict[str, Any] = {"type": kind}
    if kind == "json_schema":  # mem0's documented example
        fmt["json_schema"] = {"type": "object", "schema": {}}
    config = {"lmstudio_base_url": server.url, "lmstudio_response_format": fmt, "model": "m"}
    llm = Registry(discover=False).create("llm", "lmstudio", config)
    assert isinstance(llm, OpenAILLM) and llm.mode == mode
    assert llm.complete(ASK, Facts).value.facts == ["Lives in Bangalore"]
    sent = server.requests[0].body["response_format"]
    assert sent["type"] == kind
    if kind == "json_schema":  # memlane sends the call's own schema, not the placeholder
        assert sent["json_schema"]["schema"]["properties"]["facts"]["maxItems"] == 5
    assert len(server.requests) == 1


def test_lmstudio_response_format_is_validated_and_an_explicit_mode_wins() -> None:
    with pytest.raises(ValidationError, match="lmstudio_response_format"):
        OpenAILLMConfig.model_validate({"lmstudio_response_format": {"type": "xml"}})
    config = OpenAILLMConfig.model_validate(
        {"lmstudio_response_format": {"type": "json_object"}, "structured_output": "tools"}
    )
    assert config.structured_output == "tools"


def test_redact_leaves_ordinary_words() -> None:
    assert redact_secrets("Bearer token required", []) == "Bearer token required"
    masked = redact_secrets("Authorization: Bearer abc.DEF-123_456", [])
    assert masked.startswith("Authorization: ") and "abc.DEF-123_456" not in masked
