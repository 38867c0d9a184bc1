"""``SQLiteStore``: memories, versions, history, messages, FTS5 and vectors in one file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from memlane.errors import DimensionMismatchError, EmbedderMismatchError, StoreError
from memlane.filters import Filter
from memlane.models import HistoryEvent, MemoryRecord, MemoryVersion, Message, ProfileSlot, Scope, Vectors
from memlane.store.base import (
    PendingAdd,
    ScoredId,
    StoredRequest,
    check_expected_dimension,
    sequential_hybrid_search,
)
from memlane.store.sqlite import maintenance, pending, requests, rows, staging
from memlane.store.sqlite import profile as profile_rows
from memlane.store.sqlite.ann import AnnIndex
from memlane.store.sqlite.connect import open_database
from memlane.store.sqlite.fts import scoped_bm25
from memlane.store.sqlite.neighbours import conversation_neighbours
from memlane.store.sqlite.selections import Selection, Selections
from memlane.store.sqlite.sql import compile_filter
from memlane.store.sqlite.transaction import SQLiteTransaction
from memlane.store.sqlite.vectors import VectorIndex, top_positions

__all__ = ["ANN_OVERSAMPLE", "ANN_THRESHOLD", "SQLiteStore"]

ANN_THRESHOLD = 20_000
"""Selections of at least this many memories are searched through the approximate index."""
ANN_OVERSAMPLE = 4
"""The approximate index proposes this many candidates per result wanted."""

_SQL_MAX = 2**63 - 1
"""SQLite's largest integer: a larger LIMIT or OFFSET means "all" or "none"."""


class SQLiteStore:
    """The embedded store. Thread-safe within a process; many processes may share the file."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        busy_timeout_ms: int = 30_000,
        create: bool = True,
        expected_dimension: int | None = None,
        ann_threshold: int | None = ANN_THRESHOLD,
        ann_oversample: int = ANN_OVERSAMPLE,
    ) -> None:
        """Open (``create``: or create) memlane's database at ``path``.

        ``create=False`` refuses a missing or empty file (read commands must not create one);
        a file holding another application's tables is always refused, unchanged.
        ``expected_dimension`` (mem0's ``embedding_model_dims``) is checked against the embedder.
        A vector search over at least ``ann_threshold`` memories (None: never) takes
        ``limit * ann_oversample`` candidates from an approximate index and scores them exactly.
        """
        self._conn, self.path = open_database(str(path), busy_timeout_ms, create=create)
        self._lock = threading.RLock()
        self._vectors = VectorIndex()
        self._ann_threshold = ann_threshold
        cache = None if self.path == ":memory:" else Path(f"{self.path}.ann")
        self._ann = AnnIndex(ann_oversample, cache) if ann_threshold is not None else None
        self._selections = Selections()
        self._dimension: int | None = None
        self._expected_dimension = expected_dimension
        self._embedder: str | None = None
        self._binding_version: int | None = None

    # -- setup ---------------------------------------------------------------------------

    def ensure_dimension(self, dimension: int) -> None:
        if self._dimension == dimension:
            return
        check_expected_dimension(self._expected_dimension, dimension)
        with self._guard():
            stored = int(staging.bind(self._conn, "dimension", str(dimension)))
            if stored != dimension:
                raise DimensionMismatchError(stored, dimension)
            self._dimension = dimension

    def ensure_embedder(self, identity: str) -> None:
        """Record which embedder writes this store on first use (stores from before the record
        adopt the first one); raise ``EmbedderMismatchError`` when another one opens it."""
        if self._embedder == identity:
            return
        with self._guard():
            stored = staging.bind(self._conn, "embedder", identity)
            if stored != identity:
                raise EmbedderMismatchError(stored, identity, self._dimension or 0)
            self._embedder = identity

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Hold the connection; SQLite failures surface as ``StoreError``."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite failed: {exc}") from exc

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Hold the connection and read in one snapshot (other processes may be writing)."""
        with self._guard():
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTransaction]:
        with self._guard():
            self._conn.execute("BEGIN IMMEDIATE")
            tx = SQLiteTransaction(self._conn)
            try:
                staging.check_binding(self._conn, self._embedder, self._dimension)
                yield tx
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"commit failed: {exc}") from exc
            if tx.switched is not None:
                self._switched(*tx.switched)
                return
            for seq, vector in tx.vector_puts:
                self._vectors.put(seq, vector)
            for seq in tx.vector_drops:
                self._vectors.drop(seq)

    def _switched(self, identity: str, dimension: int) -> None:
        """After a reindex's switch: this store now serves the new vectors (reloaded lazily)."""
        self._embedder, self._dimension = identity, dimension
        self._vectors.invalidate()
        if self._ann is not None:
            self._ann.forget()

    # -- reads ---------------------------------------------------------------------------

    def get(self, memory_id: str) -> MemoryRecord | None:
        return self.get_many([memory_id]).get(memory_id)

    def get_many(self, memory_ids: Sequence[str]) -> dict[str, MemoryRecord]:
        out: dict[str, MemoryRecord] = {}
        ids = list(dict.fromkeys(memory_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for record in self._records(f"m.id IN ({marks})", chunk):
                out[record.id] = record
        return out

    def list_records(self, where: Filter, *, limit: int | None = None, offset: int = 0) -> list[MemoryRecord]:
        sql, params = compile_filter(where)
        tail = " ORDER BY m.created_at DESC, m.seq DESC LIMIT ? OFFSET ?"
        params += [-1 if limit is None else min(limit, _SQL_MAX), min(offset, _SQL_MAX)]
        return self._records(sql, params, tail)

    def count(self, where: Filter) -> int:
        sql, params = compile_filter(where)
        with self._guard():
            row = self._conn.execute(
                f"SELECT count(*) FROM memories m WHERE m.deleted_at IS NULL AND {sql}", params
            ).fetchone()
        return int(row[0])

    def vector_search(self, vector: Vectors, where: Filter, limit: int) -> list[ScoredId]:
        if limit <= 0:
            return []
        with self._guard():
            self._sync()
            ids, wanted = self._matching(where)
            large = self._ann_threshold is not None and len(wanted) >= self._ann_threshold
            found = self._ann.nearest(self._vectors, vector, ids, limit) if large and self._ann else None
            seqs, scores = found or self._vectors.scores(vector, wanted)
        return [(ids[int(seqs[i])], float(scores[i])) for i in top_positions(scores, limit)]

    def similarities(self, vector: Vectors, memory_ids: Sequence[str]) -> dict[str, float]:
        ids, vectors = self._rows(memory_ids)
        scores = vectors @ vector.reshape(-1).astype(np.float32) if ids else np.zeros(0)
        return {mid: float(v) for mid, v in zip(ids, scores, strict=True)}

    def vectors(self, memory_ids: Sequence[str]) -> dict[str, Vectors]:
        ids, vectors = self._rows(memory_ids)
        return {mid: vectors[i] for i, mid in enumerate(ids)}

    def _rows(self, memory_ids: Sequence[str]) -> tuple[list[str], Vectors]:
        """The ids of the given memories that have a vector, and their vectors (one row each)."""
        if not memory_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        marks = ", ".join("?" for _ in memory_ids)
        with self._guard():
            self._sync()
            rows = self._conn.execute(
                f"SELECT seq, id FROM memories WHERE deleted_at IS NULL AND id IN ({marks})",
                list(memory_ids),
            ).fetchall()
            ids = {seq: mid for seq, mid in rows}
            seqs, vectors = self._vectors.rows(list(ids))
        return [ids[int(s)] for s in seqs], vectors

    def keyword_search(self, terms: Sequence[str], where: Filter, limit: int) -> list[ScoredId]:
        if not terms or limit <= 0:
            return []
        sql, params = compile_filter(where)
        with self._snapshot():  # the counts and the matches must agree
            self._sync()
            return scoped_bm25(self._conn, terms, sql, params, self._matching(where)[0], limit)

    def hybrid_search(
        self, vector: Vectors, terms: Sequence[str], where: Filter, limit: int
    ) -> tuple[list[ScoredId], list[ScoredId]]:
        return sequential_hybrid_search(self, vector, terms, where, limit)  # one connection

    def neighbours(
        self, memory_ids: Sequence[str], window: int, where: Filter
    ) -> dict[str, list[tuple[str, int]]]:
        if window <= 0 or not memory_ids:
            return {}
        allowed_sql, allowed_params = compile_filter(where)
        with self._guard():
            return conversation_neighbours(self._conn, memory_ids, window, allowed_sql, allowed_params)

    def history(self, memory_id: str) -> list[HistoryEvent]:
        with self._guard():
            return rows.history(self._conn, memory_id)

    def versions(self, memory_id: str) -> list[MemoryVersion]:
        with self._guard():
            return rows.versions(self._conn, memory_id)

    def versions_as_of(self, where: Filter, at: str, limit: int) -> list[tuple[MemoryRecord, MemoryVersion]]:
        sql, params = compile_filter(where)
        with self._guard():
            return rows.versions_as_of(self._conn, sql, params, at, min(limit, _SQL_MAX))

    def sources(self, memory_id: str) -> list[Message]:
        with self._guard():
            return rows.sources(self._conn, memory_id)

    def profile(self, scope: Scope, *, as_of: str | None = None) -> list[ProfileSlot]:
        with self._guard():
            return profile_rows.current(self._conn, scope, as_of)

    def profile_versions(self, scope: Scope, key: str) -> list[ProfileSlot]:
        with self._guard():
            return profile_rows.versions(self._conn, scope, key)

    def exists_ever(self, memory_id: str) -> bool:
        """Whether ``memory_id`` was ever stored (deleted ones included)."""
        with self._guard():
            row = self._conn.execute(
                "SELECT 1 FROM memories WHERE id = ? UNION ALL "
                "SELECT 1 FROM history WHERE memory_id = ? LIMIT 1",
                (memory_id, memory_id),
            ).fetchone()
        return row is not None

    def pending(self, scope: Scope | None = None, *, limit: int | None = None) -> list[PendingAdd]:
        with self._snapshot():
            return pending.listing(self._conn, scope, limit)

    def pending_count(self, scope: Scope | None = None) -> int:
        with self._guard():
            return pending.count(self._conn, scope)

    def claim_pending(self, pending_id: str, at: str, *, stale_before: str) -> bool:
        with self.transaction():
            return pending.claim(self._conn, pending_id, at, stale_before)

    def release_pending(self, pending_id: str, error: str) -> None:
        with self.transaction():
            pending.release(self._conn, pending_id, error)

    def claim_request(
        self, key: str, request_hash: str, scope: Scope, token: str, at: str, *, stale_before: str,
        expired_before: str,
    ) -> StoredRequest:  # fmt: skip
        with self.transaction():
            return requests.claim(
                self._conn, key, request_hash, scope, token, at, stale_before, expired_before
            )

    def release_request(self, key: str, token: str) -> None:
        with self.transaction():
            requests.release(self._conn, key, token)

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        if not prefix:
            return []
        upper = prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))
        with self._guard():
            rows = self._conn.execute(
                "SELECT id FROM memories WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                (prefix, upper, max(0, limit)),
            ).fetchall()
        return [str(r[0]) for r in rows if str(r[0]).startswith(prefix)]

    # -- maintenance ---------------------------------------------------------------------

    def reset(self) -> None:
        with self.transaction():
            for table in maintenance.ERASED_BY_RESET:
                self._conn.execute(f"DELETE FROM {table}")
            self._conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('delete-all')")
            self._conn.execute("DELETE FROM meta WHERE key IN ('dimension', 'embedder')")
        self._dimension = None
        self._embedder = None
        with self._lock:
            self._vectors.invalidate()
            if self._ann is not None:
                self._ann.forget()

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Erase memories (and their versions, history, sources, messages) for good."""
        with self._guard():
            self._conn.execute("PRAGMA secure_delete = ON")
            try:
                with self.transaction():
                    count = maintenance.purge(self._conn, memory_ids, scope)
                maintenance.compact(self._conn)
            finally:
                self._conn.execute("PRAGMA secure_delete = OFF")
            self._vectors.invalidate()
            if self._ann is not None:
                self._ann.forget()  # its file may hold copies of the erased vectors
        return count

    def dump(self) -> Iterator[dict[str, Any]]:
        """Every record, for export (read in one snapshot)."""
        with self._snapshot():
            yield from maintenance.dump(self._conn)

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Insert exported records in one transaction; nothing lands if one is bad."""
        with self._guard(), self.transaction():
            counts = maintenance.load(self._conn, records)
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone()
            self._dimension = None if row is None else int(row[0])
            self._embedder = None
        self._vectors.invalidate()
        return counts

    def meta(self, key: str) -> str | None:
        with self._guard():
            return maintenance.get_meta(self._conn, key)

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            maintenance.set_meta(self._conn, key, value)

    def backup(self, destination: str | Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the database file while writers keep going (see
        ``maintenance.backup``: never onto the database itself, an existing file only with
        ``overwrite``)."""
        maintenance.backup(self._conn, str(destination), overwrite=overwrite)

    def close(self) -> None:
        with self._guard():
            if self._ann is not None and self._ann.unsaved:
                with suppress(sqlite3.ProgrammingError):  # closed already
                    if self._vectors.current(self._conn):  # else the next process catches up
                        self._ann.save(self._vectors)
            self._conn.close()

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, held under the store's lock: for companion stores that share the
        file (the graph). Re-entrant; inside ``transaction()`` it joins that transaction."""
        with self._guard():
            self._check_binding()
            yield self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query (for checks and tools); returns all rows."""
        with self._guard():
            return list(self._conn.execute(sql, params).fetchall())

    # -- helpers -------------------------------------------------------------------------

    def _sync(self) -> None:
        """Catch the vectors up with other processes' commits (under the lock); refuse to go on
        if one of them re-indexed the store with another embedder."""
        self._check_binding(self._vectors.sync(self._conn))

    def _check_binding(self, version: int | None = None) -> None:
        """After another connection committed: ``EmbedderMismatchError`` if it re-indexed."""
        if version is None:
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._binding_version:
            staging.check_binding(self._conn, self._embedder, self._dimension)
            self._binding_version = version

    def _matching(self, where: Filter) -> Selection:
        """The live memories matching ``where`` (``selections``; under the lock, after sync)."""
        return self._selections.matching(self._conn, where, (self._vectors.version, self._conn.total_changes))

    def _records(self, where_sql: str, params: Sequence[Any], tail: str = "") -> list[MemoryRecord]:
        with self._guard():
            return rows.records(self._conn, where_sql, params, tail)
