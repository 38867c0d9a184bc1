"""``memlane mcp`` over stdio: the official MCP client starts the command and calls every tool."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from memlane import Memory
from tests.conftest import hash_config
from tests.mcp._support import answer, error_text

pytestmark = pytest.mark.integration

SRC = str(Path(__file__).resolve().parents[2] / "src")
TOOLS = {
    "add_memory", "search_memories", "get_memories", "get_memory", "update_memory", "delete_memory",
    "delete_all_memories", "list_entities",
}  # fmt: skip


def _command(db: Path, *args: str) -> StdioServerParameters:
    env = {
        "PYTHONPATH": SRC,
        "MEMLANE_DIR": str(db.parent),
        "HF_HUB_OFFLINE": "1",
        "PATH": os.environ.get("PATH", ""),
    }
    cli = ["-m", "memlane.cli", "--embedder", "hash", "mcp", "--db", str(db), *args]
    return StdioServerParameters(command=sys.executable, args=cli, env=env)


def _seed_other_user(db: Path) -> str:
    """Bob's memory in the same database: the tools of alice's server must never reach it."""
    with Memory.from_config(hash_config(db, 384)) as memory:
        memory_id: str = memory.add("Bob's secret: the safe code is 4321", user_id="bob")["results"][0]["id"]
    return memory_id


def test_every_tool_over_stdio_on_the_configured_user_only(db_path: Path) -> None:
    bobs = _seed_other_user(db_path)
    asyncio.run(_scenario(db_path, bobs))
    with Memory.from_config(hash_config(db_path, 384)) as memory:
        assert memory.get(bobs) is not None, "alice's tools deleted bob's memory"
        assert memory.get_all(user_id="alice")["results"] == []


async def _scenario(db: Path, bobs: str) -> None:
    async with Client(_command(db, "--user-id", "alice")) as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        for tool in listed.tools:
            assert tool.description and len(tool.description) > 40, tool.name
            assert "user_id" not in tool.input_schema.get("properties", {}), tool.name

        async def call(name: str, **arguments: Any) -> Any:
            return answer(await client.call_tool(name, arguments))

        added = await call("add_memory", text="I am vegetarian and allergic to peanuts")
        tea = await call("add_memory", text="I prefer green tea", metadata={"topic": "drinks"})
        memory_id = added["results"][0]["id"]
        assert added["results"][0]["event"] == "ADD"

        found = await call("search_memories", query="what food can I not eat?", top_k=5)
        assert {hit["id"] for hit in found["results"]} <= {memory_id, tea["results"][0]["id"]}
        assert found["results"] and all(hit["user_id"] == "alice" for hit in found["results"])
        assert bobs not in {
            hit["id"] for hit in (await call("search_memories", query="safe code"))["results"]
        }

        listed_memories = await call("get_memories")
        assert len(listed_memories["results"]) == 2
        one = await call("get_memory", memory_id=memory_id)
        assert one["memory"] == "I am vegetarian and allergic to peanuts" and one["user_id"] == "alice"

        assert (await call("update_memory", memory_id=memory_id, text="I am vegan"))["message"]
        assert (await call("get_memory", memory_id=memory_id))["memory"] == "I am vegan"

        entities = await call("list_entities")
        assert entities["results"] == [{"id": "alice", "type": "user", "total_memories": 2}]

        for name, arguments in [
            ("get_memory", {"memory_id": bobs}),
            ("update_memory", {"memory_id": bobs, "text": "hacked"}),
            ("delete_memory", {"memory_id": bobs}),
        ]:
            assert "not found" in error_text(await client.call_tool(name, arguments)), name

        assert "query" in error_text(await client.call_tool("search_memories", {"query": "  "}))
        assert error_text(await client.call_tool("get_memories", {"top_k": "many"}))

        assert (await call("delete_memory", memory_id=memory_id))["message"]
        assert "not found" in error_text(await client.call_tool("get_memory", {"memory_id": memory_id}))
        deleted = await call("delete_all_memories")
        assert deleted["deleted"] == 1
        assert (await call("get_memories"))["results"] == []


def test_stdio_needs_a_user_and_refuses_a_malformed_one(db_path: Path) -> None:
    from click.testing import CliRunner

    from memlane.cli import cli

    runner = CliRunner()
    missing = runner.invoke(cli, ["--embedder", "hash", "mcp", "--db", str(db_path)])
    assert missing.exit_code == 2 and "--user-id" in missing.output
    bad = runner.invoke(cli, ["--embedder", "hash", "mcp", "--db", str(db_path), "--user-id", "a\nb"])
    assert bad.exit_code == 1 and "Error:" in bad.output


def test_stdio_reads_the_config_file_that_memlane_serve_reads(db_path: Path) -> None:
    """One config file for both: its ``server`` section is memlane serve's and is left out here."""
    config = db_path.parent / "config.json"
    config.write_text(json.dumps({**hash_config(db_path, 384), "server": {"max_body_bytes": 65536}}))
    _seed_other_user(db_path)

    async def bobs() -> Any:
        async with Client(_command(db_path, "--user-id", "bob", "--config", str(config))) as client:
            return answer(await client.call_tool("get_memories", {}))

    assert [item["user_id"] for item in asyncio.run(bobs())["results"]] == ["bob"]
