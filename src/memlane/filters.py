"""mem0's filter language, parsed once into a small typed tree that every store compiles.

A filter is a dict. ``{"key": value}`` means equality, ``{"key": "*"}`` means the key is set,
``{"key": {"op": value, ...}}`` applies operators (several on one key are ANDed), and
``{"AND": [...]}``, ``{"OR": [...]}``, ``{"NOT": [...]}`` combine filters. Keys are memory
columns (``user_id``, ``agent_id``, ``run_id``, ``actor_id``, ``role``, ``hash``,
``created_at``, ``updated_at``) or metadata keys.

Ids are values, never patterns. On the id keys (``user_id``, ``agent_id``, ``run_id``,
``actor_id``, ``id``) every value of ``eq``, ``ne``, ``in`` and ``nin`` must be a valid id
(``clean_id``), and ``"*"`` is refused: an untrusted id that happens to be ``"*"`` must never
widen a call to every tenant. "Any value" on an id key is written explicitly:
``{"agent_id": {"exists": True}}`` (``{"exists": False}``: the key is not set). Metadata keys keep
mem0's ``"*"`` wildcard.

Lists in metadata (``{"tags": ["x", "y"]}``): ``contains`` / ``icontains`` hold when some string
element equals the value (case-insensitively for ``icontains``), never for a substring of the
list's JSON; ``in`` holds when some element is one of the values (``nin``: none is); ``eq``, ``ne``
and the comparisons see the whole list, which equals no scalar (so ``eq`` never holds, ``ne``
always does). On a string, ``contains`` is a substring test, as in mem0.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast, get_args

from memlane.errors import InvalidFilterError, InvalidInputError

__all__ = [
    "COLUMN_FIELDS",
    "ID_FIELDS",
    "MAX_ID_LENGTH",
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
    "clean_id",
    "clean_name",
    "is_utf8",
    "parse_filters",
]

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "exists"]
OPERATORS: tuple[str, ...] = get_args(Op)

COLUMN_FIELDS = frozenset(
    {"user_id", "agent_id", "run_id", "actor_id", "role", "hash", "created_at", "updated_at"}
)
RECORD_FIELDS = COLUMN_FIELDS | {"expiration_date", "valid_from", "id"}
"""Every field a store must filter on: the user's ``COLUMN_FIELDS`` and the ones memlane's own
conditions use (expiry, the observation time for the time signal, ids for the profile's)."""
ID_FIELDS = frozenset({"user_id", "agent_id", "run_id", "actor_id", "id"})
"""The keys whose values are ids: ``"*"`` and invisible characters are refused there."""
MAX_ID_LENGTH = 256
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
    if isinstance(value, Mapping):
        if not value:
            raise InvalidFilterError(f"filter on {key!r} has no operator")
        return and_(*(_parse_op(key, op, v) for op, v in value.items()))
    if key in ID_FIELDS:
        return Cond(key, "eq", _id_value(key, value))
    if value == "*":
        return Cond(key, "exists")
    _check_scalar(key, "eq", value)
    return Cond(key, "eq", value)


def _parse_op(key: str, op: Any, value: Any) -> Filter:
    text = op.lstrip("$").lower() if isinstance(op, str) else ""
    if text not in OPERATORS:
        raise InvalidFilterError(
            f"unknown filter operator {op!r} on {key!r}; use one of: {', '.join(OPERATORS)}"
        )
    name = cast(Op, text)
    if name == "exists":
        if not isinstance(value, bool):
            raise InvalidFilterError(f"'exists' on {key!r} takes true or false, got {value!r}")
        return Cond(key, "exists") if value else Not(Cond(key, "exists"))
    if name in ("in", "nin"):
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidFilterError(f"{name!r} on {key!r} takes a non-empty list, got {value!r}")
        if key in ID_FIELDS:
            return Cond(key, name, tuple(_id_value(key, item) for item in value))
        for item in value:
            _check_scalar(key, name, item)
        return Cond(key, name, tuple(value))
    if key in ID_FIELDS and name in ("eq", "ne"):
        return Cond(key, name, _id_value(key, value))
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


# -- ids -------------------------------------------------------------------------------------


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be stored as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_WHITESPACE = re.compile(r"\s")
_INVISIBLE = frozenset({"Cc", "Cf"})
"""Unicode categories refused in ids and names: controls (Cc) and format characters (Cf: the
zero-width U+200B-U+200D, U+2060, U+FEFF, the bidi marks and overrides U+200E, U+200F,
U+202A-U+202E, U+2066-U+2069, and the like). They make two ids that print the same differ."""


def clean_name(name: str, value: Any, error: type[InvalidInputError] = InvalidInputError) -> str:
    """An id-like name (``actor_id``, a message's ``name``): a string (an int is turned into one,
    as mem0 does) with surrounding whitespace trimmed; never empty, never ``"*"``, no control,
    zero-width or bidi-override characters. Inner spaces are allowed."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise error(f"{name} must be a string (or an int), got {type(value).__name__}: {value!r}")
    text: str = value.strip()
    if not text:
        raise error(f"{name} must not be empty")
    if text == "*":
        raise error(
            f"{name} must not be '*': an id is a value, never a pattern; to match any {name} "
            f"in filters, write {{{name!r}: {{'exists': True}}}}"
        )
    if not is_utf8(text):
        raise error(f"{name} is not valid Unicode (it holds a lone surrogate)")
    if any(unicodedata.category(c) in _INVISIBLE for c in text):
        raise error(f"{name} must not contain control, zero-width or bidi-override characters: {text!r}")
    return text


def clean_id(name: str, value: Any, error: type[InvalidInputError] = InvalidInputError) -> str:
    """A user, agent, run or memory id: as ``clean_name``, and with no whitespace inside and at
    most ``MAX_ID_LENGTH`` characters."""
    text = clean_name(name, value, error)
    if _WHITESPACE.search(text):
        raise error(f"{name} must not contain whitespace: {text!r}")
    if len(text) > MAX_ID_LENGTH:
        raise error(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return text


def _id_value(key: str, value: Any) -> str:
    if key == "actor_id":
        return clean_name(key, value, InvalidFilterError)
    return clean_id(key, value, InvalidFilterError)
