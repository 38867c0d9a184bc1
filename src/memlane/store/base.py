"""The store contract every back end implements (SQLite now; Postgres and others later).

Writes go through one ``transaction()``: everything in it lands together or not at all.
Reads never see deleted memories. Filters arrive parsed (``memlane.filters``); each store
compiles them into its own dialect.

Profile slots belong to an exact scope (``set_profile``, ``profile``, ``profile_versions``);
``expire_profile``, ``purge`` and ``reset`` take a scope as a filter, as memories do (every id
that is set must match).

Pending adds keep the conversation of an ``add(infer=True)`` from before its LLM call until
its memories are written (``add_pending`` ... ``finish_pending`` in that write's transaction);
a failed call leaves them for ``Memory.reprocess``. Their scope arguments are filters too.

Requests keep the answer of an ``add(idempotency_key=...)`` so that a retried call returns it
instead of writing again: ``claim_request`` (its own transaction) takes the key before the work,
``finish_request`` stores the answer in the transaction of the work's writes, ``release_request``
frees the key of a call that failed. A claim carries a token: a call whose claim went stale and
was taken over finds ``finish_request`` False and rolls its writes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from memlane.embed.base import Embedder
from memlane.errors import ConfigError
from memlane.filters import Filter
from memlane.models import (
    HistoryEvent,
    MemoryRecord,
    MemoryVersion,
    Message,
    ProfileChange,
    ProfileSlot,
    Scope,
    Vectors,
)

__all__ = [
    "MemoryStore", "PendingAdd", "ScoredId", "StoreTransaction", "StoredRequest", "Unstaged",
    "sequential_hybrid_search",
    "check_embedder", "check_expected_dimension",
]  # fmt: skip

ScoredId = tuple[str, float]


def sequential_hybrid_search(
    store: MemoryStore, vector: Vectors, terms: Sequence[str], where: Filter, limit: int
) -> tuple[list[ScoredId], list[ScoredId]]:
    """``store.hybrid_search`` one leg after the other (a store that has no faster way)."""
    return store.vector_search(vector, where, limit), store.keyword_search(terms, where, limit)


Unstaged = tuple[str, str, str]
"""(memory id, text, hash of the text): a memory to embed for a reindex."""


@dataclass(slots=True)
class PendingAdd:
    """The conversation of one ``add(infer=True)`` whose memories are not written yet."""

    id: str
    scope: Scope
    messages: list[Message]
    """In conversation order; each is also a provenance message (``add_messages``)."""
    params: dict[str, Any] = field(default_factory=dict)
    """The add's arguments to replay it: metadata, prompt, memory_type, observed_at,
    expiration_date (JSON values)."""
    created_at: str = ""
    attempts: int = 0
    """LLM attempts so far (the add's own included)."""
    error: str | None = None
    """Why the last attempt failed; None while the first is in flight."""


@dataclass(slots=True)
class StoredRequest:
    """The row that holds one idempotency key: a call in flight (``token`` set, no ``result``)
    or done (``result`` set, no ``token``)."""

    key: str
    request_hash: str
    """A hash of the call's arguments: a retry must send the same ones."""
    created_at: str
    """When the key was claimed (it expires from then)."""
    token: str | None = None
    result: dict[str, Any] | None = None


class StoreTransaction(Protocol):
    """The writes of one public call."""

    def add_messages(self, scope: Scope, messages: Sequence[Message], observed_at: str) -> None:
        """Keep raw messages as provenance."""

    def insert(self, record: MemoryRecord, vector: Vectors) -> None:
        """A new memory (version 1) with its unit-length vector."""

    def update(self, record: MemoryRecord, vector: Vectors | None, at: str) -> None:
        """Replace a memory's current state; a changed text adds a version (the old one expires)."""

    def delete(self, memory_id: str, at: str) -> None:
        """Remove a memory from reads and search; versions and history stay, its vector and
        full-text entry go (``vectors`` and ``similarities`` no longer give it; an export
        carries it without an embedding)."""

    def add_history(self, events: Sequence[HistoryEvent]) -> None:
        """Append history rows."""

    def lock_scopes(self, scopes: Sequence[Scope]) -> None:
        """Serialise this transaction with every other writer of these scopes now, before its
        writes touch them. A write spanning several scopes' owners (``delete_all``, ``prune``)
        calls it first, so the store takes their locks in its one order; other writes need not
        (PostgreSQL: ``memlane.store.postgres.locks``; SQLite: nothing to do, the transaction
        already holds the database's write lock)."""

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

    def add_pending(self, batch: PendingAdd) -> None:
        """Record a pending add (claimed at ``batch.created_at``, one attempt); its messages are
        written by ``add_messages`` in the same transaction."""

    def finish_pending(self, pending_id: str) -> bool:
        """The pending add is done (its memories are written in this transaction); False if it
        was no longer pending (another process finished or dropped it)."""
        ...

    def drop_pending(self, scope: Scope | None) -> int:
        """Forget the pending adds of ``scope`` (a filter; None: all); their messages stay as
        provenance. Returns how many adds were dropped."""
        ...

    def finish_request(self, key: str, token: str, result: dict[str, Any]) -> bool:
        """Keep ``result`` (JSON values) as the answer of the call holding ``key`` with ``token``,
        with that call's writes; False, changing nothing, when ``token`` no longer holds the key
        (the claim went stale and another call took it over): the caller must roll back."""
        ...

    # -- reindex (``memlane.memory.reindex``): new vectors staged beside the current ones ----

    def unstaged(
        self, identity: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Unstaged]:
        """The current memories with no vector staged for the embedder ``identity`` made from
        their current text (none yet, another embedder's, or their text changed since), in write
        order, starting after the memory ``after`` (None: from the first); at most ``limit``."""
        ...

    def count_unstaged(self, identity: str) -> int:
        """How many current memories ``unstaged`` would give in all."""
        ...

    def stage_vectors(self, identity: str, items: Sequence[tuple[str, str, Vectors]]) -> None:
        """Keep (memory id, hash of the text embedded, unit vector) for the embedder
        ``identity``, replacing what was staged for those memories; searches keep using the
        current vectors. Memories that are gone are skipped."""

    def switch_vectors(self, identity: str, dimension: int) -> int:
        """Make the staged vectors current, all at once (when this transaction commits): every
        current memory takes its vector, the store's ``embedder`` becomes ``identity`` and its
        ``dimension`` ``dimension``, and the staging is emptied. ``StoreError`` (nothing changes)
        if a current memory has none staged for ``identity`` and its current text. Returns how
        many vectors were switched."""
        ...

    def drop_staged(self) -> int:
        """Forget every staged vector (an abandoned reindex); how many there were."""
        ...


class MemoryStore(Protocol):
    """Memories, their versions and history, full text, vectors and provenance."""

    def ensure_dimension(self, dimension: int) -> None:
        """Record the vector size on first use; raise ``DimensionMismatchError`` if it differs."""

    def ensure_embedder(self, identity: str) -> None:
        """Record the embedder's identity on first use (a store without one adopts it); raise
        ``EmbedderMismatchError`` if another embedder wrote the store."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """One atomic unit of writes."""
        ...

    def get(self, memory_id: str) -> MemoryRecord | None:
        """The current memory, or None if it does not exist or was deleted."""
        ...

    def get_many(self, memory_ids: Sequence[str]) -> dict[str, MemoryRecord]:
        """The current memories among ``memory_ids``, by id."""
        ...

    def list_records(self, where: Filter, *, limit: int | None = None, offset: int = 0) -> list[MemoryRecord]:
        """Current memories matching ``where``, newest first (ties: the latest insert first);
        ``offset`` skips that many of them first (paging)."""
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

    def hybrid_search(
        self, vector: Vectors, terms: Sequence[str], where: Filter, limit: int
    ) -> tuple[list[ScoredId], list[ScoredId]]:
        """``vector_search`` and ``keyword_search`` of one query, as that pair: a store may run
        the two at once (``sequential_hybrid_search`` runs one after the other)."""
        ...

    def neighbours(
        self, memory_ids: Sequence[str], window: int, where: Filter
    ) -> dict[str, list[tuple[str, int]]]:
        """For each memory, the current memories whose source messages are within ``window``
        messages of its own in the same conversation (same scope and observation time) and
        that match ``where``, as (memory id, distance) pairs."""
        ...

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        """At most ``limit`` ids of stored memories (deleted ones too) that start with
        ``prefix``, sorted (for short ids typed by people)."""
        ...

    def history(self, memory_id: str) -> list[HistoryEvent]:
        """History rows of one memory, oldest first."""
        ...

    def versions(self, memory_id: str) -> list[MemoryVersion]:
        """Every text a memory had, oldest first."""
        ...

    def versions_as_of(self, where: Filter, at: str, limit: int) -> list[tuple[MemoryRecord, MemoryVersion]]:
        """What was stored at record time ``at``: each memory matching ``where`` (its current
        row's columns and metadata; deleted memories too) whose version was current then
        (``recorded_at <= at`` and not expired by ``at``), with that version; at most ``limit``,
        the latest recorded first. A deleted memory counts until its deletion."""
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

    def pending(self, scope: Scope | None = None, *, limit: int | None = None) -> list[PendingAdd]:
        """The pending adds of ``scope`` (a filter; None: all), oldest first, in flight or not."""
        ...

    def pending_count(self, scope: Scope | None = None) -> int:
        """How many messages of ``scope`` (a filter; None: all) wait in pending adds."""
        ...

    def claim_pending(self, pending_id: str, at: str, *, stale_before: str) -> bool:
        """Take a pending add to retry it (one more attempt): True unless another call holds
        it (claimed at or after ``stale_before``) or it is gone."""
        ...

    def release_pending(self, pending_id: str, error: str) -> None:
        """A claimed attempt failed with ``error``: the add waits for the next retry."""

    def claim_request(
        self,
        key: str,
        request_hash: str,
        scope: Scope,
        token: str,
        at: str,
        *,
        stale_before: str,
        expired_before: str,
    ) -> StoredRequest:
        """Claim the idempotency ``key`` for a call (a transaction of its own). When no row
        holds it (never used; its row created before ``expired_before``; or a call in flight
        since before ``stale_before``, taken to have died), keep (``key``, ``request_hash``,
        ``scope``, ``token``, ``at``) and return that row: the caller does the work. Else return
        the row that holds the key, unchanged (done: its result; in flight: another token).
        Concurrent claims of one key: exactly one gets it. Rows created before
        ``expired_before`` are forgotten on the way (some of them per call)."""
        ...

    def release_request(self, key: str, token: str) -> None:
        """The call holding ``key`` with ``token`` failed: forget its claim (a retry may run)."""

    def purge(self, memory_ids: Sequence[str] = (), scope: Scope | None = None) -> int:
        """Erase memories (deleted ones too), their versions, history, sources and the messages
        only they cite, and the profile slots written from them, plus every memory, message,
        pending add, profile slot and stored request of ``scope``, and the stored requests whose
        answer names an erased memory; no copy of the text remains."""
        ...

    def dump(self) -> Iterator[dict[str, Any]]:
        """Every record as ``{"kind": ..., "data": {...}}`` (for export); stored requests are
        not records (they expire) and stay out."""
        ...

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Insert dumped records in one transaction; return counts by kind."""
        ...

    def meta(self, key: str) -> str | None:
        """One of the store's own settings (``dimension``, ``embedder``, a tool's progress such
        as ``migration``), or None when it is not set."""
        ...

    def set_meta(self, key: str, value: str | None) -> None:
        """Set one setting (None: remove it). ``dimension`` and ``embedder`` bind the store to
        its vectors: ``ensure_*``, ``load`` and ``switch_vectors`` write them, not callers."""

    def reset(self) -> None:
        """Remove every record of every kind (pending adds and stored requests included)."""

    def backup(self, destination: str | Path, *, overwrite: bool = False) -> None:
        """A consistent copy of the store while writers keep going, never onto the store itself;
        an existing ``destination`` is replaced only with ``overwrite``. Either refusal is an
        ``InvalidInputError`` that changes no file; a store with no online copy raises
        ``StoreError`` (``export`` still works)."""

    def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""


def check_embedder(store: MemoryStore, embedder: Embedder) -> None:
    """Bind ``store`` to ``embedder``: the same vector size and the same model, or an error
    (``DimensionMismatchError``, ``EmbedderMismatchError``). Reading the local embedder's
    dimension loads its model only when no verified ONNX export records it."""
    store.ensure_dimension(embedder.dimension)
    if embedder.identity:
        store.ensure_embedder(embedder.identity)


def check_expected_dimension(expected: int | None, dimension: int) -> None:
    """mem0's ``embedding_model_dims``, when set, must be the embedder's vector size."""
    if expected is not None and dimension != expected:
        raise ConfigError(
            f"vector_store.config.embedding_model_dims is {expected} but the embedder gives "
            f"{dimension}-dimensional vectors; set it to {dimension} or remove it"
        )
