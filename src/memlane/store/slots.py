"""The valid-time rules of profile slots, shared by every store back end.

The versions of a slot form one timeline of half-open intervals ``[valid_from, valid_to)`` that
never overlap (the current version's is open). A new value observed at ``t`` ends the version
whose interval holds ``t`` there and takes over the rest of it; observed in a gap (before the
first version, or after a clear), it lasts until the next version begins, and becomes current
only when none does. Versions retracted by ``expire`` (record time only: ``valid_to`` NULL) are
no part of the timeline. A clear ends the current value; an older clear changes nothing.

``plan_slot`` decides; a back end reads the timeline and writes what the plan says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from memlane.models import ProfileChange, ProfileSlot, Scope

__all__ = ["SLOT_COLUMNS", "SlotPlan", "Version", "plan_slot", "slot_of_row"]

SLOT_COLUMNS = (
    "id", "user_id", "agent_id", "run_id", "key", "value", "memory_id",
    "valid_from", "valid_to", "recorded_at", "expired_at",
)  # fmt: skip
"""The columns of a slot version, in the order ``slot_of_row`` reads them (and dump writes them)."""


class Version(NamedTuple):
    """One version on a slot's timeline; ``row`` is the back end's handle to update it."""

    row: Any
    value: str
    start: str
    end: str | None
    current: bool

    def holds(self, moment: str) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class SlotPlan:
    """What to write: end ``ended`` (``valid_to`` = the observation, ``expired_at`` = now unless
    already set), then, if ``insert``, a new version valid until ``insert_until`` (None: current)."""

    ended: Version | None = None
    insert: bool = False
    insert_until: str | None = None
    change: ProfileChange | None = None


def plan_slot(
    timeline: list[Version], key: str, value: str | None, observed_at: str, memory_id: str | None
) -> SlotPlan:
    """The writes that set (or, ``value`` None, clear) one slot observed at ``observed_at``."""
    current = next((v for v in timeline if v.current), None)
    if value is None:
        if current is None or observed_at < current.start:
            return SlotPlan()
        return SlotPlan(current, change=ProfileChange(key, None, current.value, memory_id))
    holder = next((v for v in reversed(timeline) if v.holds(observed_at)), None)
    later = [v for v in timeline if v.start > observed_at]
    if holder is not None:
        if _same(holder.value, value):
            return SlotPlan()
        until = holder.end
    elif later:
        if _same(later[0].value, value):
            return SlotPlan()
        until = later[0].start
    else:
        until = None
    if until is not None:  # an older observation: history, never the current value
        return SlotPlan(holder, insert=True, insert_until=until)
    change = ProfileChange(key, value, None if holder is None else holder.value, memory_id)
    return SlotPlan(holder, insert=True, change=change)


def slot_of_row(row: Any) -> ProfileSlot:
    """A slot version from a row of ``SLOT_COLUMNS``."""
    return ProfileSlot(
        id=row[0],
        scope=Scope(row[1], row[2], row[3]),
        key=row[4],
        value=row[5],
        memory_id=row[6],
        valid_from=row[7],
        valid_to=row[8],
        recorded_at=row[9],
        expired_at=row[10],
    )


def _same(old: str, new: str) -> bool:
    return " ".join(old.split()).casefold() == " ".join(new.split()).casefold()
