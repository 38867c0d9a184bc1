"""docs/cli.md is the CLI's ``--help``, generated, and cannot drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from memlane.cli import cli
from memlane.cli._docs import REGENERATE, render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_what_the_generator_prints() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        f"docs/cli.md is out of date with the commands' --help: regenerate it with `{REGENERATE}`"
    )


def test_the_reference_has_every_command_and_its_help() -> None:
    text = render()
    runner = CliRunner()
    for path in [[], *([name] for name in cli.commands), ["eval", "locomo"]]:
        assert f"## {' '.join(['memlane', *path])}\n" in text, path
        shown = runner.invoke(cli, [*path, "--help"], terminal_width=78, prog_name="memlane")
        assert shown.exit_code == 0 and shown.stdout in text, path


def test_the_generator_runs_as_a_module(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "memlane.cli._docs"], capture_output=True, text=True, check=True, timeout=60
    )
    assert printed.stdout == render()
