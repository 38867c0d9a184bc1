"""The ``infer=False`` add pipeline: every message verbatim, embedded in one batch, one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.embed.base import Embedder
from memlane.models import HistoryEvent, MemoryRecord, Message, Scope, new_id, now_iso
from memlane.store.base import MemoryStore

__all__ = ["add_verbatim"]


def add_verbatim(
    store: MemoryStore,
    embedder: Embedder,
    scope: Scope,
    messages: Sequence[Message],
    *,
    metadata: dict[str, Any],
    observed_at: str | None,
    expiration_date: str | None,
) -> list[MemoryRecord]:
    """Store each message as its own memory; return the new records in message order."""
    vectors = embedder.embed([m.content for m in messages], purpose="add")
    now = now_iso()
    records = [
        MemoryRecord(
            id=new_id(),
            text=m.content,
            scope=scope,
            created_at=now,
            updated_at=now,
            actor_id=m.name,
            role=m.role,
            metadata=dict(metadata),
            valid_from=observed_at or now,
            expiration_date=expiration_date,
            sources=[m.id],
        )
        for m in messages
    ]
    with store.transaction() as tx:
        tx.add_messages(scope, messages, observed_at or now)
        for record, vector in zip(records, vectors, strict=False):
            tx.insert(record, vector)
        tx.add_history([added_event(r, now) for r in records])
    return records


def added_event(record: MemoryRecord, at: str) -> HistoryEvent:
    """The history row of a new memory."""
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=None,
        new_memory=record.text,
        event="ADD",
        created_at=at,
        actor_id=record.actor_id,
        role=record.role,
    )
