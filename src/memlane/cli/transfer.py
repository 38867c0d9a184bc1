"""The commands that move a store: ``migrate`` (to another back end) and ``reindex`` (to another
embedding model)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click

import memlane
from memlane.cli._app import CliContext
from memlane.cli._options import emit, json_option, pass_cli_context

__all__ = ["COMMANDS", "migrate"]

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")


@contextmanager
def progress_bar(context: CliContext, quiet: bool, label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a bar on stderr (none with --quiet/--json)."""
    with ExitStack() as stack:
        bars: list[Any] = []
        shown = [0]

        def update(done: int, total: int) -> None:
            if quiet or context.json:
                return
            if not bars:  # the total is known once the source is counted
                bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
                bars.append(stack.enter_context(bar))
            bars[0].update(done - shown[0])
            shown[0] = done

        yield update


@click.command()
@click.option(
    "--from",
    "source",
    required=True,
    metavar="SRC",
    help="A SQLite file, a postgresql:// URL or a config file.",
)
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="DST",
    help="A SQLite file (created if missing), a postgresql:// URL or a config file.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Records per transaction.",
)
@quiet_option
@json_option
@pass_cli_context
def migrate(context: CliContext, source: str, destination: str, batch_size: int, quiet: bool) -> None:
    """Copy everything from SRC to DST: memories with versions, history, messages, profile,
    pending adds, vectors and the graph; then verify counts and checksums per kind.

    \b
    Interrupted (Ctrl-C, a crash)? Run the same command again: it continues where it stopped.
    DST must be empty or an unfinished migration from SRC. Exit code 1 if the copy differs.

    \b
    Examples:
      memlane migrate --from ~/.memlane/memlane.db --to postgresql://me@db/memlane
      memlane migrate --from postgresql://me@db/memlane --to copy.db
    """
    with progress_bar(context, quiet, "migrating") as progress:
        report = memlane.migrate(source, destination, batch_size=batch_size, progress=progress)

    def human() -> None:
        verb = "resumed and copied" if report["resumed"] else "copied"
        click.echo(f"{verb} {report['source']} -> {report['destination']}")
        click.echo(f"{'kind':<10} {'source':>10} {'destination':>12}  checksum")
        for kind, item in report["verification"].items():
            a, b = item["source"], item["destination"]
            mark = "ok" if item["ok"] else f"MISMATCH ({a['checksum']} != {b['checksum']})"
            click.echo(f"{kind:<10} {a['count']:>10} {b['count']:>12}  {mark}")
        click.echo("verified: the destination matches the source" if report["ok"] else "verification FAILED")

    emit(context, report, human)
    if not report["ok"]:
        raise click.exceptions.Exit(1)


COMMANDS: tuple[click.Command, ...] = (migrate,)
"""The commands this module adds to the ``memlane`` group."""
