"""mem0's own ``MemoryClient`` and ``AsyncMemoryClient`` (mem0ai 2.2.1), unchanged, against a real
``memlane serve``: every method they share with the platform that memlane serves.

Telemetry is off (``MEM0_TELEMETRY=False``, set by the conftest before mem0 is imported) and
every request the clients make is recorded: each must go to the test server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration

mem0_client = pytest.importorskip("mem0.client.main")
mem0_exceptions = pytest.importorskip("mem0.exceptions")
telemetry = pytest.importorskip("mem0.memory.telemetry")


@pytest.fixture(autouse=True)
def no_telemetry() -> None:
    assert telemetry.MEM0_TELEMETRY is False, "mem0 was imported before MEM0_TELEMETRY=False was set"
    assert telemetry.client_telemetry.posthog is None


class Recorder:
    def __init__(self) -> None:
        self.hosts: set[str] = set()

    def __call__(self, request: httpx.Request) -> None:
        self.hosts.add(f"{request.url.scheme}://{request.url.host}:{request.url.port}")

    async def async_hook(self, request: httpx.Request) -> None:
        self(request)


@pytest.fixture
def recorder(server: MemlaneServer) -> Iterator[Recorder]:
    recorded = Recorder()
    yield recorded
    assert recorded.hosts <= {server.url}


def user() -> str:
    return "u-" + uuid.uuid4().hex[:10]


def test_memory_client_every_method(server: MemlaneServer, recorder: Recorder) -> None:
    http = httpx.Client(event_hooks={"request": [recorder]})
    client = mem0_client.MemoryClient(api_key=server.keys["client"], host=server.url, client=http)
    alice = user()
    added = client.add("I live in Porto", user_id=alice, infer=False, metadata={"topic": "home"})
    [item] = added["results"]
    assert item["event"] == "ADD" and item["memory"] == "I live in Porto"
    other = client.add([{"role": "user", "content": "I play chess"}], user_id=alice, infer=False)
    other_id = other["results"][0]["id"]

    got = client.get(item["id"])
    assert got["memory"] == "I live in Porto" and got["metadata"] == {"topic": "home"}
    listed = client.get_all(filters={"user_id": alice})
    assert {m["id"] for m in listed["results"]} == {item["id"], other_id}
    paged = client.get_all(filters={"user_id": alice}, page=1, page_size=1)
    assert len(paged["results"]) == 1 and paged["count"] == 2
    found = client.search("where do I live?", filters={"user_id": alice}, top_k=1)
    assert found["results"][0]["id"] == item["id"]

    client.update(item["id"], text="I live in Braga")
    assert client.get(item["id"])["memory"] == "I live in Braga"
    assert [h["event"] for h in client.history(item["id"])] == ["ADD", "UPDATE"]

    client.batch_update([{"memory_id": other_id, "text": "I play go"}])
    assert client.get(other_id)["memory"] == "I play go"
    assert alice in {e["name"] for e in client.users()["results"] if e["type"] == "user"}

    client.delete(other_id)
    with pytest.raises(mem0_exceptions.MemoryNotFoundError):
        client.get(other_id)
    client.batch_delete([{"memory_id": item["id"]}])
    assert client.get_all(filters={"user_id": alice})["results"] == []

    bob = user()
    client.add("Bob likes jazz", user_id=bob, infer=False)
    client.delete_all(user_id=bob)
    assert client.get_all(filters={"user_id": bob})["results"] == []
    client.add("Bob likes blues", user_id=bob, infer=False)
    assert client.delete_users(user_id=bob)["message"] == "Entity deleted successfully."
    assert client.get_all(filters={"user_id": bob})["results"] == []
    http.close()


def test_memory_client_errors(server: MemlaneServer, recorder: Recorder) -> None:
    with httpx.Client() as wrong, pytest.raises(ValueError, match="invalid or revoked"):
        mem0_client.MemoryClient(api_key="ml_wrong", host=server.url, client=wrong)
    http = httpx.Client(event_hooks={"request": [recorder]})
    client = mem0_client.MemoryClient(api_key=server.keys["client"], host=server.url, client=http)
    with pytest.raises(mem0_exceptions.MemoryNotFoundError):
        client.update("no-such-id", text="x")
    with pytest.raises(mem0_exceptions.ValidationError):
        client.search("x", filters={"user_id": "*"})
    with pytest.raises(mem0_exceptions.ValidationError):
        client.add("x", app_id="app", infer=False)
    with pytest.raises(mem0_exceptions.MemoryNotFoundError):
        client.batch_delete([{"memory_id": "no-such-id"}])
    http.close()


async def _async_scenario(server: MemlaneServer, recorder: Recorder) -> dict[str, Any]:
    http = httpx.AsyncClient(event_hooks={"request": [recorder.async_hook]})
    out: dict[str, Any] = {}
    async with mem0_client.AsyncMemoryClient(
        api_key=server.keys["client"], host=server.url, client=http
    ) as client:
        carol = user()
        added = await client.add("Carol drinks oolong", user_id=carol, infer=False)
        memory_id = added["results"][0]["id"]
        out["get"] = (await client.get(memory_id))["memory"]
        out["get_all"] = len((await client.get_all(filters={"user_id": carol}))["results"])
        out["search"] = (await client.search("oolong", filters={"user_id": carol}))["results"][0][
            "id"
        ] == memory_id
        await client.update(memory_id, text="Carol drinks sencha")
        out["history"] = [h["event"] for h in await client.history(memory_id)]
        await client.batch_update([{"memory_id": memory_id, "metadata": {"cup": "big"}}])
        out["metadata"] = (await client.get(memory_id))["metadata"]
        out["users"] = carol in {e["name"] for e in (await client.users())["results"]}
        second = (await client.add("Carol runs", user_id=carol, infer=False))["results"][0]["id"]
        await client.batch_delete([{"memory_id": second}])
        await client.delete(memory_id)
        out["after_delete"] = len((await client.get_all(filters={"user_id": carol}))["results"])
        await client.add("Carol again", user_id=carol, infer=False)
        await client.delete_all(user_id=carol)
        await client.add("Carol once more", user_id=carol, infer=False)
        await client.delete_users(user_id=carol)
        out["end"] = len((await client.get_all(filters={"user_id": carol}))["results"])
    return out


def test_async_memory_client_every_method(server: MemlaneServer, recorder: Recorder) -> None:
    out = asyncio.run(_async_scenario(server, recorder))
    assert out == {
        "get": "Carol drinks oolong",
        "get_all": 1,
        "search": True,
        "history": ["ADD", "UPDATE"],
        "metadata": {"cup": "big"},
        "users": True,
        "after_delete": 0,
        "end": 0,
    }
