"""``memlane add``, ``search``, ``list``, ``get``, ``update``, ``delete``, ``delete-all``, ``history``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memlane.cli import cli
from tests.cli._support import Run, add_one, as_json, opened


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


def test_add_file_that_is_not_utf8_is_one_line(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b'[{"role": "user", "content": "caf\xe9"}]')
    result = run("add", "--file", str(path), "-u", "alice")
    assert result.exit_code == 1
    assert "not UTF-8 text" in result.stderr and result.stderr.count("\n") == 1
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []


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


# -- search and list -----------------------------------------------------------------------


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


# -- delete-all ----------------------------------------------------------------------------


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


# -- memory types, long-term reads and as_of -------------------------------------------------


def test_types_long_term_and_as_of(run: Run, db: Path) -> None:
    event = add_one(run, "Ran the Lisbon half marathon", "-u", "alice", "--type", "episodic", "--no-infer")
    add_one(run, "Likes running by the sea", "-u", "alice", "--no-infer")
    trip = add_one(run, "Hotel room 414 in Lisbon", "-u", "alice", "--run-id", "trip", "--no-infer")
    listed = as_json(run("--json", "list", "-u", "alice", "--type", "episodic"))
    assert [i["id"] for i in listed["results"]] == [event]
    both = as_json(run("--json", "list", "-u", "alice", "--type", "episodic", "--type", "semantic"))
    assert len(both["results"]) == 3
    found = as_json(run("--json", "search", "lisbon", "-u", "alice", "--run-id", "trip", "--long-term"))
    assert {event, trip} <= {i["id"] for i in found["results"]}
    assert found["results"][0]["id"] == trip  # the run's memory first
    assert as_json(run("--json", "search", "lisbon", "-u", "alice", "--as-of", "2001-01-01"))["results"] == []
    bad = run("search", "lisbon", "-u", "alice", "--long-term")
    assert bad.exit_code != 0 and "long_term" in bad.output
