"""``memlane mcp``: the memory tools for agents, over stdio or streamable HTTP (``memlane.mcp``)."""

from __future__ import annotations

from typing import Any

import click

from memlane import Memory, MissingDependencyError
from memlane.cli._app import CliContext, merge_config, read_config
from memlane.cli._options import pass_cli_context

__all__ = ["COMMANDS", "mcp"]


@click.command()
@click.option("--user-id", "-u", metavar="ID", help="stdio: the user whose memories the tools use.")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite database file (as the global --db).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A JSON config file (as the global --config).",
)
@click.option("--http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="--http: the address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="--http: the port to listen on.")
@click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False),
    envvar="MEMLANE_KEYS",
    help="--http: the API keys database (as `memlane serve`). Default: $MEMLANE_DIR/keys.db.",
)
@pass_cli_context
def mcp(
    context: CliContext,
    user_id: str | None,
    db: str | None,
    config_file: str | None,
    http: bool,
    host: str,
    port: int,
    keys_path: str | None,
) -> None:
    """Serve memory to MCP agents: stdio for one user, or streamable HTTP with API keys.

    \b
    stdio (an agent starts it; the user is fixed):
      memlane mcp --user-id alice [--db PATH | --config FILE]
    streamable HTTP (the user comes from the URL, the tenant from the API key):
      memlane mcp --http --port 8001   ->  http://127.0.0.1:8001/mcp/<user_id>
      with "Authorization: Bearer KEY" (a key from `memlane keys create`).

    Tools: add_memory, search_memories, get_memories, get_memory, update_memory,
    delete_memory, delete_all_memories, list_entities.
    """
    if db is not None:
        context.db = db
    if config_file is not None:
        context.config_file = config_file
    try:
        from memlane.mcp import serve_stdio
    except ImportError as exc:  # the SDK is an optional extra
        raise MissingDependencyError("mcp", "mcp") from exc
    if http:
        if user_id is not None:
            raise click.UsageError(
                "--user-id is for stdio; over HTTP the user comes from the URL /mcp/<user_id>"
            )
        from memlane.mcp.http import serve_http

        serve_http(_base_config(context), host=host, port=port, keys_path=keys_path)
        return
    if not user_id:
        raise click.UsageError("stdio needs --user-id: the user whose memories the tools use")
    with Memory.from_config(_base_config(context)) as memory:
        memory.get_all(user_id=user_id, top_k=1)  # a malformed user id fails here, before serving
        serve_stdio(memory, user_id)


def _base_config(context: CliContext) -> dict[str, Any]:
    """The config of the ``Memory`` (stdio) or the one every tenant's derives from (HTTP): the
    file's, without ``memlane serve``'s ``server`` section (one file serves both), with ``--db``
    and ``--embedder`` applied."""
    config = read_config(context.config_file) if context.config_file else {}
    config.pop("server", None)
    # public-api: context.embedder is the --embedder option (a provider name), not Memory.embedder
    return merge_config(config, db=context.db, embedder=context.embedder)


COMMANDS = [mcp]
