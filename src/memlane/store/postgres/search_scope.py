"""The memories a search reads: search rows (``s``) of one tenant matching a filter.

``memory_search`` (vectors) and ``memory_search_text`` (terms) hold one row per live memory
with its scope (``user_id``, ``agent_id``, ``run_id``, each indexed with the tenant first). A
filter on those columns alone (a user, an agent, a run, or their combinations: what nearly
every search passes) is evaluated on the table directly, with no join; any other filter
(metadata, dates, ids) joins the rows back to ``memories m`` and is compiled there, as the
stores' readers compile it.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from memlane.filters import All, And, Cond, Filter, Not, Or
from memlane.store.postgres.sql import compile_filter, live_where

__all__ = ["SCOPE_FIELDS", "SearchScope", "search_scope"]

SCOPE_FIELDS = frozenset({"user_id", "agent_id", "run_id"})
"""The filter fields ``memory_search`` carries beside the memory's search data."""


@dataclass(frozen=True, slots=True)
class SearchScope:
    """``rows``: the FROM clause (``memory_search s``, joined to ``memories m`` when
    ``joined``); ``where``: the condition keeping the scope's rows (tenant included)."""

    rows: sql.Composable
    where: sql.Composable
    joined: bool
    table: str = "memory_search"

    def select(self, columns: sql.Composable, extra: sql.Composable | None = None) -> sql.Composed:
        """``SELECT columns FROM rows WHERE where [AND extra]``."""
        condition = self.where if extra is None else sql.SQL("{} AND {}").format(self.where, extra)
        return sql.SQL("SELECT {} FROM {} WHERE {}").format(columns, self.rows, condition)


def on_search_rows(where: Filter) -> bool:
    """Whether ``where`` reads only the scope columns that ``memory_search`` carries."""
    if isinstance(where, All):
        return True
    if isinstance(where, (And, Or)):
        return all(on_search_rows(item) for item in where.items)
    if isinstance(where, Not):
        return on_search_rows(where.item)
    return isinstance(where, Cond) and where.field in SCOPE_FIELDS


def search_scope(tenant: str, where: Filter, table: str = "memory_search") -> SearchScope:
    """The rows of ``table`` (``memory_search``: vectors; ``memory_search_text``: terms) of
    ``tenant``'s live memories matching ``where``, aliased ``s``."""
    t = sql.Literal(tenant)
    name = sql.Identifier(table)
    if on_search_rows(where):
        condition = sql.SQL("(s.tenant = {} AND {})").format(t, compile_filter(where, "s"))
        return SearchScope(sql.SQL("{} s").format(name), condition, joined=False, table=table)
    rows = sql.SQL(
        "memories m JOIN {} s ON s.tenant = m.tenant AND s.memory_id = m.id AND s.tenant = {}"
    ).format(name, t)
    return SearchScope(rows, live_where(where, tenant), joined=True, table=table)
