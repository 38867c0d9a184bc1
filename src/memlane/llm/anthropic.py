"""Anthropic's Messages API through the official SDK (extra ``anthropic``), imported on first use.

Structured output is a forced tool call whose ``input_schema`` is the response schema; the
tool input goes through the same parser as every other provider's output.
"""

from __future__ import annotations

import json
import os
import weakref
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, ConfigDict, Field, SecretStr

from memlane.llm.base import VisionSettings
from memlane.llm.retry import RetrySettings
from memlane.llm.sdk import import_sdk, translate_error
from memlane.llm.structured import (
    ChatReply,
    ChatRequest,
    StructuredLLM,
    message_text,
    reported_usage,
)
from memlane.models import ChatMessage
from memlane.redact import secrets_of_url

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["AnthropicLLM", "AnthropicLLMConfig", "register"]


class AnthropicLLMConfig(RetrySettings, VisionSettings):
    """Config of the ``anthropic`` provider (mem0's field names)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = "claude-haiku-4-5"
    api_key: SecretStr | None = Field(default=None, description="default: $ANTHROPIC_API_KEY")
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("base_url", "anthropic_base_url")
    )
    temperature: float | None = Field(
        default=None, ge=0, le=1, description="sent only when set; recent models choose their own"
    )
    max_tokens: int = Field(default=2000, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=1)


class AnthropicLLM(StructuredLLM):
    """``LLM`` over Anthropic's Messages API. ``client`` may be any object with ``messages.create``."""

    def __init__(self, config: AnthropicLLMConfig | None = None, *, client: Any = None) -> None:
        self.config = config = config or AnthropicLLMConfig()
        super().__init__(retry=config.retry_policy(), secrets=_secrets(config))
        self._client = client
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def label(self) -> str:
        return f"anthropic LLM {self.config.model!r}"

    def _sdk_client(self) -> Any:
        if self._client is None:
            sdk = import_sdk("anthropic", "anthropic", "anthropic")
            cfg = self.config
            self._client = sdk.Anthropic(
                api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
                base_url=cfg.base_url,
                timeout=cfg.timeout,
                max_retries=0,  # retries are ours, with the other providers' policy
            )
            self._finalizer = weakref.finalize(self, self._client.close)  # no leaked sockets
        return self._client

    def close(self) -> None:
        """Close the SDK client this instance created (also done when it is garbage-collected)."""
        if self._finalizer is not None:
            self._finalizer()

    def raw_chat(self, request: ChatRequest) -> ChatReply:
        client = self._sdk_client()
        params = self._params(request)
        try:
            response = client.messages.create(**params, timeout=request.timeout_within(self.config.timeout))
        except Exception as exc:
            raise translate_error(exc, self.label, self._secrets) from exc
        text = _output(getattr(response, "content", None) or [], request.schema.name)
        reported = getattr(response, "usage", None)
        prompt = getattr(reported, "input_tokens", None)
        completion = getattr(reported, "output_tokens", None)
        usage = reported_usage(prompt, completion, request, text)
        return ChatReply(
            text=text, usage=usage, truncated=getattr(response, "stop_reason", None) == "max_tokens"
        )

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        cfg = self.config
        system, messages = _split_system(request.messages)
        schema = request.schema
        params: dict[str, Any] = {
            "model": cfg.model,
            "max_tokens": request.max_tokens or cfg.max_tokens,
            "messages": messages,
            "tools": [
                {
                    "name": schema.name,
                    "description": f"Give the answer as {schema.name}.",
                    "input_schema": schema.schema,
                }
            ],
            "tool_choice": {"type": "tool", "name": schema.name},
        }
        if system:
            params["system"] = system
        sampling = {"temperature": cfg.temperature, "top_p": cfg.top_p, "top_k": cfg.top_k}
        if any(v is not None for v in sampling.values()):  # the 2.x SDK has no keywords for them
            params["extra_body"] = {k: v for k, v in sampling.items() if v is not None}
        return params


def _split_system(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """Anthropic takes the system prompt apart from the turns, whose contents use its part types."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "system":
            system.append(message_text([message]))
        else:
            turns.append({"role": message.get("role", "user"), "content": _content(message.get("content"))})
    return "\n\n".join(s for s in system if s), turns


def _content(content: Any) -> Any:
    if not isinstance(content, list):
        return content if isinstance(content, str) else json.dumps(content, default=str)
    parts: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url", "") if isinstance(image, dict) else str(image or "")
            parts.append({"type": "image", "source": _image_source(url)})
        elif part.get("type") == "text":
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        else:
            parts.append(part)
    return parts


def _image_source(url: str) -> dict[str, str]:
    if url.startswith("data:") and ";base64," in url:
        header, data = url.split(";base64,", 1)
        return {"type": "base64", "media_type": header.removeprefix("data:"), "data": data}
    return {"type": "url", "url": url}


def _output(blocks: list[Any], tool_name: str) -> str:
    """The forced tool call's input as JSON text; the text blocks when the model wrote prose instead."""
    texts: list[str] = []
    for block in blocks:
        kind = _field(block, "type")
        if kind == "tool_use" and _field(block, "name") in (tool_name, None):
            return json.dumps(_field(block, "input"), ensure_ascii=False)
        if kind == "text":
            texts.append(str(_field(block, "text") or ""))
    return "\n".join(texts)


def _field(block: Any, name: str) -> Any:
    return block.get(name) if isinstance(block, dict) else getattr(block, name, None)


def _secrets(config: AnthropicLLMConfig) -> list[str]:
    key = config.api_key.get_secret_value() if config.api_key else os.environ.get("ANTHROPIC_API_KEY", "")
    return [key, *secrets_of_url(config.base_url)]


def register(registry: Registry) -> None:
    registry.register("llm", "anthropic", AnthropicLLMConfig, lambda config, _: AnthropicLLM(config))
