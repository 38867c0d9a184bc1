"""The app's request handling in process: CORS only when configured, the body limit without a
Content-Length (chunked), request ids (a client's sane one is kept, any other replaced)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from memlane.server.app import create_app
from memlane.server.keys import KeyStore
from memlane.server.settings import ServerSettings
from tests.server.process import HASH_CONFIG

ORIGIN = "https://app.example"


def app_client(tmp_path: Path, **settings: Any) -> tuple[TestClient, dict[str, str]]:
    secret = KeyStore(tmp_path / "keys.db").create("acme")[1]
    config = ServerSettings(
        db=str(tmp_path / "m.db"), keys=str(tmp_path / "keys.db"), memory_config=HASH_CONFIG, **settings
    )
    return TestClient(create_app(config)), {"Authorization": f"Bearer {secret}"}


def preflight(client: TestClient) -> dict[str, str]:
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    return dict(client.options("/search", headers=headers).headers)


def test_cors_is_off_unless_origins_are_configured(tmp_path: Path) -> None:
    off, headers = app_client(tmp_path / "off")
    with off:
        assert "access-control-allow-origin" not in preflight(off)
        got = off.get("/memories", params={"user_id": "a"}, headers={**headers, "Origin": ORIGIN})
        assert "access-control-allow-origin" not in got.headers
    on, headers = app_client(tmp_path / "on", cors_origins=[ORIGIN])
    with on:
        assert preflight(on)["access-control-allow-origin"] == ORIGIN
        got = on.get("/memories", params={"user_id": "a"}, headers={**headers, "Origin": ORIGIN})
        assert got.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in got.headers["access-control-expose-headers"].lower()
        other = on.get(
            "/memories", params={"user_id": "a"}, headers={**headers, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


def chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


def test_the_body_limit_holds_without_a_content_length(tmp_path: Path) -> None:
    client, headers = app_client(tmp_path, max_body_bytes=4096)
    with client:
        too_big = client.post("/memories", content=chunks(64 * 1024), headers=headers)
        assert too_big.status_code == 413 and too_big.json()["code"] == "body_too_large"
        body = b'{"messages": [{"role": "user", "content": "small"}], "user_id": "a", "infer": false}'
        small = client.post(
            "/memories", content=iter([body]), headers={**headers, "content-type": "application/json"}
        )
        assert small.status_code == 200


def test_request_ids_are_kept_when_sane_and_replaced_otherwise(tmp_path: Path) -> None:
    client, _ = app_client(tmp_path)
    with client:
        assert (
            client.get("/health", headers={"X-Request-ID": "abc-123.x_y"}).headers["x-request-id"]
            == "abc-123.x_y"
        )
        for bad in ("a" * 65, "has space", "new\\nline", "<script>"):
            replaced = client.get("/health", headers={"X-Request-ID": bad}).headers["x-request-id"]
            assert replaced != bad and len(replaced) == 16
