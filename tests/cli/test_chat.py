"""memlane chat: --once, the loop over stdin, --json, --show-context, --remember, no LLM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli._support import Run, add_one


def llm_config(tmp_path: Path, *replies: Any) -> str:
    path = tmp_path / "llm.json"
    path.write_text(json.dumps({"llm": {"provider": "fake", "config": {"responses": list(replies)}}}))
    return str(path)


def test_once_prints_the_answer_and_its_citations(run: Run, tmp_path: Path) -> None:
    add_one(run, "My dog is called Rex", "-u", "alice")
    config = llm_config(tmp_path, {"answer": "Your dog is Rex.", "citations": ["m1", "m5"]})
    result = run("--config", config, "chat", "-u", "alice", "--once", "what is my dog called?")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Your dog is Rex."
    assert lines[1].startswith("  [m1] My dog is called Rex (")
    assert len(lines) == 2  # m5 was invented: dropped


def test_the_loop_answers_each_line_until_exit(run: Run, tmp_path: Path) -> None:
    add_one(run, "My dog is called Rex", "-u", "alice")
    replies = [{"answer": "Rex.", "citations": ["m1"]}, {"answer": "I do not know.", "citations": []}]
    config = llm_config(tmp_path, *replies)
    result = run(
        "--config", config, "--json", "chat", "-u", "alice", input="dog?\n\ncat?\nexit\nnever asked\n"
    )
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["answer"] for a in answers] == ["Rex.", "I do not know."]
    assert answers[0]["citations"][0]["text"] == "My dog is called Rex"
    assert answers[0]["context"]["tokens"] <= 1000 and answers[0]["usage"]["calls"] == 1


def test_a_failed_llm_call_is_reported_and_the_loop_goes_on(run: Run, tmp_path: Path) -> None:
    add_one(run, "My dog is called Rex", "-u", "alice")
    config = llm_config(tmp_path, "garbage", "garbage", "garbage", {"answer": "Rex.", "citations": []})
    result = run("--config", config, "chat", "-u", "alice", input="dog?\ndog again?\n")
    assert result.exit_code == 0
    assert result.stderr.startswith("Error: ") and result.stdout.strip() == "Rex."


def test_show_context_and_max_tokens(run: Run, tmp_path: Path) -> None:
    add_one(run, "My dog is called Rex", "-u", "alice")
    config = llm_config(tmp_path, {"answer": "Rex.", "citations": []})
    result = run(
        "--config", config, "chat", "-u", "alice", "--once", "dog?", "--show-context", "--max-tokens", "30"
    )
    assert result.exit_code == 0, result.output
    assert "[m1] My dog is called Rex" in result.stdout and result.stdout.rstrip().endswith("Rex.")


def test_remember_stores_the_exchange(run: Run, tmp_path: Path) -> None:
    extracted = {"memory": [{"event": "ADD", "id": None, "text": "Has a dog named Rex"}]}
    config = llm_config(tmp_path, {"answer": "Rex.", "citations": []}, extracted)
    result = run("--config", config, "chat", "-u", "alice", "--once", "my dog is Rex", "--remember")
    assert result.exit_code == 0, result.output
    listed = json.loads(run("--json", "list", "-u", "alice").stdout)["results"]
    assert [m["memory"] for m in listed] == ["Has a dog named Rex"]


def test_without_an_llm_it_says_how_to_configure_one(run: Run) -> None:
    result = run("chat", "-u", "alice", "--once", "hello")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: chat needs an LLM: give a config file with an llm section")
