"""Cold start of the local embedder: one model per configuration per process, the ONNX export
verified once (a JSON record beside it) and then loaded without torch, nothing loaded before
the first embedding. Unit tests use a fake model folder; the real model is marked integration."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane import Memory
from memlane.embed import onnx_verified
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig, default_model_path
from memlane.embed.local_engine import KEEP, LocalEngine, shared_engine

HEAVY = ("torch", "transformers", "sentence_transformers")

# -- one engine per configuration ----------------------------------------------------------


def test_embedders_of_one_config_share_one_engine(tmp_path: Path) -> None:
    config: dict[str, Any] = {"onnx_cache": str(tmp_path / "a"), "threads": 1}
    first = LocalEmbedder(LocalEmbedderConfig.model_validate(config))
    second = LocalEmbedder(LocalEmbedderConfig.model_validate({**config, "batch_size": 8}))  # per call
    assert first._shared() is second._shared()
    assert first._shared().dimension is None  # nothing loaded to find it
    for other in ({**config, "onnx_cache": str(tmp_path / "b")}, {**config, "backend": "torch"}):
        assert LocalEmbedder(LocalEmbedderConfig.model_validate(other))._shared() is not first._shared()


def test_the_bundled_model_by_any_name_is_one_engine(tmp_path: Path) -> None:
    cache = str(tmp_path)
    by_default = shared_engine(LocalEmbedderConfig(onnx_cache=cache))
    by_path = shared_engine(LocalEmbedderConfig(model=default_model_path() + "/", onnx_cache=cache))
    assert by_default is by_path


def test_threads_asking_at_once_get_one_engine(tmp_path: Path) -> None:
    config = LocalEmbedderConfig(onnx_cache=str(tmp_path))
    barrier = threading.Barrier(8)
    found: list[LocalEngine] = []

    def ask() -> None:
        barrier.wait()
        found.append(shared_engine(config))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(engine is found[0] for engine in found)


def test_an_engine_no_embedder_holds_is_released_after_the_last_ones(tmp_path: Path) -> None:
    def engine(name: str) -> LocalEngine:
        return shared_engine(LocalEmbedderConfig(onnx_cache=str(tmp_path / name)))

    first = weakref.ref(engine("first"))
    gc.collect()
    assert first() is not None  # kept: the last engine asked for
    held = LocalEmbedder(LocalEmbedderConfig(onnx_cache=str(tmp_path / "held")))
    held_engine = weakref.ref(held._shared())
    for name in [f"other-{i}" for i in range(KEEP)]:
        engine(name)
    gc.collect()
    assert first() is None  # no embedder holds it and others were asked for since
    assert held_engine() is held._shared()  # an embedder holds this one


# -- the verified record: dimension without loading, and when it is not trusted ---------------


@pytest.fixture
def fake_model(tmp_path: Path) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "tokenizer.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "[PAD]"}))
    return folder


def write_record(folder: Path, cache: Path, **changes: Any) -> Path:
    path, record = onnx_verified._paths(folder, cache, {})
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not read by these tests")
    fields = {
        "inputs": ["input_ids", "attention_mask"],
        "normalize": True,
        "max_length": 128,
        "dimension": 96,
        "max_difference": 3e-7,
        "versions": {},
    }
    record.write_text(json.dumps({**fields, **changes}))
    return record


def test_the_dimension_comes_from_the_record_without_loading(fake_model: Path, tmp_path: Path) -> None:
    write_record(fake_model, tmp_path / "cache")
    embedder = LocalEmbedder(LocalEmbedderConfig(model=str(fake_model), onnx_cache=str(tmp_path / "cache")))
    assert embedder.dimension == 96
    assert embedder._onnx is None and embedder._model is None
    assert embedder._shared().dimension is None  # still nothing loaded
    assert embedder.identity == "local:my-model"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda record: record.write_text(record.read_text().replace("3e-07", "0.5")),  # failed check
        lambda record: record.write_text("{not json"),
        lambda record: record.write_text(json.dumps({"dimension": 96})),
        lambda record: record.with_suffix(".onnx").unlink(),
    ],
)
def test_a_spoilt_record_is_not_trusted(fake_model: Path, tmp_path: Path, spoil: Any) -> None:
    spoil(write_record(fake_model, tmp_path))
    assert onnx_verified.peek_dimension(fake_model, tmp_path, {}) is None
    assert onnx_verified.load(fake_model, tmp_path, {}, None) is None


def test_a_record_made_with_other_files_packages_or_settings_is_not_found(
    fake_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_record(fake_model, tmp_path)
    assert onnx_verified.peek_dimension(fake_model, tmp_path, {}) == 96
    assert onnx_verified.peek_dimension(fake_model, tmp_path, {"truncate_dim": 32}) is None
    versions = onnx_verified._versions()
    monkeypatch.setattr(onnx_verified, "_versions", lambda: {**versions, "onnxruntime": "0.1"})
    assert onnx_verified.peek_dimension(fake_model, tmp_path, {}) is None
    monkeypatch.undo()
    (fake_model / "tokenizer.json").write_text('{"changed": true}')
    assert onnx_verified.peek_dimension(fake_model, tmp_path, {}) is None


def test_only_a_folder_with_a_tokenizer_file_takes_the_fast_path(fake_model: Path, tmp_path: Path) -> None:
    assert onnx_verified.model_folder(str(fake_model)) == fake_model.resolve()
    assert onnx_verified.model_folder(str(tmp_path)) is None
    assert onnx_verified.model_folder("BAAI/bge-small-en-v1.5") is None
    for config in ({"backend": "torch"}, {"device": "cuda"}):
        engine = LocalEngine(LocalEmbedderConfig.model_validate({"model": str(fake_model), **config}))
        assert engine.folder() is None


# -- with the real model ---------------------------------------------------------------------

TEXTS = [
    "where does the user live?",
    "I moved from Delhi to Bangalore last month.",
    "",
    "Unicode: café, naïve, 東京, emoji 🙂",
    "a much longer text that goes on " * 60,
]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def verified_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding an export verified in this process (torch loaded here, once)."""
    cache = tmp_path_factory.mktemp("verified")
    embedder = LocalEmbedder(LocalEmbedderConfig(backend="onnx", onnx_cache=str(cache)))
    assert embedder.backend == "onnx"
    (record,) = cache.glob("*.json")
    assert json.loads(record.read_text())["max_difference"] < 1e-6
    return cache


@pytest.mark.integration
def test_a_new_process_embeds_without_torch_and_as_torch_does(verified_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "vectors.npy"
    code = (
        "import sys, numpy as np\n"
        "from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig\n"
        f"e = LocalEmbedder(LocalEmbedderConfig(onnx_cache={str(verified_cache)!r}))\n"
        f"single = np.concatenate([e.embed([t]) for t in {TEXTS!r}])\n"
        f"np.save({str(out)!r}, np.stack([single, e.embed({TEXTS!r})]))\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], e.backend)\n"
    )
    assert run_python(code).stdout.split() == ["[]", "onnx"]
    torch = LocalEmbedder(LocalEmbedderConfig(backend="torch"))
    expected = torch.embed(TEXTS)
    single, batch = np.load(out)
    assert np.abs(single - expected).max() < 1e-6
    assert np.abs(batch - expected).max() < 1e-6


@pytest.mark.integration
def test_close_leaves_the_shared_model_to_the_others(verified_cache: Path) -> None:
    config = LocalEmbedderConfig(onnx_cache=str(verified_cache))
    first, second = LocalEmbedder(config), LocalEmbedder(config)
    vector = first.embed(["hello"])
    first.close()
    assert np.array_equal(second.embed(["hello"]), vector)
    assert second._onnx is first._onnx is not None


@pytest.mark.integration
def test_memories_of_one_embedder_config_load_one_model(verified_cache: Path, tmp_path: Path) -> None:
    def config(name: str) -> dict[str, Any]:
        return {
            "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / name)}},
            "embedder": {"provider": "local", "config": {"onnx_cache": str(verified_cache)}},
        }

    with Memory.from_config(config("a.db")) as a, Memory.from_config(config("b.db")) as b:
        for memory in (a, b):
            memory.add("I like green tea", user_id="u", infer=False)
            assert memory.search("tea", filters={"user_id": "u"})["results"]
        assert isinstance(a.embedder, LocalEmbedder) and isinstance(b.embedder, LocalEmbedder)
        assert a.embedder._onnx is b.embedder._onnx is not None


READ_ONLY = [
    ["list", "-u", "u"],
    ["get", "ID"],
    ["history", "ID"],
    ["update", "ID", "--metadata", '{"k": 1}'],
    ["export", "out.jsonl"],
    ["delete", "ID"],
    ["delete-all", "-u", "u", "--yes"],
]


@pytest.mark.integration
@pytest.mark.parametrize("args", READ_ONLY, ids=lambda args: args[0])
def test_commands_that_embed_nothing_load_no_model(
    verified_cache: Path, tmp_path: Path, args: list[str]
) -> None:
    env = {"MEMLANE_DIR": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    embedder = {"provider": "local", "config": {"onnx_cache": str(verified_cache)}}
    setup = (
        "from memlane import Memory\n"
        f"m = Memory.from_config({{'embedder': {embedder!r}}})\n"
        "print(m.add('I like green tea', user_id='u', infer=False)['results'][0]['id'])\n"
    )
    memory_id = run_python(setup, **env).stdout.split()[-1]
    argv = [memory_id if arg == "ID" else arg for arg in args]
    code = (
        "import atexit, sys\n"
        f"heavy = {(*HEAVY, 'onnxruntime')!r}\n"
        "atexit.register(lambda: print('LOADED', [m for m in heavy if m in sys.modules]))\n"
        "from memlane.cli import main\n"
        f"sys.argv = ['memlane', *{argv!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
