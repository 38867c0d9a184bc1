"""``memlane migrate`` and ``memlane reindex`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from memlane.cli import cli
from tests.memory._copies import fill, graph_memory


def make_source(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    with graph_memory(path) as m:
        fill(m, memories=4)
    return path


def test_migrate_prints_the_verification_and_a_progress_bar_on_stderr(tmp_path: Path) -> None:
    source, target = make_source(tmp_path), tmp_path / "copy.db"
    result = CliRunner().invoke(
        cli, ["migrate", "--from", str(source), "--to", str(target), "--batch-size", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "verified: the destination matches the source" in result.stdout
    assert "memory              4            4  ok" in result.stdout
    assert "migrating" in result.stderr


def test_migrate_json_is_the_report_and_draws_no_bar(tmp_path: Path) -> None:
    source, target = make_source(tmp_path), tmp_path / "copy.db"
    result = CliRunner().invoke(cli, ["--json", "migrate", "--from", str(source), "--to", str(target)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["verification"]["relation"]["ok"]
    assert result.stderr == ""


def test_migrate_refuses_a_destination_with_data_and_says_how_to_proceed(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    result = CliRunner().invoke(cli, ["migrate", "-q", "--from", str(source), "--to", str(source)])
    assert result.exit_code == 1
    assert "same database" in result.stderr
    other = tmp_path / "other.db"
    with graph_memory(other) as m:
        m.add("unrelated", user_id="x")
    result = CliRunner().invoke(cli, ["migrate", "-q", "--from", str(source), "--to", str(other)])
    assert result.exit_code == 1 and "already holds data" in result.stderr and "reset" in result.stderr
