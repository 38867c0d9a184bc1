"""memlane's extensions on mem0's list and search routes (OSS ``GET /memories``, ``POST
/search``; platform ``POST /v3/memories/``, ``POST /v3/memories/search/``): ``memory_type``,
``long_term`` and ``as_of`` reach ``Memory``; a wrong type is a 422, a value ``Memory`` refuses a
400 that says why; mem0 clients, which never send them, see no change. In process (the app)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memlane.models import now_iso
from tests.server.test_app import app_client


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    client, headers = app_client(tmp_path)
    with client:
        client.headers.update(headers)
        yield client


def add(api: TestClient, text: str, **fields: Any) -> str:
    body = {"messages": [{"role": "user", "content": text}], "infer": False, **fields}
    response = api.post("/memories", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["id"])


def texts(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(item["memory"] for item in response.json()["results"])


def refused(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert all(word in detail for word in words), detail


@pytest.fixture
def memories(api: TestClient) -> dict[str, str]:
    """alice: a semantic fact, an episodic event, a run's note; then a fact changed after ``then``."""
    ids = {
        "tea": add(api, "Likes green tea", user_id="alice"),
        "race": add(api, "Ran a marathon in May", user_id="alice", memory_type="episodic"),
        "gate": add(api, "Gate B12", user_id="alice", run_id="trip"),
    }
    time.sleep(0.002)
    ids["then"] = now_iso()
    time.sleep(0.002)
    assert api.put(f"/memories/{ids['tea']}", json={"text": "Likes black tea"}).status_code == 200
    return ids


def test_oss_list_takes_the_extensions(api: TestClient, memories: dict[str, str]) -> None:
    alice = {"user_id": "alice"}
    every = ["Gate B12", "Likes black tea", "Ran a marathon in May"]
    assert texts(api.get("/memories", params=alice)) == every
    assert texts(api.get("/memories", params={**alice, "memory_type": "episodic"})) == [
        "Ran a marathon in May"
    ]
    both: list[tuple[str, str | int | float | bool | None]] = [
        ("user_id", "alice"),
        ("memory_type", "episodic"),
        ("memory_type", "semantic"),
    ]
    assert texts(api.get("/memories", params=both)) == every
    assert "Likes green tea" in texts(api.get("/memories", params={**alice, "as_of": memories["then"]}))
    run = {**alice, "run_id": "trip"}
    assert texts(api.get("/memories", params=run)) == ["Gate B12"]
    assert len(texts(api.get("/memories", params={**run, "long_term": "true"}))) == 3


def test_oss_list_refuses_wrong_extensions(api: TestClient, memories: dict[str, str]) -> None:
    alice = {"user_id": "alice"}
    refused(api.get("/memories", params={**alice, "memory_type": "feeling"}), 400, "'feeling'", "semantic")
    refused(api.get("/memories", params={**alice, "as_of": "last tuesday"}), 400, "as_of")
    refused(api.get("/memories", params={**alice, "long_term": "true"}), 400, "run_id")
    refused(api.get("/memories", params={**alice, "long_term": "maybe"}), 422, "long_term")
    refused(api.get("/memories", params={"memory_type": "semantic"}), 400, "memory_type", "user_id")
    assert api.get("/memories", params={"long_term": "false"}).status_code == 200  # the default: fine


def test_oss_search_takes_the_extensions(api: TestClient, memories: dict[str, str]) -> None:
    ask = {"query": "tea", "user_id": "alice"}
    assert texts(api.post("/search", json={**ask, "memory_type": "episodic"})) == ["Ran a marathon in May"]
    then = api.post("/search", json={**ask, "as_of": memories["then"], "top_k": 1})
    assert texts(then) == ["Likes green tea"]
    trip = api.post("/search", json={"query": "gate", "user_id": "alice", "run_id": "trip", "long_term": 1})
    assert trip.json()["results"][0]["memory"] == "Gate B12" and len(texts(trip)) == 3
    refused(api.post("/search", json={**ask, "memory_type": 5}), 422, "memory_type")
    refused(api.post("/search", json={**ask, "memory_type": ["semantic", "mood"]}), 400, "'mood'")
    refused(api.post("/search", json={**ask, "as_of": {"at": 1}}), 422, "as_of")
    refused(api.post("/search", json={**ask, "long_term": True}), 400, "run_id")


def test_platform_list_and_search_take_the_extensions(api: TestClient, memories: dict[str, str]) -> None:
    alice = {"filters": {"user_id": "alice"}}
    listed = api.post("/v3/memories/", json={**alice, "memory_type": ["episodic"]})
    assert texts(listed) == ["Ran a marathon in May"]
    paged = api.post("/v3/memories/?page=1&page_size=5", json={**alice, "as_of": memories["then"]})
    assert "Likes green tea" in texts(paged) and paged.json()["count"] == 3
    trip = {"filters": {"user_id": "alice", "run_id": "trip"}, "long_term": True}
    assert len(texts(api.post("/v3/memories/", json=trip))) == 3
    past = {"query": "tea", **alice, "as_of": memories["then"], "top_k": 1}
    found = api.post("/v3/memories/search/", json=past)
    assert texts(found) == ["Likes green tea"]
    typed = api.post("/v3/memories/search/", json={"query": "tea", **alice, "memory_type": "episodic"})
    assert texts(typed) == ["Ran a marathon in May"]
    refused(api.post("/v3/memories/", json={**alice, "long_term": "maybe"}), 422, "long_term")
    refused(api.post("/v3/memories/search/", json={"query": "x", **alice, "as_of": "soon"}), 400, "as_of")
    refused(api.post("/v3/memories/", json={**alice, "memory_type": "mood"}), 400, "'mood'")
