"""``memlane reset``, ``reprocess``, ``purge``, ``prune``, ``promote``, ``export``, ``import`` and
``backup``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memlane import Memory
from memlane.cli import cli
from tests.cli._support import Run, add_one, as_json, opened

# -- reset and reprocess -------------------------------------------------------------------


def test_reset(run: Run, seeded: dict[str, str]) -> None:
    declined = run("reset", input="n\n")
    assert declined.exit_code == 1
    assert len(as_json(run("--json", "list", "-u", "bob"))["results"]) == 1
    result = run("reset", "--yes")
    assert result.exit_code == 0 and result.stdout == "All memories were removed.\n"
    assert as_json(run("--json", "list", "-u", "alice"))["results"] == []
    assert json.loads(run("--json", "reset", "-y").stdout) == {"message": "All memories were removed."}


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


# -- purge ---------------------------------------------------------------------------------


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


# -- export, import, backup ----------------------------------------------------------------


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


def test_export_to_a_missing_folder_is_one_line(run: Run, tmp_path: Path) -> None:
    add_one(run, "a fact", "-u", "alice")
    result = run("export", str(tmp_path / "nonexistent-dir" / "x.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write the export to") and result.stderr.count("\n") == 1


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


# -- prune and promote ---------------------------------------------------------------------


def test_prune_dry_run_then_prune(run: Run, db: Path) -> None:
    memory = opened(db)
    gone = memory.add("Sale ends", user_id="alice", infer=False, expiration_date="2000-01-01")
    memory.add("Lives in Bangalore", user_id="alice", infer=False)
    memory.close()
    dry = as_json(run("--json", "prune", "--dry-run"))
    assert dry["pruned"] == 1 and dry["dry_run"] is True
    assert run("prune", "-u", "bob").stdout == "0 expired memory(ies) pruned\n"
    done = run("prune", "-u", "alice")
    assert done.exit_code == 0 and done.stdout == "1 expired memory(ies) pruned\n"
    memory = opened(db)
    assert memory.get(gone["results"][0]["id"]) is None
    assert len(memory.get_all(user_id="alice")["results"]) == 1
    memory.close()


def test_promote_by_id_or_prefix(run: Run, db: Path) -> None:
    memory_id = add_one(run, "Gate B12", "-u", "alice", "--run-id", "trip")
    out = as_json(run("--json", "promote", memory_id[:8]))
    assert out == {"message": "Memory promoted to long-term!", "id": memory_id, "promoted": True}
    assert run("promote", memory_id).stdout == "Memory is already long-term\n"
    memory = opened(db)
    item = memory.get(memory_id)
    assert item is not None and "run_id" not in item
    memory.close()
