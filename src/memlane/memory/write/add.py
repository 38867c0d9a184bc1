"""``add`` and ``reprocess``: messages stored verbatim, or through the LLM (kept as a pending add
until its write succeeds), with the LLM's usage counted."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from memlane.memory.backends import Backends
from memlane.memory.profile import profile_scope
from memlane.memory.scope import owner_filter
from memlane.memory.write import pending
from memlane.memory.write.apply import AddOutcome, add_verbatim, apply_plan
from memlane.memory.write.apply import Finish as Keep
from memlane.memory.write.infer import Inference, describe_images, vision_detail
from memlane.memory.write.once import Finish
from memlane.memory.write.plan import Plan
from memlane.models import Message, Scope, Usage, now_iso
from memlane.store.base import PendingAdd
from memlane.types import AddResult, ReprocessResult

__all__ = ["add", "reprocess"]


def add(
    backends: Backends,
    scope: Scope,
    messages: Sequence[Message],
    params: dict[str, Any],
    *,
    infer: bool,
    finish: Finish | None = None,
) -> AddResult:
    """Remember ``messages`` in ``scope``: through the LLM with ``infer`` (``params`` as
    ``pending.params_of`` makes them), else each message verbatim. ``finish`` (an idempotent
    add's, ``once.add_once``) gets the answer inside the write transaction."""
    backends.check_embedder()
    keep = None if finish is None else _keep(backends, finish)
    usage = Usage()
    inference = _inference(backends, scope, usage)
    detail = vision_detail(backends.config)
    messages = describe_images(messages, inference if detail else None, detail or "auto")
    try:
        if infer and inference is not None:
            run = functools.partial(_run, inference, finish=keep)
            outcome = pending.add_inferred(backends.store, scope, messages, params, run)
        else:
            outcome = add_verbatim(
                backends,
                scope,
                messages,
                metadata=params["metadata"],
                observed_at=params["observed_at"],
                expiration_date=params["expiration_date"],
                finish=keep,
            )
    finally:
        backends.spend(usage)
    return outcome.response(backends)


def reprocess(backends: Backends, scope: Scope) -> ReprocessResult:
    """Retry the pending adds of ``scope`` (every id given must match; empty: all), oldest first."""
    backends.check_embedder()
    usage = Usage()

    def run(batch: PendingAdd) -> AddOutcome:
        return _run(_inference(backends, batch.scope, usage), batch)

    try:
        return pending.reprocess(backends.store, scope, run, lambda outcome: outcome.response(backends))
    finally:
        backends.spend(usage)


def _inference(backends: Backends, scope: Scope, usage: Usage) -> Inference | None:
    if backends.llm is None:
        return None
    return Inference(
        backends,
        backends.llm,
        owner_filter(scope),
        usage,
        user_name=scope.user_id or "user",
        profile_scope=profile_scope(backends, scope),
    )


def _keep(backends: Backends, finish: Finish) -> Keep:
    """``finish`` given add()'s answer for an outcome."""
    return lambda tx, outcome: finish(tx, outcome.response(backends))


def _run(
    inference: Inference | None,
    batch: PendingAdd,
    *,
    finish: Keep | None = None,
) -> AddOutcome:
    """One pending add through the LLM (a procedural summary, or the configured pipeline)
    and into the store, finishing the pending add in the same transaction."""
    assert inference is not None  # callers check that an LLM is configured
    p = batch.params
    metadata: dict[str, Any] = dict(p.get("metadata") or {})
    if p.get("memory_type"):
        plan = Plan(adds=[inference.procedural_summary(batch.messages, p.get("prompt"))])
        metadata["memory_type"] = p["memory_type"]
    else:
        date = (p.get("observed_at") or now_iso())[:10]
        plan = inference.plan(batch.messages, date, p.get("prompt"))
    return apply_plan(inference.backends, plan, batch, metadata, finish=finish)
