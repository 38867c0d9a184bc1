"""The one lock order of every PostgreSQL write (issue 14: an add and a delete of one scope
used to deadlock: the graph's scope lock then a profile row in one, the reverse in the other).

Every write transaction takes its locks in this order:

1. **owner locks**: a transaction-level advisory lock per owner it writes, where the owner of
   a scope is its ``user_id``, else its ``agent_id``, else its ``run_id`` (so a run's memories,
   its graph and its owner's profile share one lock). The store takes it before the first
   statement that touches the owner's rows (``PostgresTransaction``: messages, memories, pending
   adds, profile slots; the graph's write units in ``graph_sql.lock_scopes``; ``purge``), several
   at once in sorted key order. Writers of one owner run their write transactions one after
   the other (the LLM call of an add runs before its transaction, so only the writes queue);
   writers of different owners share no rows and never wait for each other;
2. memory rows (``SELECT ... FOR UPDATE``), by id;
3. a profile slot's advisory lock (tenant, scope, key), then its rows;
4. graph rows (under the graph's scope lock, taken with the owner's).

A write that spans several owners (``delete_all`` by an agent across users, ``prune``) names
them all first (``StoreTransaction.lock_scopes``), so they are taken sorted too. Should a
deadlock still happen (a caller's transaction meeting several owners without naming them),
PostgreSQL aborts one transaction and it surfaces as a ``StoreError`` saying to retry; the
store's own transactions (claims, pending adds, meta, purge, reset) retry it themselves
(``PostgresStore._retrying``, 5 attempts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from memlane.models import Scope

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["lock_owners", "owner_key", "owner_of_skey"]


def owner_key(tenant: str, scope: Scope) -> int | None:
    """The advisory lock key of ``scope``'s owner in ``tenant`` (None for an empty scope)."""
    for kind, value in (("u", scope.user_id), ("a", scope.agent_id), ("r", scope.run_id)):
        if value is not None:
            text = f"{tenant}\x1e{kind}\x1f{value}"
            digest = hashlib.blake2b(text.encode(), digest_size=8, person=b"memlane-owner").digest()
            return int.from_bytes(digest, "big", signed=True)
    return None


def owner_of_skey(skey: str) -> Scope:
    """The exact scope a graph scope key (``graph.resolve.scope_key``) stands for."""
    user, agent, run = [*skey.split("\x1f"), "", "", ""][:3]
    return Scope(user or None, agent or None, run or None)


def lock_owners(
    conn: Connection[Any], tenant: str, scopes: Iterable[Scope], held: set[int] | None = None
) -> None:
    """Take the owner locks of ``scopes`` not in ``held`` (this transaction's, updated), in
    sorted key order; held until the transaction ends."""
    keys = {key for scope in scopes if (key := owner_key(tenant, scope)) is not None}
    for key in sorted(keys - (held or set())):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        if held is not None:
            held.add(key)
