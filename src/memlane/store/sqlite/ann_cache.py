"""The approximate index's cache file beside the database (``<database>.ann``).

Building the index over 100k vectors takes about a minute on two cores, so a new process reuses
the last one saved. The file holds the usearch index and, for every seq it indexed, a
fingerprint of the vector it indexed. A reader compares those with the vectors now in the
``memories`` table and re-adds or removes what differs (rows written after the save, by a
process that crashed, updated or deleted since): the table stays the only source of truth, and
a stale, torn or foreign file only costs time (it is ignored and replaced).

Files are written whole under a temporary name and renamed into place, so a reader sees an old
or a new file, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memlane.models import Vectors
from memlane.store.sqlite.vectors import Seqs

__all__ = ["Cached", "changed_seqs", "fingerprints", "forget", "load", "save"]

_FORMAT = 1
_MULTIPLIERS = np.random.default_rng(20_261_129).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)
Fingerprints = npt.NDArray[np.uint64]
Cached = tuple[Any, Seqs, Fingerprints]
"""A usearch index, the seqs it holds (sorted), and the fingerprints of their vectors."""


def fingerprints(rows: Vectors) -> Fingerprints:
    """One 64-bit fingerprint per row of float32 (a multiply-add hash of its bit patterns)."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    out = np.empty(len(rows), dtype=np.uint64)
    if not len(rows):
        return out
    multipliers = np.resize(_MULTIPLIERS, rows.shape[1])
    with np.errstate(over="ignore"):
        for start in range(0, len(rows), 4096):
            bits = rows[start : start + 4096].view(np.uint32).astype(np.uint64)
            out[start : start + 4096] = (bits * multipliers).sum(axis=1, dtype=np.uint64)
    return out


def changed_seqs(old: Seqs, old_prints: Fingerprints, new: Seqs, new_prints: Fingerprints) -> Seqs:
    """The seqs in only one of two sorted contents, or whose fingerprints differ."""
    both, old_pos, new_pos = np.intersect1d(old, new, assume_unique=True, return_indices=True)
    moved = both[old_prints[old_pos] != new_prints[new_pos]]
    return np.concatenate([np.setxor1d(old, new, assume_unique=True), moved])


def save(path: Path, index: Any, seqs: Seqs, prints: Fingerprints) -> None:
    """Write the cache file whole, then rename it into place (errors are ignored: it is a cache)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("wb") as out:
            np.savez(
                out,
                header=np.array([_FORMAT, int(index.ndim)], dtype=np.int64),
                seqs=seqs,
                prints=prints,
                index=np.frombuffer(bytes(index.save()), dtype=np.uint8),
            )
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def load(path: Path, dim: int) -> Cached | None:
    """The cached index for ``dim``-dimensional vectors, or None (none, another format, torn)."""
    from usearch.index import Index

    try:
        with path.open("rb") as file, np.load(file, allow_pickle=False) as data:
            header, seqs, prints = data["header"], data["seqs"], data["prints"]
            if header.tolist() != [_FORMAT, dim]:
                return None
            index = Index.restore(data["index"].tobytes())
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, zipfile.BadZipFile):
        return None
    if index is None or len(index) != len(seqs) or index.ndim != dim:
        return None
    return index, seqs.astype(np.int64), prints.astype(np.uint64)


def forget(path: Path) -> None:
    """Remove the cache file (after a purge, no copy of an erased vector may stay on disk)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
