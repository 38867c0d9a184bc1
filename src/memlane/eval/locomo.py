"""LoCoMo evidence recall: ingest every turn verbatim, ask every question, score the top k.

One memory per dialogue turn (``"{speaker}: {text}"`` plus ``" [shares a photo of
{caption}]"``), observed at its session's date, with the turn's ``dia_id`` kept in metadata;
one memory space (``user_id``) per conversation; categories 1-4 only. Evidence recall@k is the
share of a question's gold evidence turns found in the top k results, averaged over questions
that have gold evidence; hit@k is the share of questions with at least one in the top k.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memlane.errors import InvalidInputError
from memlane.memory.main import Memory

__all__ = [
    "CATEGORIES",
    "KS",
    "Conversation",
    "EvalResult",
    "Question",
    "Turn",
    "evaluate_locomo",
    "load_locomo",
    "parse_evidence",
    "parse_session_date",
]

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
"""The official mapping of LoCoMo's category integers (5, adversarial, is excluded)."""
KS = (1, 5, 10, 20)
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Turn:
    dia_id: str
    session: int
    text: str
    observed_at: str


@dataclass(frozen=True, slots=True)
class Question:
    conversation: str
    text: str
    category: int
    gold: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]

    @property
    def last_observed(self) -> str:
        """When the conversation ended: the reference date of its questions."""
        return max(t.observed_at for t in self.turns)


@dataclass(slots=True)
class EvalResult:
    """Figures of one run; ``per_question`` keeps every question's top results."""

    settings: dict[str, Any]
    recall: dict[str, dict[int, float]] = field(default_factory=dict)
    hit: dict[str, dict[int, float]] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    ingest_seconds: float = 0.0
    turns: int = 0
    context_tokens: dict[int, float] = field(default_factory=dict)
    per_question: list[dict[str, Any]] = field(default_factory=list)

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latency_ms)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "recall": self.recall,
            "hit": self.hit,
            "questions": self.questions,
            "search_ms": {"p50": self.latency(0.5), "p95": self.latency(0.95), "all": self.latency_ms},
            "ingest_seconds": self.ingest_seconds,
            "turns": self.turns,
            "context_tokens": self.context_tokens,
            "per_question": self.per_question,
        }


def parse_evidence(values: Sequence[Any]) -> list[str]:
    """Evidence ids as ``D<session>:<turn>``; tolerates ``"D8:6; D9:17"`` and ``"D:11:26"``."""
    out: list[str] = []
    for value in values:
        for token in re.split(r"[;,\s]+", str(value)):
            match = _EVIDENCE.fullmatch(token)
            if match:
                ref = f"D{int(match.group(1))}:{int(match.group(2))}"
                if ref not in out:
                    out.append(ref)
    return out


def parse_session_date(text: str) -> str:
    """``"1:56 pm on 8 May, 2023"`` as UTC ISO-8601."""
    try:
        moment = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    except ValueError:
        raise InvalidInputError(f"unrecognised LoCoMo session date {text!r}") from None
    return moment.replace(tzinfo=UTC).isoformat()


def load_locomo(path: str | Path) -> list[Conversation]:
    """The conversations of a LoCoMo JSON file, with questions of categories 1-4."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, list):
        raise InvalidInputError(f"{path}: expected a JSON list of LoCoMo samples")
    return [_conversation(sample) for sample in data]


def _conversation(sample: dict[str, Any]) -> Conversation:
    conv = sample["conversation"]
    sessions = sorted(int(m.group(1)) for k in conv if (m := re.fullmatch(r"session_(\d+)", k)))
    turns: list[Turn] = []
    for n in sessions:
        observed = parse_session_date(conv[f"session_{n}_date_time"])
        for t in conv[f"session_{n}"]:
            text = f"{t['speaker']}: {t['text']}"
            if t.get("blip_caption"):
                text += f" [shares a photo of {t['blip_caption']}]"
            turns.append(Turn(t["dia_id"], n, text, observed))
    known = {t.dia_id for t in turns}
    questions = tuple(
        Question(
            sample["sample_id"],
            qa["question"],
            qa["category"],
            tuple(e for e in parse_evidence(qa.get("evidence", [])) if e in known),
        )
        for qa in sample["qa"]
        if qa.get("category") in CATEGORIES
    )
    return Conversation(sample["sample_id"], tuple(turns), questions)


Progress = Callable[[str, int, int], None]


def evaluate_locomo(
    memory: Memory,
    conversations: Sequence[Conversation],
    *,
    search_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> EvalResult:
    """Ingest ``conversations`` into ``memory`` (infer=False) and score every question."""
    options = dict(search_options or {})
    report = progress or _StderrProgress()
    result = EvalResult(settings={"search": options, "config": memory.config.model_dump(mode="json")})
    total_turns = sum(len(c.turns) for c in conversations)
    start = time.perf_counter()
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
                    }
                    for t in turns
                ],
                user_id=conv.sample_id,
                infer=False,
                timestamp=turns[0].observed_at,
            )
            done += len(turns)
            report("ingest", done, total_turns)
    result.ingest_seconds = time.perf_counter() - start
    result.turns = total_turns
    _ask_all(memory, conversations, options, result, report)
    return result


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
