"""Query expansion: other phrasings of a search query that find the memories it needs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from memlane.models import ChatMessage

__all__ = ["MAX_QUERY_CHARS", "MAX_VARIANTS", "QueryRewrite", "QueryRewriteInput", "build_messages"]

MAX_VARIANTS = 10
MAX_QUERY_CHARS = 300


class QueryRewriteInput(BaseModel):
    query: str
    variants: int = Field(default=3, ge=1, le=MAX_VARIANTS)
    reference_date: str | None = None


# Bounded in the schema (small models loop unless every string and array is bounded), not in
# validation: an over-long answer is cut by the caller rather than rejected.
_Query = Annotated[str, WithJsonSchema({"type": "string", "maxLength": MAX_QUERY_CHARS})]


class QueryRewrite(BaseModel):
    """The model's answer: the alternative queries, the original not among them."""

    model_config = ConfigDict(extra="ignore")

    queries: list[_Query] = Field(json_schema_extra={"maxItems": MAX_VARIANTS})


_SYSTEM = """You help search a personal memory store: short facts about a user and the people \
in their life, such as "Moved to Bangalore in February 2026" or "Alice's daughter plays the \
violin". Rewrite the search query into at most {variants} other search queries that find the \
memories needed to answer it:
- a question with several parts: one query per part;
- relative dates ("last week", "yesterday", "in May"): the absolute date or period, computed \
from the reference date when one is given;
- a pronoun whose person the query makes clear: that person's name;
- the words a stored fact would use: synonyms, and the statement a question asks about \
("Where does Alice live?" -> "Alice lives in").
Each query short (under 20 words), in the language of the query, not a copy of it. No \
explanations. Answer with JSON only: {{"queries": ["...", ...]}}; {{"queries": []}} when no \
rewrite would help."""


def build_messages(data: QueryRewriteInput) -> list[ChatMessage]:
    system = _SYSTEM.format(variants=data.variants)
    user = f"Query: {data.query}"
    if data.reference_date:
        user = f"Reference date (today): {data.reference_date}\n{user}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
