"""LoCoMo evidence recall: ingest every turn verbatim, ask every question, score the top k.

One memory per dialogue turn (``"{speaker}: {text}"`` plus ``" [shares a photo of
{caption}]"``), observed at its session's date, said by its speaker (the message's ``name``, so
the memory's ``actor_id``), with the turn's ``dia_id`` kept in metadata;
one memory space (``user_id``) per conversation; categories 1-4 only. Evidence recall@k is the
share of a question's gold evidence turns found in the top k results, averaged over questions
that have gold evidence; hit@k is the share of questions with at least one in the top k.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlane import __version__
from memlane.errors import InvalidInputError
from memlane.eval.context import context_recall
from memlane.eval.distractors import distractor_levels, matrix_row, top_up
from memlane.eval.locomo_data import (
    CATEGORIES,
    Conversation,
    Question,
    Turn,
    describe_data,
    load_locomo,
    parse_evidence,
    parse_session_date,
)
from memlane.memory import Memory
from memlane.redact import redact

__all__ = [
    "CATEGORIES",
    "INGEST_FORMAT",
    "KS",
    "Conversation",
    "EvalResult",
    "Question",
    "Turn",
    "describe_data",
    "evaluate_locomo",
    "ingest",
    "load_locomo",
    "parse_evidence",
    "parse_session_date",
]

KS = (1, 5, 10, 20)
INGEST_FORMAT = 2
"""What ``ingest`` stores; part of the ``--reuse-ingest`` cache key (2: the speaker as actor)."""
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(slots=True)
class EvalResult:
    """Figures of one run; ``per_question`` keeps every question's top results."""

    settings: dict[str, Any]
    memlane_version: str = __version__
    started_at: str = ""
    data: dict[str, str] = field(default_factory=dict)
    recall: dict[str, dict[int, float]] = field(default_factory=dict)
    hit: dict[str, dict[int, float]] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    ingest_seconds: float = 0.0
    turns: int = 0
    context_tokens: dict[int, float] = field(default_factory=dict)
    per_question: list[dict[str, Any]] = field(default_factory=list)
    matrix: list[dict[str, Any]] = field(default_factory=list)
    """One row per number of distractors: recall, hit and search latency with that many extra
    memories per scope (the other fields are the first row's, in full)."""
    context: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Per ``context_budgets`` budget: evidence recall inside ``get_context``'s block and its
    tokens (``memlane.eval.context``); measured without distractors."""

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latency_ms)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "memlane_version": self.memlane_version,
            "started_at": self.started_at,
            "data": self.data,
            "settings": redact(self.settings),
            "recall": self.recall,
            "hit": self.hit,
            "questions": self.questions,
            "search_ms": {"p50": self.latency(0.5), "p95": self.latency(0.95), "all": self.latency_ms},
            "ingest_seconds": self.ingest_seconds,
            "turns": self.turns,
            "context_tokens": self.context_tokens,
            "per_question": self.per_question,
            "matrix": self.matrix,
            "context": self.context,
        }


Progress = Callable[[str, int, int], None]


def evaluate_locomo(
    memory: Memory,
    conversations: Sequence[Conversation],
    *,
    search_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    data_file: str | Path | None = None,
    distractors: Sequence[int] = (0,),
    seed: int = 0,
    pool: Sequence[Conversation] | None = None,
    context_budgets: Sequence[int] = (),
    ingested: bool = False,
    after_ingest: Callable[[], None] | None = None,
) -> EvalResult:
    """Ingest ``conversations`` into ``memory`` (infer=False) and score every question.

    With ``distractors`` (numbers of extra memories per scope, e.g. ``(0, 1000, 10000)``), the
    questions are asked once per number, each conversation's scope topped up to it first with
    the first N of its distractor stream (``memlane.eval.distractors``: the other conversations
    of ``pool``, default ``conversations``, relabelled, and synthetic turns; deterministic for
    ``seed``), added 100 per ``add(infer=False)`` call; ``EvalResult.matrix`` has a row per number.
    With ``context_budgets`` (tokens), ``EvalResult.context`` has the evidence recall inside
    ``get_context``'s block at each budget, before any distractor is added. ``ingested=True``
    says ``memory`` already holds the conversations as the ingest stores them (a cached store,
    ``memlane.eval.locomo_cache``): the ingest is skipped and ``ingest_seconds`` is 0;
    ``after_ingest`` is called once the ingest is done, before any distractor is added.

    The result records memlane's version, the start time, the data file (``data_file``: path
    and SHA-256) and the settings, with every secret of the config masked (``memlane.redact``).
    Runs in whatever store ``memory`` has and clears the conversations' scopes first: give it a
    scratch store (the CLI does).
    """
    if not conversations:
        raise InvalidInputError("no LoCoMo conversations to evaluate")
    levels = distractor_levels(distractors)
    options = dict(search_options or {})
    report = progress or _StderrProgress()
    settings = {"search": options, "config": memory.config, "distractors": levels, "seed": seed,
                "context_budgets": list(context_budgets), "reused_ingest": ingested}  # fmt: skip
    result = EvalResult(
        settings=redact(settings),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data=describe_data(data_file) if data_file is not None else {},
    )
    start = time.perf_counter()
    if not ingested:
        _ingest(memory, conversations, report)
        result.ingest_seconds = time.perf_counter() - start
    if after_ingest is not None:
        after_ingest()
    result.turns = sum(len(c.turns) for c in conversations)
    if context_budgets:
        result.context = context_recall(memory, conversations, context_budgets, CATEGORIES, report)
    added = dict.fromkeys((c.sample_id for c in conversations), 0)
    for level in levels:
        seconds = _add_distractors(memory, conversations, pool or conversations, level, seed, added, report)
        run = result if level == levels[0] else EvalResult(settings=result.settings)
        _ask_all(memory, conversations, options, run, report)
        result.matrix.append(matrix_row(run, level, seconds, result.turns / len(conversations)))
    return result


def _add_distractors(
    memory: Memory,
    conversations: Sequence[Conversation],
    pool: Sequence[Conversation],
    level: int,
    seed: int,
    added: dict[str, int],
    report: Progress,
) -> float:
    """Top every conversation's scope up to ``level`` distractors; returns the seconds taken."""
    start = time.perf_counter()
    todo = sum(max(level - added[c.sample_id], 0) for c in conversations)
    done = 0

    def step(size: int) -> None:
        nonlocal done
        done += size
        report(f"+{level:,}", done, todo)

    for conv in conversations:
        top_up(memory, conv, pool, level, seed, added, step)
    return time.perf_counter() - start


def ingest(memory: Memory, conversations: Sequence[Conversation], report: Progress | None = None) -> None:
    """Store every turn verbatim, one ``add`` per session (its scopes cleared first)."""
    _ingest(memory, conversations, report or (lambda *_: None))


def _ingest(memory: Memory, conversations: Sequence[Conversation], report: Progress) -> None:
    total = sum(len(c.turns) for c in conversations)
    done = 0
    for conv in conversations:
        memory.delete_all(user_id=conv.sample_id)
        for session in sorted({t.session for t in conv.turns}):
            turns = [t for t in conv.turns if t.session == session]
            memory.add(
                [
                    {
                        "role": "user",
                        "content": t.text,
                        "metadata": {"dia_id": t.dia_id, "session": t.session},
                        **({"name": t.speaker} if t.speaker else {}),
                    }
                    for t in turns
                ],
                user_id=conv.sample_id,
                infer=False,
                timestamp=turns[0].observed_at,
            )
            done += len(turns)
            report("ingest", done, total)


def _ask_all(
    memory: Memory,
    conversations: Sequence[Conversation],
    options: dict[str, Any],
    result: EvalResult,
    report: Progress,
) -> None:
    questions = [q for c in conversations for q in c.questions if q.gold]
    ended = {c.sample_id: c.last_observed for c in conversations}
    sums: dict[str, dict[int, list[float]]] = {}
    hits: dict[str, dict[int, list[float]]] = {}
    tokens: dict[int, list[int]] = {k: [] for k in KS}
    for index, q in enumerate(questions, start=1):
        t0 = time.perf_counter()
        found = memory.search(
            q.text,
            user_id=q.conversation,
            top_k=max(KS),
            reference_date=ended[q.conversation],
            **options,
        )["results"]
        result.latency_ms.append((time.perf_counter() - t0) * 1000)
        ranked = [str((r.get("metadata") or {}).get("dia_id")) for r in found]
        gold = set(q.gold)
        for name in ("overall", CATEGORIES[q.category]):
            for k in KS:
                top = set(ranked[:k])
                sums.setdefault(name, {}).setdefault(k, []).append(len(gold & top) / len(gold))
                hits.setdefault(name, {}).setdefault(k, []).append(1.0 if gold & top else 0.0)
        for k in KS:
            tokens[k].append(sum(len(_TOKEN.findall(r["memory"])) for r in found[:k]))
        result.per_question.append(
            {"conversation": q.conversation, "question": q.text, "category": q.category,
             "gold": list(q.gold), "top": ranked}
        )  # fmt: skip
        if index % 20 == 0 or index == len(questions):
            report("search", index, len(questions))
    result.recall = {n: {k: statistics.fmean(v) for k, v in ks.items()} for n, ks in sums.items()}
    result.hit = {n: {k: statistics.fmean(v) for k, v in ks.items()} for n, ks in hits.items()}
    result.questions = {n: len(ks[KS[0]]) for n, ks in sums.items()}
    result.context_tokens = {k: statistics.fmean(v) if v else 0.0 for k, v in tokens.items()}


class _StderrProgress:
    """A bar redrawn in place on a terminal; in a log (not a TTY), a line per tenth done."""

    def __init__(self) -> None:
        self._shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        line = f"{stage:>6} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}"
        if sys.stderr.isatty():
            print("\r" + line, end="\n" if done >= total else "", file=sys.stderr, flush=True)
            return
        tenth = 10 * done // max(total, 1)
        if tenth != self._shown.get(stage):
            self._shown[stage] = tenth
            print(line, file=sys.stderr, flush=True)
