"""mem0's result shapes: memories (with their promoted keys), add() items, history rows and
profile slots, as the plain dicts ``memlane.types`` documents."""

from __future__ import annotations

from typing import Any, cast

from memlane.models import HistoryEvent, Hit, MemoryRecord, ProfileChange, ProfileSlot
from memlane.types import (
    AddResultItem,
    HistoryItem,
    MemoryItem,
    ProfileChangeItem,
    ProfileSlotItem,
    SearchItem,
)

__all__ = ["add_item", "change_item", "history_item", "hit_item", "record_item", "slot_item"]


def record_item(record: MemoryRecord) -> MemoryItem:
    """A memory as mem0 returns it: base keys, then ids, role and (inferred memories) the
    ``attributed_to`` role promoted when present."""
    metadata = dict(record.metadata)
    attributed = metadata.pop("attributed_to", None)
    item: dict[str, Any] = {
        "id": record.id,
        "memory": record.text,
        "hash": record.hash,
        "metadata": metadata or None,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
    promoted = {
        **record.scope.as_dict(),
        "actor_id": record.actor_id,
        "role": record.role,
        "attributed_to": attributed,
        "expiration_date": record.expiration_date,
    }
    item.update({k: v for k, v in promoted.items() if v is not None})
    return cast(MemoryItem, item)  # the keys MemoryItem documents


def hit_item(hit: Hit, *, explain: bool) -> SearchItem:
    item = cast(SearchItem, {**record_item(hit.record), "score": hit.score})
    if "rerank_score" in hit.details:
        item["rerank_score"] = hit.details["rerank_score"]
    if explain:
        item["score_details"] = dict(hit.details)
    return item


def add_item(record: MemoryRecord, event: str, *, verbatim: bool) -> AddResultItem:
    """One item of ``add()``'s results; verbatim adds carry ``actor_id`` and ``role`` (mem0)."""
    item: AddResultItem = {"id": record.id, "memory": record.text, "event": event}
    if verbatim:
        item["actor_id"] = record.actor_id
        item["role"] = record.role
    return item


def history_item(event: HistoryEvent) -> HistoryItem:
    """One row of ``history()``."""
    return {
        "id": event.id,
        "memory_id": event.memory_id,
        "old_memory": event.old_memory,
        "new_memory": event.new_memory,
        "event": event.event,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
        "is_deleted": event.is_deleted,
        "actor_id": event.actor_id,
        "role": event.role,
    }


def slot_item(slot: ProfileSlot) -> ProfileSlotItem:
    """One version of a profile slot, as ``get_profile`` and ``profile_history`` give it."""
    return {
        "key": slot.key,
        "value": slot.value,
        "memory_id": slot.memory_id,
        "valid_from": slot.valid_from,
        "valid_to": slot.valid_to,
        "recorded_at": slot.recorded_at,
        "expired_at": slot.expired_at,
    }


def change_item(change: ProfileChange) -> ProfileChangeItem:
    """One item of ``add()``'s ``"profile"`` list."""
    return {
        "key": change.key,
        "value": change.value,
        "previous_value": change.previous,
        "event": change.event,
        "memory_id": change.memory_id,
    }
