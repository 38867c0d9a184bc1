"""Pruning: the expired memories (a run's past ``short_term.ttl``, or past their
``expiration_date``) deleted as ``delete`` does."""

from __future__ import annotations

from memlane.filters import Filter, and_
from memlane.memory.backends import Backends
from memlane.memory.shortterm import expired_filter
from memlane.memory.write.events import change_event
from memlane.models import MemoryRecord, now_iso

__all__ = ["prune"]


def prune(backends: Backends, where: Filter, *, dry_run: bool) -> list[MemoryRecord]:
    """Delete the expired memories ``where`` matches (as ``delete`` does: gone from reads and
    search, history keeps a DELETE row and the versions stay); ``dry_run`` only lists them."""
    store = backends.store
    target = and_(where, expired_filter(backends.config.short_term))
    if dry_run:
        return store.list_records(target)
    now = now_iso()
    with store.transaction() as tx:
        records = store.list_records(target)
        tx.lock_scopes([r.scope for r in records])  # several owners: the store's order
        for record in records:
            tx.delete(record.id, now)
        if records:
            tx.expire_profile(now, memory_ids=[r.id for r in records])
            if backends.graph is not None:
                backends.graph.remove_memories([r.id for r in records])
        tx.add_history([change_event(r, "DELETE", None, at=now) for r in records])
    return records
