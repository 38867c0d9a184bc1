"""The MCP tools in process (the SDK's in-memory transport): what an agent reads when a call fails."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server.mcpserver import Context

from memlane import Memory
from memlane.mcp import INSTRUCTIONS, Caller, build_server
from memlane.mcp.http import _resolver
from tests.conftest import hash_config
from tests.mcp._support import answer, error_text


def _calls(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async def run() -> list[Any]:
        out: list[Any] = []
        async with Client(server) as client:
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                out.append(error_text(result) if result.is_error else answer(result))
        return out

    return asyncio.run(run())


def test_a_crash_is_a_tool_error_without_its_details_and_the_server_keeps_answering(db_path: Path) -> None:
    memory = Memory.from_config(hash_config(db_path))
    broken = {"on": True}

    def resolve(ctx: Context) -> Caller:
        if broken["on"]:
            broken["on"] = False
            raise RuntimeError("internal detail: /secret/path")
        return Caller(memory, "alice")

    crashed, listed = _calls(build_server(resolve), [("get_memories", {}), ("get_memories", {})])
    assert "get_memories" in crashed and "/secret/path" not in crashed
    assert listed == {"results": []}
    memory.close()


def test_bad_arguments_and_store_errors_are_readable_tool_errors(db_path: Path) -> None:
    with Memory.from_config(hash_config(db_path)) as memory:
        server = build_server(lambda ctx: Caller(memory, "alice"))
        missing, wrong_type, bad_metadata = _calls(
            server,
            [
                ("update_memory", {"memory_id": "abc"}),
                ("search_memories", {"query": "x", "top_k": "ten"}),
                ("add_memory", {"text": "hi", "metadata": {"user_id": "mallory"}}),
            ],
        )
        stored = memory.get(bad_metadata["results"][0]["id"])
    assert "text" in missing and "top_k" in wrong_type
    assert stored is not None and stored["user_id"] == "alice"  # metadata never chooses the user


def test_the_user_is_the_configured_one_whatever_the_arguments(db_path: Path) -> None:
    with Memory.from_config(hash_config(db_path)) as memory:
        server = build_server(lambda ctx: Caller(memory, "alice"))
        added, smuggled = _calls(
            server,
            [("add_memory", {"text": "I like tea"}), ("get_memories", {"user_id": "bob"})],
        )
        assert memory.get(added["results"][0]["id"])["user_id"] == "alice"  # type: ignore[index]
    assert [item["user_id"] for item in smuggled["results"]] == ["alice"]  # the argument is ignored


def test_descriptions_say_when_to_store_and_when_to_search(db_path: Path) -> None:
    with Memory.from_config(hash_config(db_path)) as memory:
        server = build_server(lambda ctx: Caller(memory, "alice"))

        async def listed() -> dict[str, str]:
            async with Client(server) as client:
                return {tool.name: tool.description or "" for tool in (await client.list_tools()).tools}

        tools = asyncio.run(listed())
    assert "preference" in tools["add_memory"] and "ask you to remember" in tools["add_memory"]
    assert "before answering" in tools["search_memories"]
    assert "never pass a user id" in INSTRUCTIONS


def test_http_tools_without_a_verified_request_are_refused(db_path: Path) -> None:
    """The HTTP resolver trusts only what the key check put on the request, never a default."""
    with Memory.from_config(hash_config(db_path)) as memory:
        server = build_server(_resolver(lambda tenant: memory))
        (refused,) = _calls(server, [("get_memories", {})])
    assert "no verified API key" in refused


def test_search_and_list_take_type_run_long_term_and_as_of(db_path: Path) -> None:
    """memlane's read options over MCP, on the connection's user only; bad values are tool errors."""
    with Memory.from_config(hash_config(db_path)) as memory:
        memory.add("Likes green tea", user_id="alice", infer=False)
        memory.add("Ran a marathon in May", user_id="alice", infer=False, memory_type="episodic")
        gate = memory.add("Gate B12", user_id="alice", run_id="trip", infer=False)["results"][0]["id"]
        memory.add("Gate C7", user_id="bob", run_id="trip", infer=False)
        then = memory.get_all(user_id="alice")["results"][0]["created_at"]
        memory.add("Likes black coffee", user_id="alice", infer=False)
        server = build_server(lambda ctx: Caller(memory, "alice"))
        typed, run, long_term, past, searched, *errors = _calls(
            server,
            [
                ("get_memories", {"memory_type": ["episodic"]}),
                ("get_memories", {"run_id": "trip"}),
                ("search_memories", {"query": "gate", "run_id": "trip", "long_term": True}),
                ("get_memories", {"as_of": then}),
                ("search_memories", {"query": "tea", "memory_type": "episodic"}),
                ("get_memories", {"memory_type": "mood"}),
                ("search_memories", {"query": "x", "as_of": "soon"}),
                ("search_memories", {"query": "x", "long_term": True}),
                ("get_memories", {"long_term": "perhaps"}),
            ],
        )
    memories = [[item["memory"] for item in found["results"]] for found in (typed, run, long_term, searched)]
    assert memories[0] == ["Ran a marathon in May"] and memories[1] == ["Gate B12"]
    assert long_term["results"][0]["id"] == gate and "Gate C7" not in memories[2] and len(memories[2]) == 4
    assert "Likes black coffee" not in {item["memory"] for item in past["results"]}
    assert memories[3] == ["Ran a marathon in May"]
    assert "'mood'" in errors[0] and "as_of" in errors[1]
    assert "run_id" in errors[2] and "long_term" in errors[3]
