"""What the LLM returns for the graph, and how it is asked.

In the single-call pipeline the lead's response model embeds ``GraphFields`` (``entities`` and
``relations``) and its prompt appends ``GRAPH_INSTRUCTIONS``. The classic pipeline spends one
extra call: ``build_messages(conversation, user_name)`` with ``GraphExtraction`` as the response
model. Every array and string is bounded: small local models otherwise repeat items until
``max_tokens`` and return unterminated JSON.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.graph.models import ExtractedEntity, ExtractedRelation
from memlane.models import ChatMessage

__all__ = [
    "GRAPH_INSTRUCTIONS",
    "MAX_ENTITIES",
    "MAX_RELATIONS",
    "GraphExtraction",
    "GraphFields",
    "build_messages",
]

MAX_ENTITIES = 20
MAX_RELATIONS = 20


class GraphFields(BaseModel):
    """The two graph fields; the single-call response model inherits them."""

    model_config = ConfigDict(extra="ignore")

    entities: list[ExtractedEntity] = Field(
        default_factory=list,
        max_length=MAX_ENTITIES,
        description="the people, places, organisations and things the facts are about",
    )
    relations: list[ExtractedRelation] = Field(
        default_factory=list,
        max_length=MAX_RELATIONS,
        description="facts between those entities, each once",
    )


class GraphExtraction(GraphFields):
    """The classic pipeline's graph call answers in this shape."""


GRAPH_INSTRUCTIONS = f"""Fill "entities" and "relations" with the knowledge graph of the \
conversation. An entity is a person, place, organisation, object or concept, with a one-word \
type. Write "user" for the speaking user (I, me, my) and use names, never pronouns. Each \
relation is one fact: source, relationship (short snake_case, like lives_in, works_at, likes, \
sister_of) and destination, all from the conversation. Set "replaces": true when a fact \
replaces an earlier value (moved to a new city, changed jobs), "ended": true when the \
conversation says a fact stopped being true, and "since" (YYYY-MM-DD) when it says when a fact \
began, resolved against the observation date. At most {MAX_ENTITIES} entities and \
{MAX_RELATIONS} relations, each once; empty lists when there are none."""

_SYSTEM = f"""You build a knowledge graph from a conversation. {GRAPH_INSTRUCTIONS}
The speaking user is {{user_name}}: write "user" for them. Skip greetings, questions and small talk.
Answer with JSON only: {{{{"entities": [{{{{"name": ..., "type": ...}}}}], "relations": \
[{{{{"source": ..., "relationship": ..., "destination": ..., "replaces": false, "ended": false, \
"since": null}}}}]}}}}."""


def build_messages(
    conversation: str,
    user_name: str,
    *,
    observation_date: str | None = None,
    custom_prompt: str | None = None,
) -> list[ChatMessage]:
    """The classic pipeline's graph call; answer with ``GraphExtraction``."""
    system = _SYSTEM.format(user_name=user_name)
    if custom_prompt:
        system += f"\nAdditional instructions:\n{custom_prompt}"
    user = f"Conversation:\n{conversation}"
    if observation_date:
        user = f"Observation date: {observation_date}\n\n{user}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
