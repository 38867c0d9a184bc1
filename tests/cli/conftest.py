"""Fixtures of the CLI tests: a real SQLite file, the CLI on it with the hash embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from memlane.cli import cli
from memlane.store.sqlite import SQLiteStore
from tests.cli._support import Run, add_one


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An empty memlane database: read commands refuse a missing file."""
    path = tmp_path / "cli.db"
    SQLiteStore(path).close()
    return path


@pytest.fixture
def run(db: Path) -> Run:
    """Invoke the CLI on the test database with the hash embedder."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, ["--db", str(db), "--embedder", "hash", *args], input=input, env=env, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def seeded(run: Run) -> dict[str, str]:
    ids = {
        "bangalore": add_one(
            run, "I moved from Delhi to Bangalore", "-u", "alice", "--metadata", '{"k": "home"}'
        ),
        "acme": add_one(run, "I started a new job at Acme", "-u", "alice", "--metadata", '{"k": "work"}'),
        "bob": add_one(run, "Bob lives in Bangalore too", "-u", "bob"),
    }
    return ids
