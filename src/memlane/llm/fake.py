"""``FakeLLM``: a scripted model for tests and offline demos (provider ``"fake"``).

It answers from a queue and logs every request. Its replies go through the same parse,
repair and retry path as a real provider's, so a bad scripted reply followed by a good one
exercises the repair request, and a scripted ``TransientLLMError`` exercises the backoff.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from memlane.errors import LLMError
from memlane.llm.base import VisionSettings
from memlane.llm.structured import (
    ChatReply,
    ChatRequest,
    RetryPolicy,
    StructuredLLM,
    approx_tokens,
    message_text,
)
from memlane.models import ChatMessage, Usage

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["FakeCall", "FakeLLM", "FakeLLMConfig", "FakeResponse", "register"]


@dataclass(frozen=True, slots=True)
class FakeCall:
    """One request the fake received."""

    messages: list[ChatMessage]
    response_model: str
    """The response model's class name."""
    max_tokens: int | None
    repair: bool
    """True for the repair request that follows unusable output."""

    @property
    def text(self) -> str:
        """The request's messages as plain text (handy for ``in`` assertions)."""
        return message_text(self.messages)


FakeResponse: TypeAlias = (
    str
    | dict[str, Any]
    | list[Any]
    | BaseModel
    | ChatReply
    | BaseException
    | type[BaseException]
    | Callable[[FakeCall], Any]
)
"""A scripted reply: raw text, JSON data, a model instance, a full ``ChatReply`` (to script
``truncated``), an exception to raise, or a callable that gets the ``FakeCall`` and returns one
of those."""


class FakeLLMConfig(VisionSettings):
    """Config of the ``fake`` provider: the scripted replies (text or JSON data)."""

    model_config = ConfigDict(extra="forbid")

    responses: list[str | dict[str, Any] | list[Any]] = Field(default_factory=list)
    max_retries: int = Field(default=2, ge=0, le=10)


class FakeLLM(StructuredLLM):
    """A scripted ``LLM``: each request takes the next reply from the queue.

    ``calls`` logs every request; ``usage`` adds up what every request cost (tokens counted
    approximately, characters / 4). An empty queue raises ``LLMError``.
    """

    def __init__(self, responses: Iterable[FakeResponse] = (), *, max_retries: int = 2) -> None:
        super().__init__(retry=RetryPolicy(max_retries=max_retries, backoff=0.0), sleep=_no_sleep)
        self._queue: deque[FakeResponse] = deque(responses)
        self._lock = threading.Lock()
        self.calls: list[FakeCall] = []
        self.usage = Usage()

    @classmethod
    def from_config(cls, config: FakeLLMConfig) -> FakeLLM:
        return cls(config.responses, max_retries=config.max_retries)

    @property
    def label(self) -> str:
        return "FakeLLM"

    def add(self, *responses: FakeResponse) -> None:
        """Queue more replies."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def remaining(self) -> int:
        """Replies still queued."""
        return len(self._queue)

    def raw_chat(self, request: ChatRequest) -> ChatReply:
        call = FakeCall(
            messages=[dict(m) for m in request.messages],
            response_model=request.response_model.__name__,
            max_tokens=request.max_tokens,
            repair=request.repair,
        )
        with self._lock:
            self.calls.append(call)
            if not self._queue:
                raise LLMError(
                    f"FakeLLM: the script ran out of responses at call {len(self.calls)} "
                    f"(asked for {call.response_model}); queue more with FakeLLM.add()"
                )
            item = self._queue.popleft()
        reply = _reply(item, call)
        self.usage.add(reply.usage)
        return reply


def _reply(item: FakeResponse, call: FakeCall) -> ChatReply:
    if callable(item) and not isinstance(item, type | BaseModel):
        item = item(call)
    if isinstance(item, BaseException) or (isinstance(item, type) and issubclass(item, BaseException)):
        raise item
    if isinstance(item, ChatReply):
        return item
    if isinstance(item, BaseModel):
        text = item.model_dump_json()
    elif isinstance(item, str):
        text = item
    else:
        text = json.dumps(item, ensure_ascii=False)
    usage = Usage(calls=1, prompt_tokens=approx_tokens(call.text), completion_tokens=approx_tokens(text))
    return ChatReply(text=text, usage=usage)


def _no_sleep(_seconds: float) -> None:
    return None


def register(registry: Registry) -> None:
    registry.register("llm", "fake", FakeLLMConfig, lambda config, _: FakeLLM.from_config(config))
