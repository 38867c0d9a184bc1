"""The error mapping in process (FastAPI's TestClient): provider failures are 502/503 with a code,
an unexpected error is a 500 with only the request id, and no body carries a stack trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memlane import (
    ConfigError,
    EmbedderError,
    InvalidFilterError,
    LLMError,
    MemlaneError,
    NotFoundError,
    ProviderError,
    RerankError,
    StoreError,
)
from memlane.errors import DimensionMismatchError
from memlane.server.app import create_app
from memlane.server.errors import status_of
from memlane.server.keys import KeyStore
from memlane.server.settings import ServerSettings
from tests.server.process import HASH_CONFIG

BODY = {"messages": [{"role": "user", "content": "I moved to Oslo"}], "user_id": "alice"}


def client_for(
    tmp_path: Path, config: dict[str, Any], db: str | None = None
) -> tuple[TestClient, dict[str, str]]:
    keys = KeyStore(tmp_path / "keys.db")
    secret = keys.create("acme")[1]
    settings = ServerSettings(
        db=db or str(tmp_path / "m.db"), keys=str(tmp_path / "keys.db"), memory_config=config
    )
    return TestClient(create_app(settings), raise_server_exceptions=False), {"X-API-Key": secret}


@pytest.fixture
def failing_llm(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    client, headers = client_for(
        tmp_path, {**HASH_CONFIG, "llm": {"provider": "fake", "config": {"responses": []}}}
    )
    with client:
        yield client, headers


def test_an_llm_failure_is_a_502_with_its_code(failing_llm: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = failing_llm
    response = client.post("/memories", json={**BODY, "infer": True}, headers=headers)
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "llm_failed" and body["type"] == "LLMError" and body["request_id"]
    assert "Traceback" not in response.text
    stored = client.post("/memories", json={**BODY, "infer": False}, headers=headers)
    assert stored.status_code == 200  # the server goes on


def test_a_tenant_whose_store_cannot_open_is_a_503(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    client, headers = client_for(tmp_path, HASH_CONFIG, db=str(tmp_path / "a-file" / "m.db"))
    with client:
        response = client.get("/memories", params={"user_id": "alice"}, headers=headers)
        assert response.status_code == 503 and response.json()["code"] == "tenant_unavailable"
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"


def test_an_unexpected_error_is_a_500_with_only_the_request_id(tmp_path: Path) -> None:
    client, _ = client_for(tmp_path, HASH_CONFIG)

    @client.app.get("/boom")  # type: ignore[attr-defined, untyped-decorator]
    def boom() -> None:
        raise RuntimeError("password=hunter2 leaked state")

    with client:
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error" and body["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFoundError("x"), 404, "not_found"),
        (InvalidFilterError("f"), 400, "invalid_filter"),
        (ConfigError("c"), 400, "not_configured"),
        (DimensionMismatchError(3, 4), 503, "store_mismatch"),
        (StoreError("s"), 503, "store_unavailable"),
        (LLMError("l"), 502, "llm_failed"),
        (EmbedderError("e"), 502, "embedder_failed"),
        (RerankError("r"), 502, "rerank_failed"),
        (ProviderError("p"), 502, "provider_failed"),
        (MemlaneError("m"), 400, "invalid_request"),
    ],
)
def test_the_status_table(error: MemlaneError, status: int, code: str) -> None:
    assert status_of(error) == (status, code)
