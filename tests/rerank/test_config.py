"""The ``reranker`` section: validated at load, mem0's shapes accepted, unknown names listed."""

from __future__ import annotations

from typing import Any

import pytest

from memlane import ConfigError, MemoryConfig, UnknownProviderError, providers
from memlane.config import LLMSection, RerankerSection
from memlane.llm.fake import FakeLLMConfig
from memlane.rerank import (
    CrossEncoderConfig,
    CrossEncoderReranker,
    LLMRerankerConfig,
    Reranker,
    RerankerSettings,
    build_reranker,
)
from memlane.rerank.cross_encoder import DEFAULT_MODEL


def test_the_reranker_is_off_by_default() -> None:
    assert MemoryConfig.load(None).reranker is None


def test_both_providers_and_the_alias_are_registered() -> None:
    assert {"sentence_transformer", "cross_encoder", "llm_reranker"} <= set(providers.names("reranker"))
    assert providers.get("reranker", "cross_encoder").config_model is CrossEncoderConfig


def test_the_default_provider_is_the_cross_encoder() -> None:
    config = MemoryConfig.load({"reranker": {}})
    assert config.reranker is not None and config.reranker.provider == "sentence_transformer"
    parsed = config.reranker.parsed
    assert isinstance(parsed, CrossEncoderConfig)
    assert (parsed.model, parsed.device, parsed.batch_size) == (DEFAULT_MODEL, "cpu", 32)


def test_building_the_cross_encoder_loads_nothing() -> None:
    reranker = build_reranker("cross_encoder", {"model": "~/models/my-reranker"})
    assert isinstance(reranker, CrossEncoderReranker) and isinstance(reranker, Reranker)
    assert not reranker.model_path.startswith("~")
    assert reranker._model is None


@pytest.mark.parametrize(
    "config",
    [
        {"model": DEFAULT_MODEL, "top_k": 5},
        {"model": DEFAULT_MODEL, "device": None, "batch_size": 16, "show_progress_bar": False},
        {"top_k": 3, "api_key": None},
        None,
    ],
)
def test_mem0_sentence_transformer_configs_load(config: dict[str, Any] | None) -> None:
    loaded = MemoryConfig.load({"reranker": {"provider": "sentence_transformer", "config": config}})
    assert loaded.reranker is not None
    parsed = loaded.reranker.parsed
    assert isinstance(parsed, CrossEncoderConfig) and isinstance(parsed, RerankerSettings)
    assert parsed.top_k == (config or {}).get("top_k")


def test_mem0_llm_reranker_top_level_keys_name_the_scoring_llm() -> None:
    mem0 = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "api_key": "sk-test",
        "temperature": 0.0,
        "max_tokens": 100,
        "top_k": 5,
        "max_workers": 4,
        "scoring_prompt": "Query: {query} Document: {document}",
    }
    loaded = MemoryConfig.load({"reranker": {"provider": "llm_reranker", "config": mem0}})
    assert loaded.reranker is not None
    parsed = loaded.reranker.parsed
    assert isinstance(parsed, LLMRerankerConfig) and parsed.llm is not None
    assert parsed.llm.provider == "openai"
    assert parsed.llm.config == {"model": "gpt-4o-mini", "api_key": "sk-test", "temperature": 0.0}
    assert parsed.top_k == 5


def test_mem0_top_level_keys_fill_in_a_nested_llm_without_overriding_it() -> None:
    data = {
        "provider": "anthropic",
        "model": "outer-model",
        "api_key": "sk-outer",
        "llm": {"provider": "openai", "config": {"model": "inner-model"}},
    }
    parsed = LLMRerankerConfig.model_validate(data)
    assert parsed.llm is not None and parsed.llm.provider == "openai"
    assert parsed.llm.config == {"model": "inner-model", "api_key": "sk-outer"}


def test_the_nested_llm_is_validated_by_its_provider() -> None:
    parsed = LLMRerankerConfig.model_validate({"llm": {"provider": "fake", "config": {"max_retries": 1}}})
    assert parsed.llm is not None and isinstance(parsed.llm.parsed, FakeLLMConfig)
    assert parsed.llm.parsed.max_retries == 1
    with pytest.raises(ConfigError, match="model"):  # the fake takes no model
        MemoryConfig.load(
            {"reranker": {"provider": "llm_reranker", "config": {"model": "m", "llm": {"provider": "fake"}}}}
        )


def test_a_config_model_round_trips_through_the_registry() -> None:
    parsed = LLMRerankerConfig(llm=LLMSection(provider="fake"))
    assert providers.validate("reranker", "llm_reranker", parsed) is parsed
    again = providers.validate("reranker", "llm_reranker", parsed.model_dump())
    assert again == parsed
    assert RerankerSection(provider="llm_reranker", config=parsed.model_dump()).parsed == parsed


def test_an_unknown_reranker_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError, match="cohere") as info:
        MemoryConfig.load({"reranker": {"provider": "cohere", "config": {"model": "rerank-v3.5"}}})
    assert "sentence_transformer" in str(info.value) and "llm_reranker" in str(info.value)


def test_an_unknown_nested_llm_provider_fails_at_load() -> None:
    with pytest.raises(ConfigError, match="nope"):
        MemoryConfig.load({"reranker": {"provider": "llm_reranker", "config": {"llm": {"provider": "nope"}}}})


@pytest.mark.parametrize(
    "config",
    [
        {"batch_size": 0},
        {"modle": "x"},
        {"top_k": -1},
        {"max_length": 0},
    ],
)
def test_bad_cross_encoder_fields_fail_at_load(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        MemoryConfig.load({"reranker": {"provider": "cross_encoder", "config": config}})


def test_bad_llm_reranker_fields_fail_at_load() -> None:
    with pytest.raises(ConfigError, match="max_document_chars"):
        MemoryConfig.load({"reranker": {"provider": "llm_reranker", "config": {"max_document_chars": 1}}})
