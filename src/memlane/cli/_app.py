"""The ``memlane`` click group, its global options and the per-invocation ``CliContext``.

Command modules import the group's pieces from here (never from ``memlane.cli``), so the
package has no import cycle: ``_app`` <- ``_options`` <- command modules <- ``__init__``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from memlane import MemlaneError, Memory, __version__
from memlane.redact import redact_text

__all__ = [
    "READ_COMMANDS",
    "CliContext",
    "cli",
    "merge_config",
    "read_config",
]


# -- configuration -----------------------------------------------------------------------


def merge_config(config: dict[str, Any] | None, *, db: str | None, embedder: str | None) -> dict[str, Any]:
    """The config dict for ``Memory.from_config``: the file's, with ``--db`` and ``--embedder`` applied.

    ``--db`` sets the SQLite store's path (keeping the file's other store settings);
    ``--embedder`` replaces the embedder section. Without them the file (or the library
    default: ``~/.memlane/memlane.db`` and the local model) decides.
    """
    out = dict(config or {})
    if db is not None:
        section = out.get("vector_store") or {}
        if not isinstance(section, dict):
            raise click.UsageError("the config's vector_store must be a dict")
        provider = section.get("provider", "sqlite")
        if provider != "sqlite":
            raise click.UsageError(f"--db applies to the sqlite store, but the config chooses {provider!r}")
        store_config = dict(section.get("config") or {})
        store_config["path"] = db
        out["vector_store"] = {**section, "provider": "sqlite", "config": store_config}
    if embedder is not None:
        out["embedder"] = {"provider": embedder}
    return out


@dataclass
class CliContext:
    """The global options of one invocation; builds the ``Memory`` on first use and closes it at exit."""

    db: str | None
    config_file: str | None
    embedder: str | None
    json: bool
    _memory: Memory | None = None

    def memory(self) -> Memory:
        if self._memory is None:
            config = read_config(self.config_file) if self.config_file else None
            merged = merge_config(config, db=self.db, embedder=self.embedder)
            if click.get_current_context().command.name in READ_COMMANDS:
                merged = _existing_store_only(merged)
            self._memory = Memory.from_config(merged)
            click.get_current_context().call_on_close(self._memory.close)
        return self._memory

    def scratch_memory(
        self, path: str, search: dict[str, Any] | None = None, store_url: str | None = None
    ) -> Memory:
        """A ``Memory`` with the config file's embedder, LLM and search settings (``search``
        overrides some) but its store on the SQLite file ``path`` (or, with ``store_url``, in that
        PostgreSQL database as the tenant "eval"): never the global ``--db``/``MEMLANE_DB`` nor
        the config's store or external graph server (for ``eval``). The caller closes it."""
        config = merge_config(
            read_config(self.config_file) if self.config_file else None, db=None, embedder=self.embedder
        )
        config["vector_store"] = (
            {"provider": "postgres", "config": {"url": store_url, "tenant": "eval"}}
            if store_url
            else {"provider": "sqlite", "config": {"path": path}}
        )
        if search:
            config["search"] = {**(config.get("search") or {}), **search}
        graph = config.get("graph_store")
        if isinstance(graph, dict) and graph.get("provider", "sqlite") != "sqlite":
            del config["graph_store"]
        return Memory.from_config(config)

    def resolve_id(self, value: str) -> str:
        """The memory id that ``value`` names: the id itself or a unique prefix (``Memory.resolve_id``)."""
        return self.memory().resolve_id(value)


READ_COMMANDS = frozenset({"search", "list", "get", "history", "export", "backup"})
"""Commands that only read: they open an existing memlane database and never create one."""


def _existing_store_only(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the SQLite store set to refuse a missing file (``create: false``)."""
    section = config.get("vector_store") or {}
    if not isinstance(section, dict) or section.get("provider", "sqlite") != "sqlite":
        return config
    store_config = {**(section.get("config") or {}), "create": False}
    return {**config, "vector_store": {**section, "provider": "sqlite", "config": store_config}}


def read_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{path} is not valid JSON: {exc}", param_hint="'--config'") from None
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="'--config'") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a JSON object", param_hint="'--config'")
    return data


# -- the group -----------------------------------------------------------------------------


class _Group(click.Group):
    """Turns library errors into one clean ``Error: ...`` line (secrets masked) and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MemlaneError as exc:
            lines = [line.strip() for line in redact_text(str(exc)).splitlines() if line.strip()]
            raise click.ClickException("; ".join(lines) or type(exc).__name__) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    envvar="MEMLANE_DB",
    show_envvar=True,
    help="SQLite database file. Default: the config's, else $MEMLANE_DIR/memlane.db (~/.memlane/memlane.db).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A JSON config file for Memory.from_config (memlane's or mem0's shape); --db overrides its path.",
)
@click.option(
    "--embedder",
    type=click.Choice(["local", "hash"]),
    help="local: all-MiniLM-L6-v2 on this machine (default, unless the config says otherwise); "
    "hash: a deterministic test embedder with no model.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print each result as JSON, exactly as the API returns it."
)
@click.version_option(__version__, prog_name="memlane")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, config_file: str | None, embedder: str | None, as_json: bool
) -> None:
    """memlane: long-term memory for LLM agents, from the command line.

    Memories live in one SQLite file and are searched with a local embedding model:
    no server, no key, no network.

    \b
    Examples:
      memlane add "I moved to Bangalore last month" -u alice
      memlane search "where does alice live?" -u alice
      memlane --json list -u alice
    """
    ctx.obj = CliContext(db=db, config_file=config_file, embedder=embedder, json=as_json)
