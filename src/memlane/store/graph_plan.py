"""Graph questions on the SQL graphs (SQLite, PostgreSQL): a ``QueryPlan`` run as one recursive
query, written once here for both dialects.

The model never writes SQL. Its plan (start entities, relationship names, direction, hops,
end filters) is validated by pydantic and becomes the parameters of one ``WITH RECURSIVE``
statement written here; the scope (and on PostgreSQL the tenant) is bound by this code, in
every table the query reads. A path never uses a relation twice, the walk is capped
(``WALK_ROWS``) and the answer holds at most ``limit`` paths, shortest first. Both back ends
have the same tables and columns (``graph_entities``, ``graph_names``, ``graph_relations``), so
only the spelling differs (``PlanDialect``): parameter marks, the tenant, the substring
function and where the walk's cap goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from memlane.graph.models import Relation
from memlane.graph.query.models import GraphQueryOutcome
from memlane.graph.query.plan import QueryPlan
from memlane.graph.resolve import SELF_REFERENCES, normalize_name, sanitize_relationship, user_name
from memlane.models import Scope
from memlane.store.graph_sql import scope_condition, time_condition

__all__ = ["POSTGRES", "SQLITE", "WALK_ROWS", "PlanDialect", "PlanOps", "plan_sql", "run_plan", "start_norms"]

WALK_ROWS = 10_000
"""At most this many steps are explored, whatever the plan."""


@dataclass(frozen=True, slots=True)
class PlanDialect:
    """How one SQL back end spells the plan's statement."""

    mark: str
    """The parameter placeholder: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    find: str
    """The substring position function: ``instr`` (SQLite) or ``strpos`` (PostgreSQL)."""
    empty_path: str
    """The walk's first path, typed as the recursive step's (PostgreSQL wants the same collation)."""
    cap_in_cte: bool
    """SQLite caps a recursive CTE with its own ``LIMIT``; PostgreSQL refuses that, and stops the
    walk when the reader of the CTE stops (a ``LIMIT`` on a subquery that reads it)."""
    tenant: str | None = field(default=None)
    """PostgreSQL: the tenant every table is filtered by (None: SQLite, no tenant column)."""

    def marks(self, items: Sequence[Any]) -> str:
        return ", ".join(self.mark for _ in items)

    def own(self, alias: str) -> tuple[str, list[Any]]:
        """``alias.tenant = ? AND `` (nothing on SQLite)."""
        return ("", []) if self.tenant is None else (f"{alias}.tenant = {self.mark} AND ", [self.tenant])

    def same(self, left: str, right: str) -> str:
        """The tenant part of a join between two tables (nothing on SQLite)."""
        return "" if self.tenant is None else f"{left}.tenant = {right}.tenant AND "

    def for_tenant(self, tenant: str) -> PlanDialect:
        return PlanDialect(self.mark, self.find, self.empty_path, self.cap_in_cte, tenant)


SQLITE = PlanDialect(mark="?", find="instr", empty_path="''", cap_in_cte=True)
POSTGRES = PlanDialect(
    mark="%s", find="strpos", empty_path="CAST('' AS TEXT) COLLATE \"C\"", cap_in_cte=False
)
"""Use ``POSTGRES.for_tenant(tenant)``."""

_DIRECTIONS = {
    "outgoing": ("r.source_id = w.entity_id", "r.destination_id"),
    "incoming": ("r.destination_id = w.entity_id", "r.source_id"),
    "both": (
        "(r.source_id = w.entity_id OR r.destination_id = w.entity_id)",
        "CASE WHEN r.source_id = w.entity_id THEN r.destination_id ELSE r.source_id END",
    ),
}


class PlanOps(Protocol):
    """What running a plan needs of a back end's ``GraphOps``: its connection (DB-API style:
    ``execute(sql, params).fetchall()``) and two of its reads."""

    @property
    def conn(self) -> Any: ...

    def named_entities(self, scope: Scope, norms: Sequence[str]) -> list[str]: ...

    def relations_by_ids(self, ids: Sequence[str]) -> list[Relation]: ...


def start_norms(plan: QueryPlan, scope: Scope) -> list[str]:
    """The normalised start names; "user", "I", "me"... stand for the scope's user."""
    me = normalize_name(user_name(scope))
    norms = [me if normalize_name(n) in SELF_REFERENCES else normalize_name(n) for n in plan.start]
    return [n for n in dict.fromkeys(norms) if n]


def _relationships(plan: QueryPlan) -> list[str]:
    return [n for n in dict.fromkeys(sanitize_relationship(r) for r in plan.relationships) if n]


def plan_sql(plan: QueryPlan, scope: Scope, limit: int, d: PlanDialect) -> tuple[str, list[Any]]:
    """The statement and its parameters: rows of (path of relation ids, hops, end name)."""
    m, norms = d.mark, start_norms(plan, scope)
    where_e, scope_e = scope_condition(scope, "e", m)
    where_r, scope_r = scope_condition(scope, "r", m)
    own_n, tenant_n = d.own("n")
    own_r, tenant_r = d.own("r")
    own_x, tenant_x = d.own("x")
    join, step = _DIRECTIONS[plan.direction]
    walk_filter, walk_params = "", []
    if not plan.include_history:
        walk_filter += " AND " + time_condition("r", None, m)[0]
    names = _relationships(plan)
    if names:
        walk_filter += f" AND r.relationship IN ({d.marks(names)})"
        walk_params += names
    end_filter, end_params = "", []
    ends = [n for n in dict.fromkeys(normalize_name(x) for x in plan.end_names) if n]
    if ends:
        end_filter += (
            f" AND w.entity_id IN (SELECT x.entity_id FROM graph_names x"
            f" WHERE {own_x}x.norm IN ({d.marks(ends)}))"
        )
        end_params += [*tenant_x, *ends]
    types = [t.casefold() for t in plan.end_types]
    if types:
        end_filter += f" AND lower(e.type) IN ({d.marks(types)})"
        end_params += types
    cap_in, cap_out = (f" LIMIT {m}", "walk") if d.cap_in_cte else ("", f"(SELECT * FROM walk LIMIT {m})")
    sql = (
        "WITH RECURSIVE seeds(id) AS ("
        " SELECT DISTINCT n.entity_id FROM graph_names n"
        f" JOIN graph_entities e ON {d.same('e', 'n')}e.id = n.entity_id"
        f" WHERE {own_n}n.norm IN ({d.marks(norms)}) AND {where_e}),"
        " walk(entity_id, depth, path) AS ("
        f" SELECT id, 0, {d.empty_path} FROM seeds"
        " UNION ALL"
        f" SELECT {step}, w.depth + 1, w.path || r.id || ','"
        f" FROM walk w JOIN graph_relations r ON {own_r}{join}"
        f" WHERE w.depth < {m} AND {where_r}{walk_filter} AND {d.find}(w.path, r.id) = 0"
        f"{cap_in})"
        f" SELECT w.path, w.depth, e.name FROM {cap_out} w"
        f" JOIN graph_entities e ON {d.own('e')[0]}e.id = w.entity_id"
        f" WHERE w.depth > 0{end_filter} ORDER BY w.depth, w.path LIMIT {m}"
    )
    params = [*tenant_n, *norms, *scope_e, *tenant_r, plan.hops, *scope_r, *walk_params]
    params += [WALK_ROWS, *d.own("e")[1], *end_params, limit]
    return sql, params


def run_plan(ops: PlanOps, scope: Scope, plan: QueryPlan, limit: int, d: PlanDialect) -> GraphQueryOutcome:
    """The plan's paths in ``scope`` (a read filter), at most ``limit``, shortest first."""
    sql, params = plan_sql(plan, scope, limit, d)
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
        warnings=_warnings(ops, scope, plan, d) if not rows else [],
    )


def _warnings(ops: PlanOps, scope: Scope, plan: QueryPlan, d: PlanDialect) -> list[str]:
    """Why a plan found nothing: names or relationships the scope does not have."""
    out: list[str] = []
    if not ops.named_entities(scope, start_norms(plan, scope)):
        out.append(f"no entity of this scope is named {', '.join(map(repr, plan.start))}")
    names = _relationships(plan)
    if names:
        own, tenant = d.own("r")
        where, params = scope_condition(scope, "r", d.mark)
        rows = ops.conn.execute(
            f"SELECT DISTINCT r.relationship FROM graph_relations r WHERE {own}{where} "
            f"AND r.relationship IN ({d.marks(names)})",
            [*tenant, *params, *names],
        ).fetchall()
        missing = sorted(set(names) - {r[0] for r in rows})
        if missing:
            out.append(f"no relation of this scope is named {', '.join(missing)}")
    return out
