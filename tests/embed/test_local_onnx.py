"""The ONNX back end of the local embedder without the model: config, choice, cache key, files."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from memlane import ConfigError, MemoryConfig
from memlane.embed import local_onnx
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig
from memlane.embed.local_onnx import (
    ExportPlan,
    cache_key,
    default_cache_dir,
    export_plan,
    files_identity,
    missing_package,
    remove_stale_temporaries,
    write_atomically,
)
from memlane.errors import MissingDependencyError

# -- config and the choice of back end -----------------------------------------------------


def test_defaults() -> None:
    config = LocalEmbedderConfig()
    assert config.backend == "auto"
    assert config.onnx_cache is None


def test_an_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="backend"):
        LocalEmbedderConfig(backend="tensorflow")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="backend"):
        MemoryConfig.load({"embedder": {"provider": "local", "config": {"backend": "tensorflow"}}})


def test_the_options_load_from_a_config_dict(tmp_path: Path) -> None:
    section = {"provider": "local", "config": {"backend": "torch", "onnx_cache": str(tmp_path)}}
    parsed = MemoryConfig.load({"embedder": section}).embedder.parsed
    assert isinstance(parsed, LocalEmbedderConfig)
    assert (parsed.backend, parsed.onnx_cache) == ("torch", str(tmp_path))


@pytest.mark.parametrize("package", ["onnxruntime", "onnx"])
def test_onnx_without_its_packages_fails_when_built(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` raise ImportError
    assert missing_package() == package
    with pytest.raises(MissingDependencyError, match=rf"'{package}'.*memlane\[local\]") as caught:
        LocalEmbedder(LocalEmbedderConfig(backend="onnx"))
    assert caught.value.extra == "local"
    section = {"provider": "local", "config": {"backend": "onnx"}}
    with pytest.raises(MissingDependencyError, match=package):
        MemoryConfig.load({"embedder": section}).embedder.build()


def test_auto_and_torch_build_without_onnx_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    for backend in ("auto", "torch"):
        built = LocalEmbedder(LocalEmbedderConfig(backend=backend))
        assert built._onnx is None and built._model is None  # nothing loaded yet


def test_the_packages_are_installed_here() -> None:
    assert missing_package() is None


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "memlane" / "onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "memlane" / "onnx"


# -- which models can go to ONNX -----------------------------------------------------------


class Transformer:
    def __init__(self, config: dict[str, Any] | None = None, dtype: str = "torch.float32") -> None:
        self._config = config or {"transformer_task": "feature-extraction", "modality_config": {"text": {}}}
        weight = SimpleNamespace(
            dtype=dtype, device=SimpleNamespace(type="cpu"), numel=lambda: 1000, element_size=lambda: 4
        )
        self.auto_model = SimpleNamespace(parameters=lambda: [weight])

    def get_config_dict(self) -> dict[str, Any]:
        return self._config


class Pooling:
    def __init__(self, **config: Any) -> None:
        self._config = config or {"pooling_mode": "mean", "include_prompt": True}

    def get_config_dict(self) -> dict[str, Any]:
        return self._config


class Normalize:
    pass


class Dense:
    pass


class FakeSentenceTransformer(list[Any]):
    """What ``export_plan`` reads of a SentenceTransformer: its modules and a few attributes."""

    def __init__(self, modules: list[Any], keys: tuple[str, ...] = local_onnx.INPUTS, **attrs: Any) -> None:
        super().__init__(modules)
        self.max_seq_length = 256
        self.default_prompt_name: str | None = None
        self.truncate_dim: int | None = None
        self.tokenizer = lambda texts, **kwargs: dict.fromkeys(keys)
        self.__dict__.update(attrs)


def test_a_plain_mean_pooling_model_is_exported() -> None:
    plan = export_plan(FakeSentenceTransformer([Transformer(), Pooling(), Normalize()]))
    assert plan == ExportPlan(local_onnx.INPUTS, normalize=True, max_length=256)
    unnormalised = FakeSentenceTransformer([Transformer(), Pooling()], keys=("input_ids", "attention_mask"))
    assert export_plan(unnormalised) == ExportPlan(("input_ids", "attention_mask"), False, 256)
    # sentence-transformers before 6 kept one flag per pooling mode
    old = Pooling(pooling_mode_mean_tokens=True, pooling_mode_cls_token=False, word_embedding_dimension=384)
    assert isinstance(export_plan(FakeSentenceTransformer([Transformer(), old])), ExportPlan)


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (FakeSentenceTransformer([Transformer(), Pooling(pooling_mode="cls")]), "pooling is 'cls'"),
        (FakeSentenceTransformer([Transformer(), Pooling(pooling_mode_max_tokens=True)]), "not mean"),
        (FakeSentenceTransformer([Transformer(), Pooling(), Dense(), Normalize()]), "Dense"),
        (FakeSentenceTransformer([Transformer()]), "modules are"),
        (FakeSentenceTransformer([Transformer(), Pooling()], default_prompt_name="query"), "prompt"),
        (FakeSentenceTransformer([Transformer(), Pooling()], truncate_dim=128), "truncates"),
        (FakeSentenceTransformer([Transformer(), Pooling()], tokenizer=None), "no tokenizer"),
        (FakeSentenceTransformer([Transformer(dtype="torch.float16"), Pooling()]), "float32"),
        (FakeSentenceTransformer([Transformer({"modality_config": {"image": {}}}), Pooling()]), "text"),
        (FakeSentenceTransformer([Transformer({"transformer_task": "text-generation"}), Pooling()]), "task"),
        (FakeSentenceTransformer([Transformer(), Pooling()], keys=("input_ids",)), "tokenizer gives"),
        (
            FakeSentenceTransformer([Transformer(), Pooling()], keys=(*local_onnx.INPUTS, "pixel_values")),
            "tokenizer gives",
        ),
    ],
)
def test_other_models_stay_on_torch(model: FakeSentenceTransformer, reason: str) -> None:
    plan = export_plan(model)
    assert isinstance(plan, str)
    assert reason in plan


# -- the cache: key, files -----------------------------------------------------------------


def test_the_cache_key_is_stable_and_sensitive() -> None:
    identity = {"model": "/m", "files": [["model.safetensors", 10, 5]], "torch": "2.13.0", "onnx": "1.23"}
    key = cache_key(identity)
    assert len(key) == 32 and key.isalnum()
    assert cache_key(dict(reversed(identity.items()))) == key
    for field, value in [("torch", "2.14.0"), ("onnx", "1.24"), ("model", "/n"), ("files", [])]:
        assert cache_key({**identity, field: value}) != key
    assert cache_key({**identity, "pooling": {"normalize": True}}) != cache_key(
        {**identity, "pooling": {"normalize": False}}
    )


def test_the_files_identity_follows_size_and_mtime(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text("{}")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"1234")
    first = files_identity(tmp_path)
    assert [name for name, _, _ in first] == ["1_Pooling/config.json", "model.safetensors"]
    assert files_identity(tmp_path) == first
    weights.write_bytes(b"12345")
    assert files_identity(tmp_path) != first
    size_only = files_identity(tmp_path)
    os.utime(weights, ns=(1, 1))
    assert files_identity(tmp_path) != size_only


def test_an_atomic_write_leaves_the_file_whole_or_absent(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "key.onnx"
    write_atomically(path, lambda target: target.write_bytes(b"whole"))
    assert path.read_bytes() == b"whole"

    def fail(target: Path) -> None:
        target.write_bytes(b"half")
        raise RuntimeError("export died")

    with pytest.raises(RuntimeError, match="export died"):
        write_atomically(path, fail)
    assert path.read_bytes() == b"whole"  # the old file is untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["key.onnx"]  # no temporary left


def test_two_writers_at_once_end_with_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "key.onnx"
    barrier = threading.Barrier(4)

    def write(label: bytes) -> None:
        def slowly(target: Path) -> None:
            with target.open("wb") as out:
                barrier.wait()  # every writer is half-way at the same time
                for _ in range(100):
                    out.write(label * 1000)

        write_atomically(path, slowly)

    threads = [threading.Thread(target=write, args=(bytes([65 + i]),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    content = path.read_bytes()
    assert len(content) == 100_000 and len(set(content)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["key.onnx"]


def test_stale_temporaries_are_removed(tmp_path: Path) -> None:
    old, fresh, model = tmp_path / ".key.onnx.a.tmp", tmp_path / ".key.onnx.b.tmp", tmp_path / "key.onnx"
    for path in (old, fresh, model):
        path.write_bytes(b"x")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(model, (hours_ago, hours_ago))
    remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, model.name]
    remove_stale_temporaries(tmp_path / "missing")  # no folder yet: nothing to do
