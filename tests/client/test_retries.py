"""Issue 14: ``Client.add`` sends one ``Idempotency-Key`` per logical add and reuses it when it
sends the add again (a dropped connection, a timeout, a 503), so a lost answer never adds twice;
other calls are sent once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from memlane import AsyncClient, Client, RemoteError
from tests.server.process import MemlaneServer

OK = {"results": [{"id": "m1", "memory": "I like tea", "event": "ADD"}]}


class Script:
    """A transport answering from a list (an exception is raised), recording each request."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json=OK if answer == 200 else {"detail": "down", "type": "StoreError"})

    def keys(self) -> list[str | None]:
        return [r.headers.get("Idempotency-Key") for r in self.requests]


def scripted(script: Script, retries: int = 2) -> Client:
    client = Client("http://memlane.test", retries=retries)
    client._http = httpx.Client(base_url=client.url, transport=httpx.MockTransport(script))
    return client


def test_a_lost_answer_is_asked_again_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("memlane.client._client.time.sleep", lambda s: None)
    script = Script(httpx.ReadError("connection reset"), 503, 200, 200)
    client = scripted(script)
    assert client.add("I like tea", user_id="u") == OK
    first, second, third = script.keys()
    assert first is not None and first == second == third
    assert "idempotency_key" not in json.loads(script.requests[0].content)
    client.add("I like tea", user_id="u")
    assert script.keys()[-1] not in (None, first)  # a new logical add, a new key


def test_the_callers_key_is_sent_as_is_and_retries_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("memlane.client._client.time.sleep", lambda s: None)
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(RemoteError, match="cannot reach"):
        scripted(script).add("I like tea", user_id="u", idempotency_key="mine-1")
    assert script.keys() == ["mine-1"] * 3
    once = Script(httpx.ConnectError("refused"))
    with pytest.raises(RemoteError):
        scripted(once, retries=0).add("x", user_id="u")
    assert len(once.requests) == 1


def test_other_calls_are_sent_once() -> None:
    script = Script(httpx.ReadError("reset"), 200)
    with pytest.raises(RemoteError):
        scripted(script).get("m1")
    assert len(script.requests) == 1 and script.keys() == [None]


def test_the_async_client_retries_an_add_too(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_pause(seconds: float) -> None:
        return None

    monkeypatch.setattr("memlane.client._client.asyncio.sleep", no_pause)
    script = Script(httpx.ReadTimeout("slow"), 200)

    async def run() -> Any:
        client = AsyncClient("http://memlane.test")
        client._http = httpx.AsyncClient(base_url=client.url, transport=httpx.MockTransport(script))
        try:
            return await client.add("I like tea", user_id="u")
        finally:
            await client.close()

    assert asyncio.run(run()) == OK
    assert len(set(script.keys())) == 1 and len(script.keys()) == 2


class DropFirstAnswer(httpx.BaseTransport):
    """The request reaches the server and is answered, but the first answer is lost."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.sent += 1
        if self.sent == 1:
            raise httpx.ReadError("the connection dropped after the server answered")
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.integration
def test_a_retry_after_a_dropped_answer_adds_once(served: MemlaneServer) -> None:
    client = Client(served.url, served.keys["plain"])
    transport = DropFirstAnswer()
    client._http.close()
    client._http = httpx.Client(base_url=client.url, headers=client._http.headers, transport=transport)
    user = "u-" + uuid.uuid4().hex[:10]
    with client:
        out = client.add("I moved to Lisbon", user_id=user, infer=False)
        assert transport.sent == 2 and [r["memory"] for r in out["results"]] == ["I moved to Lisbon"]
        assert [m["id"] for m in client.get_all(user_id=user)["results"]] == [out["results"][0]["id"]]
