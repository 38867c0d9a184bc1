"""CLI commands for erasure, backups and evaluation (registered on ``memlane.cli.cli``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from memlane.cli import cli
from memlane.cli_options import Settings, emit, json_option, pass_settings, scope_options, yes_option
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.report import table, write_reports
from memlane.memory.main import Memory

__all__ = ["backup", "eval_group", "export", "import_", "purge"]


@cli.command()
@click.argument("memory_id", metavar="[ID]", required=False)
@scope_options
@yes_option
@json_option
@pass_settings
def purge(
    settings: Settings,
    memory_id: str | None,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    yes: bool,
) -> None:
    """Erase for good (GDPR): memory ID, or everything of a scope, with all versions and history."""
    target = memory_id or ", ".join(
        f"{k}={v}" for k, v in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)) if v
    )
    if not target:
        raise click.UsageError("give a memory ID or --user-id, --agent-id or --run-id")
    if not yes:
        click.confirm(f"Erase {target} for good (no history is kept)?", abort=True, err=True)
    result = settings.memory().purge(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
    emit(settings, result, lambda: click.echo(f"{result['message']} ({result['purged']} memories)"))


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@json_option
@pass_settings
def export(settings: Settings, path: str) -> None:
    """Write every record (memories, versions, history, messages) to a JSON Lines file."""
    counts = settings.memory().export(path)
    emit(settings, counts, lambda: click.echo(f"exported to {path}: {_counts(counts)}"))


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_settings
def import_(settings: Settings, path: str) -> None:
    """Load a file written by 'memlane export' (all or nothing)."""
    counts = settings.memory().import_data(path)
    emit(settings, counts, lambda: click.echo(f"imported from {path}: {_counts(counts)}"))


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@pass_settings
def backup(settings: Settings, path: str) -> None:
    """Copy the database to PATH while it stays in use (SQLite online backup)."""
    settings.memory().backup(path)
    click.echo(f"backed up to {path}")


@cli.group("eval")
def eval_group() -> None:
    """Benchmarks you can run on your own machine."""


@eval_group.command("locomo")
@click.option("--data", "data", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A LoCoMo JSON file (e.g. locomo10.json).")  # fmt: skip
@click.option("--out", "out", default="locomo-report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for results.json and report.html.")  # fmt: skip
@click.option("--conversations", "limit", type=int, help="Only the first N conversations.")
@pass_settings
def eval_locomo(settings: Settings, data: str, out: str, limit: int | None) -> None:
    """Evidence recall@k of search on LoCoMo (turns stored verbatim; categories 1-4).

    Uses a fresh database in a temporary folder unless --db is given.
    """
    conversations = load_locomo(data)[: limit or None]
    with tempfile.TemporaryDirectory(prefix="memlane-eval-") as scratch:
        if settings.db is None:
            settings.db = str(Path(scratch) / "eval.db")
        memory: Memory = settings.memory()
        result = evaluate_locomo(memory, conversations)
        memory.close()
    paths = write_reports(result, out)
    if settings.json:
        click.echo(paths["json"].read_text(encoding="utf-8"))
        return
    click.echo(table(result))
    click.echo(f"\nwrote {paths['json']} and {paths['html']}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
