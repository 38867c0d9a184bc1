"""Validation and normalisation of everything a public call accepts. Pure: no I/O."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import Cond, Filter, Not, Or, and_, parse_filters
from memlane.models import IDENTITY_KEYS, SCOPE_KEYS, Message, Scope, is_profile_key, profile_key
from memlane.text import is_utf8

__all__ = [
    "check_text",
    "clean_metadata",
    "expiration_filter",
    "normalize_messages",
    "owner_filter",
    "owner_scope",
    "parse_expiration",
    "parse_timestamp",
    "require_plain_scope",
    "resolve_scope",
    "validate_id",
    "validate_profile_key",
    "validate_query",
    "validate_threshold",
    "validate_top_k",
]

logger = logging.getLogger("memlane")

MAX_TOP_K = 10_000
_BAD_ID = re.compile(r"[\s\x00-\x1f\x7f]")
_ROLES_DROPPED = frozenset({"system"})


def validate_id(name: str, value: Any) -> str:
    """A non-empty id string with no whitespace or control characters, at most 256 chars."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}: {value!r}")
    if not value:
        raise InvalidInputError(f"{name} must not be empty")
    if _BAD_ID.search(value):
        raise InvalidInputError(f"{name} must not contain whitespace or control characters: {value!r}")
    if len(value) > 256:
        raise InvalidInputError(f"{name} is longer than 256 characters")
    return check_text(name, value)


def check_text(name: str, value: str) -> str:
    """``value`` unchanged, or ``InvalidInputError`` if it cannot be stored as UTF-8."""
    if not is_utf8(value):
        raise InvalidInputError(f"{name} is not valid Unicode (it holds a lone surrogate)")
    return value


def resolve_scope(
    ids: Mapping[str, Any],
    filters: Mapping[str, Any] | None,
    *,
    require: bool = True,
) -> tuple[Scope, Filter]:
    """Merge top-level ids (mem0 1.x) and ids inside ``filters`` (2.x) into a scope and a filter.

    Returns the scope (plain ids) and the full filter: the scope's equality conditions ANDed
    with every other condition. Raises when an id is given twice with different values, or
    when ``require`` and no user, agent or run id is given in either place.
    """
    if filters is not None and not isinstance(filters, Mapping):
        raise InvalidInputError(f"filters must be a dict, got {type(filters).__name__}")
    rest = dict(filters or {})
    plain: dict[str, str] = {}
    for key in SCOPE_KEYS:
        top = ids.get(key)
        inner = rest.get(key)
        if top is not None:
            top = validate_id(key, top)
        if inner is not None and not isinstance(inner, (str, Mapping)):
            # an id, "*" or an operator dict; anything else would match nothing, silently
            raise InvalidInputError(
                f"{key} in filters must be a string, '*' or an operator dict, got {inner!r}"
            )
        if isinstance(inner, str) and inner != "*":
            rest.pop(key)
            inner = validate_id(key, inner)
            if top is not None and top != inner:
                raise InvalidInputError(f"{key} given twice with different values: {top!r}, {inner!r}")
            top = inner
        if top is not None:
            plain[key] = top
    scope = Scope(**plain)
    if require and scope.is_empty() and not any(k in rest for k in SCOPE_KEYS):
        raise InvalidInputError(
            "give at least one of user_id, agent_id or run_id (as an argument or in filters)"
        )
    conditions = [Cond(k, "eq", v) for k, v in plain.items()]
    return scope, and_(*conditions, parse_filters(rest))


def validate_query(query: Any) -> str:
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidInputError("query must not be empty")
    return check_text("query", query)


def validate_top_k(top_k: Any, limit: Any, default: int) -> int:
    """``top_k`` (2.x) or ``limit`` (1.x): an int from 0 to 10,000."""
    if top_k is not None and limit is not None and top_k != limit:
        raise InvalidInputError(f"top_k={top_k!r} and limit={limit!r} disagree; give one of them")
    value = top_k if top_k is not None else limit
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"top_k must be an int, got {type(value).__name__}: {value!r}")
    if not 0 <= value <= MAX_TOP_K:
        raise InvalidInputError(f"top_k must be between 0 and {MAX_TOP_K}, got {value}")
    return value


def validate_threshold(threshold: Any) -> float | None:
    """None or a similarity in [0, 1] (higher is better)."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InvalidInputError(f"threshold must be a number in [0, 1], got {threshold!r}")
    if math.isnan(threshold) or not 0.0 <= threshold <= 1.0:
        raise InvalidInputError(f"threshold must be in [0, 1] (higher is more similar), got {threshold}")
    return float(threshold)


def clean_metadata(metadata: Any) -> dict[str, Any]:
    """A JSON-serialisable copy of caller metadata with identity keys stripped (and logged)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"metadata keys must be non-empty strings, got {key!r}")
        if key in IDENTITY_KEYS:
            logger.warning("metadata key %r ignored: identity keys are set by arguments only", key)
            continue
        out[key] = value
    try:  # the round trip also turns nested non-string keys into strings, as storage would
        encoded = json.dumps(out, allow_nan=False, ensure_ascii=False)
        out = json.loads(check_text("metadata", encoded))
    except RecursionError:
        raise InvalidInputError("metadata is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"metadata must be JSON-serialisable: {exc}") from None
    if _has_nul(out):  # SQLite's JSON functions cut strings at NUL; PostgreSQL's jsonb refuses it
        raise InvalidInputError("metadata keys and values must not contain NUL characters")
    return out


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def normalize_messages(messages: Any) -> list[Message]:
    """mem0's message forms as ``Message`` records; system messages and empty contents dropped."""
    if isinstance(messages, str):
        raw: list[Any] = [{"role": "user", "content": messages}]
    elif isinstance(messages, Mapping):
        raw = [messages]
    elif isinstance(messages, list):
        raw = messages
    else:
        raise InvalidInputError(
            "messages must be a string, a message dict or a list of message dicts, "
            f"got {type(messages).__name__}"
        )
    out: list[Message] = []
    for index, item in enumerate(raw):
        message = _message(index, item)
        if message is not None:
            out.append(message)
    if not out:
        raise InvalidInputError("messages hold no user or assistant text to remember")
    return out


def _message(index: int, item: Any) -> Message | None:
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"message {index} must be a dict, got {type(item).__name__}")
    role = item.get("role", "user")
    if not isinstance(role, str) or not role.strip():
        raise InvalidInputError(f"message {index}: role must be a non-empty string, got {role!r}")
    if "content" not in item:
        raise InvalidInputError(f"message {index} has no 'content'")
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInputError(f"message {index}: name must be a non-empty string, got {name!r}")
    content, images = _content_parts(index, item["content"])
    for label, text in (("role", role), ("name", name or ""), ("content", content)):
        check_text(f"message {index} {label}", text)
    if role in _ROLES_DROPPED or not (content.strip() or images):
        return None
    extra = clean_metadata(item.get("metadata"))
    return Message(role, content, name.strip() if name else None, images=images, metadata=extra)


def _content_parts(index: int, content: Any) -> tuple[str, tuple[str, ...]]:
    """The text of a message content (a string or a list of parts) and its image URLs."""
    if isinstance(content, str):
        return content, ()
    parts = [content] if isinstance(content, Mapping) else content
    if not isinstance(parts, list):
        raise InvalidInputError(
            f"message {index}: content must be a string or a list of parts, got {type(content).__name__}"
        )
    texts: list[str] = []
    images: list[str] = []
    for part in parts:
        if not isinstance(part, Mapping):
            raise InvalidInputError(f"message {index}: content parts must be dicts, got {part!r}")
        if part.get("type") == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidInputError(f"message {index}: a text part needs a string 'text'")
            texts.append(text)
        elif part.get("type") == "image_url":
            images.append(_image_url(index, part.get("image_url")))
    return "\n".join(texts), tuple(images)


def _image_url(index: int, value: Any) -> str:
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        raise InvalidInputError(f"message {index}: an image_url part needs a URL string")
    return url


def parse_timestamp(value: Any, name: str = "timestamp") -> str | None:
    """An observation time (datetime, date, ISO string or Unix seconds) as UTC ISO-8601."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a datetime, ISO string or Unix time, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InvalidInputError(f"{name} must be finite, got {value!r}")
        try:
            return datetime.fromtimestamp(value, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidInputError(f"{name} {value!r} is out of range: {exc}") from None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{name} {value!r} is not an ISO-8601 date or time") from None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC).isoformat()
        except OverflowError:
            raise InvalidInputError(f"{name} {value!r} is out of range") from None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    raise InvalidInputError(f"{name} must be a datetime, ISO string or Unix time, got {value!r}")


def parse_expiration(value: Any) -> str | None:
    """An expiration date (YYYY-MM-DD string, date or datetime) as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise InvalidInputError(f"expiration_date must be YYYY-MM-DD, a date or a datetime, got {value!r}")


def owner_filter(scope: Scope) -> Filter:
    """Whose existing memories an add() may change: the user's (any agent or run), else the
    agent's, else the run's."""
    key, value = next(iter(scope.as_dict().items()))
    return Cond(key, "eq", value)


def owner_scope(scope: Scope) -> Scope:
    """The owner of a scope alone: its user, else its agent, else its run. A profile belongs to
    the owner, so all of a user's agents and runs share the user's profile."""
    key, value = next(iter(scope.as_dict().items()))
    return Scope(**{key: value})


def validate_profile_key(key: Any) -> str:
    """A profile slot key: snake_case, at most 40 characters (``home_city``)."""
    if not isinstance(key, str):
        raise InvalidInputError(f"a profile key must be a string, got {type(key).__name__}: {key!r}")
    if not is_profile_key(key):
        hint = profile_key(check_text("key", key))
        suggestion = f" (did you mean {hint!r}?)" if is_profile_key(hint) else ""
        raise InvalidInputError(
            f"profile key {key[:60]!r} must be snake_case, at most 40 characters{suggestion}"
        )
    return key


def require_plain_scope(scope: Scope, call: str) -> None:
    """``call`` writes or deletes: it needs a plain id, never only a pattern like ``"*"``."""
    if scope.is_empty():
        raise InvalidInputError(
            f"{call}() needs a plain user_id, agent_id or run_id (a pattern like '*' is not enough)"
        )


def expiration_filter(today: str | None = None) -> Filter:
    """Memories with no expiration date, or one not yet passed on ``today`` (default: today, UTC)."""
    today = today or datetime.now(UTC).date().isoformat()
    return Or((Not(Cond("expiration_date", "exists")), Cond("expiration_date", "gte", today)))
