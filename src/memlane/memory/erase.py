"""Erasure: ``delete`` and ``delete_all`` (gone from reads and search, their history kept),
``purge`` (GDPR: erased for good, with every version, history row, source message and index
entry) and ``reset`` (everything of every scope)."""

from __future__ import annotations

from memlane.errors import NotFoundError
from memlane.filters import Filter
from memlane.memory.backends import Backends
from memlane.memory.profile import forget_profile
from memlane.memory.write.events import change_event
from memlane.memory.write.update import require
from memlane.models import Scope, now_iso

__all__ = ["delete", "delete_all", "purge", "reset"]


def delete(backends: Backends, memory_id: str) -> None:
    """Remove a memory from reads and search; its history keeps a DELETE row."""
    old = require(backends, memory_id)
    now = now_iso()
    with backends.store.transaction() as tx:
        tx.delete(memory_id, now)
        tx.expire_profile(now, memory_ids=[memory_id])
        if backends.graph is not None:
            backends.graph.remove_memories([memory_id])
        tx.add_history([change_event(old, "DELETE", None, at=now)])


def delete_all(backends: Backends, scope: Scope, where: Filter) -> int:
    """Delete every memory ``where`` matches (of ``scope``) in one transaction; how many."""
    store = backends.store
    now = now_iso()
    with store.transaction() as tx:
        records = store.list_records(where)
        tx.lock_scopes([scope, *(r.scope for r in records)])  # several owners: the store's order
        for record in records:
            tx.delete(record.id, now)
        forget_profile(tx, now, scope, where, records)
        if backends.graph is not None:
            backends.graph.delete_scope(scope)
        tx.add_history([change_event(r, "DELETE", None, at=now) for r in records])
        tx.drop_pending(scope)  # reprocess must not bring deleted conversations back
    return len(records)


def purge(backends: Backends, memory_ids: list[str], scope: Scope) -> int:
    """Erase for good the memories ``memory_ids`` (a memory never seen: ``NotFoundError``) or,
    with none, everything of ``scope``; how many memories."""
    if memory_ids and not backends.store.history(memory_ids[0]):
        raise NotFoundError(memory_ids[0])
    target = None if scope.is_empty() else scope
    if backends.graph is not None:
        backends.graph.purge(memory_ids, target)
    return backends.store.purge(memory_ids, target)


def reset(backends: Backends) -> None:
    """Remove every memory, version, history row and message of every scope."""
    if backends.graph is not None:
        backends.graph.reset()
    backends.store.reset()
    backends.store_changed()
