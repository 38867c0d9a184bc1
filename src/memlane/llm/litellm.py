"""Any model LiteLLM reaches (extra ``litellm``), through ``litellm.completion``, imported on first use.

JSON mode by default (``response_format`` ``json_object`` with the schema in the system
prompt), which LiteLLM maps onto each provider; ``json_schema`` passes the schema itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, SecretStr

from memlane.llm.base import VisionSettings
from memlane.llm.retry import RetrySettings
from memlane.llm.schema import schema_instruction
from memlane.llm.sdk import import_sdk, translate_error
from memlane.llm.structured import (
    ChatReply,
    ChatRequest,
    StructuredLLM,
    add_system_text,
    reported_usage,
)
from memlane.redact import secrets_of_url

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["LiteLLM", "LiteLLMConfig", "register"]


class LiteLLMConfig(RetrySettings, VisionSettings):
    """Config of the ``litellm`` provider (mem0's field names)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = "gpt-4.1-nano"
    api_key: SecretStr | None = None
    base_url: str | None = Field(default=None, validation_alias=AliasChoices("base_url", "api_base"))
    temperature: float = Field(default=0.1, ge=0, le=2)
    max_tokens: int = Field(default=2000, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    structured_output: Literal["json_object", "json_schema"] = "json_object"


class LiteLLM(StructuredLLM):
    """``LLM`` over ``litellm.completion``; ``completion`` may be given instead (tests, wrappers)."""

    def __init__(
        self, config: LiteLLMConfig | None = None, *, completion: Callable[..., Any] | None = None
    ) -> None:
        self.config = config = config or LiteLLMConfig()
        super().__init__(retry=config.retry_policy(), secrets=_secrets(config))
        self._completion = completion

    @property
    def label(self) -> str:
        return f"litellm LLM {self.config.model!r}"

    def raw_chat(self, request: ChatRequest) -> ChatReply:
        if self._completion is None:
            self._completion = import_sdk("litellm", "litellm", "litellm").completion
        try:
            response = self._completion(**self._params(request))
        except Exception as exc:
            raise translate_error(exc, self.label, self._secrets) from exc
        choice = _get(_get(response, "choices") or [{}], 0)
        content = _get(_get(choice, "message"), "content")
        text = content if isinstance(content, str) else ""
        reported = _get(response, "usage")
        prompt, completion = _get(reported, "prompt_tokens"), _get(reported, "completion_tokens")
        usage = reported_usage(prompt, completion, request, text)
        return ChatReply(text=text, usage=usage, truncated=_get(choice, "finish_reason") == "length")

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        cfg = self.config
        schema = request.schema
        messages = list(request.messages)
        if cfg.structured_output == "json_schema":
            spec = {"name": schema.name, "schema": schema.schema, "strict": False}
            response_format: dict[str, Any] = {"type": "json_schema", "json_schema": spec}
        else:
            messages = add_system_text(messages, schema_instruction(schema))
            response_format = {"type": "json_object"}
        params: dict[str, Any] = {
            "model": cfg.model,
            "messages": messages,
            "max_tokens": request.max_tokens or cfg.max_tokens,
            "temperature": cfg.temperature,
            "response_format": response_format,
            "timeout": request.timeout_within(cfg.timeout),
            "num_retries": 0,
        }
        if cfg.top_p is not None:
            params["top_p"] = cfg.top_p
        if cfg.api_key is not None:
            params["api_key"] = cfg.api_key.get_secret_value()
        if cfg.base_url:
            params["api_base"] = cfg.base_url
        return params


def _get(obj: Any, key: str | int) -> Any:
    """``obj[key]`` or ``obj.key`` (LiteLLM's responses are both), None when absent."""
    if obj is None:
        return None
    if isinstance(key, int):
        return obj[key] if isinstance(obj, list | tuple) and len(obj) > key else None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _secrets(config: LiteLLMConfig) -> list[str]:
    key = config.api_key.get_secret_value() if config.api_key else ""
    return [key, *secrets_of_url(config.base_url)]


def register(registry: Registry) -> None:
    registry.register("llm", "litellm", LiteLLMConfig, lambda config, _: LiteLLM(config))
