"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, Ollama, vLLM, LM Studio, llama.cpp…)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from memlane.embed.base import Purpose, check_vectors, normalize_rows
from memlane.errors import EmbedderError
from memlane.models import Vectors
from memlane.redact import redact_secrets, secrets_of_url

if TYPE_CHECKING:
    from memlane.registry import Registry

__all__ = ["OpenAIEmbedder", "OpenAIEmbedderConfig", "register"]

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIEmbedderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = "text-embedding-3-small"
    api_key: SecretStr | None = Field(default=None, description="default: $OPENAI_API_KEY")
    base_url: str | None = Field(
        default=None,
        alias="openai_base_url",
        description="default: $OPENAI_BASE_URL or https://api.openai.com/v1",
    )
    embedding_dims: int | None = Field(
        default=None, ge=1, description="sent as `dimensions` when set; else read from a probe"
    )
    timeout: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=256, ge=1, le=2048)
    max_retries: int = Field(default=3, ge=0, le=10)


class OpenAIEmbedder:
    """Batches texts to ``POST {base_url}/embeddings`` with retries on rate limits and timeouts."""

    def __init__(self, config: OpenAIEmbedderConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self._config = config
        key = config.api_key.get_secret_value() if config.api_key else os.environ.get("OPENAI_API_KEY")
        base = config.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            base_url=base.rstrip("/"), headers=headers, timeout=config.timeout, transport=transport
        )
        self._dimension = config.embedding_dims
        self._secrets = [key or "", *secrets_of_url(base)]
        self._identity = f"openai:{config.model}@{_public_url(base)}"

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._request(["dimension probe"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        size = self._config.batch_size
        parts = [self._request(list(texts[i : i + size])) for i in range(0, len(texts), size)]
        if len({part.shape[1] for part in parts}) > 1:
            raise EmbedderError("the embeddings endpoint returned vectors of different sizes across batches")
        vectors = np.vstack(parts)
        if self._dimension is None:  # the first answer tells the size: no separate probe
            self._dimension = int(vectors.shape[1])
        return check_vectors(vectors, len(texts), self.dimension, "the embeddings endpoint")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def _request(self, texts: list[str]) -> Vectors:
        body: dict[str, Any] = {"model": self._config.model, "input": texts}
        if self._config.embedding_dims:
            body["dimensions"] = self._config.embedding_dims
        data = self._post(body)
        try:
            rows = sorted(data["data"], key=lambda item: item["index"])
            return normalize_rows([row["embedding"] for row in rows])
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbedderError(f"unexpected embeddings response: {str(data)[:200]}") from exc

    def _post(self, body: dict[str, Any]) -> Any:
        last: str = ""
        for attempt in range(self._config.max_retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2**attempt))
            try:
                response = self._client.post("/embeddings", json=body)
            except httpx.TimeoutException as exc:
                last = f"timeout: {exc}"
                continue
            except httpx.HTTPError as exc:
                raise EmbedderError(self._redact(f"embeddings request failed: {exc}")) from None
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise EmbedderError(
                    self._redact(
                        f"embeddings endpoint answered HTTP {response.status_code}: {response.text[:300]}"
                    )
                )
            try:
                return response.json()
            except ValueError as exc:
                raise EmbedderError(
                    self._redact(f"embeddings endpoint answered with invalid JSON: {response.text[:200]!r}")
                ) from exc
        raise EmbedderError(self._redact(f"embeddings endpoint failed after retries ({last})"))

    def _redact(self, text: str) -> str:
        return redact_secrets(text, self._secrets)


def _public_url(url: str) -> str:
    """``url`` without credentials, query or trailing slash, its scheme and host lower-cased."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))


def register(registry: Registry) -> None:
    registry.register("embedder", "openai", OpenAIEmbedderConfig, lambda config, _: OpenAIEmbedder(config))
