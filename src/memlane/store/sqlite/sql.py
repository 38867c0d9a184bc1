"""Compiling parsed filters into parameterised SQLite WHERE clauses (no value or key is inlined)."""

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
    return _cond(node, alias, params)


def _field(name: str, alias: str) -> tuple[str, list[Any]]:
    if name in RECORD_FIELDS:
        return f"{alias}.{name}", []
    return f"json_extract({alias}.metadata, ?)", ['$."' + name + '"']


def _cond(cond: Cond, alias: str, params: list[Any]) -> str:
    column, path = _field(cond.field, alias)
    op, value = cond.op, cond.value
    if op == "exists":
        params.extend(path)
        return f"({column} IS NOT NULL)"
    if op in _COMPARE:
        params.extend([*path, value])
        return f"({column} {_COMPARE[op]} ?)"
    if op == "ne":
        params.extend([*path, *path, value])
        return f"({column} IS NULL OR {column} != ?)"
    if op in ("in", "nin"):
        marks = ", ".join("?" for _ in value)
        if op == "in":
            params.extend([*path, *value])
            return f"({column} IN ({marks}))"
        params.extend([*path, *path, *value])
        return f"({column} IS NULL OR {column} NOT IN ({marks}))"
    params.extend([*path, value])
    if op == "contains":
        return f"(instr(CAST({column} AS TEXT), ?) > 0)"
    return f"(instr(lower(CAST({column} AS TEXT)), lower(?)) > 0)"
