"""mem0's huggingface embedder configs: a text-embeddings-inference server (its OpenAI-style
``/v1/embeddings``), ``model_kwargs`` with ``device``, and the bundled model named by its hub name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane import ConfigError, Memory, MemoryConfig
from memlane.embed.hash import HashEmbedder
from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig
from memlane.embed.openai import OpenAIEmbedder
from tests.embed.test_openai import SERVER_DIMS, EmbeddingHTTPServer, server  # noqa: F401 -- fixture


def hf_config(path: Path, **embedder: Any) -> dict[str, Any]:
    return {
        "embedder": {"provider": "huggingface", "config": embedder},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
    }


def test_huggingface_base_url_embeds_on_the_tei_server(
    server: EmbeddingHTTPServer,  # noqa: F811 -- the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-tei")
    with Memory.from_config(hf_config(tmp_path / "m.db", huggingface_base_url=server.url)) as memory:
        assert isinstance(memory.embedder, OpenAIEmbedder)
        memory.add("I moved to Bangalore", user_id="u")
        hits = memory.search("Bangalore", user_id="u")["results"]
        assert hits and hits[0]["memory"] == "I moved to Bangalore"
        assert memory.embedder.identity == f"openai:tei@{server.url}"
        vector = np.asarray(memory.embedder.embed(["x"])[0])
    assert np.allclose(vector, HashEmbedder(SERVER_DIMS).embed(["x"])[0], atol=1e-6)
    seen = server.state.requests
    assert seen and {r.path for r in seen} == {"/v1/embeddings"}
    assert all("sk-not-for-tei" not in r.headers.get("authorization", "") for r in seen)


def test_huggingface_base_url_sends_the_model_and_key(server: EmbeddingHTTPServer) -> None:  # noqa: F811
    config = MemoryConfig.load(
        {
            "embedder": {
                "provider": "huggingface",
                "config": {"huggingface_base_url": server.url, "model": "BAAI/bge-small", "api_key": "k1"},
            }
        }
    )
    embedder = config.embedder.build()
    embedder.embed(["hello"])
    request = server.state.requests[-1]
    assert request.body["model"] == "BAAI/bge-small"
    assert request.headers["authorization"] == "Bearer k1"


def test_device_in_model_kwargs_is_the_device_setting() -> None:
    parsed = MemoryConfig.load(
        {
            "embedder": {
                "provider": "huggingface",
                "config": {"model_kwargs": {"device": "cpu", "trust_remote_code": False}},
            }
        }
    ).embedder.parsed
    assert isinstance(parsed, LocalEmbedderConfig)
    assert parsed.device == "cpu" and parsed.model_kwargs == {"trust_remote_code": False}
    with pytest.raises(ConfigError, match="disagree"):
        MemoryConfig.load(
            {
                "embedder": {
                    "provider": "local",
                    "config": {"device": "cuda", "model_kwargs": {"device": "cpu"}},
                }
            }
        )


@pytest.mark.integration
def test_mem0s_huggingface_config_of_the_bundled_model_loads_offline() -> None:
    config = MemoryConfig.load(
        {
            "embedder": {
                "provider": "huggingface",
                "config": {
                    "model": "sentence-transformers/all-MiniLM-L6-v2",
                    "embedding_dims": 384,
                    "model_kwargs": {"device": "cpu"},
                },
            }
        }
    )
    embedder = config.embedder.build()
    assert isinstance(embedder, LocalEmbedder)
    assert embedder.embed(["hello"]).shape == (1, 384)
    assert embedder.identity == "local:all-MiniLM-L6-v2"
