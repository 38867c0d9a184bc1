"""The app's request handling in process: CORS only when configured, the body limit without a
Content-Length (chunked), request ids (a client's sane one is kept, any other replaced)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memlane import ConfigError
from memlane.server.app import create_app, listening_socket
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


def test_configure_never_shows_a_secret(tmp_path: Path) -> None:
    llm = {
        "provider": "openai",
        "config": {"api_key": "sk-test-0123456789abcdef", "base_url": "http://127.0.0.1:9/v1"},
    }
    secret = KeyStore(tmp_path / "keys.db").create("acme")[1]
    settings = ServerSettings(
        db=str(tmp_path / "m.db"), keys=str(tmp_path / "keys.db"), memory_config={**HASH_CONFIG, "llm": llm}
    )
    with TestClient(create_app(settings)) as client:
        shown = client.get("/configure", headers={"X-API-Key": secret})
    assert shown.status_code == 200 and shown.json()["llm"]["provider"] == "openai"
    assert "0123456789abcdef" not in shown.text and secret not in shown.text


def test_the_shared_socket_gives_connections_tcp_nodelay() -> None:
    async def accepted_nodelay() -> int:
        sock = listening_socket("127.0.0.1", 0)
        found: dict[str, int] = {}

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            found["nodelay"] = writer.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY
            )
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(100):
            if found:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()
        return found["nodelay"]

    assert asyncio.run(accepted_nodelay()) == 1


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            listening_socket("127.0.0.1", taken.getsockname()[1])
