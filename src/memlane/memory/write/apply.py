"""The writes of ``add()``: verbatim messages, or an inferred plan; one batch, one transaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memlane.graph.models import GraphChanges
from memlane.graph.resolve import entity_texts
from memlane.memory.backends import Backends
from memlane.memory.kinds import MEM0_PROCEDURAL, TYPE_KEY, event_time, typed
from memlane.memory.profile import profile_scope
from memlane.memory.results import add_item, change_item
from memlane.memory.write.events import added_event, change_event
from memlane.memory.write.plan import Plan
from memlane.memory.write.promote import promote_recurring, recurring
from memlane.models import (
    MemoryRecord,
    Message,
    ProfileChange,
    Scope,
    Vectors,
    new_id,
    now_iso,
    text_hash,
)
from memlane.prompts.common import normalize_fact
from memlane.store.base import MemoryStore, PendingAdd, StoreTransaction
from memlane.types import AddResult, AddResultItem

__all__ = ["AddOutcome", "add_verbatim", "apply_plan", "created_at_of"]

logger = logging.getLogger("memlane")

Finish = Callable[[StoreTransaction, "AddOutcome"], None]
"""Called inside an add's write transaction with what it wrote (an idempotent add keeps its
answer there)."""


@dataclass(slots=True)
class AddOutcome:
    """What one add() wrote: mem0's result items, the graph's changes, the profile's changes."""

    results: list[AddResultItem]
    relations: GraphChanges | None = None
    profile: list[ProfileChange] = field(default_factory=list)

    def response(self, backends: Backends) -> AddResult:
        """add()'s answer: ``results``, plus ``relations`` (graph on) and ``profile`` (profile on)."""
        out: AddResult = {"results": self.results}
        if backends.graph is not None:
            out["relations"] = (self.relations or GraphChanges()).to_mem0()
        if backends.profile_on:
            out["profile"] = [change_item(change) for change in self.profile]
        return out


def add_verbatim(
    backends: Backends,
    scope: Scope,
    messages: Sequence[Message],
    *,
    metadata: dict[str, Any],
    observed_at: str | None,
    expiration_date: str | None,
    finish: Finish | None = None,
) -> AddOutcome:
    """Store each message as its own memory (mem0's ADD items, in message order); ``finish``
    gets the outcome inside the transaction."""
    vectors = backends.embedder.embed([m.content for m in messages], purpose="add")
    now = now_iso()
    records = []
    for m in messages:
        meta, created = created_at_of(typed({**metadata, **m.metadata}, None))
        record = MemoryRecord(
            id=new_id(),
            text=m.content,
            scope=scope,
            created_at=created or now,
            updated_at=created or now,
            actor_id=m.name,
            role=m.role,
            metadata=meta,
            valid_from=observed_at or created or now,
            expiration_date=expiration_date,
            sources=[m.id],
        )
        records.append(record)
    repeated = recurring(backends, scope, list(vectors))
    with backends.store.transaction() as tx:
        tx.add_messages(scope, messages, observed_at or now)
        for record, vector in zip(records, vectors, strict=False):
            tx.insert(record, vector)
        tx.add_history([added_event(r) for r in records])
        promote_recurring(tx, backends, repeated, now)
        outcome = AddOutcome([add_item(r, "ADD", verbatim=True) for r in records])
        if finish is not None:
            finish(tx, outcome)
    return outcome


def created_at_of(metadata: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The metadata without its ``created_at`` (checked by ``messages.clean_metadata``), and that
    time: mem0's way to give a new memory its creation time (imports, migrations)."""
    rest = dict(metadata)
    created = rest.pop("created_at", None)
    return rest, None if created is None else str(created)


def apply_plan(
    backends: Backends,
    plan: Plan,
    batch: PendingAdd,
    metadata: dict[str, Any],
    *,
    finish: Finish | None = None,
) -> AddOutcome:
    """Write a plan for the pending add ``batch`` (its entities and relations, and its profile
    slots when the profile is on) in one transaction, which also finishes ``batch``; return
    mem0's result items (ADD / UPDATE / DELETE) and the changes.

    The memories the plan changes are read again inside the transaction: one that another
    write deleted or changed since the model saw it is treated as absent (an UPDATE of it
    becomes an ADD of the new text, a DELETE of it is skipped), with a warning."""
    scope, graph = batch.scope, backends.graph
    names = entity_texts(scope, plan.entities, plan.relations) if graph and plan.relations else []
    texts = plan.new_texts()
    vectors = _embed(backends, [*texts, *names])
    name_vectors = dict(zip(names, vectors[len(texts) :], strict=True))
    metadata, created = created_at_of(metadata)
    observed_at = batch.params.get("observed_at")
    now = now_iso()
    writer = _Writer(
        plan,
        scope,
        now=now,
        at=observed_at or created or now,
        created=created,
        sources=[m.id for m in batch.messages],
        vectors=dict(zip(texts, vectors[: len(texts)], strict=True)),
    )
    owner = profile_scope(backends, scope)
    repeated = recurring(backends, scope, list(vectors[: len(plan.adds)]), plan.unchanged)
    with backends.store.transaction() as tx:
        if not tx.finish_pending(batch.id):
            logger.warning("memlane add: pending add %s was no longer pending; writing anyway", batch.id)
        writer.write(tx, _still_current(backends.store, plan), metadata, batch.params.get("expiration_date"))
        promote_recurring(tx, backends, repeated, now)
        results = writer.results
        changes: GraphChanges | None = None
        if graph is not None:  # a contradicted memory's relations are invalidated by the graph itself
            supported = [r["id"] for r in results if r["event"] in ("ADD", "UPDATE")]
            changes = graph.apply(
                scope,
                plan.entities,
                plan.relations,
                memory_ids=supported,
                observed_at=writer.at,
                vectors=name_vectors,
            )
        deleted = [r["id"] for r in results if r["event"] == "DELETE"]
        profile = [] if owner is None else _write_profile(tx, plan, owner, results, now, observed_at, deleted)
        outcome = AddOutcome(results, changes, profile)
        if finish is not None:
            finish(tx, outcome)
    return outcome


def _embed(backends: Backends, texts: list[str]) -> Vectors:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return backends.embedder.embed(texts, purpose="add")


@dataclass(slots=True)
class _Writer:
    """The memory writes of one plan, inside its transaction; ``results`` gathers mem0's items."""

    plan: Plan
    scope: Scope
    now: str
    at: str
    """The valid time of what is written."""
    created: str | None
    sources: list[str]
    vectors: dict[str, Any]
    results: list[AddResultItem] = field(default_factory=list)

    def write(
        self,
        tx: StoreTransaction,
        live: dict[str, MemoryRecord],
        metadata: dict[str, Any],
        expires: str | None,
    ) -> None:
        plan, now = self.plan, self.now
        for old in plan.deletes:
            if old.id not in live:
                continue
            tx.delete(old.id, now)
            tx.add_history([change_event(old, "DELETE", None, at=now)])
            self.results.append({"id": old.id, "memory": old.text, "event": "DELETE"})
        adds = list(plan.adds)
        for old, text in plan.updates:
            current = live.get(old.id)
            if current is None:
                adds.append(text)
            else:
                self._update(tx, current, text)
        for old in plan.unchanged:
            filled = _backfill(live[old.id], self.scope) if old.id in live else None
            if filled is not None:
                tx.update(filled, None, now)
        for text in adds:
            self._insert(tx, text, metadata, expires)

    def _update(self, tx: StoreTransaction, current: MemoryRecord, text: str) -> None:
        kind = self.plan.kinds.get(text)
        metadata = _attributed(current.metadata, self.plan, text)
        if kind is not None and kind[0] and metadata.get(TYPE_KEY) != MEM0_PROCEDURAL:
            metadata.pop(TYPE_KEY, None)  # the fact's new type (semantic: none written)
        new = replace(
            current,
            text=text,
            hash=text_hash(text),
            updated_at=self.now,
            valid_from=event_time(kind, self.at),
            sources=self.sources,
            metadata=typed(metadata, kind),
        )
        tx.update(new, self.vectors[text], self.now)
        tx.add_history([change_event(current, "UPDATE", text, at=self.now)])
        item: AddResultItem = {
            "id": current.id,
            "memory": text,
            "event": "UPDATE",
            "previous_memory": current.text,
        }
        self.results.append(item)

    def _insert(self, tx: StoreTransaction, text: str, metadata: dict[str, Any], expires: str | None) -> None:
        kind = self.plan.kinds.get(text)
        record = MemoryRecord(
            id=new_id(),
            text=text,
            scope=self.scope,
            created_at=self.created or self.now,
            updated_at=self.created or self.now,
            metadata=typed(_attributed(metadata, self.plan, text), kind),
            valid_from=event_time(kind, self.at),
            expiration_date=expires,
            sources=self.sources,
        )
        tx.insert(record, self.vectors[text])
        tx.add_history([added_event(record)])
        self.results.append({"id": record.id, "memory": text, "event": "ADD"})


def _still_current(store: MemoryStore, plan: Plan) -> dict[str, MemoryRecord]:
    """The memories the plan changes that are still as the model saw them (read inside the
    write transaction); the others are named in one warning."""
    seen = [*plan.deletes, *(old for old, _ in plan.updates), *plan.unchanged]
    if not seen:
        return {}
    current = store.get_many([r.id for r in seen])
    live = {r.id: current[r.id] for r in seen if r.id in current and current[r.id].text == r.text}
    gone = [r.text for r in seen if r.id not in live]
    if gone:
        logger.warning(
            "memlane add: %d memory(ies) changed or deleted by another write while the model "
            "read them; treated as absent: %s",
            len(gone),
            ", ".join(repr(t) for t in gone),
        )
    return live


def _attributed(metadata: dict[str, Any], plan: Plan, text: str) -> dict[str, Any]:
    """``metadata`` with mem0's ``attributed_to`` of ``text`` (when the plan knows it)."""
    role = plan.attribution.get(text)
    return dict(metadata) if role is None else {**metadata, "attributed_to": role}


def _write_profile(
    tx: StoreTransaction,
    plan: Plan,
    scope: Scope,
    results: list[AddResultItem],
    now: str,
    observed_at: str | None,
    deleted: Sequence[str],
) -> list[ProfileChange]:
    """Set or clear the plan's slots, each linked to the memory written from the same fact;
    then clear the slots written from memories this add contradicted (DELETE), if still current."""
    out: list[ProfileChange] = []
    for key, value in plan.profile:
        source = None if value is None else _source_of(value, results)
        change = tx.set_profile(scope, key, value, observed_at=observed_at or now, at=now, memory_id=source)
        if change is not None:
            out.append(change)
    if deleted:
        out += tx.expire_profile(now, memory_ids=list(deleted))
    return out


def _source_of(value: str, results: list[AddResultItem]) -> str | None:
    """The first memory added or updated by this add() whose text names ``value``."""
    pattern = re.compile(rf"(?<!\w){re.escape(normalize_fact(value))}(?!\w)")
    for item in results:
        if item["event"] in ("ADD", "UPDATE") and pattern.search(normalize_fact(item["memory"])):
            return str(item["id"])
    return None


def _backfill(record: MemoryRecord, scope: Scope) -> MemoryRecord | None:
    """mem0's NONE rule: an agent or run id the memory lacks is added to it."""
    have = record.scope
    agent = have.agent_id or scope.agent_id
    run = have.run_id or scope.run_id
    if (agent, run) == (have.agent_id, have.run_id):
        return None
    return replace(record, scope=Scope(have.user_id, agent, run), sources=[])
