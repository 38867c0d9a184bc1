"""The loaded local model, one per configuration per process, shared by every ``LocalEmbedder``.

Why: each ``Memory()`` builds its own embedder, and each used to load its own copy of the model
(+140 MB and a second load). Loading: when a verified ONNX export is cached
(``onnx_verified``), ONNX Runtime and the tokenizer alone (no torch import); otherwise
sentence-transformers, exported to ONNX and verified once when ``backend`` allows it (the torch
weights are then released), or torch alone. ONNX never fails a call: a run that fails logs a
warning and torch takes over for every embedder sharing the engine.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

from memlane.embed import local_onnx, onnx_verified
from memlane.embed.local_model import (
    LocalEmbedderConfig,
    model_source,
    sentence_transformers_class,
    torch_threads,
)
from memlane.errors import EmbedderError

__all__ = ["KEEP", "LocalEngine", "shared_engine"]

logger = logging.getLogger("memlane")


class LocalEngine:
    """The loaded model of one configuration, shared by every ``LocalEmbedder`` of that
    configuration in the process (``shared_engine``): ONNX Runtime with the tokenizer alone when
    a verified export is cached, else sentence-transformers (exported to ONNX when ``backend``
    allows it, then released). It stays loaded for the life of the process."""

    def __init__(self, config: LocalEmbedderConfig) -> None:
        self.config = config
        self.model: Any = None
        self.onnx: local_onnx.OnnxEncoder | None = None
        self.dimension: int | None = None
        self.lock = threading.Lock()

    @property
    def cache(self) -> Path:
        return Path(self.config.onnx_cache) if self.config.onnx_cache else local_onnx.default_cache_dir()

    def folder(self) -> Path | None:
        """The model's folder when ONNX Runtime may run it from a verified export alone."""
        config = self.config
        if config.backend == "torch" or config.device != "cpu":
            return None
        if local_onnx.missing_package() == "onnxruntime":
            return None
        return onnx_verified.model_folder(model_source(config.model))

    def load(self) -> None:
        if self.dimension is not None:
            return
        with self.lock:
            if self.dimension is None and not self._load_verified():
                model = self.load_torch()
                dimension = _dimension_of(model)
                if self.config.backend != "torch":
                    self.onnx = self._start_onnx(model, dimension)
                self.model = None if self.onnx is not None else model
                self.dimension = dimension

    def _load_verified(self) -> bool:
        """Load a verified export with ONNX Runtime alone (no torch); False when there is none."""
        folder = self.folder()
        if folder is None:
            return False
        try:
            loaded = onnx_verified.load(folder, self.cache, self.config.model_kwargs, self.config.threads)
        except Exception as exc:  # noqa: BLE001 -- e.g. a damaged file: torch checks it and exports again
            logger.warning("the verified ONNX model of %s is unusable (%s); checking it again", folder, exc)
            return False
        if loaded is not None:
            self.onnx, self.dimension = loaded
        return loaded is not None

    def load_torch(self) -> Any:
        """The sentence-transformers model; the caller holds the lock."""
        if self.model is not None:
            return self.model
        model_class = sentence_transformers_class("SentenceTransformer", self.config.threads)
        name = model_source(self.config.model)
        try:
            self.model = model_class(name, device=self.config.device, **self.config.model_kwargs)
        except Exception as exc:
            raise EmbedderError(f"could not load the local model {name!r}: {exc}") from exc
        return self.model

    def _start_onnx(self, model: Any, dimension: int) -> local_onnx.OnnxEncoder | None:
        """The ONNX encoder, or None (with the reason logged) when torch must run the model."""
        # asked for by name: say why not at warning level; "auto" says it at debug level
        log = logger.warning if self.config.backend == "onnx" else logger.debug
        name = model_source(self.config.model)
        try:
            missing = local_onnx.missing_package()
            if missing:
                plan: local_onnx.ExportPlan | str = f"{missing} is not installed"
            elif self.config.device != "cpu":
                plan = f"it runs on {self.config.device!r}, and ONNX Runtime here on the CPU only"
            else:
                plan = local_onnx.export_plan(model)
            if isinstance(plan, str):
                log("the local model %r stays on torch: %s", name, plan)
                return None
            folder = onnx_verified.model_folder(name)
            if folder is None:
                return local_onnx.start(name, model, plan, self.cache, self.config.threads)
            config = self.config
            return onnx_verified.export(
                folder, model, plan, dimension, self.cache, config.model_kwargs, config.threads
            )
        except Exception as exc:  # noqa: BLE001 -- ONNX must never fail the caller: torch runs instead
            logger.warning("could not run the local model %r with ONNX Runtime (%s); using torch", name, exc)
            return None

    def encode(self, texts: list[str], batch_size: int) -> Any:
        """Raw rows for ``texts``, by ONNX Runtime when it runs; one call at a time (each
        already uses the cores it should)."""
        with self.lock:
            if self.onnx is not None:
                try:
                    return self.onnx.encode(texts, batch_size)
                except Exception as exc:  # noqa: BLE001 -- ONNX must never fail the caller: torch runs instead
                    logger.warning("ONNX Runtime failed (%s); the local embedder uses torch from now on", exc)
                    self.onnx = None
            model = self.load_torch()
            with torch_threads(1 if len(texts) == 1 and not self.config.threads else None):
                return model.encode(
                    texts,
                    batch_size=batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )


KEEP = 2
"""Engines kept loaded after their last embedder is gone (the most recently asked for), so that
an app that builds a ``Memory`` per request does not load the model each time."""

_ENGINES: weakref.WeakValueDictionary[str, LocalEngine] = weakref.WeakValueDictionary()
_KEPT: OrderedDict[str, LocalEngine] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


def shared_engine(config: LocalEmbedderConfig) -> LocalEngine:
    """The process's one engine for ``config`` (all but ``batch_size``, which each call passes),
    created on first use. It lives while an embedder holds it, and the last ``KEEP`` engines
    asked for stay loaded after that."""
    source = model_source(config.model)
    with contextlib.suppress(OSError):
        if Path(source).expanduser().exists():
            source = str(Path(source).expanduser().resolve())
    cache = config.onnx_cache or str(local_onnx.default_cache_dir())
    settings = [source, config.device, config.model_kwargs, config.threads, config.backend, cache]
    key = json.dumps(settings, sort_keys=True, default=str)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = LocalEngine(config)
        _KEPT[key] = engine
        _KEPT.move_to_end(key)
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)
        return engine


def _dimension_of(model: Any) -> int:
    # sentence-transformers 6 renamed the method (the old name warns); older releases lack the new one
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = getter()
    if not isinstance(dim, int):
        raise EmbedderError("the local model does not report its embedding dimension")
    return dim
