"""Evidence recall inside a packed context: for each question, ``get_context`` under a token
budget, and the share of its gold evidence turns whose memory the context cites (a memory
folded into another as an exact duplicate counts as cited through it)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from memlane.errors import InvalidInputError
from memlane.memory import Memory

__all__ = ["BUDGETS", "context_recall"]

BUDGETS = (250, 500, 1000, 2000)
"""The budgets ``benchmarks/bench_context.py`` measures."""

_EVERY = 10**9


def context_recall(
    memory: Memory,
    conversations: Sequence[Any],
    budgets: Sequence[int],
    categories: dict[int, str],
    report: Callable[[str, int, int], None],
) -> dict[int, dict[str, Any]]:
    """Per budget: ``recall`` (overall and per category), mean and largest ``tokens``, mean
    ``memories`` cited, and the ``tokenizer`` counted with. ``conversations`` are
    ``memlane.eval.locomo.Conversation`` s already ingested into ``memory``."""
    if any(n < 1 for n in budgets):
        raise InvalidInputError(f"context budgets must be positive numbers of tokens, got {list(budgets)}")
    dia: dict[str, str] = {}
    for conv in conversations:
        for item in memory.get_all(user_id=conv.sample_id, top_k=_EVERY)["results"]:
            turn = (item.get("metadata") or {}).get("dia_id")
            if turn is not None:
                dia[item["id"]] = str(turn)
    ended = {c.sample_id: c.last_observed for c in conversations}
    questions = [q for c in conversations for q in c.questions if q.gold]
    recall: dict[int, dict[str, list[float]]] = {n: {} for n in budgets}
    tokens: dict[int, list[int]] = {n: [] for n in budgets}
    cited_counts: dict[int, list[int]] = {n: [] for n in budgets}
    tokenizer = ""
    for index, q in enumerate(questions, start=1):
        for n in budgets:
            context = memory.get_context(
                q.text, user_id=q.conversation, max_tokens=n, reference_date=ended[q.conversation]
            )
            tokenizer = context["tokenizer"]
            cited = {dia[m] for c in context["citations"].values() for m in c["memory_ids"] if m in dia}
            share = len(cited & set(q.gold)) / len(q.gold)
            for name in ("overall", categories[q.category]):
                recall[n].setdefault(name, []).append(share)
            tokens[n].append(context["tokens"])
            cited_counts[n].append(len(context["citations"]))
        if index % 20 == 0 or index == len(questions):
            report("context", index, len(questions))
    return {
        n: {
            "recall": {name: statistics.fmean(v) for name, v in recall[n].items()},
            "tokens": statistics.fmean(tokens[n]) if tokens[n] else 0.0,
            "tokens_max": max(tokens[n], default=0),
            "citations": statistics.fmean(cited_counts[n]) if cited_counts[n] else 0.0,
            "tokenizer": tokenizer,
        }
        for n in budgets
    }
