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


def configs(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    for path, dims in ((old, 64), (new, 32)):
        path.write_text(json.dumps({"embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
                                    "enable_graph": True}))  # fmt: skip
    return old, new


def test_reindex_moves_the_store_to_a_new_embedder(tmp_path: Path) -> None:
    path = make_source(tmp_path)
    old, new = configs(tmp_path)
    runner = CliRunner()
    args = ["--db", str(path), "--config", str(old), "reindex", "--embedder", "hash", "--dims", "32"]
    result = runner.invoke(cli, [*args, "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert (
        "Reindexed 3 memories with hash:32. (32 dimensions, was hash:64 with 64; 4 graph entities)"
        in result.stdout
    )
    assert '{"provider": "hash", "config": {"embedding_dims": 32}}' in result.stdout
    assert "re-embedding" in result.stderr
    stale = runner.invoke(cli, ["--db", str(path), "--config", str(old), "search", "fact", "-u", "alice"])
    assert stale.exit_code == 1 and "32" in stale.stderr
    fresh = runner.invoke(
        cli, ["--json", "--db", str(path), "--config", str(new), "search", "fact", "-u", "alice"]
    )
    assert fresh.exit_code == 0 and json.loads(fresh.stdout)["results"]
    back = runner.invoke(
        cli, ["--json", "--db", str(path), "--config", str(new), "reindex", "--embedder-config", str(old)]
    )
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout)["dimension"] == 64 and back.stderr == ""


def test_reindex_needs_one_way_to_name_the_new_embedder(tmp_path: Path) -> None:
    path = make_source(tmp_path)
    old, _ = configs(tmp_path)
    base = ["--db", str(path), "--config", str(old), "reindex"]
    missing = CliRunner().invoke(cli, base)
    assert missing.exit_code == 2 and "say which embedder" in missing.stderr
    both = CliRunner().invoke(cli, [*base, "--embedder", "hash", "--embedder-config", '{"provider": "hash"}'])
    assert both.exit_code == 2 and "not both" in both.stderr
