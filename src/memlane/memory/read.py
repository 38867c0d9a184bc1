"""The reads: one memory, the memories of a scope (newest first, or by pages), a memory's history."""

from __future__ import annotations

from memlane.errors import InvalidInputError
from memlane.filters import Filter
from memlane.memory.arguments import page_links
from memlane.memory.backends import Backends
from memlane.memory.results import history_item, record_item
from memlane.memory.search.as_of import records_as_of
from memlane.models import Scope
from memlane.types import GetAllResult, HistoryItem, MemoryItem

__all__ = ["MIN_ID_PREFIX", "get_memory", "list_memories", "memory_history", "resolve_id"]

MIN_ID_PREFIX = 4
"""The shortest id prefix ``resolve_id`` expands (tables show the first 8 characters)."""
_SHOWN_CANDIDATES = 5


def get_memory(backends: Backends, memory_id: str) -> MemoryItem | None:
    """One memory (``score`` None, as mem0), or None."""
    record = backends.store.get(memory_id)
    if record is None:
        return None
    item = record_item(record)
    item["score"] = None
    return item


def list_memories(
    backends: Backends,
    scope: Scope,
    where: Filter,
    limit: int,
    paging: tuple[int, int] | None,
    as_of: str | None = None,
) -> GetAllResult:
    """The first ``limit`` memories ``where`` matches, newest first, or the page ``paging``
    (number, size) of them with the paging keys; plus the scope's relations (graph on). With
    ``as_of``, the memories and relations as they stood at that record time."""
    number, size = paging or (1, limit)
    store, offset = backends.store, (number - 1) * size
    if as_of is None:
        records = store.list_records(where, limit=size, offset=offset)
    else:
        every = records_as_of(backends, where, as_of)
        records = every[offset : offset + size]
    out: GetAllResult = {"results": [record_item(r) for r in records]}
    if paging is not None:
        links = page_links(number, size, store.count(where) if as_of is None else len(every))
        out["count"], out["page"], out["page_size"] = links["count"], links["page"], links["page_size"]
        out["next"], out["previous"] = links["next"], links["previous"]
    graph = backends.graph
    if graph is not None:
        relations = [] if scope.is_empty() else graph.list_relations(scope, limit=size, as_of=as_of)
        out["relations"] = [r.triple("target") for r in relations]
    return out


def memory_history(backends: Backends, memory_id: str) -> list[HistoryItem]:
    """Every ADD / UPDATE / DELETE of a memory, oldest first ([] for an unknown id, as mem0)."""
    return [history_item(e) for e in backends.store.history(memory_id)]


def resolve_id(backends: Backends, value: str) -> str:
    """The memory id ``value`` names: the id itself, or the one id a prefix of at least
    ``MIN_ID_PREFIX`` characters starts (deleted memories included). An ambiguous prefix is an
    ``InvalidInputError`` naming some matches; an unknown value comes back as it is."""
    if len(value) < MIN_ID_PREFIX:
        return value
    found = backends.store.ids_with_prefix(value, limit=_SHOWN_CANDIDATES + 1)
    if not found or value in found:
        return value
    if len(found) == 1:
        return found[0]
    count = f"more than {_SHOWN_CANDIDATES}" if len(found) > _SHOWN_CANDIDATES else str(len(found))
    shown = ", ".join(found[:_SHOWN_CANDIDATES])
    raise InvalidInputError(
        f"the id prefix {value!r} matches {count} memories ({shown}); give more characters"
    )
