"""Global settings, option types and shared option decorators of the ``memlane`` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from memlane import InvalidInputError, Memory

__all__ = [
    "READ_COMMANDS",
    "JsonType",
    "Settings",
    "emit",
    "filters_option",
    "json_option",
    "merge_config",
    "metadata_option",
    "pass_settings",
    "read_config",
    "scope_options",
    "top_k_option",
    "yes_option",
]

F = TypeVar("F", bound=Callable[..., Any])


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
            config = read_config(self.config_file) if self.config_file else None
            merged = merge_config(config, db=self.db, embedder=self.embedder)
            if click.get_current_context().command.name in READ_COMMANDS:
                merged = _existing_store_only(merged)
            self._memory = Memory.from_config(merged)
            click.get_current_context().call_on_close(self._memory.close)
        return self._memory

    def scratch_memory(self, path: str) -> Memory:
        """A ``Memory`` with the config file's embedder, LLM and search settings but its store
        on the SQLite file ``path``: never the global ``--db``/``MEMLANE_DB`` nor the config's
        store or external graph server (for ``eval``). The caller closes it."""
        config = merge_config(
            read_config(self.config_file) if self.config_file else None, db=None, embedder=self.embedder
        )
        config["vector_store"] = {"provider": "sqlite", "config": {"path": path}}
        graph = config.get("graph_store")
        if isinstance(graph, dict) and graph.get("provider", "sqlite") != "sqlite":
            del config["graph_store"]
        return Memory.from_config(config)

    def resolve_id(self, value: str) -> str:
        """The memory id that ``value`` names: the id itself, or a unique prefix of at least
        ``MIN_ID_PREFIX`` characters (tables show the first 8). An ambiguous prefix is an
        ``InvalidInputError``; an unknown one is passed on (the command reports it not found)."""
        if len(value) < MIN_ID_PREFIX:
            return value
        found = self.memory().store.ids_with_prefix(value, limit=_SHOWN_CANDIDATES + 1)
        if not found or value in found:
            return value
        if len(found) == 1:
            return found[0]
        count = f"more than {_SHOWN_CANDIDATES}" if len(found) > _SHOWN_CANDIDATES else str(len(found))
        shown = ", ".join(found[:_SHOWN_CANDIDATES])
        raise InvalidInputError(
            f"the id prefix {value!r} matches {count} memories ({shown}); give more characters"
        )


MIN_ID_PREFIX = 4
"""The shortest id prefix the commands accept for a memory id."""
_SHOWN_CANDIDATES = 5


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


def emit(settings: Settings, result: Any, human: Callable[[], None]) -> None:
    if settings.json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        human()
