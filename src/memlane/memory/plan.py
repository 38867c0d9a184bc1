"""Turning the model's operations into a safe plan. Pure: no I/O, never raises on bad ids.

The model sees existing memories under small integer keys ("0", "1", ...). Whatever it
answers, the plan only touches memories it was shown: an UPDATE or DELETE of an unknown key
becomes an ADD of its text (with a warning), a second operation on the same memory is treated
the same way, repeated facts are dropped, and facts copied from the prompt's own examples
are never stored. Profile slots keep only the allowed keys (others are dropped with a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from memlane.errors import LLMError
from memlane.graph.extraction import ExtractedEntity, ExtractedRelation
from memlane.models import MemoryRecord, profile_key, text_hash
from memlane.prompts.common import MemoryOp, copied_from, normalize_fact
from memlane.prompts.profile import ProfileItem, clean_value

__all__ = ["Plan", "make_plan", "profile_plan"]

logger = logging.getLogger("memlane")


@dataclass(slots=True)
class Plan:
    """What one add() will write."""

    adds: list[str] = field(default_factory=list)
    updates: list[tuple[MemoryRecord, str]] = field(default_factory=list)
    deletes: list[MemoryRecord] = field(default_factory=list)
    unchanged: list[MemoryRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entities: list[ExtractedEntity] = field(default_factory=list)
    relations: list[ExtractedRelation] = field(default_factory=list)
    profile: list[tuple[str, str | None]] = field(default_factory=list)
    """Profile slots to set (key, value) or clear (key, None)."""

    def new_texts(self) -> list[str]:
        """Texts to embed: additions first, then updated texts, in plan order."""
        return [*self.adds, *(text for _, text in self.updates)]


def make_plan(
    ops: Sequence[MemoryOp],
    shown: Mapping[str, MemoryRecord],
    *,
    example_texts: Iterable[str] = (),
) -> Plan:
    """Validate ``ops`` against the memories ``shown`` to the model (by key)."""
    plan = Plan()
    examples = tuple(example_texts)
    touched: set[str] = set()
    seen = {normalize_fact(r.text) for r in shown.values()}
    hashes = {r.hash for r in shown.values()}
    copies = 0
    for op in ops:
        text = op.text.strip()
        if text and copied_from(text, examples):
            copies += 1
            _warn(plan, f"dropped {text!r}: copied from the prompt's example")
            continue
        target = shown.get(op.id.strip()) if op.id else None
        if op.event in ("UPDATE", "DELETE", "NONE") and target is None:
            if op.event != "NONE" and text:
                _warn(plan, f"{op.event} of unknown id {op.id!r}: stored as a new memory")
                _add(plan, text, seen, hashes)
            else:
                _warn(plan, f"{op.event} of unknown id {op.id!r} ignored")
            continue
        if target is not None and target.id in touched:
            _warn(plan, f"second operation on id {op.id!r}: treated as a new fact")
            if text and op.event != "NONE":
                _add(plan, text, seen, hashes)
            continue
        if op.event == "ADD" or target is None:
            _add(plan, text, seen, hashes)
        elif op.event == "UPDATE":
            touched.add(target.id)
            if not text or normalize_fact(text) == normalize_fact(target.text):
                plan.unchanged.append(target)
            else:
                seen.add(normalize_fact(text))
                plan.updates.append((target, text))
        elif op.event == "DELETE":
            touched.add(target.id)
            plan.deletes.append(target)
            _add(plan, text, seen, hashes)
        else:
            touched.add(target.id)
            plan.unchanged.append(target)
    if copies and copies == len(ops):
        raise LLMError(
            "the model copied the prompt's example instead of reading the conversation; "
            "nothing was stored (a larger model, or the 'classic' pipeline, may help)"
        )
    return plan


def profile_plan(plan: Plan, items: Sequence[ProfileItem], allowed: Collection[str]) -> None:
    """Put the model's profile slots in ``plan``: keys normalised to snake_case, keys outside
    ``allowed`` dropped with a warning; a key given twice keeps its last value."""
    chosen: dict[str, str | None] = {}
    for item in items:
        key = profile_key(item.key)
        if key not in allowed:
            _warn(plan, f"profile key {item.key!r} is not an allowed slot: dropped")
            continue
        chosen.pop(key, None)
        chosen[key] = clean_value(item.value)
    plan.profile = list(chosen.items())


def _add(plan: Plan, text: str, seen: set[str], hashes: set[str]) -> None:
    key = normalize_fact(text)
    if not key or key in seen or text_hash(text) in hashes:
        return
    seen.add(key)
    plan.adds.append(text)


def _warn(plan: Plan, message: str) -> None:
    plan.warnings.append(message)
    logger.warning("memlane add: %s", message)
