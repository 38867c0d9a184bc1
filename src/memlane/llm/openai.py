"""Any OpenAI-compatible ``/chat/completions`` endpoint over httpx (no SDK).

OpenAI, Ollama, vLLM, LM Studio, llama.cpp, Groq, Together, DeepSeek and OpenRouter differ
only in their defaults (``PRESETS``) and in which structured-output form they accept, which
``structured_output`` chooses or, with ``"auto"``, probes once per instance:

- ``json_schema``: OpenAI's ``response_format`` ``{"type": "json_schema", ...}`` (strict when
  the schema allows it);
- ``json_object_schema``: ``{"type": "json_object", "schema": {...}}``, which llama.cpp's
  server turns into a grammar;
- ``tools``: a forced function call whose parameters are the schema;
- ``json_object``: plain JSON mode, the schema described in the system prompt.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import AliasChoices, ConfigDict, Field, SecretStr, field_validator, model_validator

from memlane.errors import LLMError
from memlane.llm.base import VisionSettings
from memlane.llm.presets import PRESETS, Preset
from memlane.llm.retry import RetrySettings, retryable_status
from memlane.llm.schema import ResponseSchema, schema_instruction
from memlane.llm.structured import (
    ChatReply,
    ChatRequest,
    StructuredLLM,
    TransientLLMError,
    add_system_text,
    reported_usage,
)
from memlane.models import ChatMessage
from memlane.redact import redact_url, secrets_of_url

if TYPE_CHECKING:
    from memlane.registry import Factory, Registry

__all__ = ["AUTO_ORDER", "Mode", "OpenAILLM", "OpenAILLMConfig", "StructuredMode", "register"]

Mode = Literal["json_schema", "json_object_schema", "tools", "json_object"]
StructuredMode = Literal["auto", "json_schema", "json_object_schema", "tools", "json_object"]
AUTO_ORDER: tuple[Mode, ...] = ("json_schema", "json_object_schema", "tools", "json_object")
_LMSTUDIO_MODES: dict[str, Mode] = {"json_schema": "json_schema", "json_object": "json_object"}
_NOT_FORMAT_WORDS = ("context length", "context_length", "maximum context", "model_not_found", "api key")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "tool", "function", "grammar")


class OpenAILLMConfig(RetrySettings, VisionSettings):
    """Config of the ``openai`` provider and its OpenAI-compatible aliases (mem0's names accepted)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str | None = Field(default=None, description="default: the provider's usual model")
    api_key: SecretStr | None = Field(default=None, description="default: the provider's key variable")
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "base_url",
            "openai_base_url",
            "ollama_base_url",
            "vllm_base_url",
            "lmstudio_base_url",
            "deepseek_base_url",
            "openrouter_base_url",
        ),
        description="default: the provider's base-url variable or its public endpoint",
    )
    temperature: float = Field(default=0.1, ge=0, le=2)
    max_tokens: int = Field(default=2000, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(
        default=None, ge=1, description="sent only when set, and never to hosts that refuse it (OpenAI)"
    )
    seed: int | None = None
    repeat_penalty: float | None = Field(default=None, gt=0, description="sent only when set (llama.cpp)")
    reasoning_effort: str | None = None
    is_reasoning_model: bool = Field(
        default=False, description="send max_completion_tokens and no temperature/top_p (o-series, gpt-5)"
    )
    structured_output: StructuredMode = "auto"
    schema_in_prompt: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: only in json_object mode, where nothing else shows the schema"
    )
    http_client_proxies: str | dict[str, str] | None = None
    extra_headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict, description="merged into every request")
    lmstudio_response_format: dict[str, Any] | None = Field(
        default=None,
        description="mem0's LM Studio field: its type (json_schema or json_object) picks structured_output "
        "when that is auto; memlane sends each call's own schema",
    )

    @field_validator("lmstudio_response_format")
    @classmethod
    def _known_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") not in _LMSTUDIO_MODES:
            raise ValueError(
                f"lmstudio_response_format type {value.get('type')!r} is not supported: use "
                '{"type": "json_schema"} or {"type": "json_object"}, or leave it out'
            )
        return value

    @model_validator(mode="after")
    def _lmstudio_mode(self) -> OpenAILLMConfig:
        if self.lmstudio_response_format is not None and self.structured_output == "auto":
            self.structured_output = _LMSTUDIO_MODES[self.lmstudio_response_format["type"]]
        return self


class _Rejected(Exception):
    """The endpoint refused the structured-output form of the request."""


class OpenAILLM(StructuredLLM):
    """``LLM`` over an OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        config: OpenAILLMConfig | None = None,
        *,
        preset: Preset = PRESETS["openai"],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config = config or OpenAILLMConfig()
        self.model = config.model or preset.model
        self.base_url = preset.resolve_base_url(config.base_url)
        key = config.api_key.get_secret_value() if config.api_key else preset.env_key()
        super().__init__(retry=config.retry_policy(), secrets=[key or "", *secrets_of_url(self.base_url)])
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={**headers, **config.extra_headers},
            timeout=config.timeout,
            transport=transport,
            mounts=_proxy_mounts(config.http_client_proxies),
        )
        self._preset = preset
        self._finalizer = weakref.finalize(self, self._client.close)  # no leaked sockets
        self._mode: Mode | None = None if config.structured_output == "auto" else config.structured_output

    @property
    def label(self) -> str:
        return f"{self._preset.name} LLM {self.model!r} at {redact_url(self.base_url)}"

    @property
    def mode(self) -> Mode | None:
        """The structured-output mode in use (None while ``auto`` has not probed yet)."""
        return self._mode

    def close(self) -> None:
        """Close the HTTP connections (also done when the instance is garbage-collected)."""
        self._finalizer()

    def __enter__(self) -> OpenAILLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def raw_chat(self, request: ChatRequest) -> ChatReply:
        probing = self._mode is None
        rejections: list[str] = []
        for mode in AUTO_ORDER if self._mode is None else (self._mode,):
            try:
                data = self._post(self._body(request, mode), request, probing=probing)
            except _Rejected as exc:
                rejections.append(f"{mode}: {exc}")
                continue
            if probing:
                self._mode = mode
            return self._reply(data, mode, request)
        raise LLMError(
            f"{self.label}: the endpoint rejected every structured-output mode "
            f"({'; '.join(rejections)}); set structured_output in the LLM config"
        )

    def _body(self, request: ChatRequest, mode: Mode) -> dict[str, Any]:
        cfg = self.config
        body: dict[str, Any] = {"model": self.model, "messages": self._messages(request, mode)}
        tokens = request.max_tokens or cfg.max_tokens
        if cfg.is_reasoning_model:
            body["max_completion_tokens"] = tokens
        else:
            body["max_tokens"] = tokens
            body["temperature"] = cfg.temperature
            if cfg.top_p is not None:
                body["top_p"] = cfg.top_p
        optional = {
            "top_k": cfg.top_k if self._preset.top_k else None,
            "seed": cfg.seed,
            "repeat_penalty": cfg.repeat_penalty,
            "reasoning_effort": cfg.reasoning_effort,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(_format_params(mode, request.schema))
        body.update(cfg.extra_body)
        return body

    def _messages(self, request: ChatRequest, mode: Mode) -> list[ChatMessage]:
        messages = [_with_detail(m, self.config.vision_details) for m in request.messages]
        wanted = self.config.schema_in_prompt
        if wanted == "always" or (wanted == "auto" and mode == "json_object"):
            messages = add_system_text(messages, schema_instruction(request.schema))
        return messages

    def _post(self, body: dict[str, Any], request: ChatRequest, *, probing: bool) -> Any:
        timeout = request.timeout_within(self.config.timeout)
        try:
            response = self._client.post("/chat/completions", json=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise TransientLLMError(f"no answer within {timeout:.3g}s: {exc}") from exc
        except httpx.TransportError as exc:
            raise TransientLLMError(f"connection failed: {self._redact(str(exc))}") from exc
        status = response.status_code
        if status < 400:
            try:
                return response.json()
            except ValueError as exc:
                shown = self._redact(response.text[:200])
                raise LLMError(f"{self.label}: the reply is not JSON: {shown!r}") from exc
        text = self._redact(response.text[:400])
        if probing and _rejects_format(status, text):
            raise _Rejected(f"HTTP {status}: {text[:200]}")
        if retryable_status(status, text):
            raise TransientLLMError(f"HTTP {status}: {text}", retry_after=_retry_after(response))
        raise LLMError(f"{self.label}: HTTP {status}: {text}{self._hint(status, text)}")

    def _hint(self, status: int, text: str) -> str:
        """What to change in the config for an error answer that no retry can fix."""
        path = urlsplit(self.base_url).path.rstrip("/")
        if status == 404 and not path.endswith("/v1"):
            return (
                f" (POST {redact_url(self.base_url)}/chat/completions was not found; did you mean "
                f"{redact_url(self.base_url)}/v1? OpenAI-compatible servers serve the API under /v1)"
            )
        mode = self.config.structured_output
        if mode != "auto" and _rejects_format(status, text) and _names_format(text):
            return (
                f" (the endpoint seems to refuse structured_output {mode!r}; set structured_output "
                "to 'auto' to find the form it accepts)"
            )
        return ""

    def _reply(self, data: Any, mode: Mode, request: ChatRequest) -> ChatReply:
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"{self.label}: unexpected reply: {str(data)[:300]}") from exc
        text = _message_output(message, mode)
        reported = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        usage = reported_usage(
            reported.get("prompt_tokens"), reported.get("completion_tokens"), request, text
        )
        return ChatReply(text=text, usage=usage, truncated=choice.get("finish_reason") == "length")


def _format_params(mode: Mode, schema: ResponseSchema) -> dict[str, Any]:
    if mode == "json_schema":
        body = schema.strict_schema() if schema.strict else schema.schema
        spec = {"name": schema.name, "schema": body, "strict": schema.strict}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}
    if mode == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema.schema}}
    if mode == "tools":
        function = {
            "name": schema.name,
            "description": f"Give the answer as {schema.name}.",
            "parameters": schema.schema,
        }
        return {
            "tools": [{"type": "function", "function": function}],
            "tool_choice": {"type": "function", "function": {"name": schema.name}},
        }
    return {"response_format": {"type": "json_object"}}


def _message_output(message: Any, mode: Mode) -> str:
    """The reply's JSON text: the forced tool call's arguments in tools mode, else the content."""
    if mode == "tools" and isinstance(message, dict):
        calls = message.get("tool_calls") or []
        function = calls[0].get("function", {}) if calls and isinstance(calls[0], dict) else None
        function = function or message.get("function_call")
        if isinstance(function, dict) and function.get("arguments") is not None:
            arguments = function["arguments"]
            return arguments if isinstance(arguments, str) else json.dumps(arguments)
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _rejects_format(status: int, text: str) -> bool:
    """Whether an error answer refuses the structured-output form rather than the request."""
    if status in (400, 422):
        lowered = text.lower()
        return not any(word in lowered for word in _NOT_FORMAT_WORDS)
    return status == 500 and _names_format(text)


def _names_format(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _FORMAT_WORDS)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def _with_detail(message: ChatMessage, detail: str) -> ChatMessage:
    content = message.get("content")
    if not isinstance(content, list):
        return dict(message)
    parts = []
    for part in content:
        image = part.get("image_url") if isinstance(part, dict) else None
        if isinstance(image, dict) and "detail" not in image:
            part = {**part, "image_url": {**image, "detail": detail}}
        parts.append(part)
    return {**message, "content": parts}


def _proxy_mounts(proxies: str | dict[str, str] | None) -> dict[str, httpx.BaseTransport] | None:
    if not proxies:
        return None
    if isinstance(proxies, str):
        proxies = {"all://": proxies}
    return {pattern: httpx.HTTPTransport(proxy=url) for pattern, url in proxies.items()}


def _factory(preset: Preset) -> Factory[OpenAILLMConfig, OpenAILLM]:
    """The factory of one preset: ``OpenAILLM(config, preset=preset)``."""
    return lambda config, _: OpenAILLM(config, preset=preset)


def register(registry: Registry) -> None:
    for preset in PRESETS.values():
        registry.register("llm", preset.name, OpenAILLMConfig, _factory(preset))
