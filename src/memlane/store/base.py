"""The store contract every back end implements (SQLite now; Postgres and others later).

Writes go through one ``transaction()``: everything in it lands together or not at all.
Reads never see deleted memories. Filters arrive parsed (``memlane.filters``); each store
compiles them into its own dialect.

Profile slots belong to an exact scope (``set_profile``, ``profile``, ``profile_versions``);
``expire_profile``, ``purge`` and ``reset`` take a scope as a filter, as memories do (every id
that is set must match).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from memlane.embed.base import Vectors
from memlane.filters import Filter
from memlane.models import (
    HistoryEvent,
    MemoryRecord,
    MemoryVersion,
    Message,
    ProfileChange,
    ProfileSlot,
    Scope,
)

__all__ = ["MemoryStore", "ScoredId", "StoreTransaction"]

ScoredId = tuple[str, float]


class StoreTransaction(Protocol):
    """The writes of one public call."""

    def add_messages(self, scope: Scope, messages: Sequence[Message], observed_at: str) -> None:
        """Keep raw messages as provenance."""

    def insert(self, record: MemoryRecord, vector: Vectors) -> None:
        """A new memory (version 1) with its unit-length vector."""

    def update(self, record: MemoryRecord, vector: Vectors | None, at: str) -> None:
        """Replace a memory's current state; a changed text adds a version (the old one expires)."""

    def delete(self, memory_id: str, at: str) -> None:
        """Remove a memory from reads and search; versions and history stay."""

    def add_history(self, events: Sequence[HistoryEvent]) -> None:
        """Append history rows."""

    def set_profile(
        self,
        scope: Scope,
        key: str,
        value: str | None,
        *,
        observed_at: str,
        at: str,
        memory_id: str | None = None,
    ) -> ProfileChange | None:
        """Set (``value``) or clear (None) one slot of the exact ``scope``; return the change, or
        None when the current value stays (the same value, case and spacing aside, or nothing
        to clear).

        The current version is kept: it gets ``expired_at = at`` and ``valid_to = observed_at``,
        and the new one starts with ``valid_from = observed_at``, ``recorded_at = at``. An
        observation older than the current value's ``valid_from`` changes nothing current: its
        value is kept as a past version (recorded and expired at ``at``) valid until the next
        later version begins; a past version that held at ``observed_at`` now ends there. The
        valid-time intervals of one slot never overlap."""
        ...

    def expire_profile(
        self, at: str, *, scope: Scope | None = None, memory_ids: Sequence[str] = ()
    ) -> list[ProfileChange]:
        """Clear the current slots of ``scope`` (a filter) and those written from ``memory_ids``
        (``expired_at = at``; the versions stay); return what was cleared."""
        ...


class MemoryStore(Protocol):
    """Memories, their versions and history, full text, vectors and provenance."""

    def ensure_dimension(self, dimension: int) -> None:
        """Record the vector size on first use; raise ``DimensionMismatchError`` if it differs."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """One atomic unit of writes."""
        ...

    def get(self, memory_id: str) -> MemoryRecord | None:
        """The current memory, or None if it does not exist or was deleted."""
        ...

    def get_many(self, memory_ids: Sequence[str]) -> dict[str, MemoryRecord]:
        """The current memories among ``memory_ids``, by id."""
        ...

    def list_records(self, where: Filter, *, limit: int | None = None) -> list[MemoryRecord]:
        """Current memories matching ``where``, newest first."""
        ...

    def count(self, where: Filter) -> int:
        """How many current memories match ``where``."""
        ...

    def vector_search(self, vector: Vectors, where: Filter, limit: int) -> list[ScoredId]:
        """Exact or approximate nearest memories by cosine similarity, best first."""
        ...

    def similarities(self, vector: Vectors, memory_ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to each of the given memories."""
        ...

    def vectors(self, memory_ids: Sequence[str]) -> dict[str, Vectors]:
        """The unit vectors of the given memories (those that have one)."""
        ...

    def keyword_search(self, terms: Sequence[str], where: Filter, limit: int) -> list[ScoredId]:
        """Full-text matches of any of ``terms`` ranked by BM25 (higher is better)."""
        ...

    def neighbours(
        self, memory_ids: Sequence[str], window: int, where: Filter
    ) -> dict[str, list[tuple[str, int]]]:
        """For each memory, the current memories whose source messages are within ``window``
        messages of its own in the same conversation (same scope and observation time) and
        that match ``where``, as (memory id, distance) pairs."""
        ...

    def history(self, memory_id: str) -> list[HistoryEvent]:
        """History rows of one memory, oldest first."""
        ...

    def versions(self, memory_id: str) -> list[MemoryVersion]:
        """Every text a memory had, oldest first."""
        ...

    def sources(self, memory_id: str) -> list[Message]:
        """The messages a memory came from."""
        ...

    def profile(self, scope: Scope, *, as_of: str | None = None) -> list[ProfileSlot]:
        """The current slots of the exact ``scope`` (one per key), or those current at record
        time ``as_of``; ordered by key."""
        ...

    def profile_versions(self, scope: Scope, key: str) -> list[ProfileSlot]:
        """Every value one slot of the exact ``scope`` had, oldest first (by ``valid_from``)."""
        ...

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Erase memories (deleted ones too), their versions, history, sources and the messages
        only they cite, and the profile slots written from them, plus every memory, message and
        profile slot of ``scope``; no copy of the text remains."""
        ...

    def dump(self) -> Iterator[dict[str, Any]]:
        """Every record as ``{"kind": ..., "data": {...}}`` (for export)."""
        ...

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Insert dumped records in one transaction; return counts by kind."""
        ...

    def reset(self) -> None:
        """Remove every record of every kind."""

    def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""
