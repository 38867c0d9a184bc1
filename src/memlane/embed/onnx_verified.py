"""A verified ONNX export, loaded without torch: ONNX Runtime and the ``tokenizers`` package alone.

Why: checking the cached export against torch on every load imported torch, transformers and
sentence-transformers and loaded the weights twice: 6-10 s and 650-880 MB before the first
embedding of a new process. Now the check runs once, when the export is made (``export``): the
exported graph, fed by the model's own ``tokenizer.json`` through ``tokenizers``, is compared
with sentence-transformers on ``VERIFY_TEXTS`` (one at a time and as one padded batch), and the
result is written beside the model as ``<key>.json`` (the largest difference, the dimension, what
the graph takes, the package versions). A later process (``load``) finds that record under the
same key and runs ONNX Runtime with the tokenizer alone.

The key hashes what the check depends on: the model folder and the size and mtime of its files,
the model's settings (``model_kwargs``), the export format and the versions of torch, onnx,
onnxruntime, tokenizers, transformers and sentence-transformers. A change to any of them is a new
key: the next process exports and checks again, once. Only models in a local folder with a
``tokenizer.json`` (the bundled one) take this path; others are checked on every load as before.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memlane.embed.base import normalize_rows
from memlane.embed.local_onnx import (
    CHECK_TOLERANCE,
    FORMAT,
    OPSET,
    ExportPlan,
    OnnxEncoder,
    cache_key,
    files_identity,
    start_at,
    write_atomically,
)

__all__ = ["VERIFY_TEXTS", "FastTokenizer", "Verified", "export", "load", "model_folder", "peek_dimension"]

RECORD = 1  # the layout of the JSON record; part of the key
PACKAGES = ("torch", "onnx", "onnxruntime", "tokenizers", "transformers", "sentence-transformers")
VERIFY_TEXTS = (
    "memlane",
    "A longer sentence, so that the first one is padded in the batch.",
    "",
    "  leading and trailing spaces  ",
    "Unicode: café, naïve, 東京, emoji 🙂, Ünïcödé ＦＵＬＬＷＩＤＴＨ",
    "a text far longer than the model reads, so that it is truncated " * 40,
)

logger = logging.getLogger("memlane")


@dataclass(frozen=True)
class Verified:
    """What the JSON record beside an export says."""

    inputs: tuple[str, ...]
    normalize: bool
    max_length: int | None
    dimension: int
    max_difference: float
    versions: dict[str, str | None]

    @property
    def plan(self) -> ExportPlan:
        return ExportPlan(self.inputs, self.normalize, self.max_length)


def model_folder(source: str) -> Path | None:
    """The resolved folder of ``source`` when it is a local model with a ``tokenizer.json``."""
    folder = Path(source).expanduser()
    try:
        return folder.resolve() if (folder / "tokenizer.json").is_file() else None
    except OSError:
        return None


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _paths(folder: Path, cache: Path, model_kwargs: Mapping[str, Any]) -> tuple[Path, Path]:
    """(the ONNX file, its JSON record) for this model, its settings and the installed packages."""
    identity = {
        "record": RECORD,
        "format": FORMAT,
        "opset": OPSET,
        "model": str(folder),
        "files": files_identity(folder),
        "model_kwargs": dict(model_kwargs),
        "versions": _versions(),
    }
    key = cache_key(identity)
    return cache / f"{key}.onnx", cache / f"{key}.json"


def _read(record: Path) -> Verified | None:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        verified = Verified(
            inputs=tuple(str(name) for name in data["inputs"]),
            normalize=bool(data["normalize"]),
            max_length=None if data["max_length"] is None else int(data["max_length"]),
            dimension=int(data["dimension"]),
            max_difference=float(data["max_difference"]),
            versions=dict(data["versions"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return verified if verified.max_difference <= CHECK_TOLERANCE else None


class FastTokenizer:
    """The model's ``tokenizer.json`` run by ``tokenizers``: what transformers' fast tokenizer
    gives for a batch (padded to its longest text, truncated to ``max_length``), as numpy."""

    def __init__(self, folder: Path, max_length: int | None) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        pad_token = _pad_token(folder)
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ValueError(f"the tokenizer has no padding token {pad_token!r}")
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)  # to the longest of a batch
        if max_length:
            tokenizer.enable_truncation(max_length)
        else:
            tokenizer.no_truncation()
        self._tokenizer = tokenizer

    def __call__(self, texts: Sequence[str], **_: Any) -> dict[str, npt.NDArray[np.int64]]:
        encodings = self._tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }


def _pad_token(folder: Path) -> str:
    """The padding token named by ``tokenizer_config.json`` or ``special_tokens_map.json``."""
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        try:
            token = json.loads((folder / name).read_text(encoding="utf-8")).get("pad_token")
        except (OSError, ValueError):
            continue
        if isinstance(token, dict):
            token = token.get("content")
        if isinstance(token, str):
            return token
    raise ValueError("the model names no padding token")


def load(
    folder: Path, cache: Path, model_kwargs: Mapping[str, Any], threads: int | None
) -> tuple[OnnxEncoder, int] | None:
    """The encoder and dimension of a verified export of this model, or None when there is none
    (never exported, or exported by other packages or from other files)."""
    path, record = _paths(folder, cache, model_kwargs)
    verified = _read(record) if path.is_file() else None
    if verified is None:
        return None
    encoder = OnnxEncoder(path, FastTokenizer(folder, verified.max_length), verified.plan, threads)
    return encoder, verified.dimension


def peek_dimension(folder: Path, cache: Path, model_kwargs: Mapping[str, Any]) -> int | None:
    """The dimension a verified export records, without loading anything; None if there is none."""
    path, record = _paths(folder, cache, model_kwargs)
    verified = _read(record) if path.is_file() else None
    return verified.dimension if verified else None


def export(
    folder: Path,
    model: Any,
    plan: ExportPlan,
    dimension: int,
    cache: Path,
    model_kwargs: Mapping[str, Any],
    threads: int | None,
) -> OnnxEncoder:
    """The encoder for the loaded sentence-transformers ``model`` of ``folder``: exported (or the
    cached file checked) and verified against torch once, with the tokenizer alone; the result
    is recorded for the next processes. Without a verified fast tokenizer, the encoder uses the
    model's own tokenizer (checked against torch on every load, as before)."""
    path, record = _paths(folder, cache, model_kwargs)
    encoder = start_at(path, str(folder), model, plan, threads)
    try:
        fast = OnnxEncoder(path, FastTokenizer(folder, plan.max_length), plan, threads)
        difference = _difference(fast, model)
    except Exception as exc:  # noqa: BLE001 -- the checked encoder still works
        logger.debug("the tokenizer of %s alone does not reproduce the model (%s)", folder, exc)
        return encoder
    if difference > CHECK_TOLERANCE:
        logger.debug("the tokenizer of %s alone differs from the model by %g", folder, difference)
        return encoder
    verified = Verified(plan.inputs, plan.normalize, plan.max_length, dimension, difference, _versions())
    text = json.dumps({**asdict(verified), "model": str(folder), "onnx": path.name}, indent=1)

    def write(target: Path) -> None:
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)

    write_atomically(record, write)
    return fast


def _difference(encoder: OnnxEncoder, model: Any) -> float:
    """The largest absolute difference between ``encoder`` and torch over ``VERIFY_TEXTS``, one at
    a time and as one padded batch (vectors normalised, as the embedder returns them)."""
    largest = 0.0
    batches = [[text] for text in VERIFY_TEXTS] + [list(VERIFY_TEXTS)]
    for texts in batches:
        expected = normalize_rows(
            model.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        )
        got = normalize_rows(encoder.encode(texts, batch_size=len(texts)))
        if got.shape != expected.shape:
            return float("inf")
        largest = max(largest, float(np.abs(got - expected).max()))
    return largest
