"""memlane sends no telemetry, and keeps its dependencies from doing so: ONNX Runtime's official
builds write a device id and queued events under ``~/.cache/Microsoft/DeveloperTools`` when
loaded, unless ``ORT_DISABLE_TELEMETRY`` is set first (memlane sets it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memlane.embed import local_onnx

pytestmark = pytest.mark.integration


def run_with_home(home: Path, code: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300, capture_output=True)


def written_under(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / ".cache" / "Microsoft").rglob("*"))


def test_loading_onnx_runtime_through_memlane_writes_no_device_id(tmp_path: Path) -> None:
    if local_onnx.missing_package():
        pytest.skip("onnxruntime is not installed")
    run_with_home(
        tmp_path, "from memlane.embed import local_onnx; assert local_onnx.missing_package() is None"
    )
    assert written_under(tmp_path) == []


def test_embedding_with_onnx_writes_nothing_under_home(tmp_path: Path) -> None:
    if local_onnx.missing_package():
        pytest.skip("onnxruntime is not installed")
    cache = local_onnx.default_cache_dir()  # this machine's exported model: no export in the test
    code = (
        "from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig\n"
        f"e = LocalEmbedder(LocalEmbedderConfig(backend='onnx', onnx_cache={str(cache)!r}))\n"
        "assert e.embed(['hello']).shape == (1, 384)\n"
        "assert e.backend == 'onnx'\n"
    )
    run_with_home(tmp_path, code)
    assert written_under(tmp_path) == []
    assert not (tmp_path / ".cache" / "Microsoft").exists()
