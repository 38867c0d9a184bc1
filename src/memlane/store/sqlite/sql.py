"""Compiling parsed filters into parameterised SQLite WHERE clauses (no value or key is inlined).

Columns compare directly. A metadata key is read with SQLite's JSON functions: a scalar compares
as itself; a list or an object is never equal to, or ordered against, a scalar, and a list's
elements are what ``contains`` / ``icontains`` (some string element equals the value) and
``in`` / ``nin`` (some element is one of the values) look at, through ``json_each``. The
semantics are the filter language's (``memlane.filters``).
"""

from __future__ import annotations

from typing import Any

from memlane.filters import RECORD_FIELDS, All, And, Cond, Filter, Not, Or

__all__ = ["compile_filter"]

_COMPARE = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def compile_filter(where: Filter, alias: str = "m") -> tuple[str, list[Any]]:
    """``(sql, params)`` for ``where`` over the memories table aliased ``alias``."""
    params: list[Any] = []
    return _compile(where, alias, params), params


def _compile(node: Filter, alias: str, params: list[Any]) -> str:
    if isinstance(node, All):
        return "1"
    if isinstance(node, And):
        return "(" + " AND ".join(_compile(i, alias, params) for i in node.items) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_compile(i, alias, params) for i in node.items) + ")"
    if isinstance(node, Not):
        # a condition on a missing key is NULL, not false: without coalesce, NOT would drop
        # the memories that lack the key instead of keeping them
        return f"(NOT coalesce({_compile(node.item, alias, params)}, 0))"
    if node.field in RECORD_FIELDS:
        return _column_cond(node, f"{alias}.{node.field}", params)
    return _metadata_cond(node, alias, params)


def _column_cond(cond: Cond, column: str, params: list[Any]) -> str:
    op, value = cond.op, cond.value
    if op == "exists":
        return f"({column} IS NOT NULL)"
    if op in _COMPARE:
        params.append(value)
        return f"({column} {_COMPARE[op]} ?)"
    if op == "ne":
        params.append(value)
        return f"({column} IS NULL OR {column} != ?)"
    if op in ("in", "nin"):
        params.extend(value)
        marks = ", ".join("?" for _ in value)
        if op == "in":
            return f"({column} IN ({marks}))"
        return f"({column} IS NULL OR {column} NOT IN ({marks}))"
    params.append(value)
    if op == "contains":
        return f"(instr(CAST({column} AS TEXT), ?) > 0)"
    return f"(instr(lower(CAST({column} AS TEXT)), lower(?)) > 0)"


def _metadata_cond(cond: Cond, alias: str, params: list[Any]) -> str:
    """A condition on a metadata key; the key's JSON path is always a parameter."""
    path = '$."' + cond.field + '"'
    meta = f"{alias}.metadata"
    # the key's value when it is a scalar; NULL when it is missing, null, a list or an object
    scalar = (
        f"(CASE json_type({meta}, ?) WHEN 'array' THEN NULL WHEN 'object' THEN NULL "
        f"ELSE json_extract({meta}, ?) END)"
    )
    elements = f"json_type({meta}, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each({meta}, ?) AS e WHERE"
    op, value = cond.op, cond.value
    if op == "exists":
        params.append(path)
        return f"(json_extract({meta}, ?) IS NOT NULL)"
    if op in _COMPARE:
        params.extend([path, path, value])
        return f"({scalar} {_COMPARE[op]} ?)"
    if op == "ne":
        params.extend([path, path, path, path, value])
        return f"({scalar} IS NULL OR {scalar} != ?)"
    if op in ("in", "nin"):
        marks = ", ".join("?" for _ in value)
        params.extend([path, path, *value, path, path, *value])
        member = (
            f"({scalar} IN ({marks}) "
            f"OR ({elements} e.type NOT IN ('array', 'object') AND e.value IN ({marks}))))"
        )
        return member if op == "in" else f"(NOT coalesce({member}, 0))"
    params.extend([path, path, value, path, path, value])
    if op == "contains":
        return f"(instr(CAST({scalar} AS TEXT), ?) > 0 OR ({elements} e.type = 'text' AND e.value = ?)))"
    return (
        f"(instr(lower(CAST({scalar} AS TEXT)), lower(?)) > 0 "
        f"OR ({elements} e.type = 'text' AND lower(e.value) = lower(?))))"
    )
