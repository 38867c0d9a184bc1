"""CLI commands for erasure, export/import, backups and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

from tests.eval.test_locomo import sample
from tests.test_cli import (  # noqa: F401  (fixtures)
    Run,
    add_one,
    as_json,
    db,
    opened,
    run,
)


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
    from click.testing import CliRunner

    from memlane.cli import cli

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
