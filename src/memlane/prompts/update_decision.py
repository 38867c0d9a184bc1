"""Classic pipeline, call 2: for new facts and their nearest memories, the operations."""

from __future__ import annotations

from pydantic import BaseModel, Field

from memlane.models import ChatMessage
from memlane.prompts.common import existing_lines

__all__ = ["UpdateDecisionInput", "build_messages"]


class UpdateDecisionInput(BaseModel):
    facts: list[str]
    existing: list[tuple[str, str]] = Field(default_factory=list)
    custom_prompt: str | None = None


_SYSTEM = """You maintain a memory store. For each new fact, compare it with the existing \
memories (id: text) and answer one operation per fact:
- ADD: new information (id null, text = the fact).
- UPDATE: same topic with changed or richer information (id = the memory, text = the complete \
new memory); do not update when the meaning is the same.
- DELETE: the fact contradicts the memory (id = the memory, text = the new fact).
- NONE: already known (id = the memory).
Answer with JSON only: {"memory": [{"event": ..., "id": ..., "text": ...}]}."""


def build_messages(data: UpdateDecisionInput) -> list[ChatMessage]:
    system = data.custom_prompt or _SYSTEM
    if "json" not in system.lower():
        system += '\nAnswer with JSON only: {"memory": [{"event": ..., "id": ..., "text": ...}]}.'
    facts = "\n".join(f"- {fact}" for fact in data.facts)
    user = f"Existing memories:\n{existing_lines(data.existing)}\n\nNew facts:\n{facts}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
