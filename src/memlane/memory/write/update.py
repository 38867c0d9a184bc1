"""``update``: a memory's new text (a new version; the old one stays in history), metadata or
expiration date."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from memlane.errors import NotFoundError
from memlane.memory.backends import Backends
from memlane.memory.write.events import change_event
from memlane.models import MemoryRecord, now_iso, text_hash

__all__ = ["require", "update"]

KEEP: Any = object()
"""``update``'s ``expiration_date`` when the call gave none: the memory keeps its own."""


def require(backends: Backends, memory_id: str) -> MemoryRecord:
    """The memory ``memory_id``, or ``NotFoundError``."""
    record = backends.store.get(memory_id)
    if record is None:
        raise NotFoundError(memory_id)
    return record


def update(
    backends: Backends,
    memory_id: str,
    text: str | None,
    metadata: dict[str, Any] | None,
    expiration_date: str | None = KEEP,
) -> None:
    """Change what is given (``metadata`` merged into the stored metadata); nothing is written
    when nothing changes."""
    old = require(backends, memory_id)
    now = now_iso()
    new = replace(
        old,
        text=text if text is not None else old.text,
        hash=text_hash(text) if text is not None else old.hash,
        metadata={**old.metadata, **metadata} if metadata is not None else old.metadata,
        expiration_date=old.expiration_date if expiration_date is KEEP else expiration_date,
        updated_at=now,
        sources=[],
    )
    if (new.text, new.metadata, new.expiration_date) == (old.text, old.metadata, old.expiration_date):
        return  # nothing changes: no new version
    vector = None
    if new.text != old.text:
        backends.check_embedder()
        vector = backends.embedder.embed([new.text], purpose="update")[0]
    with backends.store.transaction() as tx:
        tx.update(new, vector, now)
        tx.add_history([change_event(old, "UPDATE", new.text, at=now)])
