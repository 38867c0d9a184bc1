"""The ``memlane`` command line: thin commands over the public ``Memory`` API.

Every command builds one ``Memory`` from the global options, calls one method and prints its
result: an aligned plain-text table for people, or with ``--json`` the exact dict or list the
Python API returned. A ``MemlaneError`` becomes one ``Error: <message>`` line on stderr and
exit code 1; a malformed command line (a missing argument, JSON that does not parse) exits
with 2, click's usage-error code.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import click

from memlane import MemlaneError, Memory, NotFoundError, __version__
from memlane.cli_tables import (
    CREATED_COLUMN,
    ID_COLUMN,
    MEMORY_COLUMN,
    MEMORY_WIDTH,
    Column,
    cut,
    field,
    format_table,
    print_table,
    scope_columns,
    score,
    when,
)

__all__ = ["cli", "format_table", "main", "merge_config"]

F = TypeVar("F", bound=Callable[..., Any])

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


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
class Settings:
    """The global options; builds the ``Memory`` on first use and closes it at exit."""

    db: str | None
    config_file: str | None
    embedder: str | None
    json: bool
    _memory: Memory | None = None

    def memory(self) -> Memory:
        if self._memory is None:
            config = _read_config(self.config_file) if self.config_file else None
            self._memory = Memory.from_config(merge_config(config, db=self.db, embedder=self.embedder))
            click.get_current_context().call_on_close(self._memory.close)
        return self._memory


def _read_config(path: str) -> dict[str, Any]:
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


pass_settings = click.make_pass_decorator(Settings)


# -- option types and shared decorators ----------------------------------------------------


class JsonType(click.ParamType[Any]):
    """A JSON value given on the command line."""

    name = "JSON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON ({exc.msg} at column {exc.colno}): {value!r}", param, ctx)


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    settings = ctx.find_object(Settings)
    if value and settings is not None:
        settings.json = True


scope_options = _compose(
    click.option("--user-id", "-u", metavar="ID", help="The user the memories belong to."),
    click.option("--agent-id", metavar="ID", help="The agent the memories belong to."),
    click.option("--run-id", metavar="ID", help="The run (session) the memories belong to."),
)
top_k_option = click.option("--top-k", "-k", type=int, help="How many memories to return at most.")
filters_option = click.option(
    "--filters",
    type=JsonType(),
    help='A mem0 filter as JSON, e.g. \'{"category": "food"}\' or \'{"created_at": {"gte": "2025-01-01"}}\'.',
)
metadata_option = click.option(
    "--metadata", type=JsonType(), help='Metadata as a JSON object, e.g. \'{"category": "food"}\'.'
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
json_option = click.option(
    "--json",
    is_flag=True,
    expose_value=False,
    callback=_set_json,
    help="Print the API's result as JSON (same as the global --json).",
)


def _emit(settings: Settings, result: Any, human: Callable[[], None]) -> None:
    if settings.json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        human()


# -- commands ------------------------------------------------------------------------------


class _Group(click.Group):
    """Turns library errors into one clean ``Error: ...`` line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MemlaneError as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
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
    ctx.obj = Settings(db=db, config_file=config_file, embedder=embedder, json=as_json)


@cli.command()
@click.argument("text", required=False)
@click.option(
    "--file",
    "-f",
    "messages_file",
    type=click.File("r", encoding="utf-8"),
    help="A JSON file of messages: a list of {role, content, name?} objects, or one object. '-' reads stdin.",
)
@scope_options
@metadata_option
@click.option("--timestamp", help="When the messages were said: ISO-8601 or Unix seconds (default: now).")
@click.option(
    "--infer/--no-infer",
    default=None,
    help="Extract facts with the LLM, or store each message verbatim. "
    "Default: infer if an LLM is configured.",
)
@json_option
@pass_settings
def add(
    settings: Settings,
    text: str | None,
    messages_file: IO[str] | None,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    metadata: Any,
    timestamp: str | None,
    infer: bool | None,
) -> None:
    """Remember TEXT (a user message; '-' reads it from stdin) or the messages of --file."""
    if (text is None) == (messages_file is None):
        raise click.UsageError("give either TEXT or --file (not both)")
    if messages_file is not None:
        try:
            messages: Any = json.load(messages_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="'--file'") from None
    else:
        messages = sys.stdin.read() if text == "-" else text
    stamp: Any = float(timestamp) if timestamp and _NUMBER.match(timestamp) else timestamp
    result = settings.memory().add(
        messages,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        metadata=metadata,
        timestamp=stamp,
        infer=infer,
    )

    def human() -> None:
        items = result["results"]
        click.echo(f"{len(items)} memor{'y' if len(items) == 1 else 'ies'} changed")
        if items:
            print_table(items, [("EVENT", field("event")), ID_COLUMN, ("ROLE", field("role")), MEMORY_COLUMN])

    _emit(settings, result, human)


@cli.command()
@click.argument("query")
@scope_options
@top_k_option
@click.option(
    "--threshold", type=float, help="Only results scoring at least this (0 to 1, higher is closer)."
)
@filters_option
@click.option("--explain", is_flag=True, help="Show how each score was made (semantic and keyword parts).")
@json_option
@pass_settings
def search(
    settings: Settings,
    query: str,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    top_k: int | None,
    threshold: float | None,
    filters: Any,
    explain: bool,
) -> None:
    """Find the memories that best match QUERY, best first."""
    result = settings.memory().search(
        query,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        top_k=top_k,
        filters=filters,
        threshold=threshold,
        explain=explain,
    )

    def human() -> None:
        items = result["results"]
        columns: list[Column] = [("SCORE", lambda r: score(r.get("score")))]
        if explain:
            columns.append(("SEMANTIC", lambda r: score(r.get("score_details", {}).get("semantic_score"))))
            columns.append(("KEYWORD", lambda r: score(r.get("score_details", {}).get("keyword_score"))))
        right = list(range(len(columns)))
        columns += [ID_COLUMN, MEMORY_COLUMN, *scope_columns(items), CREATED_COLUMN]
        print_table(items, columns, right=right)

    _emit(settings, result, human)


@cli.command("list")
@scope_options
@top_k_option
@filters_option
@json_option
@pass_settings
def list_(
    settings: Settings,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    top_k: int | None,
    filters: Any,
) -> None:
    """List the memories of a scope, newest first (get_all)."""
    result = settings.memory().get_all(
        user_id=user_id, agent_id=agent_id, run_id=run_id, top_k=top_k, filters=filters
    )

    def human() -> None:
        items = result["results"]
        print_table(items, [ID_COLUMN, MEMORY_COLUMN, *scope_columns(items), CREATED_COLUMN])

    _emit(settings, result, human)


@cli.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_settings
def get(settings: Settings, memory_id: str) -> None:
    """Show one memory in full."""
    item = settings.memory().get(memory_id)
    if item is None:
        raise NotFoundError(memory_id)

    def human() -> None:
        shown = {k: v for k, v in item.items() if v is not None}
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
            click.echo(f"{key + ':':<{width + 1}}  {text}")

    _emit(settings, item, human)


@cli.command()
@click.argument("memory_id", metavar="ID")
@click.argument("text", required=False)
@metadata_option
@json_option
@pass_settings
def update(settings: Settings, memory_id: str, text: str | None, metadata: Any) -> None:
    """Give memory ID a new TEXT (the old text stays in its history) and/or new --metadata."""
    result = settings.memory().update(memory_id, text=text, metadata=metadata)
    _emit(settings, result, lambda: click.echo(result["message"]))


@cli.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_settings
def delete(settings: Settings, memory_id: str) -> None:
    """Delete memory ID (its history keeps a DELETE row)."""
    result = settings.memory().delete(memory_id)
    _emit(settings, result, lambda: click.echo(result["message"]))


@cli.command("delete-all")
@scope_options
@yes_option
@json_option
@pass_settings
def delete_all(
    settings: Settings, user_id: str | None, agent_id: str | None, run_id: str | None, yes: bool
) -> None:
    """Delete every memory of a scope (give --user-id, --agent-id and/or --run-id)."""
    scope = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    given = ", ".join(f"{k}={v}" for k, v in scope.items() if v is not None)
    if not given:
        raise click.UsageError("give --user-id, --agent-id or --run-id ('memlane reset' removes everything)")
    if not yes:
        click.confirm(f"Delete every memory of {given}?", abort=True, err=True)
    result = settings.memory().delete_all(user_id=user_id, agent_id=agent_id, run_id=run_id)
    _emit(settings, result, lambda: click.echo(result["message"]))


@cli.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_settings
def history(settings: Settings, memory_id: str) -> None:
    """Show every ADD / UPDATE / DELETE of memory ID, oldest first."""
    events = settings.memory().history(memory_id)

    def human() -> None:
        columns: list[Column] = [
            ("WHEN", lambda r: when(r.get("updated_at") or r.get("created_at"))),
            ("EVENT", field("event")),
            ("OLD MEMORY", lambda r: cut(r.get("old_memory"), MEMORY_WIDTH // 2 + 10)),
            ("NEW MEMORY", lambda r: cut(r.get("new_memory"), MEMORY_WIDTH // 2 + 10)),
        ]
        click.echo(f"History of {memory_id}")
        print_table(events, columns)

    _emit(settings, events, human)


@cli.command()
@yes_option
@json_option
@pass_settings
def reset(settings: Settings, yes: bool) -> None:
    """Remove every memory, version, history row and message of every scope."""
    if not yes:
        click.confirm("Remove ALL memories of every user, agent and run?", abort=True, err=True)
    settings.memory().reset()
    _emit(settings, None, lambda: click.echo("All memories were removed."))


def main(argv: Sequence[str] | None = None) -> None:
    """The ``memlane`` console script."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no model-loading bars on stderr
    cli.main(args=list(argv) if argv is not None else None, prog_name="memlane")


from memlane import cli_admin  # noqa: E402, F401  (registers purge, export, import, backup, eval)

if __name__ == "__main__":
    main()
