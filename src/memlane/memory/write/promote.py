"""Promotion of short-term memories (a run's) to long-term: their run id and expiry go, the run
is kept in metadata (``promoted_from_run``), a history row records it. A fact that recurs in
another run of the same user (or agent), or outside any run, promotes the earlier memory in the
same write (``short_term.promote_recurring``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from memlane.errors import InvalidInputError
from memlane.filters import Cond, and_
from memlane.memory.backends import Backends
from memlane.memory.times import live_filter
from memlane.memory.write.events import change_event
from memlane.memory.write.update import require
from memlane.models import MemoryRecord, Scope, Vectors, now_iso
from memlane.store.base import StoreTransaction

__all__ = ["PROMOTED_FROM", "promote", "promote_in", "promote_recurring", "recurring", "require_owner"]

logger = logging.getLogger("memlane")

PROMOTED_FROM = "promoted_from_run"
"""The metadata key a promoted memory keeps its former run id under."""


def promote_in(tx: StoreTransaction, record: MemoryRecord, at: str) -> MemoryRecord:
    """``record`` without its run id and expiry (its former run kept in metadata), with a
    history row (an UPDATE that keeps the text), inside ``tx``."""
    require_owner(record)
    scope = Scope(record.scope.user_id, record.scope.agent_id, None)
    metadata = dict(record.metadata)
    if record.scope.run_id is not None:
        metadata[PROMOTED_FROM] = record.scope.run_id
    promoted = replace(
        record, scope=scope, expiration_date=None, updated_at=at, metadata=metadata, sources=[]
    )
    tx.update(promoted, None, at)
    tx.add_history([change_event(record, "UPDATE", record.text, at=at)])
    return promoted


def require_owner(record: MemoryRecord) -> None:
    if record.scope.user_id is None and record.scope.agent_id is None:
        raise InvalidInputError(
            f"memory {record.id} belongs to run {record.scope.run_id!r} alone: a long-term memory "
            "needs a user_id or agent_id (add it with update(..., metadata=...) is not possible; "
            "add the fact again with a user_id)"
        )


def recurring(
    backends: Backends, scope: Scope, vectors: Sequence[Vectors], seen: Sequence[MemoryRecord] = ()
) -> list[MemoryRecord]:
    """The live short-term memories of ``scope``'s owner in other runs that a new write repeats:
    the nearest to each new text's vector at cosine ``promote_similarity`` or more, and those of
    ``seen`` (memories the model said the conversation repeats). Empty when promotion is off or
    the scope has no user or agent."""
    config = backends.config.short_term
    if not config.promote_recurring or (scope.user_id is None and scope.agent_id is None):
        return []
    owner = Cond("user_id", "eq", scope.user_id) if scope.user_id else Cond("agent_id", "eq", scope.agent_id)
    other = Cond("run_id", "ne", scope.run_id) if scope.run_id else Cond("run_id", "exists")
    where = and_(owner, Cond("run_id", "exists"), other, live_filter(config.ttl))
    found: dict[str, MemoryRecord] = {}
    for record in seen:
        if record.scope.run_id and record.scope.run_id != scope.run_id and _same_owner(record.scope, scope):
            found[record.id] = record
    for vector in vectors:
        for memory_id, score in backends.store.vector_search(vector, where, 1):
            if score >= config.promote_similarity and memory_id not in found:
                near = backends.store.get(memory_id)
                if near is not None:
                    found[memory_id] = near
    return list(found.values())


def _same_owner(have: Scope, scope: Scope) -> bool:
    if scope.user_id is not None:
        return have.user_id == scope.user_id
    return have.agent_id == scope.agent_id


def promote_recurring(
    tx: StoreTransaction, backends: Backends, records: Sequence[MemoryRecord], at: str
) -> int:
    """Promote ``records`` (from ``recurring``) that are still as they were, inside ``tx``."""
    if not records:
        return 0
    current = backends.store.get_many([r.id for r in records])
    promoted = 0
    for record in records:
        now = current.get(record.id)
        if now is None or now.scope.run_id is None:
            continue
        promote_in(tx, now, at)
        promoted += 1
    if promoted:
        logger.info("memlane add: %d memory(ies) recurring across runs promoted to long-term", promoted)
    return promoted


def promote(backends: Backends, memory_id: str) -> tuple[MemoryRecord, bool]:
    """Make a memory long-term; returns it and whether anything changed (a memory of no run
    and no expiry is long-term already)."""
    record = require(backends, memory_id)
    if record.scope.run_id is None and record.expiration_date is None:
        return record, False
    require_owner(record)
    with backends.store.transaction() as tx:
        promoted = promote_in(tx, record, now_iso())
    return promoted, True
