"""``add(idempotency_key=...)``: a retried add answers what the first one did, without writing
or calling the LLM again.

The first add with a key claims it in the store (``MemoryStore.claim_request``: the key, a hash
of the add's arguments, a token of its own), does its work, and keeps its answer in the
transaction of its writes (``finish_request``): either both land or neither. A repeat with the
same key and arguments gets the kept answer; with other arguments, a ``ConflictError``. A repeat
that arrives while the first is still running waits for it (``idempotency.wait``), then answers
the same; a failed add frees its key (an inferring add whose LLM call failed also leaves its
conversation waiting for ``reprocess``, as without a key: retry it with the key, or reprocess
it, not both, or its memories are written twice). A claim older than ``idempotency.stale_after`` whose add
never finished (its process died) is taken over by the next repeat; the first add, should it
still be running, then finds its claim gone and rolls back. Keys are forgotten after
``idempotency.ttl`` (by later claims, a batch at a time).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from memlane.errors import ConflictError
from memlane.memory.backends import Backends
from memlane.models import Message, Scope, new_id
from memlane.store.base import StoredRequest, StoreTransaction
from memlane.types import AddResult

__all__ = ["Finish", "add_once", "request_hash"]

logger = logging.getLogger("memlane")

Finish = Callable[[StoreTransaction, AddResult], None]
"""Called by the add's write transaction with its answer, before it commits."""

_POLL = (0.02, 0.5)
"""The first and the longest pause between two looks at a key held by another add (seconds)."""


def request_hash(scope: Scope, messages: Sequence[Message], params: dict[str, Any], infer: bool) -> str:
    """A hash of an add's arguments as the add reads them (normalised messages, scope, options)."""
    payload = {
        "scope": scope.as_dict(),
        "messages": [[m.role, m.content, m.name, list(m.images), m.metadata] for m in messages],
        "params": params,
        "infer": infer,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_once(
    backends: Backends, key: str, digest: str, scope: Scope, work: Callable[[Finish], AddResult]
) -> AddResult:
    """Run ``work`` (an add that calls its ``Finish`` inside its write transaction) once for
    ``key``; a repeat answers the first's result."""
    store, config = backends.store, backends.config.idempotency
    token = new_id()
    deadline = time.monotonic() + config.wait
    pause = _POLL[0]
    while True:
        now = datetime.now(UTC)
        held = store.claim_request(
            key, digest, scope, token, now.isoformat(),
            stale_before=(now - timedelta(seconds=config.stale_after)).isoformat(),
            expired_before=(now - timedelta(seconds=config.ttl)).isoformat(),
        )  # fmt: skip
        if held.token == token:
            break
        if held.request_hash != digest:
            raise ConflictError(
                f"the idempotency key {key!r} was used by an add with other arguments (at "
                f"{held.created_at}); a retry must repeat the same call: use a new key for a new add"
            )
        if held.result is not None:
            return cast(AddResult, held.result)  # the shape add() answered
        if time.monotonic() + pause > deadline:
            raise _in_flight(key, held, config.wait)
        time.sleep(pause)
        pause = min(pause * 2, _POLL[1])

    def finish(tx: StoreTransaction, result: AddResult) -> None:
        if not tx.finish_request(key, token, cast(dict[str, Any], result)):
            raise ConflictError(
                f"the add holding the idempotency key {key!r} ran longer than "
                f"idempotency.stale_after and another add took the key over; nothing was written"
            )

    try:
        return work(finish)
    except BaseException:
        try:
            store.release_request(key, token)
        except Exception:  # the add's own error matters more
            logger.exception("memlane add: could not free the idempotency key %r", key)
        raise


def _in_flight(key: str, held: StoredRequest, waited: float) -> ConflictError:
    return ConflictError(
        f"another add with the idempotency key {key!r} (started at {held.created_at}) is still "
        f"running after {waited:g} s (idempotency.wait): retry later with the same key"
    )
