"""The embedder contract: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from memlane.errors import EmbedderError
from memlane.models import Vectors

__all__ = ["Embedder", "Purpose", "check_vectors", "normalize_rows"]

Purpose = Literal["add", "update", "search"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors. ``dimension`` may load the model on first use.

    ``identity`` names what makes the vectors comparable (provider and model, and where that
    matters the size or the server), without loading anything: ``"local:all-MiniLM-L6-v2"``,
    ``"hash:128"``, ``"openai:text-embedding-3-small@https://api.openai.com/v1"``. A store
    records the identity of the embedder that wrote it and refuses another one. Two names of
    the same model (an alias, a local copy) must give the same identity.
    """

    @property
    def dimension(self) -> int: ...

    @property
    def identity(self) -> str: ...

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        """One row per text, L2-normalised, dtype float32."""
        ...

    def close(self) -> None:
        """Release the model or the client's connections (nothing to do for some)."""
        ...


def normalize_rows(matrix: npt.ArrayLike) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    arr = np.asarray(matrix, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (arr / norms).astype(np.float32, copy=False)
    return out


def check_vectors(vectors: Vectors, count: int, dimension: int, source: str) -> Vectors:
    """Raise ``EmbedderError`` unless ``vectors`` is ``count`` finite rows of ``dimension``."""
    if vectors.shape != (count, dimension):
        raise EmbedderError(
            f"{source} returned vectors of shape {vectors.shape}, expected ({count}, {dimension})"
        )
    if not np.isfinite(vectors).all():
        raise EmbedderError(f"{source} returned non-finite values")
    return vectors
