"""Graph questions on FalkorDB: a validated Cypher statement, run read-only with a time limit.

The statement has passed ``memlane.graph.query.validate_cypher`` (read-only clauses, the scope
bound in every pattern, ``LIMIT`` set). It runs as ``GRAPH.RO_QUERY`` (the server itself
refuses any write) with FalkorDB's ``TIMEOUT``. Values come back plain: a node as its name, a
relationship as its triple, a path as its triples, a map without the name vector; the relations
the rows hold (and those of the columns the validator added) are read whole, with their
supporting memories.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from memlane.errors import InvalidInputError, StoreError
from memlane.graph.models import Relation
from memlane.graph.query.models import GraphQueryOutcome, ValidatedCypher
from memlane.graph.query.rules import HIDDEN_PREFIX
from memlane.models import Scope

__all__ = ["run_cypher"]

RelationsById = Callable[[list[str]], list[Relation]]
_UNSHOWN = frozenset({"embedding"})
_UNREACHABLE = {"ConnectionError", "TimeoutError", "AuthenticationError", "OSError"}


def run_cypher(
    graph: Any, relations_by_ids: RelationsById, validated: ValidatedCypher, scope: Scope, timeout_ms: int
) -> GraphQueryOutcome:
    """Run ``validated`` on the SDK's ``graph`` (read-only, at most ``timeout_ms``)."""
    try:
        result = graph.ro_query(validated.text, dict(validated.parameters), timeout=timeout_ms)
    except Exception as exc:
        raise _error(exc, timeout_ms) from exc
    header = [str(column[1]) for column in result.header]
    raw_rows: list[list[Any]] = list(result.result_set)[: validated.limit]
    ids: dict[str, None] = {}
    for raw in raw_rows:
        for value in raw:
            _relation_ids(value, ids)
    found = {r.id: r for r in relations_by_ids(list(ids)) if _within(r, scope)}
    hidden = {name for name in header if name.startswith(HIDDEN_PREFIX)} | set(validated.relation_columns)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in raw_rows:
        row = {
            name: _plain(value, found) for name, value in zip(header, raw, strict=True) if name not in hidden
        }
        if validated.distinct:
            key = json.dumps(row, sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
        rows.append(row)
    return GraphQueryOutcome(
        dialect="cypher",
        query=validated.text,
        parameters=dict(validated.parameters),
        rows=rows,
        relations=[found[i] for i in ids if i in found],
    )


def _error(exc: Exception, timeout_ms: int) -> Exception:
    text = str(exc)
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "timed out" in text.lower() and not names & _UNREACHABLE:
        return StoreError(
            f"the graph query ran longer than {timeout_ms} ms and was stopped: ask a narrower "
            "question or allow more time (timeout_ms)"
        )
    if names & _UNREACHABLE:
        return StoreError(f"FalkorDB: {type(exc).__name__}: {text}")
    return InvalidInputError(f"FalkorDB could not run the query: {text}")


def _kind(value: Any) -> str:
    """``Node``, ``Edge`` or ``Path`` for the SDK's graph values; "" for anything else."""
    cls = type(value)
    return cls.__name__ if cls.__module__.startswith("falkordb") else ""


def _relation_ids(value: Any, out: dict[str, None]) -> None:
    kind = _kind(value)
    if kind == "Edge":
        rel_id = value.properties.get("id")
        if isinstance(rel_id, str):
            out.setdefault(rel_id, None)
    elif kind == "Path":
        for edge in value.edges():
            _relation_ids(edge, out)
    elif isinstance(value, list):
        for item in value:
            _relation_ids(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _relation_ids(item, out)


def _plain(value: Any, relations: dict[str, Relation]) -> Any:
    """A result value as JSON data: entities by name, relations as triples."""
    kind = _kind(value)
    if kind == "Node":
        return value.properties.get("name")
    if kind == "Edge":
        relation = relations.get(value.properties.get("id"))
        return relation.triple() if relation is not None else None
    if kind == "Path":
        return [_plain(edge, relations) for edge in value.edges()]
    if isinstance(value, list):
        return [_plain(item, relations) for item in value]
    if isinstance(value, dict):  # properties(n), n {.*}: without the name vector
        return {str(k): _plain(v, relations) for k, v in value.items() if k not in _UNSHOWN}
    return value


def _within(relation: Relation, scope: Scope) -> bool:
    """Whether the relation belongs to the scope (each id the scope sets matches)."""
    have = relation.scope.as_dict()
    return all(have.get(key) == value for key, value in scope.as_dict().items())
