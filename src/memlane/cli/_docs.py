"""The CLI reference, ``docs/cli.md``, printed from every command's ``--help``.

Regenerate it with ``python -m memlane.cli._docs > docs/cli.md``; ``tests/cli/test_docs.py``
fails when the file differs from what this prints. The help is rendered as an 80-column
terminal shows it, whatever the terminal, so the output depends only on the code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from memlane.cli._app import cli  # complete: memlane.cli (which registers the commands) loads first

__all__ = ["REGENERATE", "render"]

REGENERATE = "python -m memlane.cli._docs > docs/cli.md"
"""The command that rewrites ``docs/cli.md``."""

_WIDTH = 78
"""What ``--help`` prints on an 80-column terminal (click keeps two columns free)."""


def render() -> str:
    """The whole reference as Markdown: the group's help, then each command's, in help order."""
    parts = [
        "# CLI reference\n",
        f"<!-- Generated from each command's --help by `{REGENERATE}`; do not edit by hand. -->\n",
        "Every command and option of the `memlane` console script (`python -m memlane.cli` works too).",
        "Global options (`--db`, `--config`, `--embedder`, `--json`) go before the command name.\n",
    ]
    root = click.Context(cli, info_name="memlane", terminal_width=_WIDTH, **cli.context_settings)
    for ctx in _contexts(root):
        parts.append(f"## {ctx.command_path}\n")
        parts.append(f"```text\n{ctx.command.get_help(ctx)}\n```\n")
    return "\n".join(parts)


def _contexts(ctx: click.Context) -> Iterator[click.Context]:
    """``ctx`` and, for a group, the context of each of its commands (recursively)."""
    yield ctx
    command = ctx.command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _contexts(click.Context(sub, info_name=name, parent=ctx, **sub.context_settings))


if __name__ == "__main__":
    sys.stdout.write(render())
