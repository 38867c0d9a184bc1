"""Full text and vectors of the PostgreSQL store: the ``search`` migration component
(``search_schema``).

One row per live memory in ``memory_search`` (tenant, memory id, its scope, its length for
BM25, its unit vector) and in ``memory_search_text`` (tenant, memory id, its scope, length and
``tsvector``: narrow rows for ``search_fts``). The store calls this module inside its own
transactions: ``index_memories`` / ``unindex_memories`` on writes, the searches on reads, with
its filter (``memlane.filters``), which ``search_scope`` evaluates on the search rows alone
when it only names scope columns. Every value is bound inside the statements as a
``sql.Literal``, so they run without params.

Vectors are pgvector ``vector`` values of any size; ``prepare_dimension`` builds one HNSW
(cosine) index per size, partial on ``vector_dims(embedding) = size`` (two sizes can live side
by side while a store is re-embedded). ``vector_search`` is one round trip: ``SET LOCAL`` of
the iterative scan's settings, then one statement that counts the scope (up to
``EXACT_ROWS + 1``) and runs one of two branches (the other is never executed): a scope that
small is searched exactly (its rows come through the scope's btree; the HNSW index cannot
serve that ordering); a larger one that is a large enough share of the tenant goes through
HNSW with ``hnsw.iterative_scan = relaxed_order``, so a selective filter still gets ``limit``
rows (plain HNSW post-filtering returns too few or none), then re-sorted exactly; a large
scope that is a small share of a huge tenant (the scan would read too many vectors of other
scopes) is searched exactly too.

Indexes: the primary keys and the scope btrees lead with the tenant; the GIN and HNSW indexes
cannot (GIN would need ``btree_gin``, HNSW takes one column), so they cover every tenant and
the statements filter their rows by tenant and scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql

from memlane.errors import InvalidInputError
from memlane.filters import Filter
from memlane.models import MemoryRecord, Vectors
from memlane.store.postgres.search_fts import CONFIG, keyword_search, search_text
from memlane.store.postgres.search_schema import SEARCH_STEPS
from memlane.store.postgres.search_scope import SearchScope, search_scope

if TYPE_CHECKING:
    from psycopg import Connection

    from memlane.store.base import ScoredId

__all__ = [
    "EXACT_ROWS",
    "SEARCH_STEPS",
    "HnswSettings",
    "fold_totals",
    "index_memories",
    "keyword_search",
    "prepare_dimension",
    "run_last",
    "similarities",
    "unindex_memories",
    "vector_literal",
    "vector_search",
    "vectors",
]

FOLD_EVERY = 256
"""A write folds its tenant's totals into one row when they have more rows than this."""

EXACT_ROWS = 5_000
"""A scope with at most this many memories is searched exactly; a larger one through HNSW
when it is a large enough share of the tenant (``_route``), else exactly too."""
EF_SEARCH = 100
"""``hnsw.ef_search`` (at least; ``limit`` when larger, up to pgvector's 1,000)."""
MAX_SCAN_TUPLES = 40_000
"""``hnsw.max_scan_tuples``: how far an iterative scan goes before giving up."""


@dataclass(frozen=True, slots=True)
class HnswSettings:
    """The HNSW index's build parameters (pgvector's defaults) and the search's ``ef_search``
    (mem0's ``hnsw`` option of the pgvector config sets them; ``index=False``: the store
    builds no HNSW index, its searches are exact)."""

    m: int = 16
    ef_construction: int = 64
    ef_search: int = EF_SEARCH
    index: bool = True

    def __post_init__(self) -> None:
        if not 2 <= self.m <= 100:
            raise InvalidInputError(f"hnsw m must be between 2 and 100 (pgvector's range), not {self.m}")
        if not 2 * self.m <= self.ef_construction <= 1000:
            raise InvalidInputError(
                f"hnsw ef_construction must be between 2 * m ({2 * self.m}) and 1000, "
                f"not {self.ef_construction}"
            )
        if not 1 <= self.ef_search <= 1000:
            raise InvalidInputError(f"hnsw ef_search must be between 1 and 1000, not {self.ef_search}")


_LOCK = 0x6D6C5F686E7377  # "ml_hnsw": one index build at a time
_FOLD_LOCK = 0x6D6C66  # "mlf", with the tenant's hash: one fold of its totals at a time


def vector_literal(vector: Vectors) -> sql.Composable:
    """``vector`` as a pgvector literal (no adapter needed)."""
    values = np.asarray(vector, dtype=np.float32).reshape(-1)
    if not values.size or not np.isfinite(values).all():
        raise InvalidInputError("a vector must have at least one finite value and no NaN or infinity")
    return sql.SQL("{}::vector").format(sql.Literal("[" + ",".join(map(repr, values.tolist())) + "]"))


def index_memories(
    conn: Connection[Any], tenant: str, rows: Sequence[tuple[MemoryRecord, Vectors | None]]
) -> None:
    """Insert or replace the search data of these memories (vector None: keep the stored one)."""
    if not rows:
        return
    vectors, texts = [], []
    for record, vector in {record.id: (record, vector) for record, vector in rows}.values():
        text, length = search_text(record.text)
        embedding = vector_literal(vector) if vector is not None else sql.SQL("NULL::vector")
        key = sql.SQL("{}, {}, {}, {}, {}").format(
            *map(
                sql.Literal,
                (tenant, record.id, record.scope.user_id, record.scope.agent_id, record.scope.run_id),
            )
        )
        vectors.append(sql.SQL("({}, {}, {})").format(key, sql.Literal(length), embedding))
        texts.append(
            sql.SQL("({}, {}, to_tsvector({}, {}))").format(
                key, sql.Literal(length), sql.Literal(CONFIG), sql.Literal(text)
            )
        )
    ids = sql.Literal(list(dict.fromkeys(record.id for record, _ in rows)))
    scope = sql.SQL("user_id = EXCLUDED.user_id, agent_id = EXCLUDED.agent_id, run_id = EXCLUDED.run_id")
    upsert = sql.SQL(
        "INSERT INTO memory_search (tenant, memory_id, user_id, agent_id, run_id, length, embedding) "
        "VALUES {values} ON CONFLICT (tenant, memory_id) DO UPDATE SET {scope}, length = EXCLUDED.length, "
        "embedding = coalesce(EXCLUDED.embedding, memory_search.embedding) RETURNING length"
    ).format(values=sql.SQL(", ").join(vectors), scope=scope)
    text_rows = sql.SQL(
        "INSERT INTO memory_search_text "
        "(tenant, memory_id, user_id, agent_id, run_id, length, terms, created_at, seq) "
        "SELECT v.*, m.created_at, m.seq FROM (VALUES {values}) "
        "v (tenant, memory_id, user_id, agent_id, run_id, length, terms) "
        "LEFT JOIN memories m ON m.tenant = v.tenant AND m.id = v.memory_id "
        "ON CONFLICT (tenant, memory_id) DO UPDATE SET {scope}, length = EXCLUDED.length, "
        "terms = EXCLUDED.terms, created_at = EXCLUDED.created_at, seq = EXCLUDED.seq"
    ).format(values=sql.SQL(", ").join(texts), scope=scope)
    _count_changes(conn, tenant, ids, text_rows, upsert)


def unindex_memories(conn: Connection[Any], tenant: str, memory_ids: Sequence[str]) -> None:
    """Forget the search data (text and vector) of these memories."""
    if memory_ids:
        ids = sql.Literal(list(dict.fromkeys(memory_ids)))
        text = sql.SQL(
            "DELETE FROM memory_search_text WHERE tenant = {} AND memory_id = ANY({}::text[])"
        ).format(sql.Literal(tenant), ids)
        _count_changes(conn, tenant, ids, text, None)


def _count_changes(
    conn: Connection[Any],
    tenant: str,
    ids: sql.Composable,
    text: sql.Composable,
    upsert: sql.Composable | None,
) -> None:
    """Replace (``upsert``, returning the new lengths) or delete the vector rows of ``ids``,
    write their text rows (``text``), and append the change of the tenant's totals: one
    statement."""
    t = sql.Literal(tenant)
    old = sql.SQL(
        "old AS (DELETE FROM memory_search WHERE tenant = {t} AND memory_id = ANY({ids}::text[]) "
        "RETURNING length)"
        if upsert is None
        # not FOR UPDATE: the upsert of the same statement may run first, and a row it changed
        # is skipped by a locking read; the statement's snapshot shows the rows as they were
        else "old AS (SELECT length FROM memory_search WHERE tenant = {t} AND memory_id = ANY({ids}::text[]))"
    ).format(t=t, ids=ids)
    new = sql.SQL("new AS ({}), ").format(upsert) if upsert is not None else sql.SQL("")
    rows = sql.SQL("(SELECT count(*) FROM new)") if upsert is not None else sql.SQL("0")
    tokens = sql.SQL("(SELECT coalesce(sum(length), 0) FROM new)") if upsert is not None else sql.SQL("0")
    conn.execute(
        sql.SQL(
            "WITH text AS ({text}), {old}, {new}change AS (SELECT {rows} - (SELECT count(*) FROM old) AS r, "
            "{tokens} - (SELECT coalesce(sum(length), 0) FROM old) AS k) "
            "INSERT INTO memory_search_totals (tenant, rows, tokens) SELECT {t}, r, k FROM change "
            "WHERE r <> 0 OR k <> 0"
        ).format(text=text, old=old, new=new, rows=rows, tokens=tokens, t=t)
    )
    fold_totals(conn, tenant)


def fold_totals(conn: Connection[Any], tenant: str, *, every: int | None = None) -> None:
    """Fold the tenant's totals into one row when they have more than ``every`` rows (default
    ``FOLD_EVERY``; one writer at a time: the others leave it to the next write)."""
    every = FOLD_EVERY if every is None else every
    t = sql.Literal(tenant)
    found = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM memory_search_totals WHERE tenant = {} LIMIT {}) x"
        ).format(t, sql.Literal(every + 1))
    ).fetchone()
    if found is None or int(found[0]) <= every:
        return
    with conn.transaction():
        locked = conn.execute(
            sql.SQL("SELECT pg_try_advisory_xact_lock({}, hashtext({}))").format(sql.Literal(_FOLD_LOCK), t)
        ).fetchone()
        if locked and locked[0]:
            conn.execute(
                sql.SQL(
                    "WITH gone AS (DELETE FROM memory_search_totals WHERE tenant = {t} "
                    "RETURNING rows, tokens) "
                    "INSERT INTO memory_search_totals (tenant, rows, tokens) "
                    "SELECT {t}, sum(rows), sum(tokens) FROM gone HAVING count(*) > 0"
                ).format(t=t)
            )


def _index_name(dimension: int) -> str:
    return f"memory_search_hnsw_{dimension}"


def prepare_dimension(
    conn: Connection[Any], tenant: str, dimension: int, *, hnsw: HnswSettings | None = None
) -> None:
    """The HNSW index of vectors of ``dimension`` (built once per database with ``hnsw``'s
    ``m`` and ``ef_construction``; idempotent). ``tenant`` is accepted for the interface: the
    index serves every tenant."""
    settings = hnsw or HnswSettings()
    del tenant
    if not 1 <= dimension <= 2000:
        raise InvalidInputError(
            f"a vector size must be between 1 and 2000 (pgvector's HNSW limit), not {dimension}"
        )
    name = _index_name(dimension)
    if _has_index(conn, name):
        return
    with conn.transaction():
        conn.execute(sql.SQL("SELECT pg_advisory_xact_lock({})").format(sql.Literal(_LOCK)))
        if _has_index(conn, name):  # another process built it while this one waited
            return
        conn.execute(
            sql.SQL(
                "CREATE INDEX {name} ON memory_search "
                "USING hnsw ((embedding::vector({d})) vector_cosine_ops) "
                "WITH (m = {m}, ef_construction = {ef}) WHERE vector_dims(embedding) = {d}"
            ).format(
                name=sql.Identifier(name),
                d=sql.Literal(dimension),
                m=sql.Literal(settings.m),
                ef=sql.Literal(settings.ef_construction),
            )
        )


def _has_index(conn: Connection[Any], name: str) -> bool:
    row = conn.execute(sql.SQL("SELECT to_regclass({}) IS NOT NULL").format(sql.Literal(name))).fetchone()
    return bool(row and row[0])


def vector_search(
    conn: Connection[Any],
    tenant: str,
    vector: Vectors,
    where: Filter,
    limit: int,
    *,
    hnsw: HnswSettings | None = None,
) -> list[ScoredId]:
    """The ``limit`` memories of the scope nearest to ``vector`` by cosine similarity, best
    first: ONE round trip (the ``SET LOCAL`` settings of an iterative HNSW scan, then one
    statement that picks the exact or the HNSW branch from the scope's size)."""
    if limit <= 0:
        return []
    settings = hnsw or HnswSettings()
    query = vector_literal(vector)
    dimension = int(np.asarray(vector).size)
    scope = search_scope(tenant, where)
    same_size = sql.SQL("vector_dims(s.embedding) = {}").format(sql.Literal(dimension))
    n = sql.Literal(limit)
    # exact: the scope's rows through its btree (the uncast expression cannot use HNSW)
    exact = scope.select(
        sql.SQL("s.memory_id AS id, s.embedding <=> {} AS d").format(query),
        sql.SQL("{} AND NOT (SELECT hnsw FROM route)").format(same_size),
    ) + sql.SQL(" ORDER BY d, id LIMIT {}").format(n)
    # approximate: the HNSW index of this size (iterative scan), re-sorted exactly
    near = scope.select(
        sql.SQL("s.memory_id AS id, s.embedding::vector({d}) <=> {q}::vector({d}) AS d").format(
            d=sql.Literal(dimension), q=query
        ),
        sql.SQL("{} AND (SELECT hnsw FROM route)").format(same_size),
    ) + sql.SQL(" ORDER BY d LIMIT {}").format(n)
    statement = sql.SQL(
        "WITH size AS MATERIALIZED (SELECT count(*) AS n FROM ({capped} LIMIT {over}) x), "
        "route AS MATERIALIZED (SELECT {route} AS hnsw FROM size), "
        "near AS MATERIALIZED ({near}), exact AS MATERIALIZED ({exact}) "
        "SELECT id, d FROM near UNION ALL SELECT id, d FROM exact ORDER BY d, id"
    ).format(
        capped=scope.select(sql.SQL("1")),
        over=sql.Literal(EXACT_ROWS + 1),
        route=_route(scope, tenant, limit),
        near=near,
        exact=exact,
    )
    ef_search = max(settings.ef_search, min(limit, 1000))
    rows = run_last(
        conn,
        [
            sql.SQL("SET LOCAL hnsw.iterative_scan = relaxed_order"),
            sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef_search)),
            sql.SQL("SET LOCAL hnsw.max_scan_tuples = {}").format(sql.Literal(MAX_SCAN_TUPLES)),
            # a plan without a sort wins: the HNSW order for the approximate branch
            sql.SQL("SET LOCAL enable_sort = off"),
            statement,
            sql.SQL("SET LOCAL enable_sort TO DEFAULT"),
        ],
    )
    return [(str(mid), 1.0 - float(d)) for mid, d in rows]


def _route(scope: SearchScope, tenant: str, limit: int) -> sql.Composable:
    """Whether the scope is searched through HNSW (a SQL boolean over ``size.n``, the scope's
    size counted up to ``EXACT_ROWS + 1``): more than ``EXACT_ROWS`` memories, and a share of
    the tenant large enough that an iterative scan meets ``limit`` of them within
    ``MAX_SCAN_TUPLES`` / 2 (a scan reads about ``limit * tenant / scope`` vectors). The
    tenant's size, and the scope's full count, are only read when needed."""
    total = sql.SQL("(SELECT coalesce(sum(rows), 0) FROM memory_search_totals WHERE tenant = {})").format(
        sql.Literal(tenant)
    )
    full = sql.SQL("(SELECT count(*) FROM ({}) x)").format(scope.select(sql.SQL("1")))
    return sql.SQL(
        "CASE WHEN size.n <= {exact} THEN FALSE WHEN {n} * {total} <= {budget} * size.n THEN TRUE "
        "ELSE {n} * {total} <= {budget} * {full} END"
    ).format(
        exact=sql.Literal(EXACT_ROWS), n=sql.Literal(limit), total=total,
        budget=sql.Literal(MAX_SCAN_TUPLES // 2), full=full,
    )  # fmt: skip


def run_last(conn: Connection[Any], statements: Sequence[sql.Composable]) -> list[tuple[Any, ...]]:
    """Run ``statements`` in one round trip (no parameters: the simple query protocol) and
    return the rows of the last one that returns rows."""
    cursor = conn.execute(sql.SQL("; ").join(statements))
    found: list[tuple[Any, ...]] = []
    while True:
        if cursor.description is not None:
            found = cursor.fetchall()
        if not cursor.nextset():
            return found


def similarities(conn: Connection[Any], tenant: str, vector: Vectors, ids: Sequence[str]) -> dict[str, float]:
    """Cosine similarity of ``vector`` to each of the given live memories that has a vector."""
    if not ids:
        return {}
    rows = _live(conn, tenant, ids, sql.SQL("1 - (s.embedding <=> {})").format(vector_literal(vector)))
    return {mid: float(value) for mid, value in rows}


def vectors(conn: Connection[Any], tenant: str, ids: Sequence[str]) -> dict[str, Vectors]:
    """The vectors of the given live memories (those that have one)."""
    if not ids:
        return {}
    rows = _live(conn, tenant, ids, sql.SQL("s.embedding::real[]"))
    return {mid: np.asarray(value, dtype=np.float32) for mid, value in rows}


def _live(
    conn: Connection[Any], tenant: str, ids: Sequence[str], column: sql.Composable
) -> list[tuple[str, Any]]:
    # the ids bound on both sides: both tables are read by primary key, whatever the planner's
    # statistics (none yet right after a bulk load)
    statement = sql.SQL(
        "SELECT s.memory_id, {column} FROM memory_search s JOIN memories m "
        "ON m.tenant = s.tenant AND m.id = s.memory_id "
        "WHERE s.tenant = {t} AND s.memory_id = ANY({ids}::text[]) AND m.tenant = {t} "
        "AND m.id = ANY({ids}::text[]) AND m.deleted_at IS NULL AND s.embedding IS NOT NULL"
    ).format(column=column, t=sql.Literal(tenant), ids=sql.Literal(list(dict.fromkeys(ids))))
    return [(str(mid), value) for mid, value in conn.execute(statement)]
