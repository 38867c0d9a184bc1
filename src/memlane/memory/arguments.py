"""The other arguments of the public calls: texts and their sizes, queries, ``top_k`` and paging,
``threshold``, profile keys; and the defaults they fall back to. Pure."""

from __future__ import annotations

import math
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import is_utf8
from memlane.models import is_profile_key, profile_key

__all__ = [
    "LIST_PAGE_SIZE",
    "LIST_TOP_K",
    "MAX_MESSAGE_CHARS",
    "MAX_TOP_K",
    "SEARCH_TOP_K",
    "check_size",
    "check_text",
    "page_links",
    "validate_paging",
    "validate_profile_key",
    "validate_query",
    "validate_text",
    "validate_threshold",
    "validate_top_k",
]

SEARCH_TOP_K = 20
"""How many memories ``search`` returns when given no ``top_k`` (or ``limit``)."""
LIST_TOP_K = 100
"""How many memories ``get_all`` returns when given no ``top_k`` (or ``limit``) nor paging."""
MAX_TOP_K = 10_000
"""The largest ``top_k`` of a search (a listing takes any size, and pages)."""
LIST_PAGE_SIZE = 100
"""A page's size when ``get_all(page=...)`` is given no ``page_size`` nor ``top_k``."""
_ALL = 2**62
"""Sizes above this mean "all" (and stay within what SQL's LIMIT takes)."""
MAX_MESSAGE_CHARS = 100_000
"""The most characters one message (or an ``update`` text) may hold."""


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
