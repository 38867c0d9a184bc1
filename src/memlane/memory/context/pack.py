"""Packing: profile slots, relations and memories into one citable block under a token budget.

The block, byte-for-byte the same for the same inputs (no clock is read)::

    Today: 1 Oct 2023                      (only with a reference date)
    Profile:
    [p1] home city: Bangalore
    Relations:
    [r1] alice works at acme (from 8 May 2023)
    Memories:
    8 May 2023
    [m1] Caroline: I went to a support group yesterday.
    [m2] ...
    25 May
    [m3] ...

What goes in is chosen by priority, each item taken while it fits: the profile slots the query
asks about, then the others (at most a quarter of the budget), the relations in rank order (at
most another quarter), then the memories in the order given (``build.competing``: search's,
with the memories of the actor the query names lifted), as many as the rest of the budget holds
(a long one that does not fit is skipped and shorter ones after it still go in). Memories are
shown oldest first under one date line per day, so a date is paid for once (and its year only
when it changes); a memory whose text repeats one already in is folded into it (its id joins
the citation), and one a profile slot was written from is not repeated. The whole text is
counted at the end and the last items taken are dropped until it fits, so the budget holds for
any tokenizer, additive or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from memlane.graph.models import ScoredRelation
from memlane.memory.context.tokens import TokenCounter
from memlane.models import Hit, ProfileSlot
from memlane.types import ContextCitation, ContextResult

__all__ = ["ContextParts", "pack", "short_date"]

_SHARE = 4
"""The profile, and the relations, each take at most 1/_SHARE of the budget."""
_HEADERS = {"profile": "Profile:", "relation": "Relations:", "memory": "Memories:"}
_PREFIX = {"profile": "p", "relation": "r", "memory": "m"}


@dataclass(frozen=True, slots=True)
class ContextParts:
    """What one ``get_context`` retrieved, each list best first."""

    slots: Sequence[ProfileSlot] = ()
    """Asked-about slots first, then the rest in the configured order."""
    relations: Sequence[ScoredRelation] = ()
    hits: Sequence[Hit] = ()
    today: str | None = None
    """The reference date (ISO-8601), shown as ``Today:`` when given."""


@dataclass(slots=True)
class _Item:
    kind: str
    text: str
    order: tuple[str, int]
    """Where it is shown within its section: (date, rank)."""
    day: str = ""
    """Memories: the date line it goes under."""
    memory_id: str | None = None
    memory_ids: list[str] = field(default_factory=list)
    date: str | None = None
    key: str | None = None
    relation: dict[str, str] | None = None


def short_date(iso: str | None) -> str:
    """``"2023-05-08T13:56:00+00:00"`` as ``"8 May 2023"`` (fewer tokens than ISO); "" if None."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:10]
    return f"{moment.day} {moment:%b %Y}"


def pack(
    parts: ContextParts,
    max_tokens: int,
    counter: TokenCounter,
    sources: Callable[[str], list[str]],
) -> ContextResult:
    """The block for ``parts`` within ``max_tokens`` of ``counter``; ``sources`` gives a
    memory's source message ids."""
    items = _candidates(parts)
    today = parts.today
    chosen = _choose(items, max_tokens, counter, today)
    while True:
        text, tagged = _render(chosen, today)
        tokens = counter.count(text)
        if tokens <= max_tokens or (not chosen and today is None):
            break
        if chosen:
            chosen.pop()  # the last taken is the least wanted
        else:
            today = None  # a budget too small even for the date
    citations = {tag: _citation(tag, item, sources) for tag, item in tagged}
    return {
        "text": text,
        "citations": citations,
        "tokens": tokens,
        "max_tokens": max_tokens,
        "tokenizer": counter.name,
    }


def _candidates(parts: ContextParts) -> list[_Item]:
    """Every item that could go in, in priority order."""
    items: list[_Item] = []
    profiled: set[str] = set()
    for rank, slot in enumerate(parts.slots):
        ids = [slot.memory_id] if slot.memory_id else []
        profiled.update(ids)
        text = f"{slot.key.replace('_', ' ')}: {_flat(slot.value)}"
        items.append(_Item("profile", text, ("", rank), memory_id=slot.memory_id, memory_ids=ids,
                           date=slot.valid_from or slot.recorded_at, key=slot.key))  # fmt: skip
    for rank, scored in enumerate(parts.relations):
        rel = scored.relation
        text = f"{_flat(rel.source)} {rel.relationship.replace('_', ' ')} {_flat(rel.destination)}"
        if rel.valid_from:
            text += f" (from {short_date(rel.valid_from)})"
        triple = {"id": rel.id, **rel.triple()}
        items.append(_Item("relation", text, ("", rank), memory_ids=list(rel.memory_ids),
                           date=rel.valid_from, relation=triple))  # fmt: skip
    seen: dict[str, _Item] = {}
    for rank, hit in enumerate(parts.hits):
        record = hit.record
        if record.id in profiled:
            continue
        text = _flat(record.text)
        same = seen.get(text.casefold())
        if same is not None:
            same.memory_ids.append(record.id)
            continue
        date = record.valid_from or record.created_at
        item = _Item("memory", text, (date, rank), day=short_date(date) or "undated", memory_id=record.id,
                     memory_ids=[record.id], date=date)  # fmt: skip
        seen[text.casefold()] = item
        items.append(item)
    return items


def _choose(items: list[_Item], max_tokens: int, counter: TokenCounter, today: str | None) -> list[_Item]:
    """The items taken, in the order taken, by an additive estimate of their cost (each line
    counted once, in one batch; a date line's year counted once per year)."""
    days = sorted({item.day for item in items if item.kind == "memory"})
    years = sorted({_year(day) for day in days})
    fixed = [f"Today: {short_date(today)}", "\n", "[m10] ", *_HEADERS.values()]
    pieces = [*fixed, *(_no_year(d) for d in days), *(f" {y}" for y in years)]
    counts = counter.count_many([*pieces, *(item.text for item in items)])
    today_cost, newline, tag = counts[0], counts[1], counts[2]
    headers = dict(zip(_HEADERS, counts[3:6], strict=True))
    day_cost = dict(zip(days, counts[6 : 6 + len(days)], strict=True))
    year_cost = dict(zip(years, counts[6 + len(days) : len(pieces)], strict=True))
    used = today_cost + newline if today else 0
    spent = {"profile": 0, "relation": 0, "memory": 0}
    caps = {"profile": max_tokens // _SHARE, "relation": max_tokens // _SHARE, "memory": max_tokens}
    shown_days: set[str] = set()
    shown_years: set[str] = set()
    chosen: list[_Item] = []
    for item, size in zip(items, counts[len(pieces) :], strict=True):
        cost = tag + size + newline
        if not spent[item.kind]:
            cost += headers[item.kind] + newline
        if item.kind == "memory" and item.day not in shown_days:
            cost += day_cost[item.day] + newline
            if _year(item.day) not in shown_years:
                cost += year_cost[_year(item.day)]
        if spent[item.kind] + cost > caps[item.kind] or used + cost > max_tokens:
            continue
        spent[item.kind] += cost
        used += cost
        shown_days.add(item.day)
        shown_years.add(_year(item.day))
        chosen.append(item)
    return chosen


def _render(chosen: list[_Item], today: str | None) -> tuple[str, list[tuple[str, _Item]]]:
    """The block's text and its (tag, item) pairs in the order shown. A date line names its
    year only when it differs from the date line above (``8 May 2023``, ``25 May``)."""
    lines = [f"Today: {short_date(today)}"] if today else []
    tagged: list[tuple[str, _Item]] = []
    for kind in ("profile", "relation", "memory"):
        shown = sorted((i for i in chosen if i.kind == kind), key=lambda i: i.order)
        if not shown:
            continue
        lines.append(_HEADERS[kind])
        day, year = None, None
        for n, item in enumerate(shown, 1):
            if kind == "memory" and item.day != day:
                day = item.day
                lines.append(day if _year(day) != year else _no_year(day))
                year = _year(day)
            tag = f"{_PREFIX[kind]}{n}"
            lines.append(f"[{tag}] {item.text}")
            tagged.append((tag, item))
    return "\n".join(lines), tagged


def _year(day: str) -> str:
    """``"8 May 2023"`` -> ``"2023"`` ("" for "undated")."""
    head, _, tail = day.rpartition(" ")
    return tail if head else ""


def _no_year(day: str) -> str:
    """``"8 May 2023"`` -> ``"8 May"``."""
    head, _, _ = day.rpartition(" ")
    return head or day


def _citation(tag: str, item: _Item, sources: Callable[[str], list[str]]) -> ContextCitation:
    found: dict[str, None] = {}
    for mid in item.memory_ids:
        found.update(dict.fromkeys(sources(mid)))
    entry: ContextCitation = {
        "id": tag,
        "kind": item.kind,
        "text": item.text,
        "memory_id": item.memory_id,
        "memory_ids": list(item.memory_ids),
        "source_ids": list(found),
        "date": item.date,
    }
    if item.key is not None:
        entry["key"] = item.key
    if item.relation is not None:
        entry["relation"] = item.relation
    return entry


def _flat(text: str) -> str:
    """``text`` on one line: runs of whitespace (newlines too) as one space."""
    return " ".join(text.split())
