"""Exact cosine search over an in-process copy of the store's vectors.

The copy is kept in step with this process's own writes and reloaded when another
connection has committed (``PRAGMA data_version`` changed). Scoping stays in SQL: the
store passes the sequence numbers of the memories a filter allows, and only those rows
are scored (about 0.2 ms per 1,000 vectors of 384 dimensions).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from memlane.models import Vectors

__all__ = ["VectorIndex", "from_blob", "to_blob"]

Seqs = npt.NDArray[np.int64]


def to_blob(vector: Vectors) -> bytes:
    """A unit vector as little-endian float32 bytes."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> Vectors:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


class VectorIndex:
    """Rows of unit vectors keyed by memory ``seq``; sorted by seq for vectorised lookup."""

    def __init__(self) -> None:
        self._seqs: Seqs = np.zeros(0, dtype=np.int64)
        self._matrix: Vectors = np.zeros((0, 0), dtype=np.float32)
        self._size = 0
        self._stale = True
        self._version: int | None = None

    @property
    def version(self) -> int | None:
        """The ``PRAGMA data_version`` seen at the last ``sync``."""
        return self._version

    def invalidate(self) -> None:
        self._stale = True

    def sync(self, conn: sqlite3.Connection) -> None:
        """Reload if another connection committed since the last look, or if marked stale."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if self._stale or version != self._version:
            self._load(conn)
            self._version = version
            self._stale = False

    def _load(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT seq, embedding FROM memories "
            "WHERE deleted_at IS NULL AND embedding IS NOT NULL ORDER BY seq"
        ).fetchall()
        self._seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if rows:
            dim = len(rows[0][1]) // 4
            blob = b"".join(r[1] for r in rows)
            self._matrix = np.frombuffer(blob, dtype="<f4").astype(np.float32).reshape(-1, dim)
        else:
            self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._size = len(rows)

    def put(self, seq: int, vector: Vectors) -> None:
        """Record this process's own write of ``seq``."""
        if self._stale:
            return
        pos = int(np.searchsorted(self._seqs[: self._size], seq))
        if pos < self._size and self._seqs[pos] == seq:
            self._matrix[pos] = vector
            return
        if pos != self._size or (self._size and self._matrix.shape[1] != vector.shape[-1]):
            self._stale = True  # out of order: another writer interleaved; reload lazily
            return
        self._grow(vector.shape[-1])
        self._seqs[self._size] = seq
        self._matrix[self._size] = vector
        self._size += 1

    def drop(self, seq: int) -> None:
        """Record this process's own delete of ``seq``."""
        if self._stale:
            return
        pos = int(np.searchsorted(self._seqs[: self._size], seq))
        if pos < self._size and self._seqs[pos] == seq:
            keep = self._size - 1
            self._seqs[pos:keep] = self._seqs[pos + 1 : self._size]
            self._matrix[pos:keep] = self._matrix[pos + 1 : self._size]
            self._size = keep

    def scores(self, query: Vectors, seqs: Sequence[int] | Seqs) -> tuple[Seqs, npt.NDArray[np.float32]]:
        """Cosine of ``query`` with each of ``seqs`` that has a vector: (seqs found, scores).

        When the seqs are a large share of the index, every row is scored and the wanted ones
        picked (cheaper than copying their rows out); otherwise their rows are gathered.
        """
        found, pos = self._positions(seqs)
        q = query.reshape(-1).astype(np.float32)
        if not found.size:
            return found, np.zeros(0, dtype=np.float32)
        if found.size * 4 >= self._size:
            return found, (self._matrix[: self._size] @ q)[pos]
        return found, self._matrix[pos] @ q

    def rows(self, seqs: Sequence[int] | Seqs) -> tuple[Seqs, Vectors]:
        """The vectors of each of ``seqs`` that has one: (seqs found, one row each)."""
        found, pos = self._positions(seqs)
        if not found.size:
            return found, np.zeros((0, 0), dtype=np.float32)
        return found, self._matrix[pos]

    def _positions(self, seqs: Sequence[int] | Seqs) -> tuple[Seqs, Seqs]:
        """The seqs that have a vector, and their rows' positions."""
        wanted = np.asarray(seqs, dtype=np.int64)
        if not self._size or not wanted.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        known = self._seqs[: self._size]
        pos = np.searchsorted(known, wanted)
        pos[pos >= self._size] = 0
        hit = known[pos] == wanted
        return wanted[hit], pos[hit]

    def _grow(self, dim: int) -> None:
        capacity = len(self._seqs)
        if self._size < capacity and self._matrix.shape[1] == dim:
            return
        new_cap = max(64, capacity * 2)
        seqs = np.zeros(new_cap, dtype=np.int64)
        matrix = np.zeros((new_cap, dim), dtype=np.float32)
        seqs[: self._size] = self._seqs[: self._size]
        if self._size:
            matrix[: self._size] = self._matrix[: self._size]
        self._seqs, self._matrix = seqs, matrix
