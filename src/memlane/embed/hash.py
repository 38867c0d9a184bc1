"""A deterministic bag-of-words embedder for tests: texts sharing words get similar vectors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from memlane.embed.base import Purpose, normalize_rows
from memlane.models import Vectors

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["HashEmbedder", "HashEmbedderConfig", "register"]

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbedderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    dims: int = Field(default=384, ge=8, le=4096, alias="embedding_dims")


class HashEmbedder:
    """Feature hashing of lower-cased word tokens; no model, no network, fully deterministic."""

    def __init__(self, dims: int = 384) -> None:
        self._dims = dims

    @property
    def dimension(self) -> int:
        return self._dims

    @property
    def identity(self) -> str:
        return f"hash:{self._dims}"

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        out = np.zeros((len(texts), self._dims), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self._dims] += 1.0 if (value >> 63) & 1 else -1.0
        return normalize_rows(out)

    def close(self) -> None:
        """Nothing to release."""


def register(registry: Registry) -> None:
    registry.register("embedder", "hash", HashEmbedderConfig, lambda config, _: HashEmbedder(config.dims))
