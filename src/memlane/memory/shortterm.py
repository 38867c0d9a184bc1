"""Short-term memory: the memories of a ``run_id``.

They expire ``short_term.ttl`` after their ``created_at`` (or at their ``expiration_date``, as
every memory does), are hidden once expired unless ``show_expired=True``, and are deleted by
``prune``. ``search(run_id=r, long_term=True)`` reads the run plus the owner's long-term
memories (those of no run) and lifts the run's. ``promote`` makes one long-term: its run id
and expiry go, a history row records it; a fact that recurs in another run of the same user
(or agent), or outside any run, promotes the earlier memory in the same write.
"""

from __future__ import annotations

from memlane.config import ShortTermConfig
from memlane.errors import InvalidInputError
from memlane.filters import And, Cond, Filter, Not, Or, and_
from memlane.memory.backends import Backends
from memlane.memory.times import live_filter
from memlane.memory.write.events import change_event
from memlane.memory.write.promote import promote_in, require_owner
from memlane.memory.write.update import require
from memlane.models import Hit, MemoryRecord, Scope, now_iso

__all__ = ["boost_run", "expired_filter", "long_term_scope", "promote", "prune", "widen_run"]


def expired_filter(config: ShortTermConfig) -> Filter:
    """The memories ``times.live_filter`` hides."""
    return Not(live_filter(config.ttl))


def long_term_scope(scope: Scope, where: Filter) -> tuple[Scope, Filter, str]:
    """``long_term=True``: the run's owner (its user, else agent) as the scope, ``where`` widened
    to the run plus the owner's memories of no run, and the run to lift."""
    if scope.run_id is None or (scope.user_id is None and scope.agent_id is None):
        raise InvalidInputError(
            "long_term=True reads a run plus its owner's long-term memories: give a run_id and a "
            "user_id (or agent_id)"
        )
    return Scope(scope.user_id, scope.agent_id, None), widen_run(where, scope.run_id), scope.run_id


def widen_run(where: Filter, run_id: str) -> Filter:
    """``where`` with its ``run_id == run_id`` condition read as "this run, or no run" (the
    owner's long-term memories)."""
    if isinstance(where, Cond) and where == Cond("run_id", "eq", run_id):
        return Or((where, Not(Cond("run_id", "exists"))))
    if isinstance(where, And):
        return And(tuple(widen_run(item, run_id) for item in where.items))
    return where


def boost_run(hits: list[Hit], run_id: str, weight: float, top_k: int, *, explain: bool) -> list[Hit]:
    """The run's memories lifted (score ``s`` becomes ``s + weight * (1 - s)``), re-ranked,
    the best ``top_k`` kept; ``explain`` shows the lift as ``run_boost``."""
    for hit in hits:
        lift = weight * (1.0 - hit.score) if hit.record.scope.run_id == run_id else 0.0
        hit.score += lift
        if explain:
            hit.details["run_boost"] = lift
            hit.details["final_score"] = hit.score
    return sorted(hits, key=lambda h: -h.score)[:top_k]


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
        for record in records:
            tx.delete(record.id, now)
        if records:
            tx.expire_profile(now, memory_ids=[r.id for r in records])
            if backends.graph is not None:
                backends.graph.remove_memories([r.id for r in records])
        tx.add_history([change_event(r, "DELETE", None, at=now) for r in records])
    return records
