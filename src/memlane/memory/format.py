"""mem0's result shapes: memory items with promoted keys, add results, messages."""

from __future__ import annotations

from typing import Any

from memlane.models import Hit, MemoryRecord

__all__ = ["add_result", "hit_item", "record_item"]


def record_item(record: MemoryRecord) -> dict[str, Any]:
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
    return item


def hit_item(hit: Hit, *, explain: bool) -> dict[str, Any]:
    item = record_item(hit.record)
    item["score"] = hit.score
    if "rerank_score" in hit.details:
        item["rerank_score"] = hit.details["rerank_score"]
    if explain:
        item["score_details"] = dict(hit.details)
    return item


def add_result(record: MemoryRecord, event: str, *, verbatim: bool) -> dict[str, Any]:
    """One item of ``add()``'s results; verbatim adds carry ``actor_id`` and ``role`` (mem0)."""
    item: dict[str, Any] = {"id": record.id, "memory": record.text, "event": event}
    if verbatim:
        item["actor_id"] = record.actor_id
        item["role"] = record.role
    return item
