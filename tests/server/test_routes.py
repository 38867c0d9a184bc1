"""mem0's OSS REST routes over HTTP against a real ``memlane serve``: shapes and the error table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration

ITEM_KEYS = {"id", "memory", "hash", "metadata", "created_at", "updated_at", "user_id"}


@pytest.fixture
def api(server: MemlaneServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=server.headers("alpha"), timeout=30) as client:
        yield client


def user() -> str:
    return "u-" + uuid.uuid4().hex[:10]


def add(api: httpx.Client, text: str, **ids: Any) -> str:
    response = api.post(
        "/memories", json={"messages": [{"role": "user", "content": text}], "infer": False, **ids}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["id"])


def test_add_answers_mem0s_results_and_a_request_id(api: httpx.Client) -> None:
    response = api.post(
        "/memories",
        json={
            "messages": [{"role": "user", "content": "I moved to Lisbon"}],
            "user_id": user(),
            "metadata": {"topic": "home"},
            "infer": False,
            "unknown_field": "ignored",
        },
    )
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["event"] == "ADD" and item["memory"] == "I moved to Lisbon" and item["id"]
    assert len(response.headers["x-request-id"]) >= 8
    echoed = api.get("/health", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"


def test_list_get_search_update_history_delete(api: httpx.Client) -> None:
    alice = user()
    memory_id = add(api, "I like green tea", user_id=alice)
    add(api, "My dog is called Rex", user_id=alice)

    listed = api.get("/memories", params={"user_id": alice}).json()["results"]
    assert len(listed) == 2 and set(listed[0]) >= ITEM_KEYS
    assert api.get("/memories", params={"user_id": alice, "top_k": 1}).json()["results"][0]["id"]

    item = api.get(f"/memories/{memory_id}").json()
    assert item["id"] == memory_id and item["memory"] == "I like green tea" and item["user_id"] == alice

    found = api.post("/search", json={"query": "tea", "filters": {"user_id": alice}, "top_k": 1}).json()
    assert [hit["id"] for hit in found["results"]] == [memory_id] and "score" in found["results"][0]
    legacy = api.post("/search", json={"query": "tea", "user_id": alice, "limit": 1}).json()
    assert legacy["results"][0]["id"] == memory_id

    assert api.put(f"/memories/{memory_id}", json={"text": "I like black tea"}).json() == {
        "message": "Memory updated successfully!"
    }
    history = api.get(f"/memories/{memory_id}/history").json()
    assert [row["event"] for row in history] == ["ADD", "UPDATE"]
    assert history[1]["old_memory"] == "I like green tea" and history[1]["new_memory"] == "I like black tea"

    assert api.delete(f"/memories/{memory_id}").json() == {"message": "Memory deleted successfully"}
    assert api.get(f"/memories/{memory_id}").json() is None
    assert api.delete("/memories", params={"user_id": alice}).json() == {
        "message": "All relevant memories deleted"
    }
    assert api.get("/memories", params={"user_id": alice}).json() == {"results": []}


def test_update_expiration_only_when_sent(api: httpx.Client) -> None:
    memory_id = add(api, "Trip to Rome", user_id=user(), expiration_date="2999-01-01")
    api.put(f"/memories/{memory_id}", json={"metadata": {"k": "v"}})
    item = api.get(f"/memories/{memory_id}").json()
    assert item["expiration_date"] == "2999-01-01" and item["metadata"] == {"k": "v"}
    api.put(f"/memories/{memory_id}", json={"expiration_date": None})
    assert api.get(f"/memories/{memory_id}").json().get("expiration_date") is None


def test_listing_without_ids_lists_the_tenants_memories(api: httpx.Client) -> None:
    memory_id = add(api, "An agent note", agent_id="agent-" + uuid.uuid4().hex[:6])
    listed = api.get("/memories", params={"top_k": 1000}).json()["results"]
    assert memory_id in {item["id"] for item in listed}


def test_configure_redacts_and_operations_answer(server: MemlaneServer, api: httpx.Client) -> None:
    config = api.get("/configure").json()
    assert config["embedder"]["provider"] == "hash"
    assert config["vector_store"]["config"]["path"].endswith("alpha.db")
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    assert httpx.get(server.url + "/ready").json() == {"status": "ready"}
    assert "version" in httpx.get(server.url + "/version").json()
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/memories", "/search", "/v3/memories/add/", "/admin/keys"} <= set(spec["paths"])
    assert httpx.get(server.url + "/docs").status_code == 200


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "X-API-Key"])
def test_every_key_header_works(server: MemlaneServer, scheme: str) -> None:
    secret = server.keys["alpha"]
    headers = {"X-API-Key": secret} if scheme == "X-API-Key" else {"Authorization": f"{scheme} {secret}"}
    assert httpx.get(server.url + "/memories", params={"user_id": "x"}, headers=headers).status_code == 200


def _error(response: httpx.Response, status: int, code: str, type_name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["type"] == type_name and isinstance(body["detail"], str)
    assert "Traceback" not in response.text
    return dict(body)


def test_error_table(server: MemlaneServer, api: httpx.Client) -> None:
    url = server.url
    missing = _error(httpx.get(url + "/memories"), 401, "missing_key", "AuthenticationError")
    assert missing["request_id"]
    assert httpx.get(url + "/memories").headers["www-authenticate"] == "Bearer"
    bad = httpx.get(url + "/memories", headers={"Authorization": "Bearer ml_nope"})
    _error(bad, 401, "invalid_key", "AuthenticationError")
    _error(
        httpx.get(url + "/memories", headers={"Authorization": "Basic x"}),
        401,
        "bad_authorization",
        "AuthenticationError",
    )
    _error(api.get("/admin/keys"), 403, "admin_required", "AuthenticationError")
    _error(api.post("/reset"), 403, "admin_required", "AuthenticationError")
    _error(api.put("/memories/nope", json={"text": "x"}), 404, "not_found", "NotFoundError")
    _error(api.delete("/memories/nope"), 404, "not_found", "NotFoundError")
    no_id = api.post("/memories", json={"messages": [{"role": "user", "content": "x"}]})
    _error(no_id, 400, "missing_identifier", "InvalidInputError")
    _error(api.delete("/memories"), 400, "missing_identifier", "InvalidInputError")
    _error(
        api.post("/search", json={"query": "x", "filters": {"user_id": "*"}}),
        400,
        "invalid_input",
        "InvalidInputError",
    )
    bad_filter = api.post("/search", json={"query": "x", "filters": {"user_id": "a", "k": {"near": 1}}})
    _error(bad_filter, 400, "invalid_filter", "InvalidFilterError")
    _error(
        api.post("/search", json={"query": "   ", "user_id": "a"}), 400, "invalid_input", "InvalidInputError"
    )
    _error(api.post("/search", json={"top_k": "many"}), 422, "invalid_request", "InvalidInputError")
    _error(
        api.get("/memories", params={"user_id": "a", "top_k": 5000}),
        422,
        "invalid_request",
        "InvalidInputError",
    )
    _error(
        api.post("/memories", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
        "InvalidInputError",
    )
    infer = api.post(
        "/memories", json={"messages": [{"role": "user", "content": "x"}], "user_id": "a", "infer": True}
    )
    _error(infer, 400, "not_configured", "ConfigError")
    _error(
        api.post("/memories", content=b"x" * (5 * 1024 * 1024)), 413, "body_too_large", "InvalidInputError"
    )
    _error(api.get("/no/such/route"), 404, "route_not_found", "NotFoundError")
    _error(api.patch("/memories"), 405, "method_not_allowed", "InvalidInputError")


def test_admin_routes_manage_keys_and_a_revoked_key_stops_at_once(server: MemlaneServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.headers("admin"), timeout=30) as admin:
        created = admin.post("/admin/keys", json={"tenant": "gamma"})
        assert created.status_code == 201
        body = created.json()
        assert body["tenant"] == "gamma" and body["key"].startswith(body["prefix"]) and not body["admin"]
        headers = {"X-API-Key": body["key"]}
        assert (
            httpx.get(server.url + "/memories", params={"user_id": "x"}, headers=headers).status_code == 200
        )
        listed = admin.get("/admin/keys", params={"tenant": "gamma"}).json()["results"]
        assert [k["id"] for k in listed] == [body["id"]] and "key" not in listed[0]
        assert "gamma" in {t["tenant"] for t in admin.get("/admin/tenants").json()["results"]}
        assert admin.delete(f"/admin/keys/{body['id']}").json()["revoked_at"]
        assert (
            httpx.get(server.url + "/memories", params={"user_id": "x"}, headers=headers).status_code == 401
        )
        _error(
            admin.post("/admin/keys", json={"tenant": "Bad Name"}), 400, "invalid_input", "InvalidInputError"
        )
        _error(admin.delete("/admin/keys/key_nope"), 404, "not_found", "KeyNotFoundError")


def test_access_log_has_no_key_and_no_memory_text(server: MemlaneServer, api: httpx.Client) -> None:
    marker = "secret-" + uuid.uuid4().hex
    add(api, f"my locker code is {marker}", user_id=marker)
    log = server.log()
    assert '"route": "/memories"' in log and '"tenant": "alpha"' in log
    assert marker not in log
    assert all(secret not in log for secret in server.keys.values())


def test_reset_empties_only_the_admin_keys_tenant(server: MemlaneServer, api: httpx.Client) -> None:
    kept = add(api, "alpha keeps this", user_id="keeper")
    with httpx.Client(base_url=server.url, headers=server.headers("admin"), timeout=30) as admin:
        add(admin, "the admin tenant's note", user_id="ops")
        assert admin.post("/reset").json() == {"message": "All memories reset"}
        assert admin.get("/memories", params={"user_id": "ops"}).json() == {"results": []}
    assert api.get(f"/memories/{kept}").json()["memory"] == "alpha keeps this"
