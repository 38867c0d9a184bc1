"""MemoryConfig: defaults that work offline, mem0-shaped dicts, clear errors at load time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memlane import ConfigError, Memory, MemoryConfig, UnknownProviderError
from memlane.embed.hash import HashEmbedder, HashEmbedderConfig
from memlane.embed.local import LocalEmbedder
from memlane.llm.openai import OpenAILLM
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.provider import SQLiteStoreConfig, default_path


def test_defaults_need_nothing() -> None:
    config = MemoryConfig.load(None)
    assert config.vector_store.provider == "sqlite"
    assert config.embedder.provider == "local"
    assert config.llm is None
    assert MemoryConfig.load({}) == config


def test_load_returns_a_config_unchanged() -> None:
    config = MemoryConfig.load({"embedder": {"provider": "hash"}})
    assert MemoryConfig.load(config) is config


def test_sections_validate_against_the_provider_model() -> None:
    config = MemoryConfig.load({"embedder": {"provider": "hash", "config": {"embedding_dims": 32}}})
    parsed = config.embedder.parsed
    assert isinstance(parsed, HashEmbedderConfig)
    assert parsed.dims == 32
    built = config.embedder.build()
    assert isinstance(built, HashEmbedder)
    assert built.dimension == 32


def test_config_none_is_an_empty_config() -> None:
    config = MemoryConfig.load({"vector_store": {"provider": "sqlite", "config": None}})
    assert isinstance(config.vector_store.parsed, SQLiteStoreConfig)


def test_a_mem0_config_dict_loads(tmp_path: Path) -> None:
    mem0_style: dict[str, Any] = {
        "version": "v1.1",
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
        "embedder": {"provider": "hash", "config": {"embedding_dims": 16}},
        "history_db_path": str(tmp_path / "history.db"),
        "custom_fact_extraction_prompt": "extract facts",
        "custom_update_memory_prompt": "update them",
    }
    memory = Memory.from_config(mem0_style)
    try:
        assert isinstance(memory.store, SQLiteStore)
        assert memory.embedder.dimension == 16
        assert memory.config.custom_fact_extraction_prompt == "extract facts"
    finally:
        memory.close()


def test_the_local_embedder_is_built_lazily() -> None:
    # building the default embedder must not load a model (that happens on first use)
    built = MemoryConfig.load({"embedder": {"provider": "local"}}).embedder.build()
    assert isinstance(built, LocalEmbedder)
    assert built._model is None


@pytest.mark.parametrize("alias", ["huggingface", "sentence_transformers"])
def test_mem0_provider_aliases_of_the_local_embedder(alias: str) -> None:
    assert isinstance(MemoryConfig.load({"embedder": {"provider": alias}}).embedder.build(), LocalEmbedder)


@pytest.mark.parametrize(
    ("data", "kind", "name"),
    [
        ({"vector_store": {"provider": "chroma-typo"}}, "vector_store", "chroma-typo"),
        ({"embedder": {"provider": "nope"}}, "embedder", "nope"),
        ({"llm": {"provider": "not-an-llm"}}, "llm", "not-an-llm"),
    ],
)
def test_unknown_provider_names_the_known_ones(data: dict[str, Any], kind: str, name: str) -> None:
    with pytest.raises(UnknownProviderError) as info:
        MemoryConfig.load(data)
    error = info.value
    assert (error.kind, error.name) == (kind, name)
    assert isinstance(error, ConfigError) and isinstance(error, ValueError)
    for known in error.known:
        assert known in str(error)


def test_unknown_embedder_lists_the_builtins() -> None:
    with pytest.raises(UnknownProviderError) as info:
        MemoryConfig.load({"embedder": {"provider": "nope"}})
    assert {"hash", "local", "openai"} <= set(info.value.known)


@pytest.mark.parametrize(
    "data",
    [
        {"vectorstore": {"provider": "sqlite"}},  # misspelt section
        {"vector_store": {"provider": "sqlite", "config": {"bogus": 1}}},
        {"vector_store": {"provider": "sqlite", "config": {"busy_timeout_ms": -1}}},
        {"vector_store": {"provider": "sqlite", "extra": 1}},
        {"embedder": {"provider": "hash", "config": {"embedding_dims": 4}}},
        {"embedder": {"provider": "hash", "config": {"embedding_dims": "many"}}},
        {"embedder": {"provider": "openai", "config": {"batch_size": 0}}},
        {"embedder": {"provider": "local", "config": {"batch_size": 0}}},
        {"embedder": "hash"},
        {"search": {"dense_weight": -1}},
        {"search": {"keyword_saturation": 0}},
        {"search": {"candidates": 0}},
        {"search": {"unknown": 1}},
        {"vector_store": {"config": {"path": "x"}, "provider": 5}},
    ],
)
def test_bad_config_fails_at_load(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        MemoryConfig.load(data)


@pytest.mark.parametrize("data", ["sqlite", 5, ["a"]])
def test_non_dict_config_raises(data: Any) -> None:
    with pytest.raises(ConfigError, match="must be a dict"):
        MemoryConfig.load(data)


def test_memory_from_config_raises_config_errors() -> None:
    with pytest.raises(UnknownProviderError):
        Memory.from_config({"vector_store": {"provider": "nope"}})
    with pytest.raises(ConfigError):
        Memory({"nonsense": True})


def test_sqlite_default_path_follows_memlane_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMLANE_DIR", str(tmp_path / "dir"))
    assert default_path() == tmp_path / "dir" / "memlane.db"
    store = MemoryConfig.load({}).vector_store.build()
    try:
        assert isinstance(store, SQLiteStore)
        assert Path(store.path) == tmp_path / "dir" / "memlane.db"
        assert Path(store.path).exists()
    finally:
        store.close()


def test_sqlite_default_path_without_memlane_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMLANE_DIR", raising=False)
    assert default_path() == Path.home() / ".memlane" / "memlane.db"


# -- mem0 configs: readable errors, what to use instead, mem0's harmless fields -------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (
            {"embedder": {"provider": "openai", "config": {"bogus": 1, "batch_size": 0}}},
            ["config.batch_size: Input should be greater than or equal to 1", "config.bogus: unknown field"],
        ),
        (
            {"search": {"dense_weight": -1, "x": 1}},
            ["search.dense_weight: Input should be", "search.x: unknown field"],
        ),
        ({"embedder": "hash"}, ["embedder: must be an object"]),
        (
            {"llm": {"provider": "openai", "config": {"api_key": 5}}, "search": {"x": 1}},
            ["config.api_key: Input should be a valid string", "search.x: unknown field"],
        ),
    ],
)
def test_validation_errors_are_one_readable_line_per_problem(data: dict[str, Any], lines: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        MemoryConfig.load(data)
    text = str(info.value)
    for line in lines:
        assert line in text
    assert "pydantic" not in text and "input_value" not in text and "[type=" not in text
    assert len(text.splitlines()) == len(lines) + 1 + (1 if "llm" in data else 0)


def test_a_secret_given_wrongly_is_not_repeated() -> None:
    with pytest.raises(ConfigError) as info:
        MemoryConfig.load({"embedder": {"provider": "openai", "config": {"api_key": ["sk-abc123"]}}})
    assert "sk-abc123" not in str(info.value)


@pytest.mark.parametrize(
    ("kind", "name", "advice"),
    [
        ("vector_store", "qdrant", "use provider 'sqlite'"),
        ("vector_store", "milvus", "'postgres'"),
        ("vector_store", "chroma", "use provider 'sqlite'"),
        ("graph_store", "neo4j", "'falkordb'"),
        ("graph_store", "memgraph", "'sqlite'"),
        ("llm", "azure_openai", "openai.azure.com/openai/v1"),
        ("llm", "gemini", "'litellm' with model 'gemini/"),
        ("embedder", "ollama", "use provider 'openai' with base_url http://localhost:11434/v1"),
        ("embedder", "gemini", "use provider 'openai'"),
        ("reranker", "cohere", "'sentence_transformer'"),
    ],
)
def test_mem0_providers_memlane_lacks_say_what_to_use(kind: str, name: str, advice: str) -> None:
    section: dict[str, Any] = {"provider": name, "config": {"collection_name": "mem0"}}
    with pytest.raises(UnknownProviderError) as info:
        MemoryConfig.load({kind: section})
    assert advice in str(info.value)
    assert info.value.hint and (info.value.kind, info.value.name) == (kind, name)


def test_mem0_vector_store_fields_are_accepted(tmp_path: Path) -> None:
    config = MemoryConfig.load(
        {
            "vector_store": {
                "provider": "sqlite",
                "config": {
                    "path": str(tmp_path / "m.db"),
                    "collection_name": "mem0",
                    "embedding_model_dims": 384,
                    "on_disk": True,
                },
            }
        }
    )
    parsed = config.vector_store.parsed
    assert isinstance(parsed, SQLiteStoreConfig) and parsed.embedding_model_dims == 384


def test_mem0_huggingface_config_with_tei_url_loads() -> None:
    parsed = MemoryConfig.load(
        {"embedder": {"provider": "huggingface", "config": {"huggingface_base_url": "http://tei:3000/v1"}}}
    ).embedder.parsed
    assert getattr(parsed, "huggingface_base_url", None) == "http://tei:3000/v1"


def test_mem0_lmstudio_config_with_its_response_format_loads() -> None:
    # mem0's documented LM Studio config (docs.mem0.ai/components/llms/models/lmstudio)
    mem0_style: dict[str, Any] = {
        "llm": {
            "provider": "lmstudio",
            "config": {
                "model": "lmstudio-community/Meta-Llama-3.1-70B-Instruct-GGUF",
                "temperature": 0.2,
                "max_tokens": 2000,
                "lmstudio_base_url": "http://localhost:1234/v1",
                "lmstudio_response_format": {
                    "type": "json_schema",
                    "json_schema": {"type": "object", "schema": {}},
                },
            },
        }
    }
    section = MemoryConfig.load(mem0_style).llm
    assert section is not None
    llm = section.build()
    assert isinstance(llm, OpenAILLM)
    assert llm.base_url == "http://localhost:1234/v1" and llm.mode == "json_schema"
    llm.close()
