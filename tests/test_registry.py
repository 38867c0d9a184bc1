"""One registry for every kind of provider; built-ins register like third parties."""

from __future__ import annotations

import types
from collections.abc import Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

import memlane
import memlane.registry as reg_module
from memlane import ConfigError, MemoryConfig, UnknownProviderError, providers
from memlane.embed.hash import HashEmbedder
from memlane.llm import FakeLLM
from memlane.registry import ENTRY_POINT_GROUP, Dependencies, Registry
from memlane.rerank import LLMReranker
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.graph import SQLiteGraphStore
from tests.module_imports import SRC, reachable

BACKEND_PACKAGES = ("embed", "llm", "rerank", "store", "graph")
CONTRACTS = {"memlane.llm.base"}  # the LLM a reranker's own ``llm`` section builds


class DummyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = 1


class Dummy:
    """A reranker that remembers its config and the dependencies it was built with."""

    def __init__(self, config: DummyConfig, deps: Dependencies) -> None:
        self.size = config.size
        self.deps = deps

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        return [float(self.size)] * len(documents)


def test_builtins_are_registered() -> None:
    assert {"hash", "local", "openai", "huggingface", "sentence_transformers"} <= set(
        providers.names("embedder")
    )
    assert "sqlite" in providers.names("vector_store")


def test_names_are_sorted() -> None:
    names = providers.names("embedder")
    assert names == sorted(names)


def test_the_public_registry_is_a_registry() -> None:
    assert isinstance(providers, Registry)
    assert memlane.providers is reg_module.providers


def test_the_registry_module_is_not_shadowed() -> None:
    # ``memlane.registry`` is the module (Registry, Dependencies…); the instance is ``memlane.providers``
    assert isinstance(memlane.registry, types.ModuleType)
    assert memlane.registry is reg_module


def test_builtins_come_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert "builtins" in names


def test_register_get_validate_create() -> None:
    reg = Registry(discover=False)
    reg.register("reranker", "dummy", DummyConfig, Dummy)
    provider = reg.get("reranker", "dummy")
    assert (provider.kind, provider.name, provider.config_model) == ("reranker", "dummy", DummyConfig)
    assert reg.validate("reranker", "dummy", {"size": 3}) == DummyConfig(size=3)
    config = DummyConfig(size=4)
    assert reg.validate("reranker", "dummy", config) is config
    built = reg.create("reranker", "dummy", {"size": 5})
    assert isinstance(built, Dummy) and built.size == 5


def test_validate_rejects_a_bad_config() -> None:
    reg = Registry(discover=False)
    reg.register("reranker", "dummy", DummyConfig, Dummy)
    with pytest.raises(ConfigError, match=r"config\.size: Input should be a valid integer"):
        reg.validate("reranker", "dummy", {"size": "big"})
    with pytest.raises(ConfigError, match=r"config\.other: unknown field; the fields are: size") as info:
        reg.validate("reranker", "dummy", {"other": 1})
    assert "pydantic" not in str(info.value)


def test_register_replaces() -> None:
    reg = Registry(discover=False)
    reg.register("reranker", "dummy", DummyConfig, Dummy)
    replaced = Dummy(DummyConfig(size=7), Dependencies())
    reg.register("reranker", "dummy", DummyConfig, lambda config, deps: replaced)
    assert reg.create("reranker", "dummy", {}) is replaced
    assert reg.names("reranker").count("dummy") == 1


def test_a_registry_without_discovery_still_has_the_builtins() -> None:
    reg = Registry(discover=False)
    assert isinstance(reg.create("embedder", "hash", {"embedding_dims": 8}), HashEmbedder)


def test_unknown_provider_lists_known_names() -> None:
    reg = Registry(discover=False)
    with pytest.raises(UnknownProviderError) as info:
        reg.get("embedder", "nope")
    assert info.value.known == reg.names("embedder")
    assert "hash" in str(info.value)
    with pytest.raises(UnknownProviderError, match="llm_reranker, sentence_transformer"):
        reg.get("reranker", "cohere")
    assert "(none)" in str(UnknownProviderError("reranker", "cohere", []))


def test_kinds_are_separate() -> None:
    reg = Registry(discover=False)
    with pytest.raises(UnknownProviderError):
        reg.get("vector_store", "hash")


def _fake_plugins(monkeypatch: pytest.MonkeyPatch, plugins: dict[str, object]) -> None:
    """Discovery finds only these entry points (each loads to its object), as if installed."""
    found = [
        EntryPoint(name=name, value=f"plugin_{name}:register", group=ENTRY_POINT_GROUP) for name in plugins
    ]
    real_load = EntryPoint.load

    def load(self: EntryPoint) -> Any:
        return plugins[self.name] if self in found else real_load(self)

    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return found

    monkeypatch.setattr(EntryPoint, "load", load)
    monkeypatch.setattr(reg_module, "entry_points", entry_points)


def test_third_party_entry_points_register(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Registry] = []

    def plugin(reg: Registry) -> None:
        calls.append(reg)
        reg.register("reranker", "thirdparty", DummyConfig, Dummy)

    _fake_plugins(monkeypatch, {"thirdparty": plugin})
    reg = Registry()
    assert "thirdparty" in reg.names("reranker")
    # the builtins entry point was not among those found: they are registered anyway
    assert "hash" in reg.names("embedder")
    reg.names("llm")
    assert calls == [reg]  # discovery runs once


def test_a_plugin_may_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    def plugin(reg: Registry) -> None:
        reg.register("reranker", "llm_reranker", DummyConfig, Dummy)

    _fake_plugins(monkeypatch, {"thirdparty": plugin})
    assert isinstance(Registry().create("reranker", "llm_reranker", {"size": 3}), Dummy)


def test_a_non_callable_entry_point_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_plugins(monkeypatch, {"broken": 42})
    with pytest.raises(ConfigError, match="broken"):
        Registry().names("embedder")


def test_a_factory_gets_the_dependencies() -> None:
    reg = Registry(discover=False)
    reg.register("reranker", "dummy", DummyConfig, Dummy)
    llm = FakeLLM()
    built = reg.create("reranker", "dummy", {"size": 2}, Dependencies(llm=llm))
    assert isinstance(built, Dummy) and built.deps.llm is llm and built.deps.store is None
    plain = reg.create("reranker", "dummy", {})
    assert isinstance(plain, Dummy) and plain.deps == Dependencies()  # none given: none


def test_every_kind_builds_the_same_way_from_its_section(tmp_path: Path) -> None:
    config = MemoryConfig.load(
        {
            "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
            "embedder": {"provider": "hash", "config": {"embedding_dims": 8}},
            "llm": {"provider": "fake"},
            "graph_store": {"provider": "sqlite"},
            "reranker": {"provider": "llm_reranker"},
        }
    )
    assert config.llm is not None and config.graph_store is not None and config.reranker is not None
    store = config.vector_store.build()
    llm = config.llm.build()
    deps = Dependencies(store=store, llm=llm)
    embedder = config.embedder.build(deps)
    graph = config.graph_store.build(deps)
    reranker = config.reranker.build(deps)
    assert isinstance(store, SQLiteStore) and isinstance(embedder, HashEmbedder)
    assert isinstance(llm, FakeLLM) and isinstance(graph, SQLiteGraphStore)
    assert isinstance(reranker, LLMReranker) and reranker.llm is llm
    graph.close()
    store.close()


def test_the_registry_imports_no_provider_and_no_config() -> None:
    # providers are loaded through entry points only, and no back end needs memlane.config (the
    # old loop: config -> registry -> providers -> rerank.llm -> config)
    reached = reachable("memlane.registry")
    assert "memlane.config" not in reached
    assert not {m for m in reached if m.split(".")[1] in BACKEND_PACKAGES} - CONTRACTS
    backends = [
        ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        for package in BACKEND_PACKAGES
        for path in sorted((SRC / package).rglob("*.py"))
    ]
    assert "memlane.rerank.llm" in backends
    for backend in backends:
        assert "memlane.config" not in reachable(backend), backend
