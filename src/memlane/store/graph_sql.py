"""SQL fragments both SQL graph back ends build (SQLite marks parameters ``?``, psycopg ``%s``)."""

from __future__ import annotations

from typing import Any

from memlane.models import SCOPE_KEYS, Scope

__all__ = ["scope_condition", "time_condition"]


def scope_condition(scope: Scope, alias: str, mark: str) -> tuple[str, list[Any]]:
    """``alias.user_id = ? AND ...`` for the ids the scope sets (a read or delete filter)."""
    ids = scope.as_dict()
    prefix = f"{alias}." if alias else ""
    return " AND ".join(f"{prefix}{key} = {mark}" for key in ids if key in SCOPE_KEYS), list(ids.values())


def time_condition(alias: str, as_of: str | None, mark: str) -> tuple[str, list[Any]]:
    """Relations current now, or current at record time ``as_of``."""
    if as_of is None:
        return f"{alias}.invalidated_at IS NULL", []
    return (
        f"{alias}.created_at <= {mark} AND "
        f"({alias}.invalidated_at IS NULL OR {alias}.invalidated_at > {mark})",
        [as_of, as_of],
    )
