"""The graph as records: ``{"kind": "entity" | "relation", "data": {...}}`` (``GraphStore.dump``
and ``load``; the graph's lines of an export, and what ``memlane migrate`` copies).

An entity's record holds its name vector as base64 of little-endian float32 (``embedding``,
null when it has none); a relation's holds both endpoints' ids and names, both clocks, its
mentions and its supporting memory ids in the order they came. Every scope key is present
(null when unset), so a record's fields never depend on the scope.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from memlane.errors import InvalidInputError
from memlane.graph.models import Entity, Relation
from memlane.models import Scope, Vectors

__all__ = [
    "ENTITY",
    "GRAPH_KINDS",
    "RELATION",
    "entity_record",
    "parse_entity",
    "parse_relation",
    "relation_record",
]

ENTITY = "entity"
RELATION = "relation"
GRAPH_KINDS = (ENTITY, RELATION)
"""The record kinds of the graph, in load order (an entity before the relations that use it)."""


def _scope(scope: Scope) -> dict[str, str | None]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "run_id": scope.run_id}


def entity_record(entity: Entity, vector: Vectors | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entity.id,
        "name": entity.name,
        "type": entity.type,
        "aliases": list(entity.aliases),
        **_scope(entity.scope),
        "created_at": entity.created_at,
        "updated_at": entity.updated_at,
        "embedding": None if vector is None else _encode(vector),
    }
    return {"kind": ENTITY, "data": data}


def relation_record(relation: Relation) -> dict[str, Any]:
    r = relation
    data: dict[str, Any] = {
        "id": r.id, "source": r.source, "relationship": r.relationship, "destination": r.destination,
        "source_id": r.source_id, "destination_id": r.destination_id, **_scope(r.scope),
        "valid_from": r.valid_from, "valid_to": r.valid_to, "created_at": r.created_at,
        "updated_at": r.updated_at, "invalidated_at": r.invalidated_at, "mentions": r.mentions,
        "memory_ids": list(r.memory_ids),
    }  # fmt: skip
    return {"kind": RELATION, "data": data}


def parse_entity(data: Mapping[str, Any], number: int) -> tuple[Entity, Vectors | None]:
    """An entity record's data (record ``number`` of a load) as an entity and its name vector;
    ``InvalidInputError`` naming the record and the field when it is malformed."""

    def field(name: str, check: Callable[[Any], bool], want: str) -> Any:
        return _field(data, number, ENTITY, name, check, want)

    aliases = field(
        "aliases", lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v), "a list of strings"
    )
    entity = Entity(
        id=field("id", _text, "a non-empty string"),
        name=field("name", _text, "a non-empty string"),
        type=field("type", _string, "a string"),
        aliases=tuple(aliases),
        scope=_parse_scope(data, number, ENTITY),
        created_at=field("created_at", _text, "a timestamp"),
        updated_at=field("updated_at", _text, "a timestamp"),
    )
    encoded = field("embedding", lambda v: v is None or isinstance(v, str), "base64 text or null")
    return entity, None if encoded is None else _decode(encoded, number)


def parse_relation(data: Mapping[str, Any], number: int) -> Relation:
    """A relation record's data as a relation; ``InvalidInputError`` when it is malformed."""

    def field(name: str, check: Callable[[Any], bool], want: str) -> Any:
        return _field(data, number, RELATION, name, check, want)

    def optional(name: str) -> Any:
        return field(name, lambda v: v is None or _text(v), "a timestamp or null")

    memory_ids = field(
        "memory_ids", lambda v: isinstance(v, list) and all(_text(m) for m in v), "a list of ids"
    )
    return Relation(
        id=field("id", _text, "a non-empty string"),
        source=field("source", _text, "a non-empty string"),
        relationship=field("relationship", _text, "a non-empty string"),
        destination=field("destination", _text, "a non-empty string"),
        source_id=field("source_id", _text, "an entity id"),
        destination_id=field("destination_id", _text, "an entity id"),
        scope=_parse_scope(data, number, RELATION),
        created_at=field("created_at", _text, "a timestamp"),
        updated_at=field("updated_at", _text, "a timestamp"),
        valid_from=optional("valid_from"),
        valid_to=optional("valid_to"),
        invalidated_at=optional("invalidated_at"),
        mentions=field(
            "mentions", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a count >= 1"
        ),
        memory_ids=tuple(memory_ids),
    )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _field(
    data: Mapping[str, Any], number: int, kind: str, name: str, check: Callable[[Any], bool], want: str
) -> Any:
    if name not in data:
        raise InvalidInputError(f"record {number} ({kind}) lacks {name}")
    value = data[name]
    if not check(value):
        raise InvalidInputError(f"record {number} ({kind}): {name} must be {want}, got {str(value)[:60]!r}")
    return value


def _parse_scope(data: Mapping[str, Any], number: int, kind: str) -> Scope:
    ids = [
        _field(data, number, kind, key, lambda v: v is None or _text(v), "an id or null")
        for key in ("user_id", "agent_id", "run_id")
    ]
    scope = Scope(*ids)
    if scope.is_empty():
        raise InvalidInputError(f"record {number} ({kind}) has no user_id, agent_id or run_id")
    return scope


def _encode(vector: Vectors) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").reshape(-1).tobytes()).decode("ascii")


def _decode(encoded: str, number: int) -> Vectors:
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"record {number} ({ENTITY}): the embedding is not base64") from None
    if not blob or len(blob) % 4:
        raise InvalidInputError(f"record {number} ({ENTITY}): the embedding is not float32 values")
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
