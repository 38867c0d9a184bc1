"""CLI commands for erasure, backups and evaluation (registered on ``memlane.cli.cli``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from memlane.cli import cli
from memlane.cli_options import Settings, emit, json_option, pass_settings, scope_options, yes_option
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.report import provenance, table, write_reports
from memlane.memory import Memory

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
    if memory_id is not None:
        memory_id = settings.resolve_id(memory_id)
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
@click.option("--force", is_flag=True, help="Replace PATH if it exists (never the database itself).")
@pass_settings
def backup(settings: Settings, path: str, force: bool) -> None:
    """Copy the database to PATH while it stays in use (SQLite online backup).

    PATH must not exist (unless --force) and is never the database being backed up.
    """
    settings.memory().backup(path, overwrite=force)
    click.echo(f"backed up to {path}")


@cli.group("eval")
def eval_group() -> None:
    """Benchmarks you can run on your own machine."""


@eval_group.command("locomo")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False),
              help="A LoCoMo JSON file (e.g. locomo10.json).")  # fmt: skip
@click.option("--out", "out", default="locomo-report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for results.json and report.html.")  # fmt: skip
@click.option("--conversations", "limit", type=click.IntRange(min=1), help="Only the first N conversations.")
@click.option("--db", "store", type=click.Path(dir_okay=False),
              help="Keep the evaluated store in this SQLite file (its LoCoMo scopes are cleared first). "
              "Default: a fresh store in a temporary folder, removed afterwards.")  # fmt: skip
@pass_settings
def eval_locomo(settings: Settings, data: str, out: str, limit: int | None, store: str | None) -> None:
    """Evidence recall@k of search on LoCoMo (turns stored verbatim; categories 1-4).

    Runs in a fresh database in a temporary folder unless this command's own --db is given;
    the global --db and $MEMLANE_DB are never used. --config still chooses the embedder and
    search settings.
    """
    conversations = load_locomo(data)[:limit]
    with tempfile.TemporaryDirectory(prefix="memlane-eval-") as scratch:
        memory: Memory = settings.scratch_memory(store or str(Path(scratch) / "eval.db"))
        try:
            result = evaluate_locomo(memory, conversations, data_file=data)
        finally:
            memory.close()
    paths = write_reports(result, out)
    if settings.json:
        click.echo(paths["json"].read_text(encoding="utf-8"))
        return
    click.echo(provenance(result))
    click.echo(table(result))
    click.echo(f"\nwrote {paths['json']} and {paths['html']}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
