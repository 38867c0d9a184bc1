"""Pending adds: ``add(infer=True)`` keeps the conversation before its LLM call, so a failed
call (an unreachable endpoint, an unusable answer) loses nothing; ``reprocess`` retries them.

The messages are written (as provenance, where they land anyway) with one pending row before
the call; the transaction that writes the memories removes the row. A failed call leaves the
row for ``Memory.reprocess`` / ``memlane reprocess``; its error says how many messages wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from memlane.errors import ConflictError, LLMError
from memlane.memory.write.apply import AddOutcome
from memlane.models import Message, Scope, new_id, now_iso
from memlane.store.base import MemoryStore, PendingAdd
from memlane.types import AddResult, ReprocessedAdd, ReprocessResult

__all__ = ["STALE_AFTER", "add_inferred", "params_of", "reprocess"]

logger = logging.getLogger("memlane")

STALE_AFTER = timedelta(minutes=15)
"""An add still in flight after this long is taken to have died (its process was killed):
``reprocess`` may retry it."""

Run = Callable[[PendingAdd], AddOutcome]


def params_of(
    metadata: dict[str, Any],
    prompt: str | None,
    memory_type: str | None,
    observed_at: str | None,
    expiration_date: str | None,
) -> dict[str, Any]:
    """The arguments of an inferring add, as kept with its pending messages."""
    return {
        "metadata": metadata,
        "prompt": prompt,
        "memory_type": memory_type,
        "observed_at": observed_at,
        "expiration_date": expiration_date,
    }


def add_inferred(
    store: MemoryStore, scope: Scope, messages: Sequence[Message], params: dict[str, Any], run: Run
) -> AddOutcome:
    """Keep ``messages`` as a pending add, then ``run`` it (LLM call and write, which finishes
    the pending add). On failure the messages stay pending; an ``LLMError`` says so. A
    ``ConflictError`` (another add took over this one's idempotency key: ``once``) drops the
    pending add instead: that add does the work, and a later ``reprocess`` must not repeat it."""
    batch = PendingAdd(new_id(), scope, list(messages), params, created_at=now_iso(), attempts=1)
    with store.transaction() as tx:
        tx.add_messages(scope, messages, params.get("observed_at") or batch.created_at)
        tx.add_pending(batch)
    try:
        return run(batch)
    except ConflictError:
        with store.transaction() as tx:
            tx.finish_pending(batch.id)  # its messages stay as provenance
        raise
    except Exception as exc:
        _failed(store, batch, exc)
        raise


def reprocess(
    store: MemoryStore, scope: Scope, run: Run, respond: Callable[[AddOutcome], AddResult]
) -> ReprocessResult:
    """Retry the pending adds of ``scope`` (a filter; empty: all), oldest first; stop at the
    first ``LLMError`` (the endpoint is likely still down). Returns ``results`` (per add: its
    ``id``, scope ids, ``messages`` count and add()'s answer), ``remaining`` (messages still
    waiting) and ``error`` when an attempt failed."""
    where = None if scope.is_empty() else scope
    results: list[ReprocessedAdd] = []
    error: str | None = None
    for batch in store.pending(where):
        now = datetime.now(UTC)
        stale = (now - STALE_AFTER).isoformat()
        if not store.claim_pending(batch.id, now.isoformat(), stale_before=stale):
            continue  # in flight in another call
        observed_at = batch.params.get("observed_at") or batch.created_at
        replay = replace(batch, params={**batch.params, "observed_at": observed_at})
        try:
            applied = run(replay)
        except LLMError as exc:
            error = _reason(exc)
            store.release_pending(batch.id, error)
            break
        except Exception as exc:
            store.release_pending(batch.id, _reason(exc))
            raise
        item = {"id": batch.id, **batch.scope.as_dict(), "messages": len(batch.messages), **respond(applied)}
        results.append(cast(ReprocessedAdd, item))  # the keys ReprocessedAdd documents
    out: ReprocessResult = {"results": results, "remaining": store.pending_count(where)}
    if error is not None:
        out["error"] = error
    return out


def _failed(store: MemoryStore, batch: PendingAdd, exc: Exception) -> None:
    """Record why the add failed; an ``LLMError`` learns how many messages wait and how to retry."""
    try:
        store.release_pending(batch.id, _reason(exc))
        waiting = store.pending_count(batch.scope)
    except Exception:  # the original error matters more
        logger.exception("memlane add: could not record the failed add %s", batch.id)
        return
    if isinstance(exc, LLMError):
        ids = ", ".join(f"{k}={v!r}" for k, v in batch.scope.as_dict().items())
        flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in batch.scope.as_dict().items())
        exc.args = (
            f"{exc}; the conversation was kept: {waiting} message(s) of this scope wait for "
            f"extraction: retry with Memory.reprocess({ids}) or `memlane reprocess {flags}`",
        )
        exc.pending = waiting


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
