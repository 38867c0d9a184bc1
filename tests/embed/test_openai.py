"""The OpenAI-compatible embedder against a real local HTTP server speaking OpenAI's protocol.

The server computes its embeddings with the hash embedder, so the expected vectors are known,
and it can be scripted to fail (rate limits, server errors, garbage) to test retries and errors.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from memlane import EmbedderError, Memory
from memlane.embed.hash import HashEmbedder
from memlane.embed.openai import OpenAIEmbedder, OpenAIEmbedderConfig

SERVER_DIMS = 32
TEXTS = ["I moved to Bangalore", "I like pizza", "the cat sleeps", "Bangalore is warm", "tea or coffee"]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ServerState:
    requests: list[Seen] = field(default_factory=list)
    script: list[str] = field(default_factory=list)
    """Replies to give before answering normally: an HTTP status code as text, or a mode name."""
    release: threading.Event = field(default_factory=threading.Event)


class EmbeddingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EmbeddingHandler)
        self.state = ServerState()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class EmbeddingHandler(BaseHTTPRequestHandler):
    server: EmbeddingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        state = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw)
        state.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.path != "/v1/embeddings":
            self._send(404, b'{"error": "not found"}')
            return
        mode = state.script.pop(0) if state.script else "ok"
        if mode.isdigit():
            self._send(int(mode), json.dumps({"error": {"message": f"scripted {mode}"}}).encode())
        elif mode == "garbage":
            self._send(200, b"<html>this is not json</html>")
        elif mode == "hang":
            state.release.wait(10)
            self._send(200, b"{}")
        else:
            self._send(200, json.dumps(self._reply(body, mode)).encode())

    def _reply(self, body: dict[str, Any], mode: str) -> dict[str, Any]:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dims = int(body.get("dimensions") or SERVER_DIMS)
        vectors = HashEmbedder(dims).embed(inputs).tolist()
        if mode == "nan":
            vectors[0][0] = math.nan
        elif mode == "short":
            vectors = [v[: dims // 2] for v in vectors]
        elif mode == "missing":
            vectors = vectors[:-1]
        elif mode == "shape":
            return {"object": "list", "embeddings": vectors}
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        data.reverse()  # clients must order rows by index, not by position
        return {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[EmbeddingHTTPServer]:
    httpd = EmbeddingHTTPServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield httpd
    httpd.state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries back off with time.sleep; record the pauses instead of waiting."""
    pauses: list[float] = []
    monkeypatch.setattr("memlane.embed.openai.time.sleep", pauses.append)
    return pauses


def make(server: EmbeddingHTTPServer, **config: Any) -> OpenAIEmbedder:
    settings: dict[str, Any] = {"openai_base_url": server.url, "api_key": "sk-test", **config}
    return OpenAIEmbedder(OpenAIEmbedderConfig.model_validate(settings))


def test_vectors_follow_the_protocol(server: EmbeddingHTTPServer) -> None:
    embedder = make(server)
    vectors = embedder.embed(TEXTS)
    assert vectors.dtype == np.float32
    assert np.allclose(vectors, HashEmbedder(SERVER_DIMS).embed(TEXTS), atol=1e-6)
    assert len(server.state.requests) == 1  # the answer gives the dimension: no probe
    last = server.state.requests[0]
    assert embedder.dimension == SERVER_DIMS
    assert last.path == "/v1/embeddings"
    assert last.headers["authorization"] == "Bearer sk-test"
    assert last.body == {"model": "text-embedding-3-small", "input": TEXTS}


def test_dimension_is_probed_once_when_not_configured(server: EmbeddingHTTPServer) -> None:
    embedder = make(server, model="nomic-embed-text")
    assert embedder.dimension == SERVER_DIMS
    assert embedder.dimension == SERVER_DIMS
    assert len(server.state.requests) == 1
    assert server.state.requests[0].body["model"] == "nomic-embed-text"


def test_configured_dimensions_are_sent(server: EmbeddingHTTPServer) -> None:
    embedder = make(server, embedding_dims=48)
    assert embedder.dimension == 48
    assert embedder.embed(["hello"]).shape == (1, 48)
    assert len(server.state.requests) == 1  # no probe
    assert server.state.requests[0].body["dimensions"] == 48


def test_texts_are_sent_in_batches_and_kept_in_order(server: EmbeddingHTTPServer) -> None:
    embedder = make(server, embedding_dims=SERVER_DIMS, batch_size=2)
    vectors = embedder.embed(TEXTS)
    assert [r.body["input"] for r in server.state.requests] == [TEXTS[0:2], TEXTS[2:4], TEXTS[4:]]
    assert np.allclose(vectors, HashEmbedder(SERVER_DIMS).embed(TEXTS), atol=1e-6)


def test_no_texts_needs_no_request(server: EmbeddingHTTPServer) -> None:
    assert make(server, embedding_dims=8).embed([]).shape == (0, 8)
    assert server.state.requests == []


def test_key_and_base_url_from_the_environment(
    server: EmbeddingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
    OpenAIEmbedder(OpenAIEmbedderConfig()).embed(["x"])
    assert server.state.requests[-1].headers["authorization"] == "Bearer sk-env"


def test_no_key_sends_no_authorization(server: EmbeddingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    OpenAIEmbedder(OpenAIEmbedderConfig(openai_base_url=server.url)).embed(["x"])
    assert "authorization" not in server.state.requests[-1].headers


def test_a_rate_limit_is_retried(server: EmbeddingHTTPServer, sleeps: list[float]) -> None:
    server.state.script = ["429"]
    vectors = make(server, embedding_dims=SERVER_DIMS).embed(TEXTS[:2])
    assert np.allclose(vectors, HashEmbedder(SERVER_DIMS).embed(TEXTS[:2]), atol=1e-6)
    assert len(server.state.requests) == 2
    assert len(sleeps) == 1 and sleeps[0] > 0


def test_server_errors_give_up_after_the_retries(server: EmbeddingHTTPServer, sleeps: list[float]) -> None:
    server.state.script = ["503"] * 10
    with pytest.raises(EmbedderError, match="503"):
        make(server, embedding_dims=8, max_retries=2).embed(["x"])
    assert len(server.state.requests) == 3
    assert len(sleeps) == 2
    assert sleeps == sorted(sleeps)  # backing off


def test_a_client_error_is_not_retried(server: EmbeddingHTTPServer, sleeps: list[float]) -> None:
    server.state.script = ["400"]
    with pytest.raises(EmbedderError, match="400"):
        make(server, embedding_dims=8).embed(["x"])
    assert len(server.state.requests) == 1
    assert sleeps == []


def test_a_wrong_path_is_an_error(server: EmbeddingHTTPServer) -> None:
    embedder = make(server, embedding_dims=8)
    embedder._client.base_url = embedder._client.base_url.join("/wrong")
    with pytest.raises(EmbedderError, match="404"):
        embedder.embed(["x"])


@pytest.mark.parametrize(
    ("mode", "match"),
    [
        ("garbage", "invalid JSON"),
        ("shape", "unexpected"),
        ("nan", "non-finite"),
        ("short", "shape"),
        ("missing", "shape"),
    ],
)
def test_garbage_answers_are_embedder_errors(
    server: EmbeddingHTTPServer, sleeps: list[float], mode: str, match: str
) -> None:
    server.state.script = [mode]
    with pytest.raises(EmbedderError, match=match):
        make(server, embedding_dims=SERVER_DIMS, max_retries=0).embed(TEXTS[:3])


def test_batches_of_different_sizes_are_an_embedder_error(server: EmbeddingHTTPServer) -> None:
    server.state.script = ["ok", "short"]
    with pytest.raises(EmbedderError, match="different sizes"):
        make(server, batch_size=2).embed(TEXTS[:4])


def test_an_unreachable_server_is_an_embedder_error(sleeps: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = OpenAIEmbedderConfig(openai_base_url=f"http://127.0.0.1:{port}/v1", embedding_dims=8)
    with pytest.raises(EmbedderError):
        OpenAIEmbedder(config).embed(["x"])


def test_a_timeout_is_retried_then_reported(server: EmbeddingHTTPServer, sleeps: list[float]) -> None:
    server.state.script = ["hang", "hang"]
    embedder = make(server, embedding_dims=8, timeout=0.2, max_retries=1)
    with pytest.raises(EmbedderError, match="timeout"):
        embedder.embed(["x"])
    assert len(server.state.requests) == 2


def test_memory_on_the_openai_embedder(server: EmbeddingHTTPServer, tmp_path: Path) -> None:
    config = {
        "embedder": {
            "provider": "openai",
            "config": {"openai_base_url": server.url, "api_key": "k", "embedding_dims": SERVER_DIMS},
        },
        "vector_store": {"provider": "sqlite", "config": {"path": str(tmp_path / "m.db")}},
    }
    with Memory.from_config(config) as memory:
        memory.add(TEXTS[0], user_id="alice")
        memory.add(TEXTS[1], user_id="alice")
        results = memory.search("Bangalore", filters={"user_id": "alice"})["results"]
    assert results[0]["memory"] == TEXTS[0]
    assert all(r.body["model"] == "text-embedding-3-small" for r in server.state.requests)


def test_errors_never_show_the_key_or_url_credentials() -> None:
    secret = "sk-embed-SECRET-0123456789"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"invalid key {secret} for Bearer {secret}")

    config = OpenAIEmbedderConfig.model_validate(
        {
            "model": "m",
            "api_key": secret,
            "base_url": "http://ann:pw-SECRET@localhost:9/v1",
            "embedding_dims": 3,
        }
    )
    embedder = OpenAIEmbedder(config, transport=httpx.MockTransport(handler))
    with pytest.raises(EmbedderError) as info:
        embedder.embed(["x"])
    assert secret not in str(info.value) and "pw-SECRET" not in str(info.value)
    assert "401" in str(info.value)
