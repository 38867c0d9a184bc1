"""Local embeddings with sentence-transformers; all-MiniLM-L6-v2 by default, loaded offline.

The model runs with torch, or with ONNX Runtime (``backend``; see ``local_onnx`` for the export,
the cache and the figures): "auto" takes ONNX when onnxruntime and onnx are installed and the
model is a plain Transformer with mean pooling, and torch otherwise. ONNX never fails a call:
an export or a run that fails logs a warning and torch takes over.

Cold start: nothing is loaded before the first embedding; then every ``LocalEmbedder`` of one
configuration in the process shares one loaded model (``local_engine``), and a verified export
is loaded with ONNX Runtime and the tokenizer alone, without torch (``onnx_verified``): a new
process's ``Memory()`` + add + search takes about 1 s and 230 MB (``benchmarks/bench_cold.py``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import SecretStr

from memlane.embed import local_onnx, onnx_verified
from memlane.embed.base import Purpose, check_vectors, normalize_rows
from memlane.embed.local_engine import LocalEngine, shared_engine
from memlane.embed.local_model import (
    BUNDLED_MODEL,
    Backend,
    HuggingFaceEmbedderConfig,
    LocalEmbedderConfig,
    default_model_path,
    model_identity,
    model_source,
    quiet_offline_environment,
    sentence_transformers_class,
    torch_threads,
)
from memlane.errors import MissingDependencyError
from memlane.models import Vectors

if TYPE_CHECKING:
    from memlane.embed.base import Embedder
    from memlane.registry import Dependencies, Registry

__all__ = [
    "BUNDLED_MODEL",
    "Backend",
    "HuggingFaceEmbedderConfig",
    "LocalEmbedder",
    "LocalEmbedderConfig",
    "default_model_path",
    "model_identity",
    "model_source",
    "quiet_offline_environment",
    "register",
    "sentence_transformers_class",
    "torch_threads",
]

logger = logging.getLogger("memlane")


class LocalEmbedder:
    """sentence-transformers, loaded on first use, never from the network; run by ONNX Runtime
    when ``backend`` allows it. Every ``LocalEmbedder`` of one configuration in a process shares
    one loaded model (``LocalEngine``), loaded by the first that embeds; until then nothing is
    loaded, and ``dimension`` is read from a verified export's record when there is one."""

    def __init__(self, config: LocalEmbedderConfig | None = None) -> None:
        self._config = config or LocalEmbedderConfig()
        if self._config.backend == "onnx":
            missing = local_onnx.missing_package()
            if missing:
                raise MissingDependencyError(missing, "local")
        self._engine: LocalEngine | None = None

    @property
    def identity(self) -> str:
        return f"local:{model_identity(self._config.model)}"

    @property
    def _model(self) -> Any:
        """The torch model this embedder's engine holds (None before the first use)."""
        return self._engine.model if self._engine is not None else None

    @property
    def _onnx(self) -> local_onnx.OnnxEncoder | None:
        return self._engine.onnx if self._engine is not None else None

    def _shared(self) -> LocalEngine:
        if self._engine is None:
            self._engine = shared_engine(self._config)
        return self._engine

    def _load(self) -> LocalEngine:
        engine = self._shared()
        engine.load()
        return engine

    @property
    def backend(self) -> Literal["torch", "onnx"]:
        """What runs the model now (loads it on first use)."""
        return "onnx" if self._load().onnx is not None else "torch"

    @property
    def dimension(self) -> int:
        engine = self._shared()
        if engine.dimension is None and (folder := engine.folder()) is not None:
            with contextlib.suppress(OSError):
                peeked = onnx_verified.peek_dimension(folder, engine.cache, self._config.model_kwargs)
                if peeked is not None:
                    return peeked
        dimension = self._load().dimension
        assert dimension is not None
        return dimension

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        engine = self._load()
        raw = engine.encode(list(texts), self._config.batch_size)
        return check_vectors(normalize_rows(raw), len(texts), self.dimension, "the local model")

    def close(self) -> None:
        """Nothing to release: the model is shared by the process's other embedders of this
        configuration and stays loaded for the process."""


def _huggingface(config: HuggingFaceEmbedderConfig, _: Dependencies) -> Embedder:
    """A local model, or the text-embeddings-inference server at ``huggingface_base_url``."""
    if config.huggingface_base_url is None:
        return LocalEmbedder(config)
    from memlane.embed.openai import OpenAIEmbedder, OpenAIEmbedderConfig

    remote = OpenAIEmbedderConfig.model_validate(
        {
            "model": config.model or "tei",  # the server embeds with the one model it serves
            "api_key": config.api_key or SecretStr("none"),  # never $OPENAI_API_KEY: another service's
            "openai_base_url": config.huggingface_base_url,
            "batch_size": config.batch_size,
        }
    )
    return OpenAIEmbedder(remote)


def register(registry: Registry) -> None:
    for name in ("local", "sentence_transformers"):
        registry.register("embedder", name, LocalEmbedderConfig, lambda config, _: LocalEmbedder(config))
    registry.register("embedder", "huggingface", HuggingFaceEmbedderConfig, _huggingface)
