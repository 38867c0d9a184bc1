"""Procedural memory: one verbatim-preserving summary of an agent's run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.models import ChatMessage

__all__ = ["ProceduralSummary", "build_messages"]


class ProceduralSummary(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=8000)


_SYSTEM = """You summarise an AI agent's run so that the agent can continue it later. Write:
the task objective; the progress so far; then each step the agent took, numbered, with the \
action, its exact parameters and its exact result (keep URLs, numbers, errors and outputs \
verbatim, shortened only when very long). Answer with JSON only: {"summary": "..."}."""


def build_messages(conversation: str, custom_prompt: str | None = None) -> list[ChatMessage]:
    system = custom_prompt or _SYSTEM
    if "json" not in system.lower():
        system += '\nAnswer with JSON only: {"summary": "..."}.'
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"The agent's run:\n{conversation}"},
    ]
