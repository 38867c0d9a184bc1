"""Classic pipeline, call 1: the facts worth keeping, without decisions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from memlane.models import ChatMessage
from memlane.prompts.common import MAX_FACT_CHARS, MAX_FACTS

__all__ = ["EXAMPLE_TEXTS", "Facts", "FactsInput", "build_messages"]


class FactsInput(BaseModel):
    conversation: str
    observation_date: str
    custom_prompt: str | None = None
    instructions: str | None = None
    profile: str | None = None
    """The profile section (``prompts.profile.profile_block``) when profile slots are on."""


class Facts(BaseModel):
    model_config = ConfigDict(extra="ignore")

    facts: list[Annotated[str, StringConstraints(max_length=MAX_FACT_CHARS)]] = Field(max_length=MAX_FACTS)


EXAMPLE_TEXTS = ("Is training for a marathon in October", "Prefers window seats")

_SYSTEM = f"""You extract facts worth remembering from a conversation: preferences, personal \
details, relationships, plans, events, health, work, places and dates of the people in it. \
Skip greetings, small talk and questions. Write each fact as one short self-contained sentence \
in the conversation's language; turn relative dates into absolute ones using the observation \
date. Answer with JSON only: {{"facts": ["...", ...]}} (at most {MAX_FACTS}; [] if none)."""

_EXAMPLE = f"""
Example: "user: I'm training for the October marathon. Always book me a window seat." -> \
{{"facts": ["{EXAMPLE_TEXTS[0]}", "{EXAMPLE_TEXTS[1]}"]}}. Never copy the example's facts."""


def build_messages(data: FactsInput, *, example: bool = True) -> list[ChatMessage]:
    """The extraction request; ``example=False`` leaves the worked example out (the retry after a
    small model copied it)."""
    system = data.custom_prompt or (_SYSTEM + _EXAMPLE if example else _SYSTEM)
    if "json" not in system.lower():
        system += '\nAnswer with JSON only: {"facts": ["...", ...]}.'
    user = f"Observation date: {data.observation_date}\n\nConversation:\n{data.conversation}"
    if data.profile:
        user += f"\n\n{data.profile}"
    if data.instructions:
        user += f"\n\nAdditional instructions:\n{data.instructions}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
