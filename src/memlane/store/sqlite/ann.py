"""Approximate nearest-neighbour candidates for large selections (usearch's HNSW, int8).

The index is a cache, never the source of truth: it holds a copy of the exact in-process
vectors (``VectorIndex``, itself loaded from the ``memories`` table) and follows their
changes through ``VectorIndex.take_changes``. It only proposes candidates; the store scores
them exactly against the stored vectors and keeps those its filter allows, so a deleted or
out-of-scope memory can never be returned. A file store keeps a copy in ``<database>.ann``
(``ann_cache``), checked against the table when a new process opens it; a crash loses
nothing: whatever the file misses is added again from the table.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from memlane.store.sqlite import ann_cache
from memlane.store.sqlite.vectors import Seqs, VectorIndex

if TYPE_CHECKING:
    from memlane.models import Vectors

__all__ = ["AnnIndex"]

_CONNECTIVITY = 16
_EXPANSION_ADD = 128
_MIN_EXPANSION = 128
_PARALLEL_FROM = 10_000
"""Smaller batches are added on one thread (the same graph every time)."""
_REBUILD_SHARE = 0.25
"""Rebuild when this share of the index was removed or re-added since the last build."""
_SAVE_SHARE = 0.1
"""Save the cache file again when this share of the index changed since the last save."""


class AnnIndex:
    """An HNSW graph over the vectors of a ``VectorIndex``, keyed by memory ``seq``."""

    def __init__(self, oversample: int, cache: Path | None = None) -> None:
        self.oversample = oversample
        self._cache = cache
        self._index: Any = None
        self._dim = 0
        self._churn = 0
        self._unsaved = 0
        self.builds = 0
        """How many times the graph was built from scratch (for tests and benchmarks)."""
        self.restores = 0
        """How many times it was read from the cache file."""

    def nearest(
        self, vectors: VectorIndex, query: Vectors, selection: Collection[int], limit: int
    ) -> tuple[Seqs, npt.NDArray[np.float32]] | None:
        """Exact cosines of the index's candidates that ``selection`` holds (seqs, scores), or
        ``None`` when the selection must be scored whole: it is a small share of the index, or
        fewer than ``limit`` of the candidates fall in it."""
        found = self.candidates(vectors, query, len(selection), limit)
        if found is None:
            return None
        inside = [seq for seq in found.tolist() if seq in selection]
        if len(inside) < min(limit, len(selection)):
            return None
        return vectors.scores(query, inside)

    def candidates(self, vectors: VectorIndex, query: Vectors, selected: int, limit: int) -> Seqs | None:
        """Up to enough seqs near ``query`` that about ``limit * oversample`` of them fall in a
        selection of ``selected`` memories; ``None`` when scoring the selection exactly costs
        less (the selection is a small share of the index). Call after ``vectors.sync``."""
        total = vectors.size
        if not total or not selected:
            return None
        pool = min(selected, limit * self.oversample)
        fetch = min(total, math.ceil(pool * total / selected))
        if fetch > selected:
            return None
        self._follow(vectors)
        if self._index is None or not len(self._index):
            return None
        self._index.expansion_search = max(fetch, _MIN_EXPANSION)
        query32 = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        keys = self._index.search(query32, fetch).keys
        return np.asarray(keys, dtype=np.int64)

    @property
    def unsaved(self) -> bool:
        """Whether the graph changed since the cache file was last written."""
        return self._cache is not None and self._index is not None and self._unsaved > 0

    def save(self, vectors: VectorIndex) -> None:
        """Write the cache file if the graph changed since it was last written."""
        if self._cache is None or not self.unsaved:
            return
        self._follow(vectors)
        seqs, rows = vectors.all_rows()
        ann_cache.save(self._cache, self._index, seqs, ann_cache.fingerprints(rows))
        self._unsaved = 0

    def forget(self) -> None:
        """Drop the graph and its cache file (after a purge or a reset)."""
        self._index = None
        if self._cache is not None:
            ann_cache.forget(self._cache)

    def _follow(self, vectors: VectorIndex) -> None:
        """Bring the graph up to the vectors' current content."""
        if self._index is None and self._restore(vectors):
            return
        changed = vectors.take_changes()
        if self._index is None or changed is None or self._dim != vectors.dim:
            self._build(vectors)
        elif changed:
            self._apply(np.asarray(changed, dtype=np.int64), vectors)

    def _restore(self, vectors: VectorIndex) -> bool:
        if self._cache is None or not vectors.size:
            return False
        cached = ann_cache.load(self._cache, vectors.dim)
        if cached is None:
            return False
        self._index, old, old_prints = cached
        self._dim, self._churn = vectors.dim, 0
        self.restores += 1
        vectors.track_changes()
        seqs, rows = vectors.all_rows()
        changed = ann_cache.changed_seqs(old, old_prints, seqs, ann_cache.fingerprints(rows))
        self._apply(changed, vectors)
        if np.setdiff1d(changed, seqs).size:
            self.save(vectors)  # the file held vectors that are gone (deleted, purged): rewrite it
        return True

    def _apply(self, changed: Seqs, vectors: VectorIndex) -> None:
        """Remove ``changed`` from the graph and add those that have a vector now."""
        seqs = np.unique(changed)
        if not seqs.size:
            return
        self._churn += len(seqs)
        if self._churn > _REBUILD_SHARE * max(vectors.size, 1):
            self._build(vectors)
            return
        present = np.asarray(self._index.contains(seqs.astype(np.uint64)), dtype=bool).reshape(-1)
        if present.any():
            self._index.remove(seqs[present].astype(np.uint64))
        found, rows = vectors.rows(seqs)
        if found.size:
            self._add(found, rows)
        self._unsaved += len(seqs)
        if self._unsaved > _SAVE_SHARE * max(vectors.size, 1):
            self.save(vectors)

    def _build(self, vectors: VectorIndex) -> None:
        from usearch.index import Index  # imported when a selection first reaches the threshold

        vectors.track_changes()
        seqs, matrix = vectors.all_rows()
        self._dim = vectors.dim
        self._churn = 0
        self.builds += 1
        if not seqs.size:
            self._index = None
            return
        index = Index(
            ndim=self._dim,
            metric="ip",
            dtype="i8",
            connectivity=_CONNECTIVITY,
            expansion_add=_EXPANSION_ADD,
            expansion_search=_MIN_EXPANSION,
        )
        self._index = index
        self._add(seqs, matrix)
        self._unsaved = len(seqs)
        self.save(vectors)

    def _add(self, seqs: Seqs, rows: Vectors) -> None:
        threads = 0 if len(seqs) >= _PARALLEL_FROM else 1
        keys = seqs.astype(np.uint64)
        self._index.add(keys, np.ascontiguousarray(rows, dtype=np.float32), threads=threads)
