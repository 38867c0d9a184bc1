"""The commands over the whole store: reprocess, reset, purge (erasure), prune and promote
(short-term memory), export, import, backup."""

from __future__ import annotations

import click

from memlane.cli._app import CliContext
from memlane.cli._options import emit, json_option, pass_cli_context, scope_options, yes_option

__all__ = ["COMMANDS", "backup", "export", "import_", "promote", "prune", "purge", "reprocess", "reset"]


@click.command()
@scope_options
@json_option
@pass_cli_context
def reprocess(context: CliContext, user_id: str | None, agent_id: str | None, run_id: str | None) -> None:
    """Retry the adds whose LLM call failed (their messages were kept), for a scope or all."""
    result = context.memory().reprocess(user_id=user_id, agent_id=agent_id, run_id=run_id)

    def human() -> None:
        changed = sum(len(batch["results"]) for batch in result["results"])
        click.echo(f"{len(result['results'])} add(s) processed, {changed} memory change(s)")
        if "error" in result:
            click.echo(f"stopped: {result['error']}", err=True)
        click.echo(f"{result['remaining']} message(s) still waiting")

    emit(context, result, human)
    if "error" in result:
        raise click.exceptions.Exit(1)


@click.command()
@yes_option
@json_option
@pass_cli_context
def reset(context: CliContext, yes: bool) -> None:
    """Remove every memory, version, history row and message of every scope."""
    if not yes:
        click.confirm("Remove ALL memories of every user, agent and run?", abort=True, err=True)
    context.memory().reset()
    result = {"message": "All memories were removed."}
    emit(context, result, lambda: click.echo(result["message"]))


@click.command()
@click.argument("memory_id", metavar="[ID]", required=False)
@scope_options
@yes_option
@json_option
@pass_cli_context
def purge(
    context: CliContext,
    memory_id: str | None,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    yes: bool,
) -> None:
    """Erase for good (GDPR): memory ID, or everything of a scope, with all versions and history."""
    if memory_id is not None:
        memory_id = context.resolve_id(memory_id)
    target = memory_id or ", ".join(
        f"{k}={v}" for k, v in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)) if v
    )
    if not target:
        raise click.UsageError("give a memory ID or --user-id, --agent-id or --run-id")
    if not yes:
        click.confirm(f"Erase {target} for good (no history is kept)?", abort=True, err=True)
    result = context.memory().purge(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
    emit(context, result, lambda: click.echo(f"{result['message']} ({result['purged']} memories)"))


@click.command()
@scope_options
@click.option("--dry-run", is_flag=True, help="Only count the expired memories; delete nothing.")
@json_option
@pass_cli_context
def prune(
    context: CliContext, user_id: str | None, agent_id: str | None, run_id: str | None, dry_run: bool
) -> None:
    """Delete the expired memories (past their expiration date, or a run's older than short_term.ttl).

    They go as with 'delete': their history keeps a DELETE row ('purge' erases for good).
    """
    result = context.memory().prune(user_id=user_id, agent_id=agent_id, run_id=run_id, dry_run=dry_run)
    emit(context, result, lambda: click.echo(result["message"]))


@click.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_cli_context
def promote(context: CliContext, memory_id: str) -> None:
    """Make a run's memory ID long-term: its run id and expiration date go."""
    result = context.memory().promote(context.resolve_id(memory_id))
    emit(context, result, lambda: click.echo(result["message"]))


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@json_option
@pass_cli_context
def export(context: CliContext, path: str) -> None:
    """Write every record (memories, versions, history, messages) to a JSON Lines file."""
    counts = context.memory().export(path)
    emit(context, counts, lambda: click.echo(f"exported to {path}: {_counts(counts)}"))


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_cli_context
def import_(context: CliContext, path: str) -> None:
    """Load a file written by 'memlane export' (all or nothing)."""
    counts = context.memory().import_data(path)
    emit(context, counts, lambda: click.echo(f"imported from {path}: {_counts(counts)}"))


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Replace PATH if it exists (never the database itself).")
@pass_cli_context
def backup(context: CliContext, path: str, force: bool) -> None:
    """Copy the database to PATH while it stays in use (SQLite online backup).

    PATH must not exist (unless --force) and is never the database being backed up.
    """
    context.memory().backup(path, overwrite=force)
    click.echo(f"backed up to {path}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


COMMANDS: tuple[click.Command, ...] = (reprocess, reset, purge, prune, promote, export, import_, backup)
"""The commands this module adds to the ``memlane`` group."""
