"""The commands over one scope's memories: add, search, list, get, update, delete, delete-all, history.

Each command calls one ``Memory`` method and prints its result: an aligned plain-text table for
people, or with ``--json`` the exact dict or list the Python API returned.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from memlane import InvalidInputError, NotFoundError
from memlane.cli._app import CliContext
from memlane.cli._options import (
    emit,
    filters_option,
    json_option,
    metadata_option,
    pass_cli_context,
    scope_options,
    top_k_option,
    yes_option,
)
from memlane.cli._tables import (
    CREATED_COLUMN,
    ID_COLUMN,
    MEMORY_COLUMN,
    MEMORY_WIDTH,
    Column,
    cut,
    field,
    print_table,
    scope_columns,
    score,
    when,
)

__all__ = ["COMMANDS", "add", "delete", "delete_all", "get", "history", "list_", "search", "update"]


_TYPES = click.Choice(["semantic", "episodic", "procedural"])
type_option = click.option(
    "--type", "memory_types", type=_TYPES, multiple=True, help="Only memories of this type (repeatable)."
)
long_term_option = click.option(
    "--long-term",
    is_flag=True,
    help="With --run-id and --user-id/--agent-id: the run plus the owner's long-term memories.",
)


def _types(memory_types: tuple[str, ...]) -> list[str] | None:
    return list(memory_types) or None


@click.command()
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
@click.option(
    "--timestamp",
    help="When the messages were said: ISO-8601 or Unix seconds, years 1900-9999 (default: now).",
)
@click.option(
    "--type",
    "memory_type",
    type=_TYPES,
    help="Type every memory written (default: the LLM's, else semantic).",
)
@click.option(
    "--infer/--no-infer",
    default=None,
    help="Extract facts with the LLM, or store each message verbatim. "
    "Default: infer if an LLM is configured.",
)
@json_option
@pass_cli_context
def add(
    context: CliContext,
    text: str | None,
    messages_file: IO[str] | None,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    metadata: Any,
    timestamp: str | None,
    memory_type: str | None,
    infer: bool | None,
) -> None:
    """Remember TEXT (a user message; '-' reads it from stdin) or the messages of --file."""
    if (text is None) == (messages_file is None):
        raise click.UsageError("give either TEXT or --file (not both)")
    if messages_file is not None:
        messages: Any = _read_messages(messages_file)
    else:
        messages = sys.stdin.read() if text == "-" else text
    memory = context.memory()
    label = memory.describe_llm()
    if label is not None and infer is not False:  # the LLM call may take a minute
        click.echo(f"extracting memories with {label}...", err=True)
    result = memory.add(
        messages,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        metadata=metadata,
        timestamp=timestamp,
        infer=infer,
        memory_type=memory_type,
    )

    def human() -> None:
        items = result["results"]
        click.echo(f"{len(items)} memor{'y' if len(items) == 1 else 'ies'} changed")
        if items:
            print_table(items, [("EVENT", field("event")), ID_COLUMN, ("ROLE", field("role")), MEMORY_COLUMN])

    emit(context, result, human)


def _read_messages(handle: IO[str]) -> Any:
    """The messages of ``add --file``: JSON in UTF-8 (a usage error when not JSON)."""
    try:
        return json.load(handle)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="'--file'") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"--file {handle.name}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save the messages as UTF-8 JSON"
        ) from None


@click.command()
@click.argument("query")
@scope_options
@top_k_option
@click.option(
    "--threshold",
    type=float,
    help="Only results whose score (the SCORE column, 0 to 1, higher is closer) is at least this.",
)
@filters_option
@click.option("--explain", is_flag=True, help="Show how each score was made (semantic and keyword parts).")
@click.option(
    "--reference-date",
    help='What "now" is for dates in QUERY ("last week"): ISO-8601 or Unix seconds; default: now.',
)
@click.option("--rerank", is_flag=True, help="Reorder with the configured reranker.")
@type_option
@long_term_option
@click.option("--as-of", help="What was stored at this time (ISO-8601 or Unix seconds): the texts of then.")
@json_option
@pass_cli_context
def search(
    context: CliContext,
    query: str,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    top_k: int | None,
    threshold: float | None,
    filters: Any,
    explain: bool,
    reference_date: str | None,
    rerank: bool,
    memory_types: tuple[str, ...],
    long_term: bool,
    as_of: str | None,
) -> None:
    """Find the memories that best match QUERY, best first."""
    result = context.memory().search(
        query,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        top_k=top_k,
        filters=filters,
        threshold=threshold,
        explain=explain,
        reference_date=reference_date,
        rerank=rerank,
        memory_type=_types(memory_types),
        long_term=long_term,
        as_of=as_of,
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

    emit(context, result, human)


@click.command("list")
@scope_options
@top_k_option
@click.option("--page", type=int, default=1, show_default=True, help="Which page of the list (1-based).")
@click.option(
    "--page-size", "--limit", "page_size", type=int, help="Memories per page (default: --top-k, else 100)."
)
@filters_option
@type_option
@long_term_option
@json_option
@pass_cli_context
def list_(
    context: CliContext,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    top_k: int | None,
    page: int,
    page_size: int | None,
    filters: Any,
    memory_types: tuple[str, ...],
    long_term: bool,
) -> None:
    """List the memories of a scope, newest first (get_all), one page at a time."""
    result = context.memory().get_all(
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        top_k=top_k,
        filters=filters,
        page=page,
        page_size=page_size,
        memory_type=_types(memory_types),
        long_term=long_term,
    )

    def human() -> None:
        items = result["results"]
        print_table(items, [ID_COLUMN, MEMORY_COLUMN, *scope_columns(items), CREATED_COLUMN])
        if result["count"] > len(items):
            more = f"use --page {result['next']} for more" if result["next"] else f"page {result['page']}"
            click.echo(f"showing {len(items)} of {result['count']} ({more})")

    emit(context, result, human)


@click.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_cli_context
def get(context: CliContext, memory_id: str) -> None:
    """Show one memory in full (ID: the id or a unique prefix, as tables show it)."""
    memory_id = context.resolve_id(memory_id)
    item = context.memory().get(memory_id)
    if item is None:
        raise NotFoundError(memory_id)

    def human() -> None:
        shown = {k: v for k, v in item.items() if v is not None}
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
            click.echo(f"{key + ':':<{width + 1}}  {text}")

    emit(context, item, human)


@click.command()
@click.argument("memory_id", metavar="ID")
@click.argument("text", required=False)
@metadata_option
@json_option
@pass_cli_context
def update(context: CliContext, memory_id: str, text: str | None, metadata: Any) -> None:
    """Give memory ID a new TEXT (the old text stays in its history) and/or new --metadata."""
    memory_id = context.resolve_id(memory_id)
    result = context.memory().update(memory_id, text=text, metadata=metadata)
    emit(context, result, lambda: click.echo(result["message"]))


@click.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_cli_context
def delete(context: CliContext, memory_id: str) -> None:
    """Delete memory ID (its history keeps a DELETE row)."""
    result = context.memory().delete(context.resolve_id(memory_id))
    emit(context, result, lambda: click.echo(result["message"]))


@click.command("delete-all")
@scope_options
@yes_option
@json_option
@pass_cli_context
def delete_all(
    context: CliContext, user_id: str | None, agent_id: str | None, run_id: str | None, yes: bool
) -> None:
    """Delete every memory of a scope (give --user-id, --agent-id and/or --run-id)."""
    scope = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    given = ", ".join(f"{k}={v}" for k, v in scope.items() if v is not None)
    if not given:
        raise click.UsageError("give --user-id, --agent-id or --run-id ('memlane reset' removes everything)")
    if not yes:
        click.confirm(f"Delete every memory of {given}?", abort=True, err=True)
    result = context.memory().delete_all(user_id=user_id, agent_id=agent_id, run_id=run_id)
    count = result["deleted"]
    emit(
        context,
        result,
        lambda: click.echo(f"{result['message']} ({count} memor{'y' if count == 1 else 'ies'})"),
    )


@click.command()
@click.argument("memory_id", metavar="ID")
@json_option
@pass_cli_context
def history(context: CliContext, memory_id: str) -> None:
    """Show every ADD / UPDATE / DELETE of memory ID, oldest first."""
    memory_id = context.resolve_id(memory_id)
    events = context.memory().history(memory_id)
    if not events:  # the API returns [] for an unknown id, as mem0 does; here it is a typo
        raise NotFoundError(memory_id)

    def human() -> None:
        columns: list[Column] = [
            ("WHEN", lambda r: when(r.get("updated_at") or r.get("created_at"))),
            ("EVENT", field("event")),
            ("OLD MEMORY", lambda r: cut(r.get("old_memory"), MEMORY_WIDTH // 2 + 10)),
            ("NEW MEMORY", lambda r: cut(r.get("new_memory"), MEMORY_WIDTH // 2 + 10)),
        ]
        click.echo(f"History of {memory_id}")
        print_table(events, columns)

    emit(context, events, human)


COMMANDS: tuple[click.Command, ...] = (add, search, list_, get, update, delete, delete_all, history)
"""The commands this module adds to the ``memlane`` group."""
