"""Compiling parsed filters into PostgreSQL boolean expressions (psycopg ``sql.Composed``).

Every value and key is bound inside the expression as a ``sql.Literal`` (quoted by psycopg,
never formatted into the text), so a compiled filter is a complete, parameter-free SQL
fragment: run the statements that embed one WITHOUT a params argument (a literal may hold a
``%``, which psycopg would read as a placeholder when params are given), writing every other
value as a ``sql.Literal`` too.

``live_where`` is what the stores' readers and the search module use: the memories table
aliased ``m``, the store's tenant, live rows only, and the filter.

Columns compare directly (text, bytewise: the schema's "C" collation). A metadata key is read
from the JSONB column: a scalar compares as itself (strings with strings, numbers with
numbers, booleans with booleans); a list or an object is never equal to, or ordered against, a
scalar, and a list's elements are what ``contains`` / ``icontains`` (some string element equals
the value) and ``in`` / ``nin`` (some element is one of the values) look at. The semantics are
the filter language's (``memlane.filters``), as the SQLite store implements them.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

from memlane.filters import RECORD_FIELDS, All, And, Cond, Filter, Not, Or

__all__ = ["compile_filter", "ident", "live_where", "literals"]

_COMPARE = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TRUE = sql.SQL("TRUE")


def live_where(where: Filter, tenant: str, alias: str = "m") -> sql.Composed:
    """The live memories of ``tenant`` matching ``where``, over the memories table aliased ``alias``."""
    table = sql.Identifier(alias)
    return sql.SQL("({t}.tenant = {tenant} AND {t}.deleted_at IS NULL AND {cond})").format(
        t=table, tenant=sql.Literal(tenant), cond=compile_filter(where, alias)
    )


def compile_filter(where: Filter, alias: str = "m") -> sql.Composable:
    """``where`` as a boolean expression over the memories table aliased ``alias`` (no tenant,
    no liveness: ``live_where`` adds them)."""
    return _compile(where, sql.Identifier(alias))


def literals(values: Any) -> sql.Composed:
    """A comma-separated list of literals (for ``IN (...)``)."""
    return sql.SQL(", ").join(sql.Literal(v) for v in values)


def ident(*names: str) -> sql.Composed:
    """A comma-separated list of identifiers (column lists)."""
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _compile(node: Filter, alias: sql.Identifier) -> sql.Composable:
    if isinstance(node, All):
        return _TRUE
    if isinstance(node, (And, Or)):
        joiner = sql.SQL(" AND " if isinstance(node, And) else " OR ")
        return sql.SQL("({})").format(joiner.join(_compile(i, alias) for i in node.items))
    if isinstance(node, Not):
        # a condition on a missing key is NULL, not false: without coalesce, NOT would drop
        # the memories that lack the key instead of keeping them
        return sql.SQL("(NOT coalesce({}, FALSE))").format(_compile(node.item, alias))
    if node.field in RECORD_FIELDS:
        return _column_cond(node, sql.SQL("{}.{}").format(alias, sql.Identifier(node.field)))
    return _metadata_cond(node, sql.SQL("({}.metadata -> {})").format(alias, sql.Literal(node.field)))


def _text(value: Any) -> str:
    """A filter value as a text column sees it (SQLite's text affinity: True is 1)."""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _column_cond(cond: Cond, column: sql.Composable) -> sql.Composable:
    op, value = cond.op, cond.value
    if op == "exists":
        return sql.SQL("({} IS NOT NULL)").format(column)
    if op in _COMPARE:
        return sql.SQL("({} {} {})").format(column, sql.SQL(_COMPARE[op]), sql.Literal(_text(value)))
    if op == "ne":
        return sql.SQL("({c} IS NULL OR {c} <> {v})").format(c=column, v=sql.Literal(_text(value)))
    if op in ("in", "nin"):
        values = literals(_text(v) for v in value)
        if op == "in":
            return sql.SQL("({} IN ({}))").format(column, values)
        return sql.SQL("({c} IS NULL OR {c} NOT IN ({v}))").format(c=column, v=values)
    if op == "contains":
        return sql.SQL("(strpos({}, {}) > 0)").format(column, sql.Literal(value))
    return sql.SQL("(strpos(lower({}), lower({})) > 0)").format(column, sql.Literal(value))


def _jsonb(value: Any) -> sql.Composed:
    return sql.SQL("{}::jsonb").format(sql.Literal(json.dumps(value, ensure_ascii=False)))


def _typed(value: Any, node: sql.Composable) -> tuple[sql.Composable, sql.Composable]:
    """The JSON scalar ``node`` as a SQL value of ``value``'s type (NULL when its JSON type
    differs), and ``value`` as a SQL literal of that type."""
    literal: sql.Composable
    if isinstance(value, bool):
        kind, cast, literal = "boolean", sql.SQL("::boolean"), sql.Literal(value)
    elif isinstance(value, (int, float)):
        literal = sql.SQL("{}::numeric").format(sql.Literal(value))
        kind, cast = "number", sql.SQL("::numeric")
    else:
        kind, cast, literal = "string", sql.SQL(""), sql.SQL('{} COLLATE "C"').format(sql.Literal(value))
    typed = sql.SQL("(CASE WHEN jsonb_typeof({n}) = {k} THEN ({n} #>> '{{}}'){c} END)").format(
        n=node, k=sql.Literal(kind), c=cast
    )
    return typed, literal


def _elements(node: sql.Composable) -> sql.Composed:
    """The elements of ``node`` when it is a list (none otherwise), as rows ``e(x)``."""
    return sql.SQL(
        "jsonb_array_elements(CASE WHEN jsonb_typeof({n}) = 'array' THEN {n} ELSE '[]'::jsonb END) AS e(x)"
    ).format(n=node)


def _metadata_cond(cond: Cond, node: sql.Composable) -> sql.Composable:
    """A condition on the metadata key whose JSONB value is ``node`` (NULL when missing)."""
    op, value = cond.op, cond.value
    if op == "exists":
        return sql.SQL("(coalesce(jsonb_typeof({}) <> 'null', FALSE))").format(node)
    if op == "eq":
        return sql.SQL("({} = {})").format(node, _jsonb(value))
    if op in _COMPARE:
        typed, literal = _typed(value, node)
        return sql.SQL("({} {} {})").format(typed, sql.SQL(_COMPARE[op]), literal)
    if op == "ne":
        return sql.SQL("(NOT coalesce({} = {}, FALSE))").format(node, _jsonb(value))
    if op in ("in", "nin"):
        options = sql.SQL("ARRAY[{}]").format(sql.SQL(", ").join(_jsonb(v) for v in value))
        member = sql.SQL("({n} = ANY({o}) OR EXISTS (SELECT 1 FROM {e} WHERE e.x = ANY({o})))").format(
            n=node, o=options, e=_elements(node)
        )
        return member if op == "in" else sql.SQL("(NOT coalesce({}, FALSE))").format(member)
    scalar = sql.SQL("(CASE WHEN jsonb_typeof({n}) IN ('string', 'number') THEN {n} #>> '{{}}' END)").format(
        n=node
    )
    element: sql.Composable = sql.SQL("(CASE WHEN jsonb_typeof(e.x) = 'string' THEN e.x #>> '{}' END)")
    literal = sql.Literal(value)
    if op == "icontains":
        scalar = sql.SQL("lower({})").format(scalar)
        element = sql.SQL("lower({})").format(element)
        literal = sql.SQL("lower({})").format(literal)
    return sql.SQL(
        "(coalesce(strpos({s}, {v}) > 0, FALSE) OR EXISTS (SELECT 1 FROM {e} WHERE {x} = {v}))"
    ).format(s=scalar, v=literal, e=_elements(node), x=element)
