"""The ``memlane`` command line: thin commands over the public ``Memory`` API.

Every command builds one ``Memory`` from the global options, calls one method and prints its
result: an aligned plain-text table for people, or with ``--json`` the exact dict or list the
Python API returned. A ``MemlaneError`` becomes one ``Error: <message>`` line on stderr and
exit code 1; a malformed command line (a missing argument, JSON that does not parse) exits
with 2, click's usage-error code.

The package, one module per job (the faces that come next, a server and an MCP server, live
beside it in their own packages and call the same public API):

- ``_app``: the click group, its global options and ``CliContext`` (the lazily built ``Memory``);
- ``_options``: shared option decorators and ``emit`` (JSON or a table);
- ``_tables``: plain-text tables;
- ``memories``, ``admin``, ``chat``, ``evaluate``, ``transfer`` (migrate, reindex), ``server`` (serve,
  keys), ``mcp``: the commands, each module's listed in its ``COMMANDS``;
- ``_docs``: prints the CLI reference (``docs/cli.md``) from every command's ``--help``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from memlane.cli import admin, chat, evaluate, mcp, memories, server, transfer
from memlane.cli._app import cli

__all__ = ["cli", "main"]

for _command in (
    *memories.COMMANDS,
    *admin.COMMANDS,
    *chat.COMMANDS,
    *evaluate.COMMANDS,
    *transfer.COMMANDS,
    *server.COMMANDS,
    *mcp.COMMANDS,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``memlane`` console script."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no model-loading bars on stderr
    cli.main(args=list(argv) if argv is not None else None, prog_name="memlane")
