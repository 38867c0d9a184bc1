"""The clients raise memlane's error types, never show the key, and say when the server is away."""

from __future__ import annotations

import asyncio

import pytest

from memlane import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidInputError,
    NotFoundError,
    RemoteError,
)
from tests.server.process import MemlaneServer, free_port

pytestmark = pytest.mark.integration

WRONG_KEY = "ml_wrong0123456789abcdefghijklmnopqrstuvwxyzABC"


def test_bad_input_and_missing_ids_raise_what_memory_raises(served: MemlaneServer) -> None:
    with Client(served.url, api_key=served.keys["plain"]) as client:
        with pytest.raises(InvalidInputError, match="query must not be empty"):
            client.search("", user_id="alice")
        with pytest.raises(ValueError, match="top_k"):  # InvalidInputError is a ValueError, as in mem0
            client.get_all(user_id="alice", top_k=-1)
        with pytest.raises(InvalidInputError, match="invalid request"):  # the route's own check (422)
            client.get_all(user_id="alice", top_k="many")  # type: ignore[arg-type]
        missing = "00000000-0000-4000-8000-000000000000"
        with pytest.raises(NotFoundError) as found:
            client.update(missing, text="x")
        assert found.value.memory_id == missing and missing in str(found.value)
        with pytest.raises(NotFoundError):
            client.delete(missing)
        assert client.get(missing) is None
        assert client.history(missing) == []


def test_a_wrong_or_missing_key_is_an_authentication_error_without_the_key(
    served: MemlaneServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMLANE_API_KEY", raising=False)
    for key in (WRONG_KEY, None):
        client = Client(served.url, api_key=key)
        with pytest.raises(AuthenticationError) as refused:
            client.get_all(user_id="alice")
        assert refused.value.status == 401
        assert WRONG_KEY not in str(refused.value) and WRONG_KEY not in repr(client)
        client.close()
    with (
        Client(served.url, api_key=served.keys["plain"]) as client,
        pytest.raises(AuthenticationError) as denied,
    ):
        client.reset()  # an admin route
    assert denied.value.status == 403


def test_the_key_comes_from_the_environment_when_not_given(
    served: MemlaneServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMLANE_API_KEY", served.keys["plain"])
    with Client(served.url) as client:
        assert client.get_all(user_id="nobody") == {"results": []}


def test_a_tenant_never_reaches_another_tenants_memories(served: MemlaneServer) -> None:
    with (
        Client(served.url, api_key=served.keys["plain"]) as mine,
        Client(served.url, api_key=served.keys["other"]) as theirs,
    ):
        memory_id = mine.add("plain's secret", user_id="alice")["results"][0]["id"]
        assert theirs.get(memory_id) is None
        assert theirs.get_all(user_id="alice") == {"results": []}
        with pytest.raises(NotFoundError):
            theirs.delete(memory_id)
        assert mine.get(memory_id) is not None


def test_a_server_that_is_not_there_is_a_remote_error() -> None:
    url = f"http://user:hunter2@127.0.0.1:{free_port()}"
    client = Client(url, api_key=WRONG_KEY, timeout=2.0)
    with pytest.raises(RemoteError, match="cannot reach the memlane server") as away:
        client.get_all(user_id="alice")
    assert away.value.status is None
    for text in (str(away.value), repr(client)):
        assert "hunter2" not in text and WRONG_KEY not in text

    async def async_call() -> None:
        async with AsyncClient(url, api_key=WRONG_KEY, timeout=2.0) as remote:
            await remote.get_all(user_id="alice")

    with pytest.raises(RemoteError):
        asyncio.run(async_call())


def test_async_client_raises_the_same_types(served: MemlaneServer) -> None:
    async def calls() -> None:
        async with AsyncClient(served.url, api_key=served.keys["plain"]) as client:
            with pytest.raises(InvalidInputError):
                await client.search("", user_id="alice")
            with pytest.raises(NotFoundError):
                await client.delete("00000000-0000-4000-8000-000000000000")
        async with AsyncClient(served.url, api_key=WRONG_KEY) as client:
            with pytest.raises(AuthenticationError):
                await client.get(1)

    asyncio.run(calls())
