"""Issue 14: the ``Idempotency-Key`` header on the add routes of a real ``memlane serve``: a
replayed request answers the first's result and writes nothing; another body with the same key
is a 409; the OpenAPI document names the header."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration

ROUTES = [
    ("/memories", {"infer": False}),
    ("/v3/memories/add/", {"infer": False}),
    ("/memlane/v1/add", {"infer": False}),
]


@pytest.fixture
def api(server: MemlaneServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=server.headers("alpha"), timeout=30) as client:
        yield client


def count(api: httpx.Client, user_id: str) -> int:
    response = api.post("/memlane/v1/get_all", json={"user_id": user_id})
    assert response.status_code == 200, response.text
    return len(response.json()["results"])


@pytest.mark.parametrize(("path", "extra"), ROUTES)
def test_a_replayed_add_answers_the_first_and_writes_nothing(
    api: httpx.Client, path: str, extra: dict[str, Any]
) -> None:
    user, key = "u-" + uuid.uuid4().hex[:10], uuid.uuid4().hex
    body = {"messages": [{"role": "user", "content": "I moved to Lisbon"}], "user_id": user, **extra}
    first = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 200, first.text
    again = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json() == first.json()
    assert count(api, user) == 1
    other = {**body, "messages": [{"role": "user", "content": "I moved to Porto"}]}
    conflict = api.post(path, json=other, headers={"Idempotency-Key": key})
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["type"] == "ConflictError" and "other arguments" in conflict.json()["detail"]
    assert count(api, user) == 1
    assert api.post(path, json=body).status_code == 200 and count(api, user) == 2  # no key: a new add


def test_keys_belong_to_a_tenant(api: httpx.Client, server: MemlaneServer) -> None:
    key = uuid.uuid4().hex
    body = {"messages": "I like tea", "user_id": "u-shared", "infer": False}
    mine = api.post("/memlane/v1/add", json=body, headers={"Idempotency-Key": key}).json()
    with httpx.Client(base_url=server.url, headers=server.headers("beta"), timeout=30) as beta:
        theirs = beta.post("/memlane/v1/add", json=body, headers={"Idempotency-Key": key}).json()
    assert mine["results"][0]["id"] != theirs["results"][0]["id"]


def test_the_header_and_the_body_must_agree(api: httpx.Client) -> None:
    body = {"messages": "I like tea", "user_id": "u-x", "infer": False, "idempotency_key": "a"}
    response = api.post("/memlane/v1/add", json=body, headers={"Idempotency-Key": "b"})
    assert response.status_code == 400 and "differ" in response.json()["detail"]
    bad = api.post("/memlane/v1/add", json={**body, "idempotency_key": "has space"})
    assert bad.status_code == 400 and "idempotency_key" in bad.json()["detail"]


def test_the_openapi_document_names_the_header(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path, _ in ROUTES:
        parameters = paths[path]["post"].get("parameters", [])
        [header] = [p for p in parameters if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and "retry" in header["description"]
