"""The reads: one memory, the memories of a scope (newest first, or by pages), a memory's history."""

from __future__ import annotations

from memlane.filters import Filter
from memlane.memory.arguments import page_links
from memlane.memory.backends import Backends
from memlane.memory.results import history_item, record_item
from memlane.models import Scope
from memlane.types import GetAllResult, HistoryItem, MemoryItem

__all__ = ["get_memory", "list_memories", "memory_history"]


def get_memory(backends: Backends, memory_id: str) -> MemoryItem | None:
    """One memory (``score`` None, as mem0), or None."""
    record = backends.store.get(memory_id)
    if record is None:
        return None
    item = record_item(record)
    item["score"] = None
    return item


def list_memories(
    backends: Backends, scope: Scope, where: Filter, limit: int, paging: tuple[int, int] | None
) -> GetAllResult:
    """The first ``limit`` memories ``where`` matches, newest first, or the page ``paging``
    (number, size) of them with the paging keys; plus the scope's relations (graph on)."""
    number, size = paging or (1, limit)
    store = backends.store
    records = store.list_records(where, limit=size, offset=(number - 1) * size)
    out: GetAllResult = {"results": [record_item(r) for r in records]}
    if paging is not None:
        links = page_links(number, size, store.count(where))
        out["count"], out["page"], out["page_size"] = links["count"], links["page"], links["page_size"]
        out["next"], out["previous"] = links["next"], links["previous"]
    graph = backends.graph
    if graph is not None:
        relations = graph.list_relations(scope, limit=size) if not scope.is_empty() else []
        out["relations"] = [r.triple("target") for r in relations]
    return out


def memory_history(backends: Backends, memory_id: str) -> list[HistoryItem]:
    """Every ADD / UPDATE / DELETE of a memory, oldest first ([] for an unknown id, as mem0)."""
    return [history_item(e) for e in backends.store.history(memory_id)]
