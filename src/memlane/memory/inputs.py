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
from memlane.filters import Cond, Filter, Not, Or, and_, clean_id, clean_name, parse_filters
from memlane.models import IDENTITY_KEYS, SCOPE_KEYS, Message, Scope, is_profile_key, profile_key
from memlane.text import is_utf8

__all__ = [
    "CREATED_AT",
    "MAX_ADD_CHARS",
    "MAX_MESSAGE_CHARS",
    "check_size",
    "check_text",
    "clean_metadata",
    "expiration_filter",
    "normalize_messages",
    "owner_filter",
    "owner_scope",
    "page_links",
    "parse_expiration",
    "parse_timestamp",
    "require_plain_scope",
    "resolve_scope",
    "update_metadata",
    "validate_id",
    "validate_profile_key",
    "validate_query",
    "validate_paging",
    "validate_text",
    "validate_threshold",
    "validate_top_k",
]

logger = logging.getLogger("memlane")

MAX_TOP_K = 10_000
"""The largest ``top_k`` of a search (a listing takes any size, and pages)."""
LIST_PAGE_SIZE = 100
"""A page's size when ``get_all(page=...)`` is given no ``page_size`` nor ``top_k``."""
_ALL = 2**62
"""Sizes above this mean "all" (and stay within what SQL's LIMIT takes)."""
MAX_MESSAGE_CHARS = 100_000
"""The most characters one message (or an ``update`` text) may hold."""
MAX_ADD_CHARS = 1_000_000
"""The most characters the messages of one ``add()`` call may hold together."""
_ROLES_DROPPED = frozenset({"system"})


def validate_id(name: str, value: Any) -> str:
    """An id (``filters.clean_id``): a string, or an int turned into one (as mem0 does), trimmed;
    non-empty, never ``"*"``, no whitespace, control, zero-width or bidi-override characters,
    at most 256 characters."""
    return clean_id(name, value)


def validate_text(name: str, value: Any) -> str:
    """A non-empty (not only whitespace) string that can be stored."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string")
    return check_text(name, value)


def check_size(name: str, value: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``value`` unchanged, or ``InvalidInputError`` when it holds more than ``limit`` characters."""
    if len(value) > limit:
        raise InvalidInputError(
            f"{name} holds {len(value):,} characters, more than the limit of {limit:,}: "
            "split the text into several messages or add() calls"
        )
    return value


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
        if inner is not None and not isinstance(inner, Mapping):
            # a plain value is an id, never a pattern: "*" is refused like any other bad id
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


def validate_top_k(top_k: Any, limit: Any, default: int, *, maximum: int | None = MAX_TOP_K) -> int:
    """``top_k`` (2.x) or ``limit`` (1.x): an int from 0 to ``maximum`` (None: any size).

    Errors name the parameter the caller gave."""
    if top_k is not None and limit is not None and top_k != limit:
        raise InvalidInputError(f"top_k={top_k!r} and limit={limit!r} disagree; give one of them")
    name, value = ("top_k", top_k) if top_k is not None else ("limit", limit)
    if value is None:
        return default
    value = _count(name, value, 0)
    if maximum is not None and value > maximum:
        raise InvalidInputError(f"{name} must be between 0 and {maximum:,}, got {value:,}")
    return min(value, _ALL)


def validate_paging(page: Any, page_size: Any, top_k: int | None) -> tuple[int, int] | None:
    """``(page, page_size)`` of a paged listing (page 1-based; page_size default ``top_k``, else
    100), or None when neither is given."""
    if page is None and page_size is None:
        return None
    number = 1 if page is None else _count("page", page, 1)
    if page_size is not None:
        size = _count("page_size", page_size, 1)
        if top_k is not None and size != top_k:
            raise InvalidInputError(f"page_size={size} and top_k/limit={top_k} disagree; give one of them")
    elif top_k is not None:
        size = _count("top_k/limit (the page size)", top_k, 1)
    else:
        size = LIST_PAGE_SIZE
    return number, min(size, _ALL)


def page_links(page: int, page_size: int, count: int) -> dict[str, Any]:
    """The paging keys of a paged listing: the total ``count`` and the neighbouring pages."""
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "next": page + 1 if page * page_size < count else None,
        "previous": page - 1 if page > 1 else None,
    }


def _count(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < least:
        raise InvalidInputError(f"{name} must be {least} or more, got {value}")
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


CREATED_AT = "created_at"
"""The metadata key that sets a new memory's ``created_at`` (mem0's; imports rely on it)."""


def clean_metadata(metadata: Any) -> dict[str, Any]:
    """A JSON-serialisable copy of caller metadata with identity keys stripped (and logged), and
    its ``created_at``, if any, checked and made UTC ISO-8601 (``add`` takes it out of the
    metadata: it becomes the memory's ``created_at``)."""
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
        out[key] = parse_timestamp(value, "metadata created_at") if key == CREATED_AT else value
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


def update_metadata(metadata: Any) -> dict[str, Any]:
    """``clean_metadata`` for ``update()``: a memory's ``created_at`` is set when it is added, so
    a ``created_at`` key is dropped (and logged)."""
    out = clean_metadata(metadata)
    if out.pop(CREATED_AT, None) is not None:
        logger.warning("metadata key 'created_at' ignored: a memory's creation time is set by add()")
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
    total = 0
    for index, item in enumerate(raw):
        message = _message(index, item)
        if message is not None:
            out.append(message)
            total += len(message.content)
    if not out:
        raise InvalidInputError("messages hold no user or assistant text to remember")
    if total > MAX_ADD_CHARS:
        raise InvalidInputError(
            f"the messages hold {total:,} characters in all, more than the limit of {MAX_ADD_CHARS:,} "
            "per add() call: split the text into several add() calls"
        )
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
    if name is not None:  # the name becomes the memory's actor_id: an id-like value
        if not isinstance(name, str):
            raise InvalidInputError(f"message {index}: name must be a string, got {name!r}")
        name = clean_name(f"message {index}: name", name)
    content, images = _content_parts(index, item["content"])
    for label, text in (("role", role), ("name", name or ""), ("content", content)):
        check_text(f"message {index} {label}", text)
    check_size(f"message {index}", content)
    if role in _ROLES_DROPPED or not (content.strip() or images):
        return None
    extra = clean_metadata(item.get("metadata"))
    return Message(role, content, name, images=images, metadata=extra)


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


_UNIX_SECONDS = re.compile(r"^[+-]?\d+(\.\d+)?$")
_BASIC_DATE = re.compile(r"^\d{8}$")
"""Eight digits are an ISO-8601 basic date (``20240501``), never Unix seconds (that is 1970-08-23)."""
MIN_YEAR, MAX_YEAR = 1900, 9999
"""The years a date or time may name (Unix seconds: from 0, 1970-01-01, to the end of 9999)."""
_MAX_UNIX = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_TIME_FORMS = "a datetime, a date, an ISO-8601 string or Unix seconds"


def parse_timestamp(value: Any, name: str = "timestamp") -> str | None:
    """A time (``add``'s ``timestamp``, ``search``'s ``reference_date``, ``as_of``) as UTC ISO-8601.

    Takes a datetime (naive means UTC), a date, an ISO-8601 string (``20240501`` included) or
    Unix seconds (an int, a float or a string of digits other than eight); years 1900 to 9999,
    Unix seconds from 0.
    """
    if value is None:
        return None
    moment = _moment(value, name)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInputError(f"{name} {value!r} is out of range") from None
    _check_year(name, value, utc)
    return utc.isoformat()


def parse_expiration(value: Any) -> str | None:
    """An expiration date as YYYY-MM-DD: the date a datetime or ISO string names (as written),
    a date, or the UTC date of Unix seconds."""
    if value is None:
        return None
    moment = _moment(value, "expiration_date")
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


def _moment(value: Any, name: str) -> datetime | date:
    """``value`` as a datetime (as given: aware or naive) or a date, its year in range."""
    if isinstance(value, str) and _UNIX_SECONDS.match(value.strip()) and not _BASIC_DATE.match(value.strip()):
        value = float(value)
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be {_TIME_FORMS}, got {value!r}")
    if isinstance(value, (int, float)):
        return _from_unix(value, name)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{name} {value!r} is not an ISO-8601 date or time") from None
    if not isinstance(value, (datetime, date)):
        raise InvalidInputError(f"{name} must be {_TIME_FORMS}, got {value!r}")
    _check_year(name, value, value)
    return value


def _from_unix(value: float, name: str) -> datetime:
    if not math.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    if value < 0:
        raise InvalidInputError(
            f"{name} {value!r} is negative: Unix seconds start at 0 (1970-01-01); "
            "give an earlier time as an ISO-8601 date"
        )
    if value > _MAX_UNIX:
        raise InvalidInputError(
            f"{name} {value!r} is out of range: Unix seconds end at {_MAX_UNIX:.0f} (year {MAX_YEAR})"
        )
    return datetime.fromtimestamp(value, tz=UTC)


def _check_year(name: str, given: Any, moment: date) -> None:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInputError(f"{name} {given!r} is out of range: use a year from {MIN_YEAR} to {MAX_YEAR}")


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
    """``call`` writes or deletes: it needs a plain id, never only a condition on one."""
    if scope.is_empty():
        raise InvalidInputError(
            f"{call}() needs a plain user_id, agent_id or run_id (an operator such as 'in' or "
            "'exists' is not enough)"
        )


def expiration_filter(today: str | None = None) -> Filter:
    """Memories with no expiration date, or one not yet passed on ``today`` (default: today, UTC)."""
    today = today or datetime.now(UTC).date().isoformat()
    return Or((Not(Cond("expiration_date", "exists")), Cond("expiration_date", "gte", today)))
