"""Chat: answer a question from a packed, citable context (``get_context``), citing its ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from memlane.models import ChatMessage

__all__ = ["MAX_ANSWER_CHARS", "MAX_CITATIONS", "ChatAnswer", "ChatInput", "build_messages"]

MAX_ANSWER_CHARS = 2000
MAX_CITATIONS = 20


class ChatInput(BaseModel):
    question: str
    context: str
    """The block ``get_context`` packed: tagged lines ``[p1]``, ``[r1]``, ``[m1]``."""


# Bounded in the schema (small models loop unless every string and array is bounded), not in
# validation: an over-long answer is kept, invented ids are dropped by the caller.
_Answer = Annotated[str, WithJsonSchema({"type": "string", "maxLength": MAX_ANSWER_CHARS})]
_Cite = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 8})]


class ChatAnswer(BaseModel):
    """The model's answer and the ids of the context lines it rests on."""

    model_config = ConfigDict(extra="ignore")

    answer: _Answer
    citations: list[_Cite] = Field(default_factory=list, json_schema_extra={"maxItems": MAX_CITATIONS})


_SYSTEM = """You are an assistant with a long-term memory of the user. Answer the user's \
question from the memory context below. Each line of it starts with an id in brackets: [p1] \
for a profile fact, [r1] for a relation, [m1] for a memory; memories are grouped under the \
date they were said. Use only what the context says; when it does not hold the answer, say \
that you do not know. Keep the answer short. List in "citations" the ids of the lines the \
answer rests on (e.g. ["m3", "p1"]), only ids that appear in the context. Answer with JSON \
only: {"answer": "...", "citations": ["m1", ...]}."""


def build_messages(data: ChatInput) -> list[ChatMessage]:
    context = data.context or "(no memories)"
    user = f"Memory context:\n{context}\n\nQuestion: {data.question}"
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]
