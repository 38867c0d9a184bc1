"""``StructuredLLM``: ``LLM.complete`` implemented once for every provider.

A provider implements only ``raw_chat`` (one request, the reply's text and usage). This base
retries transient failures (``memlane.llm.retry``: what may succeed when sent again) with
exponential backoff within the call's deadline, parses the reply with ``parse_output``, and on
a parse or validation failure makes ONE repair request that shows the model its output and
the error. Usage adds up over every attempt. No error it raises shows the provider's secrets.
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
from memlane.llm.base import LLMResult
from memlane.llm.parse import OutputParseError, TruncatedOutputError, parse_output
from memlane.llm.retry import RetryPolicy
from memlane.llm.schema import ResponseSchema, response_schema
from memlane.models import ChatMessage, Usage
from memlane.redact import redact_secrets

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
    timeout: float | None = None
    """Seconds left of the call's deadline: the provider waits no longer (None: its own timeout)."""

    def timeout_within(self, configured: float) -> float:
        """The provider's ``configured`` request timeout, shortened to the call's deadline."""
        return configured if self.timeout is None else max(0.001, min(configured, self.timeout))


@dataclass(slots=True)
class ChatReply:
    """The model's text (JSON expected), what the request cost, and whether it hit max_tokens."""

    text: str
    usage: Usage = field(default_factory=lambda: Usage(calls=1))
    truncated: bool = False


class StructuredLLM(ABC):
    """The shared implementation of ``LLM``; subclasses implement ``raw_chat``."""

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        secrets: Sequence[str] = (),
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._secrets = tuple(s for s in secrets if s)
        """Values (API keys, URL passwords) that never appear in an error this instance raises."""

    @property
    def label(self) -> str:
        """How error messages name this provider."""
        return type(self).__name__

    def close(self) -> None:  # noqa: B027 (an optional override, not abstract)
        """Release the provider's connections; nothing to do unless a provider holds a client."""

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
        deadline = None if self.retry.deadline is None else time.monotonic() + self.retry.deadline
        reply = self._send(request, usage, deadline)
        try:
            return LLMResult(parse_output(reply.text, response_model), reply.text, usage)
        except OutputParseError as exc:
            first = _with_truncation(exc, reply)
        logger.info("%s: unusable output (%s); asking once for corrected JSON", self.label, first.reason)
        repair = replace(request, messages=repair_messages(request.messages, reply.text, first), repair=True)
        second = self._send(repair, usage, deadline)
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

    def _send(self, request: ChatRequest, usage: Usage, deadline: float | None = None) -> ChatReply:
        """``raw_chat`` with retries on transient failures, within ``deadline`` (a monotonic time).

        Other errors become ``LLMError``; no error raised here carries a secret of this instance.
        """
        attempts = self.retry.max_retries + 1
        for attempt in range(attempts):
            try:
                reply = self.raw_chat(replace(request, timeout=self._time_left(deadline)))
            except TransientLLMError as exc:
                delay = self.retry.delay(attempt, exc.retry_after)
                if attempt + 1 >= attempts:
                    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                    message = f"failed after {tries}; last error: {exc}"
                    raise self._error(message) from self._cause(exc)
                if deadline is not None and time.monotonic() + delay >= deadline:
                    message = (
                        f"gave up after {attempt + 1} attempt(s): the call's deadline of "
                        f"{self.retry.deadline:g}s (`deadline` in the LLM config) ends before the "
                        f"next one; last error: {exc}"
                    )
                    raise self._error(message) from self._cause(exc)
                logger.info("%s: %s; retrying in %.2fs", self.label, self._redact(str(exc)), delay)
                self._sleep(delay)
                continue
            except MemlaneError as exc:
                if self._leaks(exc):
                    raise self._error(str(exc).removeprefix(f"{self.label}: ")) from None
                raise
            except Exception as exc:
                if self._leaks(exc):
                    raise self._error(f"{type(exc).__name__}: {exc}") from None
                raise self._error(f"{type(exc).__name__}: {exc}") from exc
            usage.add(reply.usage)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _time_left(self, deadline: float | None) -> float | None:
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise LLMError(
                f"{self.label}: no answer within the call's deadline of {self.retry.deadline:g}s "
                "(`deadline` in the LLM config)"
            )
        return left

    def _redact(self, text: str) -> str:
        return redact_secrets(text, self._secrets)

    def _leaks(self, exc: BaseException) -> bool:
        """Whether ``exc`` or an exception it was raised from shows a secret."""
        seen: BaseException | None = exc
        while seen is not None:
            if self._redact(str(seen)) != str(seen):
                return True
            seen = seen.__cause__ or seen.__context__
        return False

    def _error(self, message: str) -> LLMError:
        """``LLMError(label: message)`` with the secrets masked."""
        return LLMError(self._redact(f"{self.label}: {message}"))

    def _cause(self, exc: BaseException) -> BaseException | None:
        """``exc`` to chain an error to, or None when its chain would show a secret."""
        return None if self._leaks(exc) else exc


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
