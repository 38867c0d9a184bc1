"""The ONNX Runtime back end of the local embedder: the same model, about 3 times faster per query.

Why: embedding one query with torch (all-MiniLM-L6-v2, one thread) costs 13-16 ms and was most
of a search; the same model exported to ONNX and run by ONNX Runtime on one thread costs 4.5-6 ms
(p95 5.5-7 ms), with the same vectors (largest difference 2e-7). Measured on this project's
2 shared cores with ``benchmarks/bench_embed.py``.

Which texts go through ONNX: all of them, once the session is checked. ONNX Runtime was faster
than torch at every batch size measured (texts/s, torch then ONNX, threads unset: 1 per call 64
and 166, 10 per call 180 and 242, 100 per call 205 and 317; ``bench_core.py`` adds of 100
messages: 224 and 449 memories/s), so torch is not kept for batches. With ``threads`` unset, texts
are run by one of two sessions:

- fewer than ``WIDE_BATCH`` texts (every query, the usual ``add``): one intra-op thread, as torch
  has for a query. On an idle machine a second thread saves about 1.5 ms, but on a busy one it
  waits for a core (measured with other jobs running: 1 thread 5.6 ms p50, 2 threads 10 ms);
  one thread already beats torch on every core for these sizes;
- ``WIDE_BATCH`` texts or more (bulk adds): ONNX Runtime's default, one thread per core, in a
  second session opened on the first such batch (each session holds its own copy of the
  weights, about 110 MB, so a process that never adds in bulk never pays for it). If it cannot
  be opened (the cache was cleared meanwhile), long batches stay on the first session.

With ``threads`` set, one session with that many threads runs everything.

Memory: once the session has been checked against torch, the torch model is released and only
a tokenizer kept, so single texts never hold the weights twice; torch is loaded again only if
ONNX Runtime fails at run time.

The export: the sentence-transformers pipeline must be exactly Transformer, mean Pooling and
optionally Normalize (anything else stays on torch). The Hugging Face model and the pooling are
traced into one graph by torch's TorchScript exporter (``dynamo=False``: needs ``onnx``, not
``onnxscript``), opset 17, batch and sequence lengths dynamic. It runs once, on first use: the
file is cached under a name that hashes the model's identity (its name and the size and mtime of
its files, or a digest of its weights), the pooling and the torch and onnx versions; it is
written to a temporary file and renamed, so two processes exporting at once both end with a
whole file. A model in a local folder with a ``tokenizer.json`` (the bundled one) is verified
once, when exported, and later processes load it without torch (``onnx_verified``); any other
model is checked against torch on a single text and a padded batch at every load.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "WIDE_BATCH",
    "ExportPlan",
    "OnnxEncoder",
    "cache_key",
    "default_cache_dir",
    "export_plan",
    "files_identity",
    "missing_package",
    "no_telemetry",
    "remove_stale_temporaries",
    "start",
    "start_at",
    "write_atomically",
]

PACKAGES = ("onnxruntime", "onnx")
FORMAT = 1  # bump when the wrapper or the export settings change: old cache files stop matching
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WIDE_BATCH = 32
MAX_WEIGHT_BYTES = 1_500_000_000  # a single ONNX file holds at most 2 GB
CHECK_TEXTS = ("memlane", "A longer sentence, so that the first one is padded in the batch.")
CHECK_TOLERANCE = 1e-4

logger = logging.getLogger("memlane")


def no_telemetry() -> None:
    """Turn off ONNX Runtime's telemetry before it loads: its official builds otherwise write a
    device id and queued events under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` (and
    may upload them). ``ORT_DISABLE_TELEMETRY=1`` stops the uploader, the events and the device
    id for the whole process; a value the user set is kept."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def missing_package() -> str | None:
    """The first of onnxruntime and onnx that is not installed, or None (imports neither: onnx
    is needed only to export, and takes a while to import)."""
    no_telemetry()
    for name in PACKAGES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/memlane/onnx``, or ``~/.cache/memlane/onnx``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "memlane" / "onnx"


@dataclass(frozen=True)
class ExportPlan:
    """What the exported graph computes: which inputs, whether it normalises, the token limit."""

    inputs: tuple[str, ...]
    normalize: bool
    max_length: int | None


def export_plan(model: Any) -> ExportPlan | str:
    """The plan for a loaded ``SentenceTransformer``, or why it cannot go to ONNX."""
    modules = list(model)
    names = [type(m).__name__ for m in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return f"its modules are {names}, not Transformer, Pooling (mean) and Normalize"
    transformer, pooling = modules[0], modules[1]
    reason = _pooling_problem(pooling.get_config_dict()) or _transformer_problem(model, transformer)
    if reason:
        return reason
    sample = model.tokenizer(["a"], return_tensors="np")
    inputs = tuple(name for name in INPUTS if name in sample)
    if set(sample) - set(INPUTS) or "input_ids" not in inputs or "attention_mask" not in inputs:
        return f"its tokenizer gives {sorted(sample)}"
    max_length = model.max_seq_length
    return ExportPlan(inputs, len(modules) == 3, max_length if isinstance(max_length, int) else None)


def _pooling_problem(config: Mapping[str, Any]) -> str | None:
    mode = config.get("pooling_mode")  # sentence-transformers 6
    if mode is not None:
        return None if mode in ("mean", ["mean"]) else f"its pooling is {mode!r}, not mean"
    flags = {k for k, v in config.items() if k.startswith("pooling_mode_") and v}
    return None if flags == {"pooling_mode_mean_tokens"} else f"its pooling is {sorted(flags)}, not mean"


def _transformer_problem(model: Any, transformer: Any) -> str | None:
    config = transformer.get_config_dict()
    if config.get("transformer_task", "feature-extraction") != "feature-extraction":
        return f"its transformer task is {config['transformer_task']!r}"
    if set(config.get("modality_config", {"text": None})) != {"text"}:
        return "it takes other inputs than text"
    if getattr(model, "default_prompt_name", None) or getattr(model, "truncate_dim", None):
        return "it adds a default prompt or truncates its vectors"
    if getattr(model, "tokenizer", None) is None:
        return "it has no tokenizer"
    weights = list(transformer.auto_model.parameters())
    if any(str(p.dtype) != "torch.float32" or p.device.type != "cpu" for p in weights):
        return "its weights are not float32 on the CPU"
    if sum(p.numel() * p.element_size() for p in weights) > MAX_WEIGHT_BYTES:
        return "it is too large for one ONNX file"
    return None


def files_identity(folder: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime in ns) of the files in ``folder`` and its direct sub-folders."""
    found: list[tuple[str, int, int]] = []
    for path in sorted([*folder.glob("*"), *folder.glob("*/*")]):
        if path.is_file():
            stat = path.stat()
            found.append((path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found


def _weights_digest(auto_model: Any) -> str:
    """A digest of every tensor of the model: its identity when there is no folder to look at."""
    digest = hashlib.sha256()
    for name, tensor in sorted(auto_model.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def cache_key(identity: Mapping[str, Any]) -> str:
    """A file-name-safe hash of ``identity`` (any JSON-able mapping; key order does not matter)."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _identity(name: str, model: Any, plan: ExportPlan) -> dict[str, Any]:
    import onnx
    import torch

    auto_model = model[0].auto_model
    folder = next((Path(p) for p in (name, auto_model.name_or_path) if p and Path(p).is_dir()), None)
    return {
        "format": FORMAT,
        "opset": OPSET,
        "model": str(folder.resolve()) if folder else name,
        "files": files_identity(folder.resolve()) if folder else None,
        "weights": None if folder else _weights_digest(auto_model),
        "pooling": asdict(plan),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    }


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file next to ``path``, then rename it to ``path``.

    Readers see no file or a whole one; when two processes write at once, the last rename wins
    and both files are whole. A failed write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def remove_stale_temporaries(folder: Path, older_than_s: float = 3600.0) -> None:
    """Remove the temporary files of exports that died (killed mid-way) over an hour ago."""
    limit = time.time() - older_than_s
    for path in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):  # another process may be removing it too
            if path.stat().st_mtime < limit:
                path.unlink()


def _export(model: Any, plan: ExportPlan, path: Path) -> None:
    """Trace the Hugging Face model with mean pooling (and normalisation) into ``path``."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features = dict(zip(plan.inputs, tensors, strict=True))
            tokens = self.inner(**features).last_hidden_state
            mask = features["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1) if plan.normalize else pooled

    # two texts of different lengths, so that the trace sees padding and keeps the mask
    sample = model.tokenizer(list(CHECK_TEXTS), padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "sequence"} for name in plan.inputs}

    def write(target: Path) -> None:
        # the TorchScript exporter warns that it is deprecated and traces with TracerWarnings
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(model[0].auto_model).eval(),
                tuple(sample[name] for name in plan.inputs),
                str(target),
                input_names=list(plan.inputs),
                output_names=["embedding"],
                dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
        target.chmod(0o644)  # mkstemp makes it private; it is a cache any process may read

    write_atomically(path, write)


class OnnxEncoder:
    """Texts to vectors with ONNX Runtime: the tokenizer of the torch model and 1 or 2 sessions."""

    def __init__(self, path: Path, tokenizer: Any, plan: ExportPlan, threads: int | None) -> None:
        self.path = path
        self._tokenizer = tokenizer
        self._plan = plan
        self._threads = threads
        self._sessions: dict[int, Any] = {}
        self._wide = threads is None and (os.cpu_count() or 1) > 1  # a session on every core for long batches
        self._lock = threading.Lock()
        self._session(threads or 1)  # a file ONNX Runtime cannot load fails here, not later

    def _session(self, threads: int) -> Any:
        """The session with ``threads`` intra-op threads (0: one per core), created once."""
        with self._lock:
            if threads not in self._sessions:
                no_telemetry()
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3  # errors only: no warnings on stderr
                self._sessions[threads] = ort.InferenceSession(
                    str(self.path), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def encode(self, texts: Sequence[str], batch_size: int) -> npt.NDArray[np.float32]:
        """One row per text. Longer batches are cut in ``batch_size`` slices of similar lengths."""
        session = self._session(self._threads or 1)
        if self._wide and len(texts) >= WIDE_BATCH:
            try:
                session = self._session(0)
            except Exception as exc:  # noqa: BLE001 -- e.g. the cache was cleared: keep the first session
                logger.warning("no second ONNX Runtime session (%s); batches run on one thread", exc)
                self._wide = False
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows: list[npt.NDArray[np.float32]] = []
        for batch in _slices(order, batch_size):
            encoded = self._tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                return_tensors="np",
                **({"max_length": self._plan.max_length} if self._plan.max_length else {}),
            )
            feed = {name: np.asarray(encoded[name], dtype=np.int64) for name in self._plan.inputs}
            rows.append(np.asarray(session.run(None, feed)[0], dtype=np.float32))
        out = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out


def _slices(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check(encoder: OnnxEncoder, model: Any) -> None:
    """Raise unless ONNX and torch agree on a single text and on a padded batch."""
    for texts in (CHECK_TEXTS[:1], CHECK_TEXTS):
        expected = model.encode(
            list(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        got = encoder.encode(texts, batch_size=len(texts))
        got = got / np.maximum(np.linalg.norm(got, axis=1, keepdims=True), 1e-12)
        if got.shape != expected.shape or not np.allclose(got, expected, atol=CHECK_TOLERANCE):
            raise RuntimeError(f"the exported model does not match torch on {len(texts)} text(s)")


def _checked(path: Path, model: Any, plan: ExportPlan, threads: int | None) -> OnnxEncoder:
    encoder = OnnxEncoder(path, model.tokenizer, plan, threads)
    _check(encoder, model)
    return encoder


def start(name: str, model: Any, plan: ExportPlan, cache: Path, threads: int | None) -> OnnxEncoder:
    """The encoder for ``model``: the cached export if there is a good one, else a new export.

    A cached file that cannot be loaded or disagrees with torch is exported again, once."""
    return start_at(cache / f"{cache_key(_identity(name, model, plan))}.onnx", name, model, plan, threads)


def start_at(path: Path, name: str, model: Any, plan: ExportPlan, threads: int | None) -> OnnxEncoder:
    """``start`` with the file at ``path`` (the caller names the cache entry)."""
    if path.is_file():
        try:
            return _checked(path, model, plan, threads)
        except Exception as exc:  # noqa: BLE001 -- a truncated or foreign file: export it again
            logger.warning("the cached ONNX model %s is unusable (%s); exporting it again", path, exc)
            path.unlink(missing_ok=True)
    remove_stale_temporaries(path.parent)
    started = time.perf_counter()
    _export(model, plan, path)
    logger.info("exported %s to %s in %.1f s", name, path, time.perf_counter() - started)
    return _checked(path, model, plan, threads)
