"""One line switches an app between in-process and remote memory: the same scenario through
``Memory`` and ``Client`` (and ``AsyncMemory`` and ``AsyncClient``) gives the same results."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncClient, AsyncMemory, Client, Memory
from tests.client._scenario import CONFIG, normalized, run, run_async, steps
from tests.server.process import MemlaneServer

pytestmark = pytest.mark.integration


def _in_process_config(folder: Path) -> dict[str, Any]:
    return {**CONFIG, "vector_store": {"provider": "sqlite", "config": {"path": str(folder / "m.db")}}}


def test_the_scenario_gives_the_same_results_through_memory_and_client(
    served: MemlaneServer, tmp_path: Path
) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "remote").mkdir()
    with Memory.from_config(_in_process_config(tmp_path / "local")) as memory:  # the one line...
        local = run(memory, tmp_path / "local")
    with Client(served.url, api_key=served.keys["parity"]) as memory:  # ...an app changes
        remote = run(memory, tmp_path / "remote")
    assert len(local) == len(steps(tmp_path))
    for step, mine, theirs in zip(steps(tmp_path), normalized(local), normalized(remote), strict=True):
        assert mine == theirs, step[0]
    assert (tmp_path / "remote" / "export.jsonl").read_text().count("\n") > 3
    errors = [result["error"] for result in local if isinstance(result, dict) and "error" in result]
    assert {"ConfigError", "InvalidInputError", "NotFoundError"} <= set(errors)


def test_the_scenario_gives_the_same_results_through_async_memory_and_async_client(
    served: MemlaneServer, tmp_path: Path
) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "remote").mkdir()

    async def both() -> tuple[list[Any], list[Any]]:
        async with AsyncMemory.from_config(_in_process_config(tmp_path / "local")) as memory:
            local = await run_async(memory, tmp_path / "local")
        async with AsyncClient(served.url, api_key=served.keys["parity-async"]) as memory:
            remote = await run_async(memory, tmp_path / "remote")
        return local, remote

    local, remote = asyncio.run(both())
    assert normalized(local) == normalized(remote)
