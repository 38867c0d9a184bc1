"""The group: global options, config, the lazily built Memory, id prefixes, clean errors, the script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from memlane.cli import cli
from memlane.cli._app import merge_config
from memlane.store.sqlite import SQLiteStore
from tests.cli._support import SECRET, Run, add_one, as_json, opened

# -- global options ------------------------------------------------------------------------


def test_every_command_has_help() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0
    for option in ("--db", "--config", "--embedder", "--json"):
        assert option in top.stdout
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert command.help, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and f" {name} [OPTIONS]" in result.stdout


def test_db_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.db"
    runner = CliRunner(env={"MEMLANE_DB": str(path)})
    result = runner.invoke(cli, ["--embedder", "hash", "add", "from env", "-u", "alice"])
    assert result.exit_code == 0, result.output
    with opened(path) as memory:
        assert [r["memory"] for r in memory.get_all(filters={"user_id": "alice"})["results"]] == ["from env"]


def test_config_file_and_db_override(tmp_path: Path) -> None:
    in_config = tmp_path / "from-config.db"
    override = tmp_path / "override.db"
    config = tmp_path / "memlane.json"
    config.write_text(
        json.dumps(
            {
                "vector_store": {"provider": "sqlite", "config": {"path": str(in_config)}},
                "embedder": {"provider": "hash"},
            }
        ),
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(config), "add", "one", "-u", "alice"])
    assert first.exit_code == 0, first.output
    assert in_config.exists() and not override.exists()
    second = runner.invoke(cli, ["--config", str(config), "--db", str(override), "add", "two", "-u", "alice"])
    assert second.exit_code == 0, second.output
    with opened(override) as memory:
        assert [r["memory"] for r in memory.get_all(filters={"user_id": "alice"})["results"]] == ["two"]


def test_bad_config_is_a_clean_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('{"embedder": {"provider": "nope"}}', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", str(tmp_path / "x.db"), "list", "-u", "a"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown embedder provider 'nope'")
    config.write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "list", "-u", "a"])
    assert result.exit_code == 2 and "is not valid JSON" in result.stderr


def test_merge_config() -> None:
    assert merge_config(None, db=None, embedder=None) == {}
    assert merge_config(None, db="a.db", embedder="hash") == {
        "vector_store": {"provider": "sqlite", "config": {"path": "a.db"}},
        "embedder": {"provider": "hash"},
    }
    base: dict[str, Any] = {
        "vector_store": {"provider": "sqlite", "config": {"path": "b.db", "busy_timeout_ms": 5}}
    }
    merged = merge_config(base, db="a.db", embedder=None)
    assert merged["vector_store"]["config"] == {"path": "a.db", "busy_timeout_ms": 5}
    assert base["vector_store"]["config"]["path"] == "b.db"
    with pytest.raises(click.UsageError, match="--db applies to the sqlite store"):
        merge_config({"vector_store": {"provider": "qdrant"}}, db="a.db", embedder=None)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "memlane" in result.stdout


def test_errors_never_show_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"llm": {"provider": "openai", "api_key": SECRET}}), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", str(tmp_path / "x.db"), "list", "-u", "a"]
    )
    assert result.exit_code == 1 and "api_key" in result.stderr
    assert SECRET not in result.stderr


# -- id prefixes ---------------------------------------------------------------------------


def test_commands_accept_the_id_prefix_tables_show(run: Run) -> None:
    mid = add_one(run, "I like green tea", "-u", "alice")
    listed = run("list", "-u", "alice").stdout
    prefix = mid[:8]
    assert prefix in listed
    assert as_json(run("--json", "get", prefix))["id"] == mid
    assert run("update", prefix, "I like black tea").exit_code == 0
    assert [e["event"] for e in as_json(run("--json", "history", prefix))] == ["ADD", "UPDATE"]
    assert run("delete", mid[:4]).exit_code == 0
    assert run("get", mid).exit_code == 1
    assert as_json(run("--json", "purge", prefix, "--yes"))["purged"] == 1


def test_an_ambiguous_id_prefix_is_a_clear_error(run: Run, db: Path) -> None:
    first = add_one(run, "one", "-u", "alice")
    second = add_one(run, "two", "-u", "alice")
    with opened(db) as memory:
        store = memory.store
        assert isinstance(store, SQLiteStore)
        with store.locked() as conn:
            for old, new in ((first, "abcd0001" + first[8:]), (second, "abcd0002" + second[8:])):
                conn.execute("UPDATE memories SET id = ? WHERE id = ?", (new, old))
    result = run("get", "abcd")
    assert result.exit_code == 1
    assert "matches 2 memories" in result.stderr and "give more characters" in result.stderr
    assert as_json(run("--json", "get", "abcd0002"))["memory"] == "two"
    assert run("get", "abc").exit_code == 1  # shorter than 4: taken as a whole id, not found


# -- read commands never create or change a database ---------------------------------------


@pytest.mark.parametrize(
    "args", [["list", "-u", "a"], ["search", "q", "-u", "a"], ["get", "x"], ["history", "x"]]
)
def test_read_commands_refuse_another_apps_database_unchanged(tmp_path: Path, args: list[str]) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = CliRunner().invoke(cli, ["--db", str(other), "--embedder", "hash", *args])
    assert result.exit_code == 1
    assert "is not a memlane database" in result.stderr and "Traceback" not in result.output
    assert other.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["other.db"]


@pytest.mark.parametrize("args", [["list", "-u", "a"], ["search", "q", "-u", "a"], ["export", "out.jsonl"]])
def test_read_commands_do_not_create_a_database(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "sub" / "none.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "--embedder", "hash", *args])
    assert result.exit_code == 1 and "no memlane database at" in result.stderr
    assert not (tmp_path / "sub").exists()
    writes = CliRunner().invoke(cli, ["--db", str(missing), "--embedder", "hash", "add", "x", "-u", "a"])
    assert writes.exit_code == 0 and missing.exists()


# -- the real console script ---------------------------------------------------------------


@pytest.mark.integration
def test_console_script_with_the_local_embedder(tmp_path: Path) -> None:
    script = shutil.which("memlane", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "memlane.cli"]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "MEMLANE_DIR": str(tmp_path),
    }
    db = str(tmp_path / "real.db")

    def memlane(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, "--db", db, *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    messages = tmp_path / "messages.json"
    messages.write_text(
        json.dumps(
            [
                {"role": "user", "content": "I moved from Delhi to Bangalore last month"},
                {"role": "user", "content": "I am a vegetarian"},
                {"role": "user", "content": "My dog Bruno loves the park"},
            ]
        ),
        encoding="utf-8",
    )
    added = memlane("add", "--file", str(messages), "-u", "alice")
    assert added.returncode == 0, added.stderr
    found = memlane("--json", "search", "which city does she live in?", "-u", "alice", "-k", "2")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert results[0]["memory"] == "I moved from Delhi to Bangalore last month"
    table = memlane("search", "what does she eat?", "-u", "alice", "-k", "1")
    assert table.returncode == 0 and "I am a vegetarian" in table.stdout
    missing = memlane("get", "nope")
    assert missing.returncode == 1 and missing.stderr == "Error: memory 'nope' not found\n"
