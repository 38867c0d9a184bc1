"""The commands that move a store: ``migrate`` (to another back end) and ``reindex`` (to another
embedding model)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click

import memlane
from memlane.cli._app import CliContext, read_config
from memlane.cli._options import JsonType, emit, json_option, pass_cli_context
from memlane.redact import redact

__all__ = ["COMMANDS", "migrate", "reindex"]

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


def _new_embedder(
    config: Any, provider: str | None, model: str | None, dims: int | None, base_url: str | None
) -> dict[str, Any]:
    """The new embedder's config section from --embedder-config, or from --embedder and its options."""
    if config is not None:
        if provider or model or dims or base_url:
            raise click.UsageError(
                "give --embedder-config, or --embedder with --model/--dims/--base-url, not both"
            )
        if isinstance(config, str):  # a file
            config = read_config(config)
        if not isinstance(config, dict):
            raise click.BadParameter("must be a JSON object or a JSON file", param_hint="'--embedder-config'")
        section: dict[str, Any] = config.get("embedder", config)  # a whole config file names it too
        return section
    if provider is None:
        raise click.UsageError(
            "say which embedder to move to: --embedder (local, hash, openai) or --embedder-config"
        )
    options: dict[str, Any] = {"model": model, "embedding_dims": dims, "openai_base_url": base_url}
    return {"provider": provider, "config": {k: v for k, v in options.items() if v is not None}}


class _ConfigValue(JsonType):
    """A JSON object, or the path of a JSON file."""

    name = "JSON|FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith("{"):
            return value
        return super().convert(value, param, ctx)


@click.command()
@click.option(
    "--embedder", "provider", type=click.Choice(["local", "hash", "openai"]), help="The new embedder."
)
@click.option(
    "--model", help="Its model (local: a sentence-transformers name or folder; openai: a model name)."
)
@click.option("--dims", type=click.IntRange(min=1), help="Its vector size (hash; openai's `dimensions`).")
@click.option("--base-url", help="openai: an OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp...).")
@click.option(
    "--embedder-config", type=_ConfigValue(), help="The new embedder section as JSON or a JSON file."
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=256, show_default=True, help="Memories per batch."
)
@quiet_option
@json_option
@pass_cli_context
def reindex(
    context: CliContext,
    provider: str | None,
    model: str | None,
    dims: int | None,
    base_url: str | None,
    embedder_config: Any,
    batch_size: int,
    quiet: bool,
) -> None:
    """Re-embed every memory and graph entity with a new embedding model (any vector size)
    while searches keep working on the old vectors, then switch over atomically.

    Open the store as usual (--db/--config before the command; the old model is never used,
    so a config that already names the new embedder works too) and name the new embedder after
    it. This is the fix for "the store holds N-dimensional vectors but the embedder gives M".
    Interrupted? Run it again: what was embedded is kept. Afterwards open the store with the
    new embedder; processes still on the old one get an EmbedderMismatchError until they are
    restarted with it.

    \b
    Examples:
      memlane --embedder hash reindex --embedder local
      memlane reindex --embedder openai --model text-embedding-3-small --base-url http://localhost:11434/v1
      memlane --config old.json reindex --embedder-config new-embedder.json
    """
    section = _new_embedder(embedder_config, provider, model, dims, base_url)
    memory = context.memory()
    with progress_bar(context, quiet, "re-embedding") as progress:
        report = memory.reindex(section, batch_size=batch_size, progress=progress)

    def human() -> None:
        previous = report["previous"]
        click.echo(
            f"{report['message']} ({report['dimension']} dimensions, was {previous['embedder']} with "
            f"{previous['dimension']}; {report['entities']} graph entities)"
        )
        click.echo(f"open the store with this embedder from now on: {json.dumps(redact(section))}")

    emit(context, redact(report), human)


COMMANDS: tuple[click.Command, ...] = (migrate, reindex)
"""The commands this module adds to the ``memlane`` group."""
