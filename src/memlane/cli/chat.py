"""``memlane chat``: answer questions from a scope's memories with the configured LLM, citing
them; an interactive loop in the terminal, or one question with ``--once``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from memlane import ChatResult, ConfigError, LLMError
from memlane.cli._app import CliContext
from memlane.cli._options import pass_cli_context, scope_options
from memlane.redact import redact_text

__all__ = ["COMMANDS", "chat"]

_QUIT = frozenset({"exit", "quit", ":q"})
_NO_LLM = (
    "chat needs an LLM: give a config file with an llm section (memlane --config FILE chat ...), e.g. "
    '{"llm": {"provider": "openai", "config": {"model": "gpt-4.1-mini", "base_url": '
    '"http://localhost:8080/v1"}}} for any OpenAI-compatible endpoint'
)


@click.command()
@scope_options
@click.option("--once", "question", metavar="QUESTION", help="Answer this one question and exit.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Token budget of the memory context given to the LLM.")  # fmt: skip
@click.option("--reference-date",
              help='What "today" is for the question and the answer: ISO-8601 or Unix seconds.')  # fmt: skip
@click.option("--remember", is_flag=True, help="Also store each question and answer as memory (add).")
@click.option("--show-context", is_flag=True, help="Print the memory context the LLM was given.")
@pass_cli_context
def chat(
    context: CliContext,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    question: str | None,
    max_tokens: int,
    reference_date: str | None,
    remember: bool,
    show_context: bool,
) -> None:
    """Ask your memories: the configured LLM answers from them and cites them ([m1]...).

    Without --once, reads one question per line until end of input (Ctrl-D) or "exit";
    a failed LLM call is reported and the loop goes on. --json prints each result as
    the API returns it (one JSON object per line).
    """
    memory = context.memory()
    if memory.describe_llm() is None:
        raise ConfigError(_NO_LLM)
    options: dict[str, Any] = {
        "user_id": user_id, "agent_id": agent_id, "run_id": run_id, "max_tokens": max_tokens,
        "reference_date": reference_date, "remember": remember,
    }  # fmt: skip
    if question is not None:
        _show(context, memory.chat(question, **options), show_context)
        return
    interactive = sys.stdin.isatty()
    while True:
        line = _read(interactive)
        if line is None or line.strip().lower() in _QUIT:
            return
        if not line.strip():
            continue
        try:
            _show(context, memory.chat(line.strip(), **options), show_context)
        except LLMError as exc:
            click.echo(f"Error: {redact_text(str(exc))}", err=True)


def _read(interactive: bool) -> str | None:
    """The next question, or None at the end of input."""
    if interactive:
        try:
            text: str = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            return None
        return text
    line = sys.stdin.readline()
    return line or None


def _show(context: CliContext, result: ChatResult, show_context: bool) -> None:
    if context.json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    if show_context:
        click.echo(click.style(result["context"]["text"] or "(no memories)", dim=True))
        click.echo()
    click.echo(result["answer"])
    for cited in result["citations"]:
        date = f" ({cited['date'][:10]})" if cited["date"] else ""
        click.echo(f"  [{cited['id']}] {cited['text']}{date}")


COMMANDS: tuple[click.Command, ...] = (chat,)
"""The commands this module adds to the ``memlane`` group."""
