"""The LLM contract: chat messages and a pydantic response model in, a validated model out.

Every provider implements ``LLM``. Parsing, repair and validation of model output live in
this package only; nothing else calls ``json.loads`` on model output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

__all__ = ["LLM", "ChatMessage", "LLMResult", "Usage"]

T = TypeVar("T", bound=BaseModel)

ChatMessage = dict[str, Any]
"""``{"role": "system" | "user" | "assistant", "content": str | list[content part]}``."""


@dataclass(slots=True)
class Usage:
    """Tokens and calls spent; added up across retries."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass(slots=True)
class LLMResult(Generic[T]):
    """The validated value, the raw text it came from, and what it cost."""

    value: T
    raw: str
    usage: Usage = field(default_factory=Usage)


class LLM(Protocol):
    """A chat model that answers in a given pydantic shape."""

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
        ...
