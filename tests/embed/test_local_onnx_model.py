"""The ONNX back end with the real model (all-MiniLM-L6-v2): the same vectors as torch, one export
per cache, and torch whenever ONNX cannot run."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane.embed import local_onnx
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig

pytestmark = pytest.mark.integration

TEXTS = [
    "where does the user live?",
    "I moved from Delhi to Bangalore last month.",
    "  leading and trailing spaces  ",
    "",
    "Unicode: café, naïve, 東京, emoji 🙂",
    "a much longer text that goes on " * 60,  # over 256 tokens: truncated like torch does
    "ok",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def torch_embedder() -> LocalEmbedder:
    embedder = LocalEmbedder(LocalEmbedderConfig(backend="torch"))
    assert embedder.backend == "torch"
    return embedder


@pytest.fixture(scope="module")
def onnx_embedder(cache: Path) -> LocalEmbedder:
    # a small batch_size, so that long batches are cut in slices (and put back in order)
    embedder = LocalEmbedder(LocalEmbedderConfig(backend="onnx", onnx_cache=str(cache), batch_size=4))
    assert embedder.backend == "onnx"
    return embedder


def exported(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.onnx"))


@pytest.fixture
def warnings_of_memlane(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="memlane"):
        yield caplog


def messages(caplog: pytest.LogCaptureFixture, level: int) -> str:
    return " ".join(r.getMessage() for r in caplog.records if r.levelno == level and r.name == "memlane")


def test_single_texts_match_torch(onnx_embedder: LocalEmbedder, torch_embedder: LocalEmbedder) -> None:
    assert onnx_embedder.dimension == torch_embedder.dimension == 384
    for text in TEXTS:
        got, expected = onnx_embedder.embed([text]), torch_embedder.embed([text])
        assert got.dtype == np.float32
        assert np.abs(got - expected).max() < 1e-5, text


@pytest.mark.parametrize("count", [2, 7, 9, local_onnx.WIDE_BATCH + 3])
def test_padded_batches_match_torch(
    onnx_embedder: LocalEmbedder, torch_embedder: LocalEmbedder, count: int
) -> None:
    # texts of very different lengths, so every slice is padded; the widest batch runs in the
    # second (all cores) session
    texts = [TEXTS[i % len(TEXTS)] + " " + "word " * (i * 3 % 17) for i in range(count)]
    got, expected = onnx_embedder.embed(texts), torch_embedder.embed(texts)
    assert got.shape == (count, 384)
    assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_the_torch_weights_are_released(onnx_embedder: LocalEmbedder) -> None:
    assert onnx_embedder._model is None  # only the ONNX session(s) and the tokenizer are kept


def test_a_second_embedder_reuses_the_export(
    onnx_embedder: LocalEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (path,) = exported(cache)
    assert path.stat().st_mode & 0o777 == 0o644
    stamp = path.stat().st_mtime_ns

    def no_export(*args: Any) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(local_onnx, "_export", no_export)
    again = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(cache)))  # "auto" takes ONNX
    assert again.backend == "onnx"
    assert again.embed(["hello"]).shape == (1, 384)
    assert exported(cache) == [path] and path.stat().st_mtime_ns == stamp


def test_a_failed_export_falls_back_to_torch(
    tmp_path: Path,
    torch_embedder: LocalEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    warnings_of_memlane: pytest.LogCaptureFixture,
) -> None:
    def broken(model: Any, plan: Any, path: Path) -> None:
        raise RuntimeError("the exporter crashed")

    monkeypatch.setattr(local_onnx, "_export", broken)
    embedder = LocalEmbedder(LocalEmbedderConfig(backend="onnx", onnx_cache=str(tmp_path)))
    assert embedder.backend == "torch"
    assert "the exporter crashed" in messages(warnings_of_memlane, logging.WARNING)
    assert np.abs(embedder.embed(TEXTS[:2]) - torch_embedder.embed(TEXTS[:2])).max() < 1e-6
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_cache_file_is_exported_again(
    tmp_path: Path, cache: Path, torch_embedder: LocalEmbedder, warnings_of_memlane: pytest.LogCaptureFixture
) -> None:
    (good,) = exported(cache)
    corrupt = tmp_path / good.name
    corrupt.write_bytes(good.read_bytes()[: 1 << 20])  # a truncated file under the right name
    embedder = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(tmp_path)))
    assert embedder.backend == "onnx"
    assert "unusable" in messages(warnings_of_memlane, logging.WARNING)
    assert corrupt.stat().st_size == good.stat().st_size
    assert np.abs(embedder.embed(TEXTS[:1]) - torch_embedder.embed(TEXTS[:1])).max() < 1e-5


def test_a_corrupt_cache_file_that_cannot_be_replaced_falls_back_to_torch(
    tmp_path: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    warnings_of_memlane: pytest.LogCaptureFixture,
) -> None:
    (good,) = exported(cache)
    (tmp_path / good.name).write_bytes(b"not an onnx model")

    def broken(model: Any, plan: Any, path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(local_onnx, "_export", broken)
    embedder = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(tmp_path)))
    assert embedder.backend == "torch"
    warned = messages(warnings_of_memlane, logging.WARNING)
    assert "unusable" in warned and "disk full" in warned
    assert embedder.embed(["still works"]).shape == (1, 384)


def test_a_failure_at_run_time_falls_back_to_torch(
    cache: Path,
    torch_embedder: LocalEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    warnings_of_memlane: pytest.LogCaptureFixture,
) -> None:
    embedder = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(cache)))
    assert embedder.backend == "onnx"

    def broken(texts: Any, batch_size: int) -> None:
        raise RuntimeError("session crashed")

    assert embedder._onnx is not None
    monkeypatch.setattr(embedder._onnx, "encode", broken)
    got = embedder.embed(TEXTS[:3])
    assert "session crashed" in messages(warnings_of_memlane, logging.WARNING)
    assert embedder._onnx is None and embedder._model is not None  # torch from now on
    assert np.abs(got - torch_embedder.embed(TEXTS[:3])).max() < 1e-6


def test_auto_without_onnxruntime_uses_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warnings_of_memlane: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    embedder = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(tmp_path)))
    assert embedder.backend == "torch"
    assert "onnxruntime is not installed" in messages(warnings_of_memlane, logging.DEBUG)
    assert not messages(warnings_of_memlane, logging.WARNING)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("backend", "level"), [("auto", logging.DEBUG), ("onnx", logging.WARNING)])
def test_an_unsupported_pipeline_stays_on_torch(
    tmp_path: Path, backend: str, level: int, warnings_of_memlane: pytest.LogCaptureFixture
) -> None:
    # truncate_dim changes what the model returns after pooling: not the plain shape
    config = LocalEmbedderConfig(
        backend=backend,  # type: ignore[arg-type]
        onnx_cache=str(tmp_path),
        model_kwargs={"truncate_dim": 128},
    )
    embedder = LocalEmbedder(config)
    assert embedder.backend == "torch"
    assert embedder.embed(["hello"]).shape == (1, 128)
    assert "stays on torch" in messages(warnings_of_memlane, level)
    assert list(tmp_path.iterdir()) == []


def test_long_batches_keep_onnx_when_the_cache_was_cleared(
    tmp_path: Path, cache: Path, torch_embedder: LocalEmbedder, warnings_of_memlane: pytest.LogCaptureFixture
) -> None:
    (good,) = exported(cache)
    (tmp_path / good.name).write_bytes(good.read_bytes())
    embedder = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(tmp_path)))
    assert embedder.backend == "onnx"
    (tmp_path / good.name).unlink()  # the second session (all cores) can no longer be opened
    texts = [f"memory number {i}" for i in range(local_onnx.WIDE_BATCH)]
    got = embedder.embed(texts)
    assert embedder.backend == "onnx"
    assert np.abs(got - torch_embedder.embed(texts)).max() < 1e-5
    if (os.cpu_count() or 1) > 1:
        assert "batches run on one thread" in messages(warnings_of_memlane, logging.WARNING)
