"""Graph records with no I/O: what ``apply`` takes (``ExtractedEntity``, ``ExtractedRelation``:
what the LLM fills, bounded), entities, relations, and what ``apply`` and ``search`` return.

Relations carry two clocks, as memories do (and as in Zep/Graphiti):

- *valid time* ``valid_from`` / ``valid_to``: when the fact was true in the world (from the
  conversation: the observation time, or a date the model read in it);
- *record time* ``created_at`` / ``invalidated_at``: when memlane learned it, and when a newer
  fact superseded it. A current relation has ``invalidated_at`` None. ``as_of=T`` reads record time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memlane.models import Scope

__all__ = [
    "MAX_NAME_CHARS",
    "MAX_RELATIONSHIP_CHARS",
    "MAX_TYPE_CHARS",
    "Entity",
    "ExtractedEntity",
    "ExtractedRelation",
    "GraphChanges",
    "GraphSearchResult",
    "Relation",
    "ScoredRelation",
]

TargetKey = Literal["destination", "target"]

MAX_NAME_CHARS = 100
MAX_RELATIONSHIP_CHARS = 60
MAX_TYPE_CHARS = 40


class ExtractedEntity(BaseModel):
    """An entity the model found in the conversation."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(
        max_length=MAX_NAME_CHARS,
        description="the entity's name as written; 'user' for the speaking user (I, me, my)",
    )
    type: str = Field(
        default="",
        max_length=MAX_TYPE_CHARS,
        description="one word: person, place, organization, object, event, concept, date...",
    )


class ExtractedRelation(BaseModel):
    """One fact as ``source -relationship-> destination``."""

    model_config = ConfigDict(extra="ignore")

    source: str = Field(max_length=MAX_NAME_CHARS, description="the subject entity's name; 'user' for I/me")
    relationship: str = Field(
        max_length=MAX_RELATIONSHIP_CHARS,
        description="a short snake_case verb phrase: lives_in, works_at, likes, sister_of",
    )
    destination: str = Field(max_length=MAX_NAME_CHARS, description="the object entity's name")
    replaces: bool = Field(
        default=False,
        description="true when this fact replaces an earlier value of the same source and "
        "relationship (moved, changed jobs, new partner)",
    )
    ended: bool = Field(
        default=False,
        description="true when the conversation says this fact stopped being true (left, quit, sold)",
    )
    since: str | None = Field(
        default=None,
        max_length=10,
        description="the date the fact became true, YYYY-MM-DD (or YYYY-MM, YYYY), if stated",
    )


@dataclass(frozen=True, slots=True)
class Entity:
    """A node: one person, place, organisation, thing or concept of one scope."""

    id: str
    name: str
    """The display name, as first seen (``"Acme Corp"``); the user is named by their user_id."""
    type: str
    scope: Scope
    created_at: str
    updated_at: str
    aliases: tuple[str, ...] = ()
    """Other names that resolved to this entity (by embedding similarity)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "aliases": list(self.aliases),
            **self.scope.as_dict(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed edge ``source -relationship-> destination`` with both clocks."""

    id: str
    source: str
    relationship: str
    """A snake_case identifier (``works_at``)."""
    destination: str
    source_id: str
    destination_id: str
    scope: Scope
    created_at: str
    updated_at: str
    valid_from: str | None = None
    valid_to: str | None = None
    invalidated_at: str | None = None
    mentions: int = 1
    """How many times the fact was stated (a repeated statement adds one)."""
    memory_ids: tuple[str, ...] = ()
    """The memories the fact came from, oldest first."""

    @property
    def is_current(self) -> bool:
        return self.invalidated_at is None

    def triple(self, target_key: TargetKey = "destination") -> dict[str, str]:
        """mem0's shape: ``{"source", "relationship", "destination"}`` (``"target"`` for get_all)."""
        return {"source": self.source, "relationship": self.relationship, target_key: self.destination}

    def as_dict(self) -> dict[str, Any]:
        """Every field, for APIs and exports."""
        return {
            "id": self.id,
            **self.triple(),
            "source_id": self.source_id,
            "destination_id": self.destination_id,
            **self.scope.as_dict(),
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "invalidated_at": self.invalidated_at,
            "mentions": self.mentions,
            "memory_ids": list(self.memory_ids),
        }


@dataclass(slots=True)
class GraphChanges:
    """What one ``apply`` did. Nothing is ever hard-deleted by ``apply``."""

    added: list[Relation] = field(default_factory=list)
    """New relations (a fact stated again after being invalidated is added anew)."""
    invalidated: list[Relation] = field(default_factory=list)
    """Relations superseded or ended by this call, as they are now (``invalidated_at`` set)."""
    mentioned: list[Relation] = field(default_factory=list)
    """Current relations stated again: one more mention, the new memory ids added."""
    entities_added: list[Entity] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.added or self.invalidated or self.mentioned or self.entities_added)

    def to_mem0(self) -> dict[str, list[list[dict[str, str]]]]:
        """mem0 1.x's ``relations`` of ``add()``: one single-item list per added or deleted triple."""
        return {
            "deleted_entities": [[r.triple("target")] for r in self.invalidated],
            "added_entities": [[r.triple("target")] for r in self.added],
        }


@dataclass(frozen=True, slots=True)
class ScoredRelation:
    """A relation found by search: its score in [0, 1] and how many hops from the query's entities."""

    relation: Relation
    score: float
    hops: int


@dataclass(slots=True)
class GraphSearchResult:
    """Ranked relations for a query, and the memories that support them (for boosting)."""

    relations: list[ScoredRelation] = field(default_factory=list)
    memory_scores: dict[str, float] = field(default_factory=dict)
    """Memory id -> best score of a returned relation it supports, best first."""
    seeds: dict[str, float] = field(default_factory=dict)
    """Entity id -> how strongly the query named it (1.0 by name or alias, else similarity)."""

    @property
    def memory_ids(self) -> list[str]:
        return list(self.memory_scores)

    def to_mem0(self) -> list[dict[str, str]]:
        """mem0 1.x's ``relations`` of ``search()``: ``{"source", "relationship", "destination"}``."""
        return [s.relation.triple() for s in self.relations]
