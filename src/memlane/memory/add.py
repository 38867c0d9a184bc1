"""The writes of ``add()``: verbatim messages, or an inferred plan; one batch, one transaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memlane.embed.base import Embedder
from memlane.graph.base import GraphStore
from memlane.graph.models import GraphChanges
from memlane.graph.resolve import entity_texts
from memlane.memory.plan import Plan
from memlane.models import (
    EventName,
    HistoryEvent,
    MemoryRecord,
    Message,
    ProfileChange,
    Scope,
    new_id,
    now_iso,
    text_hash,
)
from memlane.prompts.common import normalize_fact
from memlane.store.base import MemoryStore, StoreTransaction

__all__ = ["Applied", "add_verbatim", "added_event", "apply_plan", "change_event", "created_at_of"]

logger = logging.getLogger("memlane")


@dataclass(slots=True)
class Applied:
    """What one add() wrote: mem0's result items, the graph's changes, the profile's changes."""

    results: list[dict[str, Any]]
    relations: GraphChanges | None = None
    profile: list[ProfileChange] = field(default_factory=list)

    def response(self, *, graph: bool, profile: bool) -> dict[str, Any]:
        """add()'s answer: ``results``, plus ``relations`` (graph on) and ``profile`` (profile on)."""
        out: dict[str, Any] = {"results": self.results}
        if graph:
            out["relations"] = (self.relations or GraphChanges()).to_mem0()
        if profile:
            out["profile"] = [change.as_dict() for change in self.profile]
        return out


def add_verbatim(
    store: MemoryStore,
    embedder: Embedder,
    scope: Scope,
    messages: Sequence[Message],
    *,
    metadata: dict[str, Any],
    observed_at: str | None,
    expiration_date: str | None,
) -> list[MemoryRecord]:
    """Store each message as its own memory; return the new records in message order."""
    vectors = embedder.embed([m.content for m in messages], purpose="add")
    now = now_iso()
    records = []
    for m in messages:
        meta, created = created_at_of({**metadata, **m.metadata})
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
    with store.transaction() as tx:
        tx.add_messages(scope, messages, observed_at or now)
        for record, vector in zip(records, vectors, strict=False):
            tx.insert(record, vector)
        tx.add_history([added_event(r) for r in records])
    return records


def created_at_of(metadata: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The metadata without its ``created_at`` (checked by ``inputs.clean_metadata``), and that
    time: mem0's way to give a new memory its creation time (imports, migrations)."""
    rest = dict(metadata)
    created = rest.pop("created_at", None)
    return rest, None if created is None else str(created)


def added_event(record: MemoryRecord) -> HistoryEvent:
    """The history row of a new memory: created and updated when the memory was (mem0 #4467)."""
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=None,
        new_memory=record.text,
        event="ADD",
        created_at=record.created_at,
        updated_at=record.created_at,
        actor_id=record.actor_id,
        role=record.role,
    )


def apply_plan(
    store: MemoryStore,
    embedder: Embedder,
    plan: Plan,
    scope: Scope,
    messages: Sequence[Message],
    *,
    metadata: dict[str, Any],
    observed_at: str | None,
    expiration_date: str | None,
    graph: GraphStore | None = None,
    profile_scope: Scope | None = None,
    pending_id: str | None = None,
) -> Applied:
    """Write a plan (its entities and relations, and its profile slots into ``profile_scope``)
    in one transaction; return mem0's result items (ADD / UPDATE / DELETE) and the changes.

    ``pending_id``: the messages are already stored as that pending add, which this
    transaction finishes. The memories the plan changes are read again inside the transaction:
    one that another write deleted or changed since the model saw it is treated as absent (an
    UPDATE of it becomes an ADD of the new text, a DELETE of it is skipped), with a warning."""
    texts = plan.new_texts()
    names = entity_texts(scope, plan.entities, plan.relations) if graph and plan.relations else []
    everything = [*texts, *names]
    vectors = embedder.embed(everything, purpose="add") if everything else np.zeros((0, 0), dtype=np.float32)
    name_vectors = dict(zip(names, vectors[len(texts) :], strict=True))
    text_vectors = dict(zip(texts, vectors[: len(texts)], strict=True))
    changes: GraphChanges | None = None
    now = now_iso()
    metadata, created = created_at_of(metadata)
    at = observed_at or created or now
    sources = [m.id for m in messages]
    results: list[dict[str, Any]] = []
    with store.transaction() as tx:
        if pending_id is None:
            tx.add_messages(scope, messages, at)
        elif not tx.finish_pending(pending_id):
            logger.warning("memlane add: pending add %s was no longer pending; writing anyway", pending_id)
        live = _still_current(store, plan)
        for old in plan.deletes:
            if old.id not in live:
                continue
            tx.delete(old.id, now)
            tx.add_history([change_event(old, "DELETE", None, at=now)])
            results.append({"id": old.id, "memory": old.text, "event": "DELETE"})
        adds = list(plan.adds)
        for old, text in plan.updates:
            current = live.get(old.id)
            if current is None:
                adds.append(text)
                continue
            new = replace(
                current,
                text=text,
                hash=text_hash(text),
                updated_at=now,
                valid_from=at,
                sources=sources,
                metadata=_attributed(current.metadata, plan, text),
            )
            tx.update(new, text_vectors[text], now)
            tx.add_history([change_event(current, "UPDATE", text, at=now)])
            item = {"id": old.id, "memory": text, "event": "UPDATE", "previous_memory": current.text}
            results.append(item)
        for old in plan.unchanged:
            filled = _backfill(live[old.id], scope) if old.id in live else None
            if filled is not None:
                tx.update(filled, None, now)
        for text in adds:
            record = MemoryRecord(
                id=new_id(),
                text=text,
                scope=scope,
                created_at=created or now,
                updated_at=created or now,
                metadata=_attributed(metadata, plan, text),
                valid_from=at,
                expiration_date=expiration_date,
                sources=sources,
            )
            tx.insert(record, text_vectors[text])
            tx.add_history([added_event(record)])
            results.append({"id": record.id, "memory": text, "event": "ADD"})
        if graph is not None:  # a contradicted memory's relations are invalidated by the graph itself
            supported = [r["id"] for r in results if r["event"] in ("ADD", "UPDATE")]
            changes = graph.apply(
                scope,
                plan.entities,
                plan.relations,
                memory_ids=supported,
                observed_at=at,
                vectors=name_vectors,
            )
        deleted = [r["id"] for r in results if r["event"] == "DELETE"]
        profile = (
            []
            if profile_scope is None
            else _write_profile(tx, plan, profile_scope, results, now, observed_at, deleted)
        )
    return Applied(results, changes, profile)


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
    results: list[dict[str, Any]],
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


def _source_of(value: str, results: list[dict[str, Any]]) -> str | None:
    """The first memory added or updated by this add() whose text names ``value``."""
    pattern = re.compile(rf"(?<!\w){re.escape(normalize_fact(value))}(?!\w)")
    for item in results:
        if item["event"] in ("ADD", "UPDATE") and pattern.search(normalize_fact(item["memory"])):
            return str(item["id"])
    return None


def change_event(record: MemoryRecord, event: EventName, new_text: str | None, *, at: str) -> HistoryEvent:
    """The history row of an UPDATE or a DELETE: ``created_at`` stays the memory's, ``updated_at``
    is the time of the change (mem0 #4467)."""
    return HistoryEvent(
        id=new_id(),
        memory_id=record.id,
        old_memory=record.text,
        new_memory=new_text,
        event=event,
        created_at=record.created_at,
        updated_at=at,
        is_deleted=event == "DELETE",
        actor_id=record.actor_id,
        role=record.role,
    )


def _backfill(record: MemoryRecord, scope: Scope) -> MemoryRecord | None:
    """mem0's NONE rule: an agent or run id the memory lacks is added to it."""
    have = record.scope
    agent = have.agent_id or scope.agent_id
    run = have.run_id or scope.run_id
    if (agent, run) == (have.agent_id, have.run_id):
        return None
    return replace(record, scope=Scope(have.user_id, agent, run), sources=[])
