"""The single-call task: extract the facts worth keeping and decide ADD / UPDATE / DELETE / NONE."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.models import ChatMessage
from memlane.prompts.common import MAX_FACTS, MemoryOp, existing_lines

__all__ = ["EXAMPLE_TEXTS", "MemoryUpdate", "MemoryUpdateInput", "build_messages"]


class MemoryUpdateInput(BaseModel):
    conversation: str
    existing: list[tuple[str, str]] = Field(default_factory=list)
    observation_date: str
    instructions: str | None = None
    profile: str | None = None
    """The profile section (``prompts.profile.profile_block``) when profile slots are on."""


class MemoryUpdate(BaseModel):
    """The model's answer: one operation per fact."""

    model_config = ConfigDict(extra="ignore")

    memory: list[MemoryOp] = Field(max_length=MAX_FACTS)


EXAMPLE_TEXTS = (
    "Has a cat named Miso",
    "Works as a nurse at Lakeside Hospital since 2024-03",
    "Is allergic to peanuts",
)

_SYSTEM = f"""You keep the long-term memory of an assistant. Read the new conversation and decide \
what is worth remembering about the people in it.

Keep: preferences, personal details, relationships, plans, events, health, work, places, dates.
Skip: greetings, small talk, questions, what the assistant merely suggested.
Write each fact as one short self-contained sentence in the conversation's language, naming \
people by name when known. Turn relative dates ("last month", "tomorrow") into absolute dates \
using the observation date.

Compare every fact with the existing memories (listed as id: text) and give one operation:
- ADD: a new fact that no existing memory covers (id null).
- UPDATE: the fact changes or adds detail to an existing memory on the same topic; id = that \
memory, text = the complete new memory.
- DELETE: the conversation contradicts or retracts an existing memory; id = that memory, text \
= the new fact that replaces it ("" if the user only asked to forget it).
- NONE: an existing memory already says this; id = that memory.

Give each fact a type: "semantic" (a fact or preference that stays true), "episodic" (an event: \
something that happened or will happen at a time) or "procedural" (how to do something, steps, \
rules to follow). For an episodic fact, "when" is the date the event happened (YYYY-MM-DD, from \
the conversation and the observation date), else null.

Answer with JSON only: {{"memory": [{{"event": ..., "id": ..., "text": ..., "type": ..., \
"when": ...}}]}}, at most {MAX_FACTS} items, no item twice. If nothing \
is worth remembering, answer {{"memory": []}}."""

_EXAMPLE = f"""

Example. Existing memories: 0: Works as a nurse. 1: Has a dog. Conversation: "user: I got a \
job at Lakeside Hospital in March 2024. Oh and the dog went to my sister, I adopted a cat, Miso. \
I can't eat peanuts." Answer:
{{"memory": [{{"event": "UPDATE", "id": "0", "text": "{EXAMPLE_TEXTS[1]}", "type": "episodic", \
"when": "2024-03-01"}}, {{"event": "DELETE", "id": "1", "text": "{EXAMPLE_TEXTS[0]}", "type": \
"semantic", "when": null}}, {{"event": "ADD", "id": null, "text": "{EXAMPLE_TEXTS[2]}", "type": \
"semantic", "when": null}}]}}
The example only shows the format: never copy its facts."""


def build_messages(data: MemoryUpdateInput, *, example: bool = True) -> list[ChatMessage]:
    """System instructions (with a worked example unless ``example`` is False: the retry after
    a small model copied it), then the observation date, existing memories, the profile (when
    on) and the conversation."""
    user = (
        f"Observation date: {data.observation_date}\n\n"
        f"Existing memories:\n{existing_lines(data.existing)}\n\n"
        + (f"{data.profile}\n\n" if data.profile else "")
        + f"New conversation:\n{data.conversation}"
    )
    if data.instructions:
        user += f"\n\nAdditional instructions:\n{data.instructions}"
    system = _SYSTEM + _EXAMPLE if example else _SYSTEM
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
