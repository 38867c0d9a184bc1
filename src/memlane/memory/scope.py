"""Whose memories a call reads or writes: ids checked, and the scope and filter they name. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import Cond, Filter, and_, clean_id, parse_filters
from memlane.models import SCOPE_KEYS, Scope

__all__ = [
    "exact_scope",
    "scope_ids",
    "owner_filter",
    "owner_scope",
    "require_plain_scope",
    "resolve_scope",
    "validate_id",
]


def scope_ids(user_id: Any, agent_id: Any, run_id: Any) -> dict[str, Any]:
    """The three scope arguments of a call, by key (for ``resolve_scope``)."""
    return {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}


def exact_scope(user_id: Any, agent_id: Any, run_id: Any) -> Scope:
    """The scope the ids given name (each checked; empty when none is given): every id given
    must match (``purge``, ``reprocess``)."""
    given = scope_ids(user_id, agent_id, run_id)
    return Scope(**{k: validate_id(k, v) for k, v in given.items() if v is not None})


def validate_id(name: str, value: Any) -> str:
    """An id (``filters.clean_id``): a string, or an int turned into one (as mem0 does), trimmed;
    non-empty, never ``"*"``, no whitespace, control, zero-width or bidi-override characters,
    at most 256 characters."""
    return clean_id(name, value)


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


def require_plain_scope(scope: Scope, call: str) -> None:
    """``call`` writes or deletes: it needs a plain id, never only a condition on one."""
    if scope.is_empty():
        raise InvalidInputError(
            f"{call}() needs a plain user_id, agent_id or run_id (an operator such as 'in' or "
            "'exists' is not enough)"
        )


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
