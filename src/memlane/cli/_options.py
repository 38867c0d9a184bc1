"""Option types and shared option decorators of the ``memlane`` commands, and ``emit``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from memlane.cli._app import CliContext

__all__ = [
    "JsonType",
    "emit",
    "filters_option",
    "json_option",
    "metadata_option",
    "pass_cli_context",
    "scope_options",
    "top_k_option",
    "yes_option",
]

F = TypeVar("F", bound=Callable[..., Any])

pass_cli_context = click.make_pass_decorator(CliContext)
"""Passes the invocation's ``CliContext`` (built by the group) as a command's first argument."""


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
    context = ctx.find_object(CliContext)
    if value and context is not None:
        context.json = True


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


def emit(context: CliContext, result: Any, human: Callable[[], None]) -> None:
    """Print ``result`` as JSON (``--json``) or call ``human`` to print it for people."""
    if context.json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        human()
