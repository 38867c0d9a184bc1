"""``QueryPlan``: the structured graph query the model fills on back ends without a query
language (the SQLite and PostgreSQL graphs), run by memlane's own recursive query. Every field is bounded
(small models repeat items until ``max_tokens`` otherwise) and validated; the scope is never
part of it: the code binds it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memlane.graph.models import MAX_NAME_CHARS, MAX_RELATIONSHIP_CHARS, MAX_TYPE_CHARS

__all__ = ["MAX_HOPS", "QueryPlan"]

MAX_HOPS = 3
"""The longest path a graph question may follow (both dialects)."""
MAX_START = 5
MAX_RELATIONSHIPS = 10
MAX_END_NAMES = 10
MAX_END_TYPES = 5


class QueryPlan(BaseModel):
    """Paths from named entities along chosen relationships, up to ``hops`` long."""

    model_config = ConfigDict(extra="ignore")

    start: list[str] = Field(
        min_length=1,
        max_length=MAX_START,
        description="names of the entities the question is about, as stored; 'user' for the user",
        json_schema_extra={"items": {"type": "string", "maxLength": MAX_NAME_CHARS}},
    )
    relationships: list[str] = Field(
        default_factory=list,
        max_length=MAX_RELATIONSHIPS,
        description="relationship names to follow (snake_case, e.g. works_at); empty: any",
        json_schema_extra={"items": {"type": "string", "maxLength": MAX_RELATIONSHIP_CHARS}},
    )
    direction: Literal["outgoing", "incoming", "both"] = Field(
        default="both",
        description="outgoing: start -relationship-> other; incoming: other -relationship-> start",
    )
    hops: int = Field(default=1, ge=1, le=MAX_HOPS, description=f"path length, 1 to {MAX_HOPS}")
    end_names: list[str] = Field(
        default_factory=list,
        max_length=MAX_END_NAMES,
        description="keep only paths that end at one of these entities; empty: any",
        json_schema_extra={"items": {"type": "string", "maxLength": MAX_NAME_CHARS}},
    )
    end_types: list[str] = Field(
        default_factory=list,
        max_length=MAX_END_TYPES,
        description="keep only paths that end at an entity of one of these types (person, place...)",
        json_schema_extra={"items": {"type": "string", "maxLength": MAX_TYPE_CHARS}},
    )
    include_history: bool = Field(
        default=False, description="true to also follow facts that are no longer true"
    )

    @field_validator("start", "relationships", "end_names", "end_types")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            text = " ".join(value.split())
            if not text:
                raise ValueError("names must not be empty")
            if len(text) > MAX_NAME_CHARS:
                raise ValueError(f"names have at most {MAX_NAME_CHARS} characters")
            out.append(text)
        return list(dict.fromkeys(out))
