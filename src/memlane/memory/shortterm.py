"""Short-term memory: the memories of a ``run_id``.

They expire ``short_term.ttl`` after their ``created_at`` (or at their ``expiration_date``, as
every memory does), are hidden once expired unless ``show_expired=True``, and are deleted by
``prune``. ``search(run_id=r, long_term=True)`` reads the run plus the owner's long-term
memories (those of no run) and lifts the run's. The read side lives here; promotion and
pruning are writes (``memory.write.promote``, ``memory.write.prune``).
"""

from __future__ import annotations

from memlane.config import ShortTermConfig
from memlane.errors import InvalidInputError
from memlane.filters import And, Cond, Filter, Not, Or
from memlane.memory.times import live_filter
from memlane.models import Hit, Scope

__all__ = ["boost_run", "expired_filter", "long_term_scope", "widen_run"]


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
