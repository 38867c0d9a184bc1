"""Helpers shared by the CLI tests (the fixtures are in ``conftest.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from memlane import Memory

Run = Callable[..., Result]
"""``run(*args, input=None, env=None)``: the CLI on the test database with the hash embedder."""

SECRET = "sk-proj-SECRET0123456789"


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def add_one(run: Run, text: str, *args: str) -> str:
    data = as_json(run("--json", "add", text, *args))
    memory_id: str = data["results"][0]["id"]
    return memory_id


def opened(db: Path) -> Memory:
    return Memory.from_config(
        {
            "vector_store": {"provider": "sqlite", "config": {"path": str(db)}},
            "embedder": {"provider": "hash"},
        }
    )
