"""Embedder identities: what a store records to refuse vectors of another model. Names of one
model (aliases, the bundled copy's path) give one identity; nothing is loaded to compute it."""

from __future__ import annotations

from typing import Any

import pytest

from memlane.embed.base import Embedder
from memlane.embed.hash import HashEmbedder
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig, default_model_path, model_source
from memlane.embed.openai import OpenAIEmbedder, OpenAIEmbedderConfig


def local(model: str | None) -> LocalEmbedder:
    return LocalEmbedder(LocalEmbedderConfig(model=model))


def test_the_hash_embedder_is_named_by_its_size() -> None:
    assert HashEmbedder(128).identity == "hash:128"
    assert HashEmbedder(64).identity != HashEmbedder(128).identity


@pytest.mark.parametrize(
    "model",
    [
        None,
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-minilm-l6-v2",
        "/somewhere/models/all-MiniLM-L6-v2/",
    ],
)
def test_names_of_the_bundled_model_are_one_identity(model: str | None) -> None:
    embedder = local(model)
    assert embedder.identity == "local:all-MiniLM-L6-v2"
    assert embedder._model is None  # nothing loaded


def test_the_bundled_path_is_the_bundled_model() -> None:
    assert local(default_model_path()).identity == "local:all-MiniLM-L6-v2"


def test_a_hub_name_and_a_folder_of_that_model_agree() -> None:
    assert local("BAAI/bge-small-en-v1.5").identity == local("/models/bge-small-en-v1.5").identity
    assert local("BAAI/bge-small-en-v1.5").identity != local(None).identity


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"])
def test_the_bundled_model_names_load_the_bundled_copy(name: str) -> None:
    # mem0's huggingface config names it; loading it by name would try the network and fail
    assert model_source(name) == default_model_path()
    assert model_source(None) == default_model_path()
    assert model_source("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"


def openai(**config: Any) -> OpenAIEmbedder:
    return OpenAIEmbedder(OpenAIEmbedderConfig.model_validate({"embedding_dims": 8, **config}))


def test_an_openai_compatible_embedder_is_named_by_model_and_server() -> None:
    default = openai()
    assert default.identity == "openai:text-embedding-3-small@https://api.openai.com/v1"
    assert openai(openai_base_url="http://LOCALHOST:11434/v1/").identity == (
        "openai:text-embedding-3-small@http://localhost:11434/v1"
    )
    assert openai(model="nomic-embed-text").identity != default.identity


def test_an_identity_never_holds_credentials() -> None:
    embedder = openai(openai_base_url="https://user:hunter2@host.example:8443/v1?key=abc", api_key="sk-x")
    assert embedder.identity == "openai:text-embedding-3-small@https://host.example:8443/v1"


def test_every_builtin_embedder_meets_the_contract() -> None:
    for embedder in (HashEmbedder(8), local(None), openai()):
        assert isinstance(embedder, Embedder)
