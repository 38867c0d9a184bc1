"""``GraphSettings``: how entities are resolved, which facts are single-valued, how search walks.

Every graph back end's config model extends it, so the same keys work for each.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_SINGLE_VALUED", "GraphSettings"]

DEFAULT_SINGLE_VALUED = (
    "lives_in",
    "resides_in",
    "works_at",
    "works_for",
    "employed_by",
    "married_to",
    "engaged_to",
    "located_in",
    "based_in",
    "born_in",
    "born_on",
    "has_age",
    "has_birthday",
    "has_job_title",
)
"""Relationships a source has one current value of: a new destination invalidates the old one."""


class GraphSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match_threshold: float = Field(
        default=0.85,
        ge=0.0,
        le=1.0,
        description="cosine similarity of names above which a new name is an existing entity "
        "(after exact name and alias matches fail); 1.0 turns embedding resolution off",
    )
    search_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="cosine similarity of the query to an entity's name for search to start from it",
    )
    seed_limit: int = Field(default=5, ge=0, le=100, description="entities found by similarity per query")
    single_valued: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SINGLE_VALUED),
        max_length=500,
        description="relationships with one current value per source (snake_case)",
    )
    hops: int = Field(default=2, ge=1, le=3, description="default search depth from the query's entities")
    hop_decay: float = Field(default=0.6, gt=0.0, le=1.0, description="score factor per hop after the first")
    walk_limit: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="most relation visits one search may make (20 x limit + 50 when smaller)",
    )
