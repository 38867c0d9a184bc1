"""The LLM contract: chat messages and a pydantic response model in, a validated model out.

Every provider implements ``LLM``. Parsing, repair and validation of model output live in
this package only; nothing else calls ``json.loads`` on model output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

from memlane.models import ChatMessage, Usage

__all__ = ["LLM", "LLMResult", "VisionSettings"]

T = TypeVar("T", bound=BaseModel)


@dataclass(slots=True)
class LLMResult(Generic[T]):
    """The validated value, the raw text it came from, and what it cost."""

    value: T
    raw: str
    usage: Usage = field(default_factory=Usage)


class VisionSettings(BaseModel):
    """The image fields mem0's LLM configs share; a provider's config inherits them to let
    ``add()`` describe image parts (``enable_vision``) at a level of detail (``vision_details``)."""

    enable_vision: bool = False
    vision_details: Literal["low", "high", "auto"] = Field(
        default="auto", description="the detail images are sent at"
    )


class LLM(Protocol):
    """A chat model that answers in a given pydantic shape."""

    @property
    def label(self) -> str:
        """A short name for messages and logs: provider, model and endpoint (no secrets)."""
        ...

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

    def close(self) -> None:
        """Release the client's connections (nothing to do for most)."""
        ...
