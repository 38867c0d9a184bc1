"""``memlane mcp --http``: the user from the URL, the tenant from the API key, 401 without one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from memlane.server.keys import KeyStore
from tests.mcp._support import McpHttpServer, answer, error_text

pytestmark = pytest.mark.integration

INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"},
    },
}  # fmt: skip


async def _session(url: str, key: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Call tools at ``url`` with ``key``; each result's JSON, or its error text."""
    headers = {"Authorization": f"Bearer {key}"}
    out: list[Any] = []
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30.0) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            out.append(error_text(result) if result.is_error else answer(result))
    return out


def test_tools_over_http_keep_users_and_tenants_apart_and_refuse_without_a_key(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys.db")
    acme = keys.create("acme")[1]
    other = keys.create("other")[1]
    revoked_info, revoked = keys.create("acme")
    keys.revoke(revoked_info.id)
    with McpHttpServer(tmp_path, tmp_path / "keys.db") as server:
        alice, bob = server.url + "/mcp/alice", server.url + "/mcp/bob"
        wrong: list[dict[str, str]] = [
            {},
            {"Authorization": "Bearer ml_not-a-key"},
            {"X-API-Key": revoked},
            {"Authorization": "Basic a"},
        ]
        for headers in wrong:
            refused = httpx.post(alice, json=INITIALIZE, headers=headers, timeout=10.0)
            assert refused.status_code == 401, headers
            assert refused.json()["type"] == "AuthenticationError"
            assert refused.headers["www-authenticate"] == "Bearer"
        assert httpx.post(server.url + "/other", json=INITIALIZE, timeout=10.0).status_code == 404

        added, found, listed = asyncio.run(
            _session(alice, acme, [
                ("add_memory", {"text": "My dog is called Rex"}),
                ("search_memories", {"query": "dog name"}),
                ("get_memories", {}),
            ])
        )  # fmt: skip
        memory_id = added["results"][0]["id"]
        assert [hit["id"] for hit in found["results"]] == [memory_id]
        assert listed["results"][0]["user_id"] == "alice"

        bobs_view = asyncio.run(
            _session(bob, acme, [("get_memories", {}), ("get_memory", {"memory_id": memory_id})])
        )
        assert bobs_view[0]["results"] == [] and "not found" in bobs_view[1]

        other_tenant = asyncio.run(
            _session(alice, other, [("get_memories", {}), ("delete_memory", {"memory_id": memory_id})])
        )
        assert other_tenant[0]["results"] == [] and "not found" in other_tenant[1]

        still = asyncio.run(_session(alice, acme, [("get_memory", {"memory_id": memory_id})]))
        assert still[0]["memory"] == "My dog is called Rex"
    log = (tmp_path / "mcp.log").read_text(errors="replace")
    assert acme not in log and revoked not in log and "Rex" not in log


def test_http_refuses_to_start_without_any_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from memlane.cli import cli

    KeyStore(tmp_path / "keys.db")
    keys, db = str(tmp_path / "keys.db"), str(tmp_path / "m.db")
    result = CliRunner().invoke(cli, ["--embedder", "hash", "mcp", "--http", "--keys", keys, "--db", db])
    assert result.exit_code == 1 and "memlane keys create" in result.output
