"""The writes of one SQLite transaction (opened and committed by ``SQLiteStore.transaction``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from memlane.errors import NotFoundError
from memlane.models import HistoryEvent, MemoryRecord, Message, ProfileChange, Scope, Vectors
from memlane.store.base import PendingAdd, Unstaged
from memlane.store.sqlite import pending, profile, requests, staging
from memlane.store.sqlite.vectors import to_blob

__all__ = ["SQLiteTransaction"]


class SQLiteTransaction:
    """Collects vector changes so the store can apply them to its index after COMMIT."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.vector_puts: list[tuple[int, Vectors]] = []
        self.vector_drops: list[int] = []
        self.switched: tuple[str, int] | None = None
        """The embedder identity and dimension ``switch_vectors`` made current, if it ran."""

    def add_messages(self, scope: Scope, messages: Sequence[Message], observed_at: str) -> None:
        self._conn.executemany(
            "INSERT INTO messages (id, user_id, agent_id, run_id, role, name, content, observed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (m.id, scope.user_id, scope.agent_id, scope.run_id, m.role, m.name, m.content, observed_at)
                for m in messages
            ],
        )

    def insert(self, record: MemoryRecord, vector: Vectors) -> None:
        s = record.scope
        cursor = self._conn.execute(
            "INSERT INTO memories (id, text, hash, user_id, agent_id, run_id, actor_id, role, "
            "metadata, created_at, updated_at, valid_from, valid_to, expired_at, expiration_date, "
            "version, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            (
                record.id, record.text, record.hash, s.user_id, s.agent_id, s.run_id,
                record.actor_id, record.role, _json(record.metadata), record.created_at,
                record.updated_at, record.valid_from, record.valid_to, record.expired_at,
                record.expiration_date, to_blob(vector),
            ),
        )  # fmt: skip
        self._add_version(record, 1, record.created_at)
        self._add_sources(record.id, record.sources)
        self.vector_puts.append((_seq(cursor.lastrowid), vector))

    def update(self, record: MemoryRecord, vector: Vectors | None, at: str) -> None:
        row = self._conn.execute(
            "SELECT seq, text, version FROM memories WHERE id = ? AND deleted_at IS NULL", (record.id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(record.id)
        seq, old_text, version = row
        if record.text != old_text:
            self._expire_version(record.id, at)
            version += 1
            self._add_version(record, version, at)
        s = record.scope
        self._conn.execute(
            "UPDATE memories SET text = ?, hash = ?, user_id = ?, agent_id = ?, run_id = ?, "
            "actor_id = ?, role = ?, metadata = ?, updated_at = ?, valid_from = ?, valid_to = ?, "
            "expiration_date = ?, version = ?, embedding = COALESCE(?, embedding) WHERE seq = ?",
            (
                record.text, record.hash, s.user_id, s.agent_id, s.run_id, record.actor_id,
                record.role, _json(record.metadata), record.updated_at, record.valid_from,
                record.valid_to, record.expiration_date, version,
                None if vector is None else to_blob(vector), seq,
            ),
        )  # fmt: skip
        self._add_sources(record.id, record.sources)
        record.version = version
        if vector is not None:
            self.vector_puts.append((seq, vector))

    def delete(self, memory_id: str, at: str) -> None:
        row = self._conn.execute(
            "SELECT seq FROM memories WHERE id = ? AND deleted_at IS NULL", (memory_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(memory_id)
        self._conn.execute(
            "UPDATE memories SET deleted_at = ?, expired_at = ?, embedding = NULL WHERE seq = ?",
            (at, at, row[0]),
        )
        self._expire_version(memory_id, at)
        self.vector_drops.append(int(row[0]))

    def add_history(self, events: Sequence[HistoryEvent]) -> None:
        self._conn.executemany(
            "INSERT INTO history (id, memory_id, old_memory, new_memory, event, created_at, "
            "updated_at, is_deleted, actor_id, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.id, e.memory_id, e.old_memory, e.new_memory, e.event, e.created_at,
                 e.updated_at, int(e.is_deleted), e.actor_id, e.role)
                for e in events
            ],
        )  # fmt: skip

    def lock_scopes(self, scopes: Sequence[Scope]) -> None:
        return None  # BEGIN IMMEDIATE holds the database's write lock already

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
        return profile.set_slot(
            self._conn, scope, key, value, observed_at=observed_at, at=at, memory_id=memory_id
        )

    def expire_profile(
        self, at: str, *, scope: Scope | None = None, memory_ids: Sequence[str] = ()
    ) -> list[ProfileChange]:
        return profile.expire(self._conn, at, scope, memory_ids)

    def add_pending(self, batch: PendingAdd) -> None:
        pending.add(self._conn, batch)

    def finish_pending(self, pending_id: str) -> bool:
        return pending.finish(self._conn, pending_id)

    def drop_pending(self, scope: Scope | None) -> int:
        return pending.drop(self._conn, scope)

    def finish_request(self, key: str, token: str, result: dict[str, Any]) -> bool:
        return requests.finish(self._conn, key, token, result)

    # -- reindex: see memlane.store.base and staging ---------------------------------------

    def unstaged(
        self, identity: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Unstaged]:
        return staging.unstaged(self._conn, identity, after, limit)

    def count_unstaged(self, identity: str) -> int:
        return staging.count_unstaged(self._conn, identity)

    def stage_vectors(self, identity: str, items: Sequence[tuple[str, str, Vectors]]) -> None:
        staging.stage(self._conn, identity, items)

    def switch_vectors(self, identity: str, dimension: int) -> int:
        count = staging.switch(self._conn, identity, dimension)
        self.switched = (identity, dimension)
        return count

    def drop_staged(self) -> int:
        return staging.drop(self._conn)

    def _add_version(self, record: MemoryRecord, version: int, at: str) -> None:
        self._conn.execute(
            "INSERT INTO memory_versions (memory_id, version, text, hash, valid_from, valid_to, "
            "recorded_at, expired_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (record.id, version, record.text, record.hash, record.valid_from, record.valid_to, at),
        )

    def _expire_version(self, memory_id: str, at: str) -> None:
        self._conn.execute(
            "UPDATE memory_versions SET expired_at = ? WHERE memory_id = ? AND expired_at IS NULL",
            (at, memory_id),
        )

    def _add_sources(self, memory_id: str, sources: Sequence[str]) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO memory_sources (memory_id, message_id) VALUES (?, ?)",
            [(memory_id, source) for source in sources],
        )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _seq(value: int | None) -> int:
    assert value is not None  # an INSERT always sets lastrowid
    return value
