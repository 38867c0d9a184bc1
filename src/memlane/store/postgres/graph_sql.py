"""The PostgreSQL graph's SQL pieces: scope and time filters, rows read whole, scope locks.

Every statement filters by ``tenant`` first (the leading column of every key and index).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from memlane.errors import DimensionMismatchError
from memlane.graph.models import Entity, Relation
from memlane.models import Scope
from memlane.store.graph_sql import scope_condition, time_condition
from memlane.store.postgres.locks import lock_owners, owner_of_skey

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "ENTITY_COLUMNS",
    "dimension_error",
    "entity",
    "lock_scopes",
    "relations",
    "scope_lock_key",
    "scope_sql",
    "time_sql",
]

ENTITY_COLUMNS = (
    "e.id, e.name, e.type, e.aliases, e.user_id, e.agent_id, e.run_id, e.created_at, e.updated_at"
)
_RELATION_SELECT = (
    "SELECT r.id, s.name, r.relationship, d.name, r.source_id, r.destination_id, r.user_id, "
    "r.agent_id, r.run_id, r.created_at, r.updated_at, r.valid_from, r.valid_to, r.invalidated_at, "
    "r.mentions, ARRAY(SELECT m.memory_id FROM graph_relation_memories m "
    "WHERE m.tenant = r.tenant AND m.relation_id = r.id ORDER BY m.seq) "
    "FROM graph_relations r JOIN graph_entities s ON s.tenant = r.tenant AND s.id = r.source_id "
    "JOIN graph_entities d ON d.tenant = r.tenant AND d.id = r.destination_id WHERE r.tenant = %s"
)
_DIMENSIONS = re.compile(r"different vector dimensions (\d+) and (\d+)")


def scope_sql(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    """``alias.user_id = %s AND ...`` for the ids the scope sets (a read or delete filter)."""
    return scope_condition(scope, alias, "%s")


def time_sql(alias: str, as_of: str | None) -> tuple[str, list[Any]]:
    """Relations current now, or current at record time ``as_of``."""
    return time_condition(alias, as_of, "%s")


def entity(row: Sequence[Any]) -> Entity:
    """An entity from the ``ENTITY_COLUMNS`` of a row."""
    return Entity(
        id=row[0],
        name=row[1],
        type=row[2],
        aliases=tuple(row[3] or ()),
        scope=Scope(row[4], row[5], row[6]),
        created_at=row[7],
        updated_at=row[8],
    )


def relations(
    conn: Connection[Any], tenant: str, where: str, params: Sequence[Any], tail: str = ""
) -> list[Relation]:
    """The tenant's relations matching ``where`` (on ``r``), with their endpoints' names and
    memory ids, in one statement."""
    rows = conn.execute(f"{_RELATION_SELECT} AND {where}{tail}", [tenant, *params]).fetchall()
    return [
        Relation(
            id=r[0], source=r[1], relationship=r[2], destination=r[3], source_id=r[4],
            destination_id=r[5], scope=Scope(r[6], r[7], r[8]), created_at=r[9], updated_at=r[10],
            valid_from=r[11], valid_to=r[12], invalidated_at=r[13], mentions=int(r[14]),
            memory_ids=tuple(r[15]),
        )
        for r in rows
    ]  # fmt: skip


def scope_lock_key(tenant: str, skey: str) -> int:
    """The advisory lock key of one exact scope of one tenant (a signed 64-bit hash)."""
    digest = hashlib.blake2b(f"{tenant}\x1e{skey}".encode(), digest_size=8, person=b"memlane-graph").digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_scopes(conn: Connection[Any], tenant: str, skeys: Sequence[str]) -> None:
    """Take the owner locks of these exact scopes first (``locks``: the order every write
    follows), then the transaction-level advisory lock of each exact scope, in one global order
    (no deadlock between two units locking several): held until the transaction ends."""
    lock_owners(conn, tenant, [owner_of_skey(s) for s in skeys])
    for key in sorted({scope_lock_key(tenant, s) for s in skeys}):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


def dimension_error(exc: BaseException) -> DimensionMismatchError | None:
    """pgvector's "different vector dimensions S and Q" as memlane's error (None: another error)."""
    found = _DIMENSIONS.search(str(exc))
    return DimensionMismatchError(int(found[1]), int(found[2])) if found else None
