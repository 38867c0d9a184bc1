"""mem0's filter language, parsed once into a small typed tree that every store compiles.

A filter is a dict. ``{"key": value}`` means equality, ``{"key": "*"}`` means the key is set,
``{"key": {"op": value, ...}}`` applies operators (several on one key are ANDed), and
``{"AND": [...]}``, ``{"OR": [...]}``, ``{"NOT": [...]}`` combine filters. Keys are memory
columns (``user_id``, ``agent_id``, ``run_id``, ``actor_id``, ``role``, ``hash``,
``created_at``, ``updated_at``) or metadata keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast, get_args

from memlane.errors import InvalidFilterError
from memlane.text import is_utf8

__all__ = [
    "COLUMN_FIELDS",
    "OPERATORS",
    "RECORD_FIELDS",
    "All",
    "And",
    "Cond",
    "Filter",
    "Not",
    "Op",
    "Or",
    "and_",
    "parse_filters",
]

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "exists"]
OPERATORS: tuple[str, ...] = tuple(o for o in get_args(Op) if o != "exists")

COLUMN_FIELDS = frozenset(
    {"user_id", "agent_id", "run_id", "actor_id", "role", "hash", "created_at", "updated_at"}
)
RECORD_FIELDS = COLUMN_FIELDS | {"expiration_date", "valid_from", "id"}
"""Every field a store must filter on: the user's ``COLUMN_FIELDS`` and the ones memlane's own
conditions use (expiry, the observation time for the time signal, ids for the profile's)."""
_FIELD_RE = re.compile(r"^[\w\-.]{1,100}$")
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition on one field."""

    field: str
    op: Op
    value: Any = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Filter


@dataclass(frozen=True, slots=True)
class All:
    """Matches everything."""


Filter: TypeAlias = Cond | And | Or | Not | All


def and_(*items: Filter) -> Filter:
    """AND of the given filters, dropping ``All`` and flattening nested ANDs."""
    flat: list[Filter] = []
    for item in items:
        if isinstance(item, All):
            continue
        flat.extend(item.items if isinstance(item, And) else (item,))
    if not flat:
        return All()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


MAX_DEPTH = 32
"""How deeply AND / OR / NOT may nest."""


def parse_filters(filters: Mapping[str, Any] | None, _depth: int = 0) -> Filter:
    """Parse a mem0 filter dict; raise ``InvalidFilterError`` saying what is wrong."""
    if filters is None:
        return All()
    if _depth > MAX_DEPTH:
        raise InvalidFilterError(f"filters nest more than {MAX_DEPTH} levels deep")
    if not isinstance(filters, Mapping):
        raise InvalidFilterError(f"filters must be a dict, got {type(filters).__name__}")
    parts: list[Filter] = []
    for key, value in filters.items():
        if not isinstance(key, str):
            raise InvalidFilterError(f"filter keys must be strings, got {key!r}")
        logical = key.upper().lstrip("$")
        if logical in ("AND", "OR", "NOT"):
            parts.append(_parse_logical(logical, value, _depth + 1))
        else:
            parts.append(_parse_field(key, value))
    return and_(*parts)


def _parse_logical(name: str, value: Any, depth: int) -> Filter:
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidFilterError(f"{name} takes a non-empty list of filter dicts, got {value!r}")
    subs = [parse_filters(v, depth) if isinstance(v, Mapping) else _bad_sub(name, v) for v in value]
    if name == "AND":
        return and_(*subs)
    if name == "OR":
        return Or(tuple(subs))
    return Not(and_(*subs))


def _bad_sub(name: str, value: Any) -> Filter:
    raise InvalidFilterError(f"every item of {name} must be a filter dict, got {value!r}")


def _parse_field(key: str, value: Any) -> Filter:
    if not _FIELD_RE.match(key):
        raise InvalidFilterError(f"invalid filter key {key!r}: use 1-100 letters, digits, '_', '-' or '.'")
    if value == "*":
        return Cond(key, "exists")
    if isinstance(value, Mapping):
        if not value:
            raise InvalidFilterError(f"filter on {key!r} has no operator")
        return and_(*(_parse_op(key, op, v) for op, v in value.items()))
    _check_scalar(key, "eq", value)
    return Cond(key, "eq", value)


def _parse_op(key: str, op: Any, value: Any) -> Filter:
    text = op.lstrip("$").lower() if isinstance(op, str) else ""
    if text not in OPERATORS:
        raise InvalidFilterError(
            f"unknown filter operator {op!r} on {key!r}; use one of: {', '.join(OPERATORS)}"
        )
    name = cast(Op, text)
    if name in ("in", "nin"):
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidFilterError(f"{name!r} on {key!r} takes a non-empty list, got {value!r}")
        for item in value:
            _check_scalar(key, name, item)
        return Cond(key, name, tuple(value))
    _check_scalar(key, name, value)
    if name in ("contains", "icontains") and not isinstance(value, str):
        raise InvalidFilterError(f"{name!r} on {key!r} takes a string, got {value!r}")
    if name in ("gt", "gte", "lt", "lte") and isinstance(value, bool):
        raise InvalidFilterError(f"{name!r} on {key!r} takes a number or a string, not a bool")
    return Cond(key, name, value)


def _check_scalar(key: str, op: str, value: Any) -> None:
    if value is None or not isinstance(value, _SCALARS):
        raise InvalidFilterError(f"filter {op!r} on {key!r} takes a string, number or bool, got {value!r}")
    if isinstance(value, float) and value != value:
        raise InvalidFilterError(f"filter {op!r} on {key!r} cannot compare with NaN")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise InvalidFilterError(f"filter {op!r} on {key!r}: integers must fit in 64 bits")
    if isinstance(value, str) and not is_utf8(value):
        raise InvalidFilterError(f"filter {op!r} on {key!r}: the value is not valid Unicode")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidFilterError(f"filter {op!r} on {key!r}: values must not contain NUL characters")
