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

__all__ = ["VectorIndex", "from_blob", "to_blob", "top_positions"]

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
        self._changes: list[int] | None = None
        self._tracking = False

    @property
    def size(self) -> int:
        return self._size

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1]) if self._size else 0

    def all_rows(self) -> tuple[Seqs, Vectors]:
        """Every seq and its vector (views: valid until the next change)."""
        return self._seqs[: self._size], self._matrix[: self._size]

    def track_changes(self) -> None:
        """From now on, record the seqs whose vector appears, changes or goes (for a follower
        such as the approximate index); the record starts empty."""
        self._tracking = True
        self._changes = []

    def take_changes(self) -> list[int] | None:
        """The seqs changed since the last call (and forget them); ``None`` when the record was
        not kept or overflowed, so a follower must start again from ``all_rows``."""
        changes, self._changes = self._changes, []
        return changes

    def _note(self, seqs: Seqs | list[int]) -> None:
        if self._changes is None:
            return
        self._changes.extend(int(s) for s in seqs)
        if len(self._changes) > max(10_000, self._size):
            self._changes = None

    @property
    def version(self) -> int | None:
        """The ``PRAGMA data_version`` seen at the last ``sync``."""
        return self._version

    def current(self, conn: sqlite3.Connection) -> bool:
        """Whether the copy holds what the table holds (no other connection committed since)."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        return not self._stale and version == self._version

    def invalidate(self) -> None:
        self._stale = True

    def sync(self, conn: sqlite3.Connection) -> int:
        """Reload if another connection committed since the last look, or if marked stale;
        return the ``PRAGMA data_version`` now."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if self._stale or version != self._version:
            self._load(conn)
            self._version = version
            self._stale = False
        return version

    def _load(self, conn: sqlite3.Connection) -> None:
        old_seqs, old_matrix = self.all_rows()
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
        if self._tracking and self._changes is not None:
            self._note(_differences(old_seqs, old_matrix, *self.all_rows()))

    def put(self, seq: int, vector: Vectors) -> None:
        """Record this process's own write of ``seq``."""
        if self._stale:
            return
        pos = int(np.searchsorted(self._seqs[: self._size], seq))
        if pos < self._size and self._seqs[pos] == seq:
            self._matrix[pos] = vector
            self._note([seq])
            return
        if pos != self._size or (self._size and self._matrix.shape[1] != vector.shape[-1]):
            self._stale = True  # out of order: another writer interleaved; reload lazily
            return
        self._grow(vector.shape[-1])
        self._seqs[self._size] = seq
        self._matrix[self._size] = vector
        self._size += 1
        self._note([seq])

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
            self._note([seq])

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


def _differences(old_seqs: Seqs, old: Vectors, new_seqs: Seqs, new: Vectors) -> Seqs:
    """The seqs present in only one of two contents, or with another vector in each."""
    if old.shape[1:] != new.shape[1:] and old_seqs.size and new_seqs.size:
        return np.union1d(old_seqs, new_seqs)
    both, old_pos, new_pos = np.intersect1d(old_seqs, new_seqs, assume_unique=True, return_indices=True)
    moved = [np.setxor1d(old_seqs, new_seqs, assume_unique=True)]
    for start in range(0, both.size, 8192):
        stop = start + 8192
        diff = (old[old_pos[start:stop]] != new[new_pos[start:stop]]).any(axis=1)
        moved.append(both[start:stop][diff])
    return np.concatenate(moved)


def top_positions(scores: npt.NDArray[np.float32], limit: int) -> npt.NDArray[np.intp]:
    """Positions of the ``limit`` highest scores, highest first, ties in position order (what a
    stable sort of all of them gives, without sorting all of them)."""
    if scores.size <= 4 * limit:
        return np.argsort(-scores, kind="stable")[:limit]
    bound = np.partition(scores, scores.size - limit)[scores.size - limit]
    keep = np.flatnonzero(scores >= bound)
    return keep[np.argsort(-scores[keep], kind="stable")][:limit]
