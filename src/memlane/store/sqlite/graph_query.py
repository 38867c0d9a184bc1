"""Graph questions on the SQLite graph: a ``QueryPlan`` run as one recursive query.

The model never writes SQL. Its plan (start entities, relationship names, direction, hops,
end filters) is validated by pydantic and becomes the parameters of one ``WITH RECURSIVE``
statement written here; the scope is bound by this code, in every table the query reads. A
path never uses a relation twice, the walk is capped (``WALK_ROWS``) and the answer holds at
most ``limit`` paths, shortest first.
"""

from __future__ import annotations

from typing import Any

from memlane.graph.query.models import GraphQueryOutcome
from memlane.graph.query.plan import QueryPlan
from memlane.graph.resolve import SELF_REFERENCES, normalize_name, sanitize_relationship, user_name
from memlane.models import Scope
from memlane.store.sqlite.graph_ops import SQLiteOps
from memlane.store.sqlite.graph_rows import scope_sql

__all__ = ["WALK_ROWS", "run_plan"]

WALK_ROWS = 10_000
"""At most this many steps are explored, whatever the plan."""

_DIRECTIONS = {
    "outgoing": ("r.source_id = w.entity_id", "r.destination_id"),
    "incoming": ("r.destination_id = w.entity_id", "r.source_id"),
    "both": (
        "(r.source_id = w.entity_id OR r.destination_id = w.entity_id)",
        "CASE WHEN r.source_id = w.entity_id THEN r.destination_id ELSE r.source_id END",
    ),
}


def _marks(items: list[Any]) -> str:
    return ", ".join("?" for _ in items)


def start_norms(plan: QueryPlan, scope: Scope) -> list[str]:
    """The normalised start names; "user", "I", "me"... stand for the scope's user."""
    me = normalize_name(user_name(scope))
    norms = [me if normalize_name(n) in SELF_REFERENCES else normalize_name(n) for n in plan.start]
    return [n for n in dict.fromkeys(norms) if n]


def plan_sql(plan: QueryPlan, scope: Scope, limit: int) -> tuple[str, list[Any]]:
    """The statement and its parameters: rows of (path of relation ids, hops, end name)."""
    norms = start_norms(plan, scope)
    where_e, scope_e = scope_sql(scope, "e")
    where_r, scope_r = scope_sql(scope, "r")
    join, step = _DIRECTIONS[plan.direction]
    walk_filter, walk_params = "", []
    if not plan.include_history:
        walk_filter += " AND r.invalidated_at IS NULL"
    names = [n for n in dict.fromkeys(sanitize_relationship(r) for r in plan.relationships) if n]
    if names:
        walk_filter += f" AND r.relationship IN ({_marks(names)})"
        walk_params += names
    end_filter, end_params = "", []
    ends = [n for n in dict.fromkeys(normalize_name(x) for x in plan.end_names) if n]
    if ends:
        end_filter += (
            f" AND w.entity_id IN (SELECT entity_id FROM graph_names WHERE norm IN ({_marks(ends)}))"
        )
        end_params += ends
    types = [t.casefold() for t in plan.end_types]
    if types:
        end_filter += f" AND lower(e.type) IN ({_marks(types)})"
        end_params += types
    sql = (
        "WITH RECURSIVE seeds(id) AS ("
        " SELECT DISTINCT n.entity_id FROM graph_names n JOIN graph_entities e ON e.id = n.entity_id"
        f" WHERE n.norm IN ({_marks(norms)}) AND {where_e}),"
        " walk(entity_id, depth, path) AS ("
        " SELECT id, 0, '' FROM seeds"
        " UNION ALL"
        f" SELECT {step}, w.depth + 1, w.path || r.id || ','"
        f" FROM walk w JOIN graph_relations r ON {join}"
        f" WHERE w.depth < ? AND {where_r}{walk_filter} AND instr(w.path, r.id) = 0"
        " LIMIT ?)"
        " SELECT w.path, w.depth, e.name FROM walk w JOIN graph_entities e ON e.id = w.entity_id"
        f" WHERE w.depth > 0{end_filter} ORDER BY w.depth, w.path LIMIT ?"
    )
    params = [*norms, *scope_e, plan.hops, *scope_r, *walk_params, WALK_ROWS, *end_params, limit]
    return sql, params


def run_plan(ops: SQLiteOps, scope: Scope, plan: QueryPlan, limit: int) -> GraphQueryOutcome:
    """The plan's paths in ``scope`` (a read filter), at most ``limit``, shortest first."""
    sql, params = plan_sql(plan, scope, limit)
    found = ops.conn.execute(sql, params).fetchall()
    paths = [([i for i in path.split(",") if i], int(hops), end) for path, hops, end in found]
    ids = list(dict.fromkeys(i for ids, _, _ in paths for i in ids))
    by_id = {r.id: r for r in ops.relations_by_ids(ids)}
    rows = [
        {"path": [by_id[i].triple() for i in path if i in by_id], "end": end, "hops": hops}
        for path, hops, end in paths
    ]
    return GraphQueryOutcome(
        dialect="plan",
        query=sql,
        parameters={str(n): value for n, value in enumerate(params, start=1)},
        rows=rows,
        relations=[by_id[i] for i in ids if i in by_id],
        warnings=_warnings(ops, scope, plan) if not rows else [],
    )


def _warnings(ops: SQLiteOps, scope: Scope, plan: QueryPlan) -> list[str]:
    """Why a plan found nothing: names or relationships the scope does not have."""
    out: list[str] = []
    known = set(ops.named_entities(scope, start_norms(plan, scope)))
    if not known:
        out.append(f"no entity of this scope is named {', '.join(map(repr, plan.start))}")
    names = [n for n in dict.fromkeys(sanitize_relationship(r) for r in plan.relationships) if n]
    if names:
        where, params = scope_sql(scope, "r")
        rows = ops.conn.execute(
            f"SELECT DISTINCT r.relationship FROM graph_relations r WHERE {where} "
            f"AND r.relationship IN ({_marks(names)})",
            [*params, *names],
        ).fetchall()
        missing = sorted(set(names) - {r[0] for r in rows})
        if missing:
            out.append(f"no relation of this scope is named {', '.join(missing)}")
    return out
