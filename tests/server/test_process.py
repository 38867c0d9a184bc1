"""The server process itself: graceful shutdown (an in-flight request finishes after SIGTERM),
two workers sharing keys (a revocation in one is seen by the other), --no-auth on loopback."""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration


def test_sigterm_lets_the_request_in_flight_finish() -> None:
    with tempfile.TemporaryDirectory(prefix="memlane-shutdown-") as folder:
        server = MemlaneServer.start(Path(folder), keys={"acme": False})
        try:
            messages = [{"role": "user", "content": f"fact {i} about topic {i * 7}"} for i in range(6000)]
            outcome: dict[str, Any] = {}

            def slow_add() -> None:
                body = {"messages": messages, "user_id": "alice", "infer": False}
                response = httpx.post(
                    server.url + "/memories", json=body, headers=server.headers("acme"), timeout=120
                )
                outcome["response"], outcome["at"] = response, time.monotonic()

            caller = threading.Thread(target=slow_add)
            caller.start()
            time.sleep(0.5)
            terminated_at = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            caller.join(120)
            assert server.process.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        finally:
            server.stop()
        response = outcome["response"]
        assert outcome["at"] > terminated_at, "the request finished before SIGTERM: make it slower"
        assert response.status_code == 200 and len(response.json()["results"]) == 6000
        assert "Finished server process" in server.log()


def test_two_workers_share_the_keys_and_the_store() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="memlane-workers-") as folder,
        MemlaneServer.start(
            Path(folder), keys={"acme": False, "ops": True}, extra_args=["--workers", "2"]
        ) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        acme = server.headers("acme")
        body = {"messages": [{"role": "user", "content": "shared fact"}], "user_id": "alice", "infer": False}
        assert client.post("/memories", json=body, headers=acme).status_code == 200
        seen = {
            len(client.get("/memories", params={"user_id": "alice"}, headers=acme).json()["results"])
            for _ in range(20)
        }
        assert seen == {1}
        created = client.post("/admin/keys", json={"tenant": "acme"}, headers=server.headers("ops")).json()
        fresh = {"X-API-Key": created["key"]}
        assert {client.get("/v1/ping/", headers=fresh).status_code for _ in range(20)} == {200}
        client.delete(f"/admin/keys/{created['id']}", headers=server.headers("ops"))
        assert {client.get("/v1/ping/", headers=fresh).status_code for _ in range(20)} == {401}
        assert server.log().count("Started server process") == 2
        assert "--workers 2 on the SQLite store" in server.log()


def test_no_auth_serves_the_default_tenant_on_loopback() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="memlane-noauth-") as folder,
        MemlaneServer.start(Path(folder), extra_args=["--no-auth"]) as server,
    ):
        body = {
            "messages": [{"role": "user", "content": "no key needed"}],
            "user_id": "alice",
            "infer": False,
        }
        assert httpx.post(server.url + "/memories", json=body).status_code == 200
        listed = httpx.get(
            server.url + "/memories", params={"user_id": "alice"}, headers={"X-API-Key": "anything"}
        )
        assert [m["memory"] for m in listed.json()["results"]] == ["no key needed"]
        assert (Path(folder) / "memlane.db").exists()
