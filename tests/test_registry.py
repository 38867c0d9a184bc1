"""One registry for every kind of provider; built-ins register like third parties."""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from memlane import ConfigError, UnknownProviderError, registry
from memlane.embed.hash import HashEmbedder
from memlane.registry import ENTRY_POINT_GROUP, Registry

# ``memlane.registry`` is the Registry instance (the package re-exports it under the module's
# name), so the module itself is reached through importlib
reg_module = importlib.import_module("memlane.registry")


class DummyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = 1


class Dummy:
    def __init__(self, config: DummyConfig) -> None:
        self.size = config.size


def test_builtins_are_registered() -> None:
    assert {"hash", "local", "openai", "huggingface", "sentence_transformers"} <= set(
        registry.names("embedder")
    )
    assert "sqlite" in registry.names("vector_store")


def test_names_are_sorted() -> None:
    names = registry.names("embedder")
    assert names == sorted(names)


def test_the_public_registry_is_a_registry() -> None:
    assert isinstance(registry, Registry)


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
    reg.register("reranker", "dummy", DummyConfig, lambda c: "replaced")
    assert reg.create("reranker", "dummy", {}) == "replaced"
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


def _fake_entry_points(found: list[EntryPoint]) -> Any:
    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return found

    return entry_points


def test_third_party_entry_points_register(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Registry] = []

    def plugin(reg: Registry) -> None:
        calls.append(reg)
        reg.register("reranker", "thirdparty", DummyConfig, Dummy)

    ep = EntryPoint(name="thirdparty", value="x:y", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(EntryPoint, "load", lambda self: plugin)
    monkeypatch.setattr(reg_module, "entry_points", _fake_entry_points([ep]))
    reg = Registry()
    assert "thirdparty" in reg.names("reranker")
    # the builtins entry point was not among those found: they are registered anyway
    assert "hash" in reg.names("embedder")
    reg.names("llm")
    assert calls == [reg]  # discovery runs once


def test_a_non_callable_entry_point_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="broken", value="x:y", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(EntryPoint, "load", lambda self: 42)
    monkeypatch.setattr(reg_module, "entry_points", _fake_entry_points([ep]))
    with pytest.raises(ConfigError, match="broken"):
        Registry().names("embedder")
