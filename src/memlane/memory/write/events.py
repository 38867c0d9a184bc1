"""The history rows writes add: a new memory's ADD, a change's UPDATE or DELETE. Pure."""

from __future__ import annotations

from memlane.models import EventName, HistoryEvent, MemoryRecord, new_id

__all__ = ["added_event", "change_event"]


def added_event(record: MemoryRecord) -> HistoryEvent:
    """The history row of a new memory: created and updated when the memory was (mem0 #4467)."""
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=None,
        new_memory=record.text,
        event="ADD",
        created_at=record.created_at,
        updated_at=record.created_at,
        actor_id=record.actor_id,
        role=record.role,
    )


def change_event(record: MemoryRecord, event: EventName, new_text: str | None, *, at: str) -> HistoryEvent:
    """The history row of an UPDATE or a DELETE: ``created_at`` stays the memory's, ``updated_at``
    is the time of the change (mem0 #4467)."""
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=record.text,
        new_memory=new_text,
        event=event,
        created_at=record.created_at,
        updated_at=at,
        is_deleted=event == "DELETE",
        actor_id=record.actor_id,
        role=record.role,
    )
