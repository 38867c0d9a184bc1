"""A local cross-encoder reranker (sentence-transformers ``CrossEncoder``), loaded offline.

Provider ``sentence_transformer`` (mem0's name) and its alias ``cross_encoder``. The model reads
the query and each document together, so it judges relevance better than the embedder's cosine,
at the price of one model pass per document. It is never downloaded: ``model`` is a folder, or
a name already in the local Hugging Face cache.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from memlane.embed.local_model import sentence_transformers_class, torch_threads
from memlane.errors import RerankError
from memlane.rerank.base import RerankerSettings

if TYPE_CHECKING:
    from memlane.registry import Dependencies, Registry

__all__ = ["DEFAULT_MODEL", "CrossEncoderConfig", "CrossEncoderReranker", "register"]

DEFAULT_MODEL = "cross-encoder/ms-marco-MiniLM-L-6-v2"


class CrossEncoderConfig(RerankerSettings):
    model: str = Field(
        default=DEFAULT_MODEL,
        min_length=1,
        description="a cross-encoder folder, or a name already in the local Hugging Face cache "
        "(memlane never downloads models)",
    )
    device: str | None = Field(
        default="cpu", description="None lets sentence-transformers pick (cuda if any)"
    )
    batch_size: int = Field(default=32, ge=1, le=4096)
    max_length: int | None = Field(
        default=None, ge=1, le=32_768, description="tokens per (query, document) pair; None: the model's"
    )
    threads: int | None = Field(
        default=None, ge=1, le=256, description="torch CPU threads; None keeps torch's default"
    )
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="passed to the transformers model")
    show_progress_bar: bool = Field(default=False, description="accepted for mem0 configs; never shown")
    api_key: str | None = Field(default=None, description="accepted for mem0 configs; ignored")


class CrossEncoderReranker:
    """sentence-transformers' ``CrossEncoder``, loaded on first use, never from the network."""

    def __init__(self, config: CrossEncoderConfig | None = None) -> None:
        self._config = config or CrossEncoderConfig()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> str:
        """The configured model, with ``~`` expanded."""
        return os.path.expanduser(self._config.model)

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                cross_encoder = sentence_transformers_class("CrossEncoder", self._config.threads)
                name = self.model_path
                try:
                    self._model = cross_encoder(
                        name,
                        device=self._config.device,
                        max_length=self._config.max_length,
                        local_files_only=True,
                        model_kwargs=self._config.model_kwargs or None,
                    )
                except Exception as exc:
                    raise _load_error(name, exc) from exc
        return self._model

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        if not documents:
            return []
        model = self._load()
        pairs = [(query, document) for document in documents]
        single = len(pairs) == 1 and not self._config.threads
        try:
            with self._lock, torch_threads(1 if single else None):
                raw = model.predict(
                    pairs,
                    batch_size=self._config.batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
        except Exception as exc:
            raise RerankError(f"the cross-encoder {self._config.model!r} failed: {exc}") from exc
        return _scores(raw, len(documents))


def _scores(raw: Any, count: int) -> list[float]:
    """One float per pair. A model with several output labels is read by its last one (binary
    relevance classifiers put "relevant" last)."""
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == count:
        arr = arr[:, -1]
    if arr.shape != (count,):
        raise RerankError(f"the cross-encoder returned scores of shape {arr.shape} for {count} documents")
    if not np.isfinite(arr).all():
        raise RerankError("the cross-encoder returned non-finite scores")
    return [float(x) for x in arr]


def _load_error(name: str, exc: Exception) -> RerankError:
    if os.path.isdir(name):
        return RerankError(f"could not load the cross-encoder in the folder {name!r}: {exc}")
    return RerankError(
        f"no cross-encoder {name!r} here: it is neither a folder nor in the local Hugging Face cache, "
        "and memlane never downloads models. Save the model where the network is reachable "
        f"(python -c \"from sentence_transformers import CrossEncoder; CrossEncoder('{name}')"
        ".save_pretrained('my-reranker')\"), copy the folder here and set the reranker's config "
        "'model' to its path: {'reranker': {'provider': 'sentence_transformer', 'config': "
        "{'model': '/path/to/my-reranker'}}}" + f" ({type(exc).__name__}: {_first_line(exc)})"
    )


def _first_line(exc: Exception) -> str:
    line = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    return line if len(line) <= 200 else line[:199] + "…"


def _build(config: CrossEncoderConfig, _: Dependencies) -> CrossEncoderReranker:
    return CrossEncoderReranker(config)


def register(registry: Registry) -> None:
    for name in ("sentence_transformer", "cross_encoder"):
        registry.register("reranker", name, CrossEncoderConfig, _build)
