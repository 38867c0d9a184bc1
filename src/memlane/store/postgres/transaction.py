"""The writes of one PostgreSQL transaction (opened and committed by ``PostgresStore.transaction``).

Every write first takes the owner lock of the scope it touches (``memlane.store.postgres.locks``:
the one lock order of all writes, so an add and a delete of one scope never deadlock). An
update or delete then locks the memory's row (``SELECT ... FOR UPDATE``): a second writer of the
same memory waits, then reads the first's committed state (its version number, or its
deletion), so no update is lost and versions are numbered without gaps or repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from memlane.errors import NotFoundError
from memlane.models import HistoryEvent, MemoryRecord, Message, ProfileChange, Scope, Vectors
from memlane.store.base import PendingAdd, Unstaged
from memlane.store.postgres import pending, profile, reindex, requests, search
from memlane.store.postgres.locks import lock_owners

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["PostgresTransaction"]


class PostgresTransaction:
    """``StoreTransaction`` over one connection inside an open transaction, for one tenant."""

    def __init__(self, conn: Connection[Any], tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        self.switched: tuple[str, int] | None = None
        """The embedder identity and dimension ``switch_vectors`` made current, if it ran."""
        self._owners: set[int] = set()
        """The owner locks this transaction holds."""

    def _own(self, *scopes: Scope) -> None:
        lock_owners(self.conn, self.tenant, scopes, self._owners)

    def _own_rows(self, table: str, column: str, ids: Sequence[str]) -> None:
        """Take the owner locks of the rows of ``table`` whose ``column`` is in ``ids``."""
        if ids:
            found = self.conn.execute(
                f"SELECT DISTINCT user_id, agent_id, run_id FROM {table} WHERE tenant = %s "
                f"AND {column} = ANY(%s)",
                (self.tenant, list(ids)),
            ).fetchall()
            self._own(*(Scope(*row) for row in found))

    def add_messages(self, scope: Scope, messages: Sequence[Message], observed_at: str) -> None:
        if not messages:
            return
        self._own(scope)
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO messages (tenant, id, user_id, agent_id, run_id, role, name, content, "
                "observed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (self.tenant, m.id, scope.user_id, scope.agent_id, scope.run_id, m.role, m.name,
                     m.content, observed_at)
                    for m in messages
                ],
            )  # fmt: skip

    def insert(self, record: MemoryRecord, vector: Vectors) -> None:
        s = record.scope
        self._own(s)
        self.conn.execute(
            "INSERT INTO memories (tenant, id, text, hash, user_id, agent_id, run_id, actor_id, role, "
            "metadata, created_at, updated_at, valid_from, valid_to, expired_at, expiration_date, "
            "version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1)",
            (
                self.tenant, record.id, record.text, record.hash, s.user_id, s.agent_id, s.run_id,
                record.actor_id, record.role, Jsonb(record.metadata), record.created_at,
                record.updated_at, record.valid_from, record.valid_to, record.expired_at,
                record.expiration_date,
            ),
        )  # fmt: skip
        record.version = 1
        self._add_version(record, 1, record.created_at)
        self._add_sources(record.id, record.sources)
        search.index_memories(self.conn, self.tenant, [(record, vector)])

    def update(self, record: MemoryRecord, vector: Vectors | None, at: str) -> None:
        self._own_rows("memories", "id", [record.id])
        self._own(record.scope)
        old_text, version = self._lock(record.id)
        if record.text != old_text:
            self._expire_version(record.id, at)
            version += 1
            self._add_version(record, version, at)
        s = record.scope
        self.conn.execute(
            "UPDATE memories SET text = %s, hash = %s, user_id = %s, agent_id = %s, run_id = %s, "
            "actor_id = %s, role = %s, metadata = %s, updated_at = %s, valid_from = %s, valid_to = %s, "
            "expiration_date = %s, version = %s WHERE tenant = %s AND id = %s",
            (
                record.text, record.hash, s.user_id, s.agent_id, s.run_id, record.actor_id,
                record.role, Jsonb(record.metadata), record.updated_at, record.valid_from,
                record.valid_to, record.expiration_date, version, self.tenant, record.id,
            ),
        )  # fmt: skip
        self._add_sources(record.id, record.sources)
        record.version = version
        search.index_memories(self.conn, self.tenant, [(record, vector)])

    def delete(self, memory_id: str, at: str) -> None:
        self._own_rows("memories", "id", [memory_id])
        self._lock(memory_id)
        self.conn.execute(
            "UPDATE memories SET deleted_at = %s, expired_at = %s WHERE tenant = %s AND id = %s",
            (at, at, self.tenant, memory_id),
        )
        self._expire_version(memory_id, at)
        search.unindex_memories(self.conn, self.tenant, [memory_id])

    def add_history(self, events: Sequence[HistoryEvent]) -> None:
        if not events:
            return
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO history (tenant, id, memory_id, old_memory, new_memory, event, created_at, "
                "updated_at, is_deleted, actor_id, role) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (self.tenant, e.id, e.memory_id, e.old_memory, e.new_memory, e.event, e.created_at,
                     e.updated_at, bool(e.is_deleted), e.actor_id, e.role)
                    for e in events
                ],
            )  # fmt: skip

    def lock_scopes(self, scopes: Sequence[Scope]) -> None:
        self._own(*scopes)

    def set_profile(
        self,
        scope: Scope,
        key: str,
        value: str | None,
        *,
        observed_at: str,
        at: str,
        memory_id: str | None = None,
    ) -> ProfileChange | None:
        self._own(scope)
        return profile.set_slot(
            self.conn, self.tenant, scope, key, value, observed_at=observed_at, at=at, memory_id=memory_id
        )

    def expire_profile(
        self, at: str, *, scope: Scope | None = None, memory_ids: Sequence[str] = ()
    ) -> list[ProfileChange]:
        self._own(*([] if scope is None else [scope]))
        self._own_rows("memories", "id", memory_ids)
        return profile.expire(self.conn, self.tenant, at, scope, memory_ids)

    def add_pending(self, batch: PendingAdd) -> None:
        self._own(batch.scope)
        pending.add(self.conn, self.tenant, batch)

    def finish_pending(self, pending_id: str) -> bool:
        self._own_rows("pending", "id", [pending_id])
        return pending.finish(self.conn, self.tenant, pending_id)

    def drop_pending(self, scope: Scope | None) -> int:
        self._own(*([] if scope is None else [scope]))
        return pending.drop(self.conn, self.tenant, scope)

    def finish_request(self, key: str, token: str, result: dict[str, Any]) -> bool:
        return requests.finish(self.conn, self.tenant, key, token, result)

    def _lock(self, memory_id: str) -> tuple[str, int]:
        """Lock a live memory's row until the transaction ends; its text and version."""
        row = self.conn.execute(
            "SELECT text, version FROM memories WHERE tenant = %s AND id = %s AND deleted_at IS NULL "
            "FOR UPDATE",
            (self.tenant, memory_id),
        ).fetchone()
        if row is None:
            raise NotFoundError(memory_id)
        return str(row[0]), int(row[1])

    # -- reindex: see memlane.store.base and memlane.store.postgres.reindex ------------------

    def unstaged(
        self, identity: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Unstaged]:
        return reindex.unstaged(self.conn, self.tenant, identity, after, limit)

    def count_unstaged(self, identity: str) -> int:
        return reindex.count_unstaged(self.conn, self.tenant, identity)

    def stage_vectors(self, identity: str, items: Sequence[tuple[str, str, Vectors]]) -> None:
        reindex.stage(self.conn, self.tenant, identity, items)

    def switch_vectors(self, identity: str, dimension: int) -> int:
        count = reindex.switch(self.conn, self.tenant, identity, dimension)
        self.switched = (identity, dimension)
        return count

    def drop_staged(self) -> int:
        return reindex.drop(self.conn, self.tenant)

    def _add_version(self, record: MemoryRecord, version: int, at: str) -> None:
        self.conn.execute(
            "INSERT INTO memory_versions (tenant, memory_id, version, text, hash, valid_from, valid_to, "
            "recorded_at, expired_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL)",
            (
                self.tenant,
                record.id,
                version,
                record.text,
                record.hash,
                record.valid_from,
                record.valid_to,
                at,
            ),
        )

    def _expire_version(self, memory_id: str, at: str) -> None:
        self.conn.execute(
            "UPDATE memory_versions SET expired_at = %s WHERE tenant = %s AND memory_id = %s "
            "AND expired_at IS NULL",
            (at, self.tenant, memory_id),
        )

    def _add_sources(self, memory_id: str, sources: Sequence[str]) -> None:
        if not sources:
            return
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO memory_sources (tenant, memory_id, message_id) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(self.tenant, memory_id, source) for source in sources],
            )
