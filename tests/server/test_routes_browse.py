"""The memory browser's routes (``/memlane/v1/scopes``, ``memory_details``, ``graph_view``) over
HTTP against a real ``memlane serve``, through ``memlane.Client``: a tenant sees only its own."""

from __future__ import annotations

import uuid

import httpx
import pytest

from memlane import Client, InvalidInputError, NotFoundError
from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration


def test_scopes_details_and_graph_view_stay_in_the_tenant(server: MemlaneServer) -> None:
    alice = "browse-" + uuid.uuid4().hex[:8]
    with Client(server.url, server.keys["alpha"]) as alpha, Client(server.url, server.keys["beta"]) as beta:
        memory_id = alpha.add("I like green tea", user_id=alice, infer=False)["results"][0]["id"]
        alpha.add("My dog is called Rex", user_id=alice, infer=False)
        alpha.update(memory_id, "I like white tea")
        [mine] = [s for s in alpha.scopes() if s["id"] == alice]
        assert mine["type"] == "user" and mine["total_memories"] == 2 and mine["last_activity"]
        details = alpha.memory_details(memory_id)
        assert [v["text"] for v in details["versions"]] == ["I like green tea", "I like white tea"]
        assert [s["content"] for s in details["sources"]] == ["I like green tea"]
        assert alpha.graph_view(user_id=alice)["enabled"] is False  # the test server has no graph
        assert all(s["id"] != alice for s in beta.scopes())
        with pytest.raises(NotFoundError):
            beta.memory_details(memory_id)
        with pytest.raises(InvalidInputError, match="max_entities"):
            alpha.graph_view(user_id=alice, max_entities=0)


def test_the_browser_routes_need_a_key(server: MemlaneServer) -> None:
    for route in ("scopes", "memory_details", "graph_view"):
        response = httpx.post(f"{server.url}/memlane/v1/{route}", json={}, timeout=10)
        assert response.status_code == 401, route
