"""The ``memlane`` CLI over a real SQLite file, with the deterministic hash embedder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from memlane import Memory, __version__
from memlane.cli import cli, format_table, merge_config
from memlane.store.sqlite import SQLiteStore
from tests.eval.test_locomo import sample

Run = Callable[..., Result]


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


# -- add -----------------------------------------------------------------------------------


def test_add_text_json_matches_api_shape(run: Run, db: Path) -> None:
    data = as_json(run("--json", "add", "I moved from Delhi to Bangalore", "-u", "alice"))
    assert list(data) == ["results"]
    [item] = data["results"]
    assert set(item) == {"id", "memory", "event", "actor_id", "role"}
    assert item["memory"] == "I moved from Delhi to Bangalore"
    assert item["event"] == "ADD" and item["role"] == "user"
    with opened(db) as memory:
        stored = memory.get(item["id"])
    assert stored is not None and stored["user_id"] == "alice"


def test_add_human_output_is_a_table(run: Run) -> None:
    result = run("add", "I adopted a dog named Bruno", "--user-id", "alice")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1 memory changed"
    assert lines[1].split() == ["EVENT", "ID", "ROLE", "MEMORY"]
    assert set(lines[2]) <= {"-", " "}
    assert "I adopted a dog named Bruno" in lines[3] and lines[3].startswith("ADD")


def test_add_metadata_timestamp_and_scope_ids(run: Run, db: Path) -> None:
    memory_id = add_one(
        run,
        "Trip to Japan next spring",
        "-u",
        "alice",
        "--agent-id",
        "planner",
        "--run-id",
        "r1",
        "--metadata",
        '{"category": "travel"}',
        "--timestamp",
        "2025-03-01T10:00:00Z",
        "--no-infer",
    )
    item = as_json(run("--json", "get", memory_id))
    assert item["metadata"] == {"category": "travel"}
    assert (item["user_id"], item["agent_id"], item["run_id"]) == ("alice", "planner", "r1")
    assert item["score"] is None


def test_add_unix_timestamp_is_accepted(run: Run) -> None:
    result = run("add", "hello", "-u", "alice", "--timestamp", "1700000000")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("bad", ["-5", "1800-01-01", "-1e3"])
def test_times_before_the_range_are_refused_by_add_and_search(run: Run, bad: str) -> None:
    added = run("add", "hello", "-u", "alice", "--timestamp", bad)
    assert added.exit_code == 1 and added.stderr.startswith("Error: timestamp")
    searched = run("search", "hello", "-u", "alice", "--reference-date", bad)
    assert searched.exit_code == 1 and searched.stderr.startswith("Error: reference_date")
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []


def test_search_takes_unix_seconds_as_reference_date_like_add(run: Run) -> None:
    add_one(run, "hello there", "-u", "alice", "--timestamp", "1700000000")
    result = run("--json", "search", "hello", "-u", "alice", "--reference-date", "1700000000")
    assert [r["memory"] for r in as_json(result)["results"]] == ["hello there"]


def test_add_messages_file(run: Run, tmp_path: Path) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "I am vegetarian", "name": "alice"},
        {"role": "assistant", "content": "Noted: no meat in recipes."},
    ]
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(messages), encoding="utf-8")
    data = as_json(run("--json", "add", "--file", str(path), "-u", "alice"))
    assert [(i["memory"], i["role"], i["actor_id"]) for i in data["results"]] == [
        ("I am vegetarian", "user", "alice"),
        ("Noted: no meat in recipes.", "assistant", None),
    ]


def test_add_single_message_from_stdin(run: Run) -> None:
    message = {"role": "user", "content": "I work at Acme"}
    data = as_json(run("--json", "add", "-f", "-", "-u", "alice", input=json.dumps(message)))
    assert [i["memory"] for i in data["results"]] == ["I work at Acme"]


def test_add_text_from_stdin(run: Run) -> None:
    data = as_json(run("--json", "add", "-", "-u", "alice", input="Bruno likes long walks\n"))
    assert data["results"][0]["memory"].strip() == "Bruno likes long walks"


def test_add_needs_text_or_file_but_not_both(run: Run, tmp_path: Path) -> None:
    assert run("add", "-u", "alice").exit_code == 2
    path = tmp_path / "m.json"
    path.write_text("[]", encoding="utf-8")
    result = run("add", "text", "--file", str(path), "-u", "alice")
    assert result.exit_code == 2 and "not both" in result.stderr


def test_add_bad_messages_file(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json", encoding="utf-8")
    result = run("add", "--file", str(path), "-u", "alice")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    path.write_text('[{"role": "user"}]', encoding="utf-8")
    result = run("add", "--file", str(path), "-u", "alice")
    assert result.exit_code == 1
    assert result.stderr == "Error: message 0 has no 'content'\n"


def test_add_without_scope_is_a_clean_error(run: Run) -> None:
    result = run("add", "orphan fact")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: give at least one of user_id")
    assert "Traceback" not in result.output


def test_add_infer_without_llm_says_how_to_configure(run: Run) -> None:
    result = run("add", "fact", "-u", "alice", "--infer")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: add(infer=True) needs an LLM")
    assert len(result.stderr.strip().splitlines()) == 1


# -- search and list -----------------------------------------------------------------------


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


def test_search_json_matches_api(run: Run, db: Path, seeded: dict[str, str]) -> None:
    data = as_json(run("--json", "search", "moved to Bangalore", "-u", "alice"))
    with opened(db) as memory:
        expected = memory.search("moved to Bangalore", filters={"user_id": "alice"})
    assert data == json.loads(json.dumps(expected))
    assert data["results"][0]["id"] == seeded["bangalore"]
    assert {r["user_id"] for r in data["results"]} == {"alice"}
    assert "score_details" not in data["results"][0]


def test_search_human_table(run: Run, seeded: dict[str, str]) -> None:
    result = run("search", "Bangalore", "-u", "alice")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SCORE", "ID", "MEMORY", "USER", "CREATED"]
    assert "I moved from Delhi to Bangalore" in lines[2]
    assert seeded["bangalore"][:8] in lines[2] and seeded["bangalore"] not in lines[2]
    assert "Bob lives" not in result.stdout


def test_search_options(run: Run, seeded: dict[str, str]) -> None:
    data = as_json(run("search", "Bangalore", "-u", "alice", "--top-k", "1", "--explain", "--json"))
    [item] = data["results"]
    assert {"semantic_score", "keyword_score", "final_score"} <= set(item["score_details"])
    human = run("search", "Bangalore", "-u", "alice", "--explain")
    assert human.stdout.split()[:3] == ["SCORE", "SEMANTIC", "KEYWORD"]
    filtered = as_json(run("--json", "search", "Bangalore", "-u", "alice", "--filters", '{"k": "work"}'))
    assert [r["id"] for r in filtered["results"]] == [seeded["acme"]]
    high = as_json(run("--json", "search", "Bangalore", "-u", "alice", "--threshold", "0.99"))
    assert high["results"] == []
    empty = run("search", "Bangalore", "-u", "alice", "--threshold", "0.99")
    assert empty.stdout == "No memories found.\n"


def test_search_reads_dates_against_the_reference_date(run: Run, seeded: dict[str, str]) -> None:
    data = as_json(
        run(
            "--json",
            "search",
            "Bangalore today",
            "-u",
            "alice",
            "--explain",
            "--reference-date",
            "2020-01-01",
        )
    )
    assert all(r["score_details"]["time_score"] == 0.0 for r in data["results"])  # seeded later
    bad = run("search", "Bangalore", "-u", "alice", "--reference-date", "someday")
    assert bad.exit_code == 1 and "reference_date" in bad.stderr
    plain = as_json(run("--json", "search", "Bangalore", "-u", "alice"))
    assert as_json(run("--json", "search", "Bangalore", "-u", "alice", "--rerank")) == plain  # no reranker


def test_search_filters_can_carry_the_scope(run: Run, seeded: dict[str, str]) -> None:
    data = as_json(run("--json", "search", "Bangalore", "--filters", '{"user_id": "bob"}'))
    assert [r["id"] for r in data["results"]] == [seeded["bob"]]


def test_list_json_and_table(run: Run, db: Path, seeded: dict[str, str]) -> None:
    data = as_json(run("--json", "list", "-u", "alice"))
    with opened(db) as memory:
        assert data == memory.get_all(filters={"user_id": "alice"}, page=1)
    assert (data["count"], data["page"], data["page_size"], data["next"]) == (2, 1, 100, None)
    assert [r["id"] for r in data["results"]] == [seeded["acme"], seeded["bangalore"]]
    assert all("score" not in r for r in data["results"])
    limited = as_json(run("--json", "list", "-u", "alice", "-k", "1"))
    assert len(limited["results"]) == 1
    filtered = as_json(run("--json", "list", "-u", "alice", "--filters", '{"k": "home"}'))
    assert [r["id"] for r in filtered["results"]] == [seeded["bangalore"]]
    table = run("list", "-u", "alice").stdout.splitlines()
    assert table[0].split() == ["ID", "MEMORY", "USER", "CREATED"]
    assert "I started a new job at Acme" in table[2] and "I moved from Delhi to Bangalore" in table[3]


def test_list_shows_agent_and_run_columns_when_present(run: Run) -> None:
    add_one(run, "Prefers short answers", "-u", "alice", "--agent-id", "helper", "--run-id", "s1")
    header = run("list", "-u", "alice").stdout.splitlines()[0].split()
    assert header == ["ID", "MEMORY", "USER", "AGENT", "RUN", "CREATED"]


def test_list_pages_and_says_when_it_is_cut(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(
        json.dumps([{"role": "user", "content": f"fact {i}"} for i in range(250)]), encoding="utf-8"
    )
    assert run("add", "--file", str(path), "-u", "alice", "--no-infer").exit_code == 0
    first = run("list", "-u", "alice").stdout.splitlines()
    assert len(first) == 2 + 100 + 1
    assert first[-1] == "showing 100 of 250 (use --page 2 for more)"
    assert "fact 249" in first[2]
    last = run("list", "-u", "alice", "--page", "3").stdout.splitlines()
    assert last[-1] == "showing 50 of 250 (page 3)" and "fact 0" in last[-2]
    small = run("list", "-u", "alice", "--limit", "10", "--page", "2").stdout.splitlines()
    assert small[-1] == "showing 10 of 250 (use --page 3 for more)" and "fact 239" in small[2]
    assert as_json(run("--json", "list", "-u", "alice", "--page-size", "1000"))["next"] is None
    assert len(as_json(run("--json", "list", "-u", "alice", "-k", "300"))["results"]) == 250
    whole = run("list", "-u", "bob").stdout
    assert "showing" not in whole
    bad = run("list", "-u", "alice", "--page", "0")
    assert bad.exit_code == 1 and bad.stderr == "Error: page must be 1 or more, got 0\n"


def test_list_empty_scope(run: Run) -> None:
    result = run("list", "-u", "nobody")
    assert result.exit_code == 0 and result.stdout == "No memories found.\n"


# -- get, update, delete, history ----------------------------------------------------------


def test_get_human_shows_the_full_record(run: Run, seeded: dict[str, str]) -> None:
    result = run("get", seeded["bangalore"])
    assert result.exit_code == 0, result.output
    assert f"id:          {seeded['bangalore']}" in result.stdout
    assert "memory:      I moved from Delhi to Bangalore" in result.stdout
    assert 'metadata:    {"k": "home"}' in result.stdout


def test_update_then_history(run: Run, seeded: dict[str, str]) -> None:
    memory_id = seeded["acme"]
    assert as_json(run("--json", "update", memory_id, "I work at Acme as a designer")) == {
        "message": "Memory updated successfully!"
    }
    assert as_json(run("--json", "get", memory_id))["memory"] == "I work at Acme as a designer"
    result = run("update", memory_id, "--metadata", '{"k": "job"}')
    assert result.stdout == "Memory updated successfully!\n"
    assert as_json(run("--json", "get", memory_id))["metadata"] == {"k": "job"}
    events = as_json(run("--json", "history", memory_id))
    assert [e["event"] for e in events] == ["ADD", "UPDATE", "UPDATE"]
    assert events[1]["old_memory"] == "I started a new job at Acme"
    assert events[1]["new_memory"] == "I work at Acme as a designer"
    table = run("history", memory_id).stdout.splitlines()
    assert table[0] == f"History of {memory_id}"
    assert table[1].split() == ["WHEN", "EVENT", "OLD", "MEMORY", "NEW", "MEMORY"]
    assert "I work at Acme as a designer" in table[4]


def test_update_metadata_merges_and_identity_keys_wipe_nothing(run: Run) -> None:
    memory_id = add_one(run, "tea", "-u", "alice", "--metadata", '{"k": "drink", "n": 1}')
    assert run("update", memory_id, "--metadata", '{"user_id": "x"}').exit_code == 0
    item = as_json(run("--json", "get", memory_id))
    assert (item["metadata"], item["user_id"]) == ({"k": "drink", "n": 1}, "alice")
    assert run("update", memory_id, "--metadata", '{"n": 2}').exit_code == 0
    assert as_json(run("--json", "get", memory_id))["metadata"] == {"k": "drink", "n": 2}


def test_update_needs_text_or_metadata(run: Run, seeded: dict[str, str]) -> None:
    result = run("update", seeded["acme"])
    assert result.exit_code == 1
    assert result.stderr == "Error: update() needs text, metadata or expiration_date\n"


def test_delete_then_get_fails_and_history_keeps_it(run: Run, seeded: dict[str, str]) -> None:
    memory_id = seeded["bob"]
    result = run("delete", memory_id)
    assert result.stdout == "Memory deleted successfully!\n"
    missing = run("get", memory_id)
    assert missing.exit_code == 1 and missing.stderr == f"Error: memory {memory_id!r} not found\n"
    events = as_json(run("--json", "history", memory_id))
    assert [e["event"] for e in events] == ["ADD", "DELETE"] and events[-1]["is_deleted"] is True


@pytest.mark.parametrize("command", ["get", "delete", "history"])
def test_unknown_id_is_a_clean_error(run: Run, command: str) -> None:
    result = run(command, "no-such-id")
    assert result.exit_code == 1
    assert result.stderr == "Error: memory 'no-such-id' not found\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["get", "delete", "history", "update"])
def test_empty_id_is_a_clean_error(run: Run, command: str) -> None:
    extra = ["new text"] if command == "update" else []
    result = run(command, "", *extra)
    assert result.exit_code == 1
    assert result.stderr == "Error: memory_id must not be empty\n"


# -- filter errors -------------------------------------------------------------------------


def test_filters_that_do_not_parse_are_a_usage_error(run: Run) -> None:
    result = run("search", "q", "-u", "alice", "--filters", "{bad")
    assert result.exit_code == 2
    assert "Invalid value for '--filters': not valid JSON" in result.stderr
    assert "Traceback" not in result.output


def test_filters_that_are_not_an_object_are_a_clean_error(run: Run) -> None:
    result = run("list", "-u", "alice", "--filters", "[1, 2]")
    assert result.exit_code == 1
    assert result.stderr == "Error: filters must be a dict, got list\n"


def test_bad_operator_is_a_clean_error(run: Run) -> None:
    result = run("search", "q", "-u", "alice", "--filters", '{"k": {"near": 1}}')
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown filter operator 'near' on 'k'")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["search", "   ", "-u", "alice"],
        ["search", "q", "-u", "alice", "--threshold", "2"],
        ["search", "q", "-u", "alice", "--top-k", "-1"],
        ["search", "q", "-u", "bad id"],
        ["add", "x", "-u", "alice", "--metadata", "[1]"],
        ["add", "x", "-u", "alice", "--timestamp", "last tuesday"],
    ],
)
def test_invalid_inputs_exit_1_with_one_line(run: Run, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_bad_metadata_json_is_a_usage_error(run: Run) -> None:
    result = run("add", "x", "-u", "alice", "--metadata", "{'single': 'quotes'}")
    assert result.exit_code == 2 and "Invalid value for '--metadata'" in result.stderr


# -- delete-all and reset ------------------------------------------------------------------


def test_delete_all_asks_for_confirmation(run: Run, seeded: dict[str, str]) -> None:
    declined = run("delete-all", "-u", "alice", input="n\n")
    assert declined.exit_code == 1
    assert "Delete every memory of user_id=alice?" in declined.stderr
    assert len(as_json(run("--json", "list", "-u", "alice"))["results"]) == 2

    accepted = run("delete-all", "-u", "alice", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout == "Memories deleted successfully! (2 memories)\n"
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []
    assert len(as_json(run("--json", "list", "-u", "bob"))["results"]) == 1


def test_delete_all_yes_and_json(run: Run, seeded: dict[str, str]) -> None:
    data = as_json(run("--json", "delete-all", "-u", "bob", "--yes"))
    assert data == {"message": "Memories deleted successfully!", "deleted": 1}
    assert as_json(run("--json", "list", "-u", "bob"))["results"] == []


def test_delete_all_needs_a_scope(run: Run, seeded: dict[str, str]) -> None:
    result = run("delete-all", "--yes")
    assert result.exit_code == 2
    assert "give --user-id, --agent-id or --run-id" in result.stderr
    assert len(as_json(run("--json", "list", "-u", "alice"))["results"]) == 2


def test_reset(run: Run, seeded: dict[str, str]) -> None:
    declined = run("reset", input="n\n")
    assert declined.exit_code == 1
    assert len(as_json(run("--json", "list", "-u", "bob"))["results"]) == 1
    result = run("reset", "--yes")
    assert result.exit_code == 0 and result.stdout == "All memories were removed.\n"
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []
    assert json.loads(run("--json", "reset", "-y").stdout) == {"message": "All memories were removed."}


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


def test_format_table_aligns_columns() -> None:
    text = format_table(["SCORE", "NAME"], [["0.5", "a"], ["10.25", "bbb"]], right=[0])
    assert text.splitlines() == ["SCORE  NAME", "-----  ----", "  0.5  a", "10.25  bbb"]


def test_long_memories_are_cut_in_tables_but_not_in_json(run: Run) -> None:
    text = "word " * 40
    add_one(run, text.strip(), "-u", "alice")
    row = run("list", "-u", "alice").stdout.splitlines()[2]
    assert "..." in row and text.strip() not in row
    assert as_json(run("--json", "list", "-u", "alice"))["results"][0]["memory"] == text.strip()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "memlane" in result.stdout


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


# -- erasure, backups, evaluation ----------------------------------------------------


def test_purge_user_needs_confirmation_then_erases(run: Run, db: Path) -> None:
    add_one(run, "my secret diary entry", "-u", "alice")
    add_one(run, "bob's note", "-u", "bob")
    refused = run("purge", "-u", "alice", input="n\n")
    assert refused.exit_code == 1
    done = as_json(run("--json", "purge", "-u", "alice", "--yes"))
    assert done == {"message": "Memories purged successfully!", "purged": 1}
    memory = opened(db)
    assert memory.get_all(user_id="alice")["results"] == []
    assert len(memory.get_all(user_id="bob")["results"]) == 1
    memory.close()


def test_purge_without_target_is_a_usage_error(run: Run) -> None:
    assert run("purge", "--yes").exit_code == 2


def test_export_import_backup(run: Run, db: Path, tmp_path: Path) -> None:
    mid = add_one(run, "I like green tea", "-u", "alice")
    dump = tmp_path / "dump.jsonl"
    counts = as_json(run("--json", "export", str(dump)))
    assert counts["memory"] == 1
    other = tmp_path / "other.db"
    result = CliRunner().invoke(cli, ["--db", str(other), "--embedder", "hash", "import", str(dump)])
    assert result.exit_code == 0, result.output
    assert "1 memory" in result.output
    copy = tmp_path / "copy.db"
    assert run("backup", str(copy)).exit_code == 0
    for path in (other, copy):
        memory = opened(path)
        item = memory.get(mid)
        assert item is not None and item["memory"] == "I like green tea"
        memory.close()


def test_import_of_a_foreign_file_fails_cleanly(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "other"}\n', encoding="utf-8")
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert "not a memlane export" in result.stderr


def test_eval_locomo_writes_reports(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps(sample()), encoding="utf-8")
    out = tmp_path / "report"
    result = run("eval", "locomo", "--data", str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "R@10" in result.stdout and "single-hop" in result.stdout
    assert (out / "report.html").exists()
    assert json.loads((out / "results.json").read_text())["questions"]["overall"] == 3


def test_reprocess_retries_the_adds_whose_llm_call_failed(run: Run, db: Path, tmp_path: Path) -> None:
    from memlane import LLMError
    from memlane.llm import FakeLLM

    memory = Memory(
        {
            "vector_store": {"provider": "sqlite", "config": {"path": str(db)}},
            "embedder": {"provider": "hash"},
        },
        llm=FakeLLM([LLMError("connection refused")]),
    )
    with pytest.raises(LLMError, match="memlane reprocess --user-id alice"):
        memory.add("I like green tea", user_id="alice")
    memory.close()
    config = tmp_path / "llm.json"
    reply = {"memory": [{"event": "ADD", "id": None, "text": "Likes green tea"}]}
    config.write_text(json.dumps({"llm": {"provider": "fake", "config": {"responses": [reply]}}}))
    out = run("--config", str(config), "reprocess", "-u", "alice")
    assert out.exit_code == 0, out.output
    assert (
        "1 add(s) processed, 1 memory change(s)" in out.output and "0 message(s) still waiting" in out.output
    )
    config.write_text(json.dumps({"llm": {"provider": "fake", "config": {"responses": []}}}))
    data = as_json(run("--config", str(config), "--json", "reprocess"))
    assert data == {"results": [], "remaining": 0}


# -- issue 11: secrets, scratch stores, clean errors, id prefixes ---------------------------

SECRET = "sk-proj-SECRET0123456789"


def locomo_file(tmp_path: Path, sample_id: str = "conv-x", name: str = "locomo.json") -> Path:
    data = sample()
    data[0]["sample_id"] = sample_id
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_eval_report_hides_secrets_and_records_provenance(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    llm = {"model": "m", "api_key": SECRET, "base_url": f"http://ann:{SECRET}@localhost:9/v1"}
    config.write_text(
        json.dumps({"embedder": {"provider": "hash"}, "llm": {"provider": "openai", "config": llm}}),
        encoding="utf-8",
    )
    data = locomo_file(tmp_path)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "eval", "locomo", "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("results.json", "report.html"):
        assert SECRET not in (out / name).read_text(encoding="utf-8"), name
    assert SECRET not in result.output
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert report["settings"]["config"]["llm"]["config"]["api_key"] == "***"
    assert report["settings"]["config"]["llm"]["config"]["model"] == "m"
    assert report["memlane_version"] == __version__
    assert report["started_at"][:4].isdigit()
    assert report["data"] == {
        "path": str(data.resolve()),
        "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
    }
    page = (out / "report.html").read_text(encoding="utf-8")
    assert __version__ in page and report["data"]["sha256"] in page


def test_eval_never_touches_the_global_store(tmp_path: Path) -> None:
    users = tmp_path / "mine.db"
    with opened(users) as memory:
        kept = memory.add("my own note about conv-26", user_id="conv-26", infer=False)["results"][0]["id"]
    before = users.read_bytes()
    data = locomo_file(tmp_path, "conv-26")
    runner = CliRunner(env={"MEMLANE_DB": str(users)})
    for extra in ([], ["--db", str(users)]):  # $MEMLANE_DB, and the global --db
        args = [
            *extra,
            "--embedder",
            "hash",
            "eval",
            "locomo",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "o"),
        ]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert users.read_bytes() == before
    with opened(users) as memory:
        items = memory.get_all(user_id="conv-26")["results"]
        assert [i["id"] for i in items] == [kept] and items[0]["memory"] == "my own note about conv-26"


def test_eval_keeps_its_store_only_when_eval_is_given_one(tmp_path: Path) -> None:
    data = locomo_file(tmp_path)
    store = tmp_path / "eval-store.db"
    args = ["--embedder", "hash", "eval", "locomo", "--data", str(data), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, [*args, "--db", str(store)])
    assert result.exit_code == 0, result.output
    with opened(store) as memory:
        assert len(memory.get_all(user_id="conv-x")["results"]) == 5


@pytest.mark.parametrize("count", ["-4", "0"])
def test_eval_rejects_a_non_positive_conversation_count(run: Run, tmp_path: Path, count: str) -> None:
    data = str(locomo_file(tmp_path))
    result = run("eval", "locomo", "--data", data, "--conversations", count, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "--conversations" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", "holds no conversations"),
        (b'{"a": 1}', "expected a JSON list of LoCoMo samples"),
        (b'[{"x": 1}]', "missing 'sample_id'"),
        (b'[{"sample_id": "c", "conversation": {}, "qa": []}]', "no session_<n> lists"),
        (b"not json", "not JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_eval_on_data_that_is_not_locomo_is_one_line(
    run: Run, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(content)
    out = tmp_path / "o"
    result = run("eval", "locomo", "--data", str(path), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not out.exists()


def test_eval_on_a_missing_file_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("eval", "locomo", "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read the LoCoMo file") and result.stderr.count("\n") == 1


def test_export_to_a_missing_folder_is_one_line(run: Run, tmp_path: Path) -> None:
    add_one(run, "a fact", "-u", "alice")
    result = run("export", str(tmp_path / "nonexistent-dir" / "x.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write the export to") and result.stderr.count("\n") == 1


def test_add_file_that_is_not_utf8_is_one_line(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b'[{"role": "user", "content": "caf\xe9"}]')
    result = run("add", "--file", str(path), "-u", "alice")
    assert result.exit_code == 1
    assert "not UTF-8 text" in result.stderr and result.stderr.count("\n") == 1
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []


def test_backup_refuses_existing_files_and_the_database(run: Run, db: Path, tmp_path: Path) -> None:
    add_one(run, "I like green tea", "-u", "alice")
    other = tmp_path / "other.db"
    with opened(other) as memory:
        memory.add("another store's memory", user_id="bob", infer=False)
    before = other.read_bytes()
    refused = run("backup", str(other))
    assert refused.exit_code == 1 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert other.read_bytes() == before
    itself = run("backup", str(db))
    assert itself.exit_code == 1 and "is the database being backed up" in itself.stderr
    assert run("backup", "--force", str(db)).exit_code == 1
    assert run("backup", "--force", str(other)).exit_code == 0
    with opened(other) as memory:
        assert memory.get_all(user_id="bob")["results"] == []
        assert [r["memory"] for r in memory.get_all(user_id="alice")["results"]] == ["I like green tea"]


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


def test_llm_add_shows_progress_on_stderr_only(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps({"llm": {"provider": "fake", "config": {"responses": []}}}), encoding="utf-8"
    )
    base = ["--config", str(config), "--db", str(tmp_path / "x.db"), "--embedder", "hash", "--json"]
    result = CliRunner().invoke(cli, [*base, "add", "I like tea", "-u", "alice"])
    assert result.stderr.startswith("extracting memories with FakeLLM...\n")
    assert "extracting" not in result.stdout
    verbatim = CliRunner().invoke(cli, [*base, "add", "I like tea", "-u", "alice", "--no-infer"])
    assert verbatim.exit_code == 0 and verbatim.stderr == ""


def test_errors_never_show_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"llm": {"provider": "openai", "api_key": SECRET}}), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", str(tmp_path / "x.db"), "list", "-u", "a"]
    )
    assert result.exit_code == 1 and "api_key" in result.stderr
    assert SECRET not in result.stderr


# -- read commands never create or change a database -----------------------------------------


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
