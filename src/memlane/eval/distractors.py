"""Distractors: extra memories put into a LoCoMo conversation's scope before its questions.

They come from one deterministic stream per conversation and seed, so the first N of it are
the same whatever N is asked (a load matrix tops a scope up from 1,000 to 10,000 instead of
starting again). Every other item is a turn of another conversation of the file while there
are any left, relabelled (its speakers renamed to this conversation's, its ``dia_id`` dropped:
a turn of another conversation cannot be evidence here); the rest are synthetic turns, a
template sentence with names, places and dates (over a million different ones). Each block
of 100 is observed at one moment drawn over the conversation's span (never one of its
session dates, so a block never joins a real session's turns as conversation neighbours).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from memlane.errors import InvalidInputError

if TYPE_CHECKING:  # locomo.py imports this module
    from memlane.eval.locomo import Conversation, EvalResult, Turn
    from memlane.memory import Memory

__all__ = ["BLOCK", "Distractor", "distractor_levels", "distractors", "matrix_row", "speakers", "top_up"]

BLOCK = 100
"""Distractors per observation moment, and per ``add`` call."""

_NAMES = (
    "Aiden Bianca Caleb Delia Emeka Farah Gustav Hana Ivo Jasmin Kofi Lena Mateo Nadia Oskar Pia "
    "Quinn Rosa Sami Tala Umar Vera Wes Xenia Yara Zane"
).split()
_PLACES = (
    "Lisbon Denver Osaka Nairobi Krakow Lima Hanoi Tromso Austin Seville Bergen Quito Porto Adelaide "
    "Galway Tbilisi Cusco Malmo Leeds Boise"
).split()
_THINGS = (
    "a pottery class|a half marathon|a jazz concert|a food market|a board game night|a hiking trip|"
    "a job interview|a birthday dinner|a yoga retreat|a book club|a charity run|a cooking workshop|"
    "a museum tour|a road trip|a camping weekend|a dance lesson|a volunteer shift|a family reunion"
).split("|")
_TEMPLATES = (
    "{me}: I went to {thing} in {place} with {name} on {date}.",
    "{me}: {name} told me about {thing} in {place}; it is on {date}.",
    "{me}: On {date} {name} and I signed up for {thing} near {place}.",
    "{me}: Did you hear that {name} moved to {place}? We met at {thing} on {date}.",
    "{me}: I keep thinking about {thing} in {place} on {date}, {name} loved it.",
    "{me}: {name} is planning {thing} in {place} for {date}, want to come?",
)
_DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class Distractor:
    """One extra memory: its text, when it was observed, and where it came from."""

    text: str
    observed_at: str
    origin: str
    """``"<sample_id> <dia_id>"`` for another conversation's turn, ``"synthetic"`` otherwise."""
    metadata: dict[str, str] = field(default_factory=dict)


def speakers(conv: Conversation) -> tuple[str, str]:
    """The conversation's first two speakers, in order of appearance (one twice if alone)."""
    seen: list[str] = []
    for turn in conv.turns:
        name = turn.text.split(": ", 1)[0]
        if name not in seen:
            seen.append(name)
        if len(seen) == 2:
            break
    return (seen[0], seen[-1]) if seen else ("A", "B")


def distractors(
    conv: Conversation, pool: Sequence[Conversation], count: int, seed: int = 0
) -> list[Distractor]:
    """The first ``count`` distractors of ``conv``'s stream: the turns of the other
    conversations of ``pool`` (relabelled) and synthetic turns, deterministic for ``seed``."""
    stream = _stream(conv, pool, seed)
    return [next(stream) for _ in range(max(count, 0))]


def distractor_levels(values: Sequence[int]) -> list[int]:
    """The numbers of distractors, sorted, each once; a negative one is an InvalidInputError."""
    levels = sorted(set(values)) or [0]
    if levels[0] < 0:
        raise InvalidInputError(f"the number of distractors must be 0 or more, got {levels[0]}")
    return levels


def top_up(
    memory: Memory,
    conv: Conversation,
    pool: Sequence[Conversation],
    level: int,
    seed: int,
    added: dict[str, int],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Add ``conv``'s distractors from the number already in its scope up to ``level``, one
    ``add(infer=False)`` per block observed at one moment (at most 100 messages); ``progress``
    is told the size of each block added."""
    have = added[conv.sample_id]
    if level <= have:
        return
    items = distractors(conv, pool, level, seed)
    start = have
    while start < level:
        moment = items[start].observed_at
        end = start + 1
        while end < level and items[end].observed_at == moment:
            end += 1
        memory.add(
            [{"role": "user", "content": d.text, "metadata": d.metadata} for d in items[start:end]],
            user_id=conv.sample_id,
            infer=False,
            timestamp=moment,
        )
        if progress is not None:
            progress(end - start)
        start = end
    added[conv.sample_id] = level


def matrix_row(run: EvalResult, level: int, seconds: float, turns: float) -> dict[str, Any]:
    """A row of the load matrix: ``run``'s overall figures with ``level`` distractors per scope
    (``turns``: the conversations' own turns per scope, on average)."""
    return {
        "distractors": level,
        "memories_per_scope": round(turns + level, 1),
        "questions": run.questions.get("overall", 0),
        "recall": run.recall.get("overall", {}),
        "hit": run.hit.get("overall", {}),
        "recall_by_category": run.recall,
        "search_ms": {"p50": run.latency(0.5), "p95": run.latency(0.95)},
        "distractor_ingest_seconds": seconds,
    }


def _stream(conv: Conversation, pool: Sequence[Conversation], seed: int) -> Iterator[Distractor]:
    base = f"memlane-distractors/{seed}/{conv.sample_id}"
    others = _relabelled(conv, pool, random.Random(f"{base}/turns"))
    synthetic = _synthetic(conv, random.Random(f"{base}/synthetic"))
    moments = _moments(conv, random.Random(f"{base}/dates"))
    index = 0
    moment = ""
    while True:
        if index % BLOCK == 0:
            moment = next(moments)
        picked = next(others, None) if index % 2 == 0 else None
        text, origin = picked if picked is not None else next(synthetic)
        yield Distractor(text, moment, origin, {"distractor": origin})
        index += 1


def _relabelled(
    conv: Conversation, pool: Sequence[Conversation], rng: random.Random
) -> Iterator[tuple[str, str]]:
    """The other conversations' turns in a seeded order, their speakers renamed to ``conv``'s."""
    mine = speakers(conv)
    turns: list[tuple[str, str]] = []
    for other in pool:
        if other.sample_id == conv.sample_id:
            continue
        rename = dict(zip(speakers(other), mine, strict=True))
        for turn in other.turns:
            turns.append((_rename(turn, rename), f"{other.sample_id} {turn.dia_id}"))
    rng.shuffle(turns)
    return iter(turns)


def _rename(turn: Turn, rename: dict[str, str]) -> str:
    name, _, rest = turn.text.partition(": ")
    return f"{rename.get(name, name)}: {rest}"


def _synthetic(conv: Conversation, rng: random.Random) -> Iterator[tuple[str, str]]:
    mine = speakers(conv)
    start = datetime(2020, 1, 1)
    while True:
        day = start + timedelta(days=rng.randrange(2000))
        text = rng.choice(_TEMPLATES).format(
            me=rng.choice(mine),
            name=rng.choice(_NAMES),
            place=rng.choice(_PLACES),
            thing=rng.choice(_THINGS),
            date=f"{day.day} {day:%B %Y}",
        )
        yield text, "synthetic"


def _moments(conv: Conversation, rng: random.Random) -> Iterator[str]:
    """Moments drawn over the conversation's span (a day either side when it has one session),
    to the second, never one of its session dates."""
    taken = {t.observed_at for t in conv.turns}
    first = datetime.fromisoformat(min(taken))
    last = datetime.fromisoformat(max(taken))
    span = max(int((last - first).total_seconds()), 0)
    if span == 0:
        first, span = first - timedelta(days=1), 2 * _DAY
    while True:
        moment = first + timedelta(seconds=rng.randrange(span + 1))
        while moment.isoformat() in taken:
            moment += timedelta(seconds=1)
        yield moment.isoformat()
