"""Turning the model's operations into a safe plan. Pure: no I/O, never raises on bad ids.

The model sees existing memories under small integer keys ("0", "1", ...). Whatever it
answers, the plan only touches memories it was shown: an UPDATE or DELETE of an unknown key
becomes an ADD of its text (with a warning), a second operation on the same memory is treated
the same way, repeated facts are dropped, and facts copied from the prompt's own examples
(equal to one and not supported by the conversation) are never stored; operations with nothing
to write (an ADD without text) are counted as ``void``. Profile slots keep only the allowed
keys (others are dropped with a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from memlane.errors import LLMError
from memlane.graph.models import ExtractedEntity, ExtractedRelation
from memlane.models import MemoryRecord, profile_key, text_hash
from memlane.prompts.common import MemoryOp, copied_from, normalize_fact
from memlane.prompts.profile import ProfileItem, clean_value

__all__ = ["CopiedExampleError", "Plan", "drop_copies", "make_plan", "profile_plan"]

logger = logging.getLogger("memlane")


class CopiedExampleError(LLMError):
    """Every fact the model gave is a copy of the prompt's example (the caller may retry once
    without the example)."""


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
    void: int = 0
    """Operations that had nothing to write (an ADD or an unknown id without text)."""
    attribution: dict[str, str] = field(default_factory=dict)
    """New text -> the role it came from ("user", "assistant"), mem0's ``attributed_to``."""
    kinds: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """New text -> (its memory type, its event date YYYY-MM-DD) as the model gave them."""

    def new_texts(self) -> list[str]:
        """Texts to embed: additions first, then updated texts, in plan order."""
        return [*self.adds, *(text for _, text in self.updates)]


def make_plan(
    ops: Sequence[MemoryOp],
    shown: Mapping[str, MemoryRecord],
    *,
    example_texts: Iterable[str] = (),
    conversation: str = "",
) -> Plan:
    """Validate ``ops`` against the memories ``shown`` to the model (by key); ``conversation``
    tells a real fact that equals an example from a copy. Raises ``CopiedExampleError`` when
    every operation is a copy."""
    plan = Plan()
    texts = [op.text.strip() for op in ops]
    kept, copies = drop_copies(texts, example_texts, conversation)
    if copies and not kept:
        raise CopiedExampleError(
            "the model copied the prompt's example instead of reading the conversation; "
            "nothing was stored (a larger model, or the 'classic' pipeline, may help)"
        )
    _warn_copies(plan, copies)
    touched: set[str] = set()
    seen = {normalize_fact(r.text) for r in shown.values()}
    hashes = {r.hash for r in shown.values()}
    for op, text in zip(ops, texts, strict=True):
        if text in copies:
            continue
        target = shown.get(op.id.strip()) if op.id else None
        if op.event in ("UPDATE", "DELETE", "NONE") and target is None:
            if op.event != "NONE" and text:
                _warn(plan, f"{op.event} of unknown id {op.id!r}: stored as a new memory")
                _add(plan, text, seen, hashes)
            else:
                plan.void += op.event != "NONE"
                _warn(plan, f"{op.event} of unknown id {op.id!r} ignored")
            continue
        if target is not None and target.id in touched:
            _warn(plan, f"second operation on id {op.id!r}: treated as a new fact")
            if text and op.event != "NONE":
                _add(plan, text, seen, hashes)
            continue
        if op.event == "ADD" or target is None:
            if not text:
                plan.void += 1
                _warn(plan, "an ADD without text ignored")
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
    for op, text in zip(ops, texts, strict=True):
        if text and (op.type or op.when):
            plan.kinds.setdefault(text, (op.type, op.when))
    return plan


def drop_copies(
    texts: Sequence[str], example_texts: Iterable[str], conversation: str
) -> tuple[list[str], list[str]]:
    """``texts`` split into (kept, copies): a copy equals one of ``example_texts`` and is not
    supported by ``conversation``. Empty texts are kept (they are not copies)."""
    examples = tuple(example_texts)
    kept: list[str] = []
    copies: list[str] = []
    for text in texts:
        (copies if text and copied_from(text, examples, conversation) else kept).append(text)
    return kept, copies


def _warn_copies(plan: Plan, copies: Sequence[str]) -> None:
    """One warning for every copy of the prompt's example in one answer."""
    if copies:
        shown = ", ".join(repr(text) for text in dict.fromkeys(copies))
        _warn(plan, f"dropped {len(copies)} fact(s) copied from the prompt's example: {shown}")


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
