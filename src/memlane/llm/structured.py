"""``StructuredLLM``: ``LLM.complete`` implemented once for every provider.

A provider implements only ``raw_chat`` (one request, the reply's text and usage). This base
retries transient failures (rate limits, 5xx, timeouts) with exponential backoff, parses the
reply with ``parse_output``, and on a parse or validation failure makes ONE repair request
that shows the model its output and the error. Usage adds up over every attempt.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel

from memlane.errors import LLMError, MemlaneError
from memlane.llm.base import ChatMessage, LLMResult, Usage
from memlane.llm.parse import OutputParseError, TruncatedOutputError, parse_output
from memlane.llm.schema import ResponseSchema, response_schema

__all__ = [
    "ChatReply",
    "ChatRequest",
    "RetryPolicy",
    "StructuredLLM",
    "TransientLLMError",
    "add_system_text",
    "approx_tokens",
    "message_text",
    "repair_messages",
    "reported_usage",
]

T = TypeVar("T", bound=BaseModel)
logger = logging.getLogger("memlane.llm")

_REPAIR_SHOWN_CHARS = 2000


class TransientLLMError(LLMError):
    """A failure worth retrying: a rate limit, a server error, a timeout or a dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One request to the model: messages, the expected shape and the output budget."""

    messages: list[ChatMessage]
    response_model: type[BaseModel]
    schema: ResponseSchema
    max_tokens: int | None = None
    repair: bool = False
    """True for the repair request that follows unusable output."""


@dataclass(slots=True)
class ChatReply:
    """The model's text (JSON expected), what the request cost, and whether it hit max_tokens."""

    text: str
    usage: Usage = field(default_factory=lambda: Usage(calls=1))
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for transient failures: ``backoff * 2**attempt`` seconds, capped."""

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (a server's Retry-After wins, capped)."""
        wait = min(self.max_backoff, self.backoff * 2.0**attempt)
        if retry_after is not None:
            wait = max(wait, min(retry_after, 4 * self.max_backoff))
        return wait


class StructuredLLM(ABC):
    """The shared implementation of ``LLM``; subclasses implement ``raw_chat``."""

    def __init__(
        self, *, retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    @property
    def label(self) -> str:
        """How error messages name this provider."""
        return type(self).__name__

    @abstractmethod
    def raw_chat(self, request: ChatRequest) -> ChatReply:
        """Send one request. Raise ``TransientLLMError`` for what a retry may fix, ``LLMError`` else."""

    def complete(
        self,
        messages: Sequence[ChatMessage],
        response_model: type[T],
        *,
        max_tokens: int | None = None,
    ) -> LLMResult[T]:
        """Ask the model; return its answer validated against ``response_model``.

        Raises ``LLMError`` when the call fails after retries, or when the output still does
        not validate after one repair attempt that shows the model its validation error.
        """
        usage = Usage()
        schema = response_schema(response_model)
        request = ChatRequest(list(messages), response_model, schema, max_tokens)
        reply = self._send(request, usage)
        try:
            return LLMResult(parse_output(reply.text, response_model), reply.text, usage)
        except OutputParseError as exc:
            first = _with_truncation(exc, reply)
        logger.info("%s: unusable output (%s); asking once for corrected JSON", self.label, first.reason)
        repair = replace(request, messages=repair_messages(request.messages, reply.text, first), repair=True)
        second = self._send(repair, usage)
        try:
            value = parse_output(second.text, response_model)
        except OutputParseError as exc:
            final = _with_truncation(exc, second).with_prefix(
                f"{self.label}: the output for {response_model.__name__} was unusable twice "
                f"(first: {first.reason}; after one repair request) - "
            )
            final.usage = usage
            raise final from exc
        return LLMResult(value, second.text, usage)

    def _send(self, request: ChatRequest, usage: Usage) -> ChatReply:
        """``raw_chat`` with retries on transient failures; other errors become ``LLMError``."""
        attempts = self.retry.max_retries + 1
        for attempt in range(attempts):
            try:
                reply = self.raw_chat(request)
            except TransientLLMError as exc:
                if attempt + 1 >= attempts:
                    raise LLMError(
                        f"{self.label}: failed after {attempts} attempts; last error: {exc}"
                    ) from exc
                delay = self.retry.delay(attempt, exc.retry_after)
                logger.info("%s: %s; retrying in %.2fs", self.label, exc, delay)
                self._sleep(delay)
                continue
            except MemlaneError:
                raise
            except Exception as exc:
                raise LLMError(f"{self.label}: {type(exc).__name__}: {exc}") from exc
            usage.add(reply.usage)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover


def _with_truncation(error: OutputParseError, reply: ChatReply) -> OutputParseError:
    if not reply.truncated or isinstance(error, TruncatedOutputError):
        return error
    return TruncatedOutputError("truncated", f"the reply hit max_tokens; {error.detail}", error.raw)


def repair_messages(
    messages: Sequence[ChatMessage], bad_output: str, error: OutputParseError
) -> list[ChatMessage]:
    """``messages`` plus the model's unusable reply and a request for corrected JSON only."""
    shown = bad_output.strip() or "(empty reply)"
    if len(shown) > _REPAIR_SHOWN_CHARS:
        shown = shown[:_REPAIR_SHOWN_CHARS] + " …"
    if isinstance(error, TruncatedOutputError):
        ask = (
            "Your reply was cut off before the JSON was complete. Reply again with the complete "
            "JSON only, and shorter: fewer and shorter items, no repeated items."
        )
    else:
        ask = (
            f"Your reply could not be used: {error.summary}. Reply again with only the corrected "
            "JSON: no prose, no code fences, exactly the keys and types the schema asks for."
        )
    return [*messages, {"role": "assistant", "content": shown}, {"role": "user", "content": ask}]


def message_text(messages: Sequence[ChatMessage]) -> str:
    """The text of ``messages`` (text parts of list contents included), one message a line."""
    lines: list[str] = []
    for message in messages:
        content: Any = message.get("content")
        if isinstance(content, str):
            lines.append(content)
        elif isinstance(content, list):
            lines.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        elif content is not None:
            lines.append(json.dumps(content, ensure_ascii=False, default=str))
    return "\n".join(lines)


def add_system_text(messages: list[ChatMessage], text: str) -> list[ChatMessage]:
    """``messages`` with ``text`` appended to the first system message (one is added if none)."""
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        content = first.get("content")
        if isinstance(content, list):
            merged: Any = [*content, {"type": "text", "text": text}]
        else:
            merged = f"{content or ''}\n\n{text}".strip()
        return [{**first, "content": merged}, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def reported_usage(prompt_tokens: Any, completion_tokens: Any, request: ChatRequest, text: str) -> Usage:
    """One call's usage as the provider reported it, estimated where it reported none."""
    return Usage(
        calls=1,
        prompt_tokens=prompt_tokens
        if isinstance(prompt_tokens, int)
        else approx_tokens(message_text(request.messages)),
        completion_tokens=completion_tokens if isinstance(completion_tokens, int) else approx_tokens(text),
    )


def approx_tokens(text: str) -> int:
    """A rough token count (characters / 4) for providers that report no usage."""
    return (len(text) + 3) // 4
