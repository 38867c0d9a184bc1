from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from pydantic import ValidationError

from memlane.errors import LLMError
from memlane.llm.openai import OpenAILLM, OpenAILLMConfig
from memlane.llm.presets import PRESETS
from memlane.llm.schema import response_schema
from memlane.llm.structured import ChatRequest
from memlane.registry import Registry

from .bad_outputs import Facts
from .scripted_server import ASK, GOOD, LLAMA_CPP_REJECTION, Reply, ScriptedServer, completion


def make(server: ScriptedServer, **config: Any) -> OpenAILLM:
    settings: dict[str, Any] = {"base_url": server.url, "api_key": "sk-test", "backoff": 0.01, **config}
    return OpenAILLM(OpenAILLMConfig.model_validate(settings))


def body(server: ScriptedServer, index: int = -1) -> dict[str, Any]:
    recorded: dict[str, Any] = server.requests[index].body
    return recorded


def test_json_schema_mode_sends_the_bounded_schema(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    result = make(server, structured_output="json_schema", model="m1").complete(ASK, Facts, max_tokens=99)
    assert result.value.facts == ["Lives in Bangalore"]
    sent = body(server)
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"
    assert sent["model"] == "m1" and sent["max_tokens"] == 99 and sent["messages"] == ASK
    spec = sent["response_format"]["json_schema"]
    assert sent["response_format"]["type"] == "json_schema"
    assert spec["name"] == "Facts" and spec["strict"] is True
    facts = spec["schema"]["properties"]["facts"]
    assert facts["maxItems"] == 5 and facts["items"]["maxLength"] == 120
    assert spec["schema"]["additionalProperties"] is False


def test_json_object_schema_mode(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    make(server, structured_output="json_object_schema").complete(ASK, Facts)
    fmt = body(server)["response_format"]
    assert fmt["type"] == "json_object"
    assert fmt["schema"]["properties"]["facts"]["maxItems"] == 5
    assert body(server)["messages"] == ASK  # the grammar carries the schema; the prompt stays as it was


def test_tools_mode_forces_the_function_and_reads_its_arguments(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(None, tool_arguments=GOOD)))
    result = make(server, structured_output="tools").complete(ASK, Facts)
    assert result.value.facts == ["Lives in Bangalore"]
    sent = body(server)
    assert "response_format" not in sent
    (tool,) = sent["tools"]
    assert tool["function"]["name"] == "Facts"
    assert tool["function"]["parameters"]["properties"]["facts"]["maxItems"] == 5
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Facts"}}


def test_json_object_mode_puts_the_schema_in_the_system_prompt(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    make(server, structured_output="json_object").complete(ASK, Facts)
    sent = body(server)
    assert sent["response_format"] == {"type": "json_object"}
    system = sent["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Extract facts.")
    assert '"maxItems":5' in system["content"] and "JSON" in system["content"]
    assert sent["messages"][1:] == ASK[1:]


def test_auto_falls_back_after_a_rejection_and_remembers(server: ScriptedServer) -> None:
    server.add(LLAMA_CPP_REJECTION, Reply(body=completion(GOOD)), Reply(body=completion(GOOD)))
    llm = make(server)
    assert llm.mode is None
    first = llm.complete(ASK, Facts)
    assert first.value.facts == ["Lives in Bangalore"] and first.usage.calls == 1
    assert llm.mode == "json_object_schema"
    llm.complete(ASK, Facts)
    kinds = [r.body["response_format"]["type"] for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert "schema" in body(server)["response_format"]


def test_auto_walks_every_mode_then_explains(server: ScriptedServer) -> None:
    server.add(
        *[Reply(400, {"error": {"message": "unsupported response_format"}})] * 3, Reply(body=completion(GOOD))
    )
    llm = make(server)
    llm.complete(ASK, Facts)
    assert llm.mode == "json_object"
    server.add(*[Reply(422, {"detail": "no"})] * 4)
    with pytest.raises(LLMError, match="rejected every structured-output mode"):
        make(server).complete(ASK, Facts)


def test_auto_does_not_walk_the_modes_for_a_too_long_prompt(server: ScriptedServer) -> None:
    server.add(Reply(400, {"error": {"message": "This model's maximum context length is 8192 tokens"}}))
    with pytest.raises(LLMError, match="maximum context length"):
        make(server).complete(ASK, Facts)
    assert len(server.requests) == 1


def test_a_fixed_mode_does_not_fall_back(server: ScriptedServer) -> None:
    server.add(Reply(400, {"error": {"message": "response_format json_schema unsupported"}}))
    with pytest.raises(LLMError, match=r"HTTP 400: .*json_schema unsupported"):
        make(server, structured_output="json_schema").complete(ASK, Facts)
    assert len(server.requests) == 1


def test_rate_limit_then_success(server: ScriptedServer) -> None:
    server.add(
        Reply(429, {"error": "slow down"}, headers={"retry-after": "0"}),
        Reply(body=completion(GOOD, usage=(30, 9))),
    )
    result = make(server, structured_output="json_object_schema").complete(ASK, Facts)
    assert result.value.facts == ["Lives in Bangalore"]
    assert len(server.requests) == 2
    assert (result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens) == (1, 30, 9)


def test_server_errors_past_max_retries_raise(server: ScriptedServer) -> None:
    server.add(*[Reply(503, {"error": "overloaded"})] * 3)
    with pytest.raises(LLMError, match=r"failed after 3 attempts; last error: HTTP 503"):
        make(server, max_retries=2, structured_output="tools").complete(ASK, Facts)
    assert len(server.requests) == 3


def test_auto_retries_a_plain_500_instead_of_falling_back(server: ScriptedServer) -> None:
    server.add(Reply(500, "upstream crashed"), Reply(body=completion(GOOD)))
    llm = make(server)
    llm.complete(ASK, Facts)
    assert llm.mode == "json_schema"
    assert [r.body["response_format"]["type"] for r in server.requests] == ["json_schema"] * 2


def test_a_timeout_is_retried(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD), delay=1.0), Reply(body=completion(GOOD)))
    result = make(server, timeout=0.2, structured_output="json_object_schema").complete(ASK, Facts)
    assert result.value.facts == ["Lives in Bangalore"]
    assert len(server.requests) == 2


def test_a_closed_port_fails_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = OpenAILLMConfig(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff=0.01)
    with pytest.raises(LLMError, match="failed after 2 attempts; last error: connection failed"):
        OpenAILLM(config).complete(ASK, Facts)


def test_usage_is_estimated_when_the_server_reports_none(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD, usage=None)))
    usage = make(server, structured_output="json_object_schema").complete(ASK, Facts).usage
    assert usage.calls == 1 and usage.prompt_tokens > 5 and usage.completion_tokens == (len(GOOD) + 3) // 4


def test_cut_off_output_gets_a_repair_request(server: ScriptedServer) -> None:
    server.add(
        Reply(body=completion('{"facts": ["tea", "tea", "te', finish_reason="length", usage=(20, 50))),
        Reply(body=completion(GOOD, usage=(40, 10))),
    )
    result = make(server, structured_output="json_object_schema").complete(ASK, Facts)
    assert result.value.facts == ["Lives in Bangalore"]
    assert (result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens) == (2, 60, 60)
    repair = body(server)["messages"]
    assert repair[-2]["role"] == "assistant" and "cut off" in repair[-1]["content"]


def test_optional_parameters_are_sent_only_when_set(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)), Reply(body=completion(GOOD)))
    make(server, structured_output="tools").complete(ASK, Facts)
    plain = body(server)
    assert not {"seed", "repeat_penalty", "top_p", "top_k", "reasoning_effort"} & set(plain)
    assert plain["temperature"] == 0.1 and plain["max_tokens"] == 2000
    tuned = make(
        server, structured_output="tools", seed=0, repeat_penalty=1.3, top_p=0.5, temperature=0, max_tokens=10
    )
    tuned.complete(ASK, Facts)
    sent = body(server)
    assert (sent["seed"], sent["repeat_penalty"], sent["top_p"], sent["temperature"]) == (0, 1.3, 0.5, 0)
    assert sent["max_tokens"] == 10


def test_reasoning_models_get_max_completion_tokens(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    make(server, structured_output="tools", is_reasoning_model=True, reasoning_effort="low").complete(
        ASK, Facts
    )
    sent = body(server)
    assert sent["max_completion_tokens"] == 2000 and sent["reasoning_effort"] == "low"
    assert "max_tokens" not in sent and "temperature" not in sent


def test_extra_body_headers_and_env_key(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    server.add(Reply(body=completion(GOOD)))
    config = OpenAILLMConfig.model_validate(
        {
            "openai_base_url": server.url,
            "structured_output": "tools",
            "extra_body": {"min_p": 0.05},
            "extra_headers": {"X-Title": "memlane"},
        }
    )
    OpenAILLM(config).complete(ASK, Facts)
    assert server.requests[0].headers["authorization"] == "Bearer sk-env"
    assert server.requests[0].headers["x-title"] == "memlane"
    assert body(server)["min_p"] == 0.05


def test_image_parts_get_the_configured_detail(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    ask = [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, image]}]
    make(server, structured_output="tools", enable_vision=True, vision_details="low").complete(ask, Facts)
    assert body(server)["messages"][0]["content"][1]["image_url"]["detail"] == "low"


def test_a_reply_that_is_not_a_completion_is_an_llm_error(server: ScriptedServer) -> None:
    server.add(Reply(body={"object": "error"}), Reply(body="<html>proxy</html>"))
    with pytest.raises(LLMError, match="unexpected reply"):
        make(server, structured_output="tools").complete(ASK, Facts)
    with pytest.raises(LLMError, match="not JSON"):
        make(server, structured_output="tools").complete(ASK, Facts)


def _request() -> ChatRequest:
    return ChatRequest(list(ASK), Facts, response_schema(Facts))


def test_presets_are_registered_with_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(discover=False)
    names = set(registry.names("llm"))
    assert {"openai", "ollama", "vllm", "lmstudio", "llama_cpp", "groq", "together", "deepseek"} <= names
    assert {"openrouter", "anthropic", "litellm", "fake"} <= names
    ollama = registry.create("llm", "ollama", {"ollama_base_url": "http://127.0.0.1:11434"})
    assert isinstance(ollama, OpenAILLM) and ollama.base_url == "http://127.0.0.1:11434/v1"
    monkeypatch.setenv("GROQ_API_KEY", "gsk")
    groq = registry.create("llm", "groq", {})
    assert isinstance(groq, OpenAILLM)
    assert groq.base_url == PRESETS["groq"].base_url and groq.model == PRESETS["groq"].model
    assert groq._client.headers["authorization"] == "Bearer gsk"
    assert "top_k" not in groq._body(_request(), "tools")
    local = registry.create("llm", "llama_cpp", {"top_k": 1})
    assert isinstance(local, OpenAILLM)
    assert local._body(_request(), "tools")["top_k"] == 1
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    openai = registry.create("llm", "openai", {})
    assert isinstance(openai, OpenAILLM) and openai.base_url == "http://127.0.0.1:9/v1"


def test_config_accepts_mem0_names_and_rejects_unknown_fields() -> None:
    config = OpenAILLMConfig.model_validate(
        {"model": "m", "temperature": 0, "max_tokens": 5, "top_p": 0.1, "openai_base_url": "http://x/v1"}
    )
    assert config.base_url == "http://x/v1"
    with pytest.raises(ValidationError):
        OpenAILLMConfig.model_validate({"modle": "typo"})
    with pytest.raises(ValidationError):
        OpenAILLMConfig.model_validate({"structured_output": "xml"})


def test_the_request_body_is_plain_json(server: ScriptedServer) -> None:
    server.add(Reply(body=completion(GOOD)))
    make(server, structured_output="json_schema").complete(ASK, Facts)
    assert json.loads(json.dumps(body(server))) == body(server)
