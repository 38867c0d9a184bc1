"""Tenant isolation over HTTP, as a property: whatever a key of tenant alpha sends (beta's memory
ids, beta's user ids, filters, "*", prefixes, any route), it never reads, finds, changes or
deletes a memory of tenant beta. Both tenants have a user "alice"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration

BETA_TEXTS = [
    "beta-secret alice likes sailing",
    "beta-secret alice works at Orbit",
    "beta-secret bob plays cello",
]


@pytest.fixture(scope="module")
def beta(server: MemlaneServer) -> Iterator[dict[str, Any]]:
    """Tenant beta's memories (alice's and bob's), and a snapshot to compare with."""
    with httpx.Client(base_url=server.url, headers=server.headers("beta"), timeout=30) as client:
        ids = []
        for text, who in zip(BETA_TEXTS, ["alice", "alice", "bob"], strict=True):
            body = {"messages": [{"role": "user", "content": text}], "user_id": who, "infer": False}
            ids.append(client.post("/memories", json=body).json()["results"][0]["id"])
        yield {"ids": ids, "snapshot": _snapshot(client)}


def _snapshot(client: httpx.Client) -> str:
    rows = []
    for who in ("alice", "bob"):
        for item in client.get("/memories", params={"user_id": who}).json()["results"]:
            history = client.get(f"/memories/{item['id']}/history").json()
            rows.append((item["id"], item["memory"], json.dumps(item.get("metadata")), len(history)))
    return json.dumps(sorted(rows))


def _requests(ids: list[str]) -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    """What alpha may send: any route, with beta's ids, prefixes, names and wildcards."""
    memory_id = (
        st.sampled_from(ids)
        | st.sampled_from([i[:8] for i in ids])
        | st.sampled_from(["*", "%", "' OR 1=1 --"])
    )
    user = st.sampled_from(["alice", "bob", "*", "%", "beta", "beta:alice", "../beta"])
    filters = st.one_of(
        st.builds(lambda u: {"user_id": u}, user),
        st.just({"user_id": {"exists": True}}),
        st.just({"OR": [{"user_id": "alice"}, {"user_id": {"exists": True}}]}),
        st.builds(lambda u: {"user_id": {"in": [u, "alice", "bob"]}}, user),
        st.just({"AND": [{"user_id": "alice"}, {"memory": {"icontains": "beta-secret"}}]}),
    )
    query = st.sampled_from(["beta-secret", "sailing", "alice", "*", "Orbit cello"])
    text = st.just({"text": "overwritten by alpha"})
    return st.one_of(
        st.tuples(st.just("GET"), memory_id.map(lambda i: f"/memories/{i}"), st.just({})),
        st.tuples(st.just("GET"), memory_id.map(lambda i: f"/v1/memories/{i}/"), st.just({})),
        st.tuples(st.just("GET"), memory_id.map(lambda i: f"/memories/{i}/history"), st.just({})),
        st.tuples(st.just("PUT"), memory_id.map(lambda i: f"/memories/{i}"), text.map(lambda b: {"json": b})),
        st.tuples(
            st.just("PUT"), memory_id.map(lambda i: f"/v1/memories/{i}/"), text.map(lambda b: {"json": b})
        ),
        st.tuples(st.just("DELETE"), memory_id.map(lambda i: f"/memories/{i}"), st.just({})),
        st.tuples(st.just("DELETE"), memory_id.map(lambda i: f"/v1/memories/{i}/"), st.just({})),
        st.tuples(st.just("GET"), st.just("/memories"), user.map(lambda u: {"params": {"user_id": u}})),
        st.tuples(st.just("GET"), st.just("/memories"), st.just({"params": {"top_k": 1000}})),
        st.tuples(st.just("GET"), st.just("/v1/entities/"), st.just({})),
        st.tuples(st.just("POST"), st.just("/v3/memories/"), filters.map(lambda f: {"json": {"filters": f}})),
        st.tuples(
            st.just("POST"),
            st.just("/search"),
            st.builds(lambda q, f: {"json": {"query": q, "filters": f}}, query, filters),
        ),
        st.tuples(
            st.just("POST"),
            st.just("/v3/memories/search/"),
            st.builds(lambda q, f: {"json": {"query": q, "filters": f}}, query, filters),
        ),
        st.tuples(st.just("DELETE"), st.just("/memories"), user.map(lambda u: {"params": {"user_id": u}})),
        st.tuples(st.just("DELETE"), user.map(lambda u: f"/v2/entities/user/{u}/"), st.just({})),
        st.tuples(
            st.just("PUT"),
            st.just("/v1/batch/"),
            memory_id.map(lambda i: {"json": {"memories": [{"memory_id": i, "text": "x"}]}}),
        ),
        st.tuples(
            st.just("DELETE"),
            st.just("/v1/batch/"),
            memory_id.map(lambda i: {"json": {"memories": [{"memory_id": i}]}}),
        ),
    )


def test_alpha_never_reaches_betas_memories(server: MemlaneServer, beta: dict[str, Any]) -> None:
    with (
        httpx.Client(base_url=server.url, headers=server.headers("alpha"), timeout=30) as alpha,
        httpx.Client(base_url=server.url, headers=server.headers("beta"), timeout=30) as as_beta,
    ):
        # alpha has an "alice" too, so filters on alice find something on alpha's side
        alpha.post(
            "/memories", json={"messages": [{"role": "user", "content": "alpha alice"}], "user_id": "alice"}
        )

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(st.lists(_requests(beta["ids"]), min_size=1, max_size=4))
        def check(requests: list[tuple[str, str, dict[str, Any]]]) -> None:
            for method, path, options in requests:
                response = alpha.request(method, path, **options)
                assert response.status_code < 500, response.text
                assert "beta-secret" not in response.text
                assert (
                    not any(memory_id in response.text for memory_id in beta["ids"])
                    or response.status_code == 404
                )
            assert _snapshot(as_beta) == beta["snapshot"]

        check()
