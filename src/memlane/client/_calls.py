"""The requests of ``Client`` and ``AsyncClient``, without I/O: one builder per ``Memory`` method.

Each builder has the exact signature of the ``Memory`` method of the same name (a test compares
them) and returns a ``Call``: the route of ``memlane serve`` that runs that method
(``POST /memlane/v1/<method>``, a JSON body of the arguments the caller gave) and how to read
the answer. ``Client`` sends a ``Call`` with httpx's blocking client, ``AsyncClient`` with its
async one: the two share everything but the sending.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from memlane.errors import InvalidInputError
from memlane.types import (
    AddResult,
    ChatResult,
    ContextResult,
    DeleteResult,
    GetAllResult,
    GraphQueryResult,
    GraphViewResult,
    HistoryItem,
    Id,
    MemoryDetails,
    MemoryItem,
    Messages,
    ProfileResult,
    ProfileSlotItem,
    PromoteResult,
    PruneResult,
    PurgeResult,
    ReprocessResult,
    ScopeItem,
    SearchResult,
    TimeLike,
    UpdateResult,
)

__all__ = ["BUILDERS", "IDEMPOTENCY_HEADER", "KEEP", "PREFIX", "Call"]

R = TypeVar("R")

PREFIX = "/memlane/v1"
"""Where ``memlane serve`` answers memlane's own routes (``memlane.server.routes_memlane``)."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The header of an add's key (``Memory.add(idempotency_key=...)`` on the server)."""

KEEP: Any = object()
"""``update(expiration_date=...)`` not given: the memory keeps its expiration date."""


def _json(body: bytes) -> Any:
    return json.loads(body) if body else None


@dataclass(frozen=True)
class Call(Generic[R]):
    """One request to the server and how to turn its answer into the method's result."""

    name: str
    body: dict[str, Any] = field(default_factory=dict)
    content: str | None = None
    """A text body (``import_data``'s JSON Lines) sent instead of ``body``."""
    decode: Callable[[bytes], R] = _json
    headers: dict[str, str] = field(default_factory=dict)
    retry: bool = False
    """Safe to send again when the answer was lost (an add with its idempotency key)."""

    @property
    def path(self) -> str:
        return f"{PREFIX}/{self.name}"


def _value(value: Any) -> Any:
    """A value as JSON carries it: dates and datetimes as ISO-8601 (``Memory`` reads them back)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return value


def _call(name: str, **arguments: Any) -> Call[Any]:
    """A call sending the arguments that were given (None means "not given", as in ``Memory``)."""
    return Call(name, {key: _value(value) for key, value in arguments.items() if value is not None})


def add(
    messages: Messages,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    metadata: dict[str, Any] | None = None,
    infer: bool | None = None,
    memory_type: str | None = None,
    prompt: str | None = None,
    timestamp: TimeLike | None = None,
    expiration_date: TimeLike | None = None,
    filters: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Call[AddResult]:
    """One logical add: its ``Idempotency-Key`` (the caller's, else a new one) goes with every
    attempt, so a retry after a lost answer never adds twice."""
    call = _call(
        "add", messages=messages, user_id=user_id, agent_id=agent_id, run_id=run_id, metadata=metadata,
        infer=infer, memory_type=memory_type, prompt=prompt, timestamp=timestamp,
        expiration_date=expiration_date, filters=filters,
    )  # fmt: skip
    key = idempotency_key if idempotency_key is not None else f"ml-{uuid.uuid4().hex}"
    return replace(call, headers={IDEMPOTENCY_HEADER: str(key)}, retry=True)


def reprocess(
    *, user_id: Id | None = None, agent_id: Id | None = None, run_id: Id | None = None
) -> Call[ReprocessResult]:
    return _call("reprocess", user_id=user_id, agent_id=agent_id, run_id=run_id)


def update(
    memory_id: Id,
    text: str | None = None,
    metadata: dict[str, Any] | None = None,
    expiration_date: TimeLike | None = KEEP,
    data: str | None = None,
) -> Call[UpdateResult]:
    call = _call("update", memory_id=memory_id, text=text, metadata=metadata, data=data)
    if expiration_date is not KEEP:
        call.body["expiration_date"] = _value(expiration_date)  # None clears it
    return call


def delete(memory_id: Id) -> Call[DeleteResult]:
    return _call("delete", memory_id=memory_id)


def delete_all(
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    *,
    filters: dict[str, Any] | None = None,
) -> Call[DeleteResult]:
    return _call("delete_all", user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters)


def search(
    query: str,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    top_k: int | None = None,
    limit: int | None = None,
    filters: dict[str, Any] | None = None,
    threshold: float | None = None,
    rerank: bool = False,
    explain: bool = False,
    show_expired: bool = False,
    reference_date: TimeLike | None = None,
    memory_type: str | Sequence[str] | None = None,
    long_term: bool = False,
    as_of: TimeLike | None = None,
) -> Call[SearchResult]:
    return _call(
        "search", query=query, user_id=user_id, agent_id=agent_id, run_id=run_id, top_k=top_k, limit=limit,
        filters=filters, threshold=threshold, rerank=rerank, explain=explain, show_expired=show_expired,
        reference_date=reference_date, memory_type=_listed(memory_type), long_term=long_term, as_of=as_of,
    )  # fmt: skip


def get_context(
    query: str,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    filters: dict[str, Any] | None = None,
    max_tokens: int = 1000,
    reference_date: TimeLike | None = None,
    top_k: int | None = None,
    show_expired: bool = False,
) -> Call[ContextResult]:
    return _call(
        "get_context", query=query, user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters,
        max_tokens=max_tokens, reference_date=reference_date, top_k=top_k, show_expired=show_expired,
    )  # fmt: skip


def chat(
    query: str,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    filters: dict[str, Any] | None = None,
    max_tokens: int = 1000,
    reference_date: TimeLike | None = None,
    top_k: int | None = None,
    remember: bool = False,
) -> Call[ChatResult]:
    return _call(
        "chat", query=query, user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters,
        max_tokens=max_tokens, reference_date=reference_date, top_k=top_k, remember=remember,
    )  # fmt: skip


def graph_query(
    question: str,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    limit: int = 20,  # Memory.graph_query's defaults (a test compares the signatures)
    timeout_ms: int = 2000,
) -> Call[GraphQueryResult]:
    return _call(
        "graph_query", question=question, user_id=user_id, agent_id=agent_id, run_id=run_id, limit=limit,
        timeout_ms=timeout_ms,
    )  # fmt: skip


def get(memory_id: Id) -> Call[MemoryItem | None]:
    return _call("get", memory_id=memory_id)


def get_all(
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    filters: dict[str, Any] | None = None,
    top_k: int | None = None,
    limit: int | None = None,
    show_expired: bool = False,
    page: int | None = None,
    page_size: int | None = None,
    memory_type: str | Sequence[str] | None = None,
    long_term: bool = False,
    as_of: TimeLike | None = None,
) -> Call[GetAllResult]:
    return _call(
        "get_all", user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters, top_k=top_k,
        limit=limit, show_expired=show_expired, page=page, page_size=page_size,
        memory_type=_listed(memory_type), long_term=long_term, as_of=as_of,
    )  # fmt: skip


def _listed(memory_type: str | Sequence[str] | None) -> str | list[str] | None:
    """A type, or a list of them as JSON carries it (any other value goes as it is: the server
    refuses it as ``Memory`` would)."""
    if memory_type is None or isinstance(memory_type, str):
        return memory_type
    return list(memory_type) if isinstance(memory_type, Sequence) else memory_type


def history(memory_id: Id) -> Call[list[HistoryItem]]:
    return _call("history", memory_id=memory_id)


def resolve_id(memory_id_or_prefix: Id) -> Call[str]:
    return _call("resolve_id", memory_id_or_prefix=memory_id_or_prefix)


def describe_llm() -> Call[str | None]:
    return _call("describe_llm")


def get_profile(
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    filters: dict[str, Any] | None = None,
    as_of: TimeLike | None = None,
) -> Call[ProfileResult]:
    return _call(
        "get_profile", user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters, as_of=as_of
    )


def profile_history(
    key: str,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    filters: dict[str, Any] | None = None,
) -> Call[list[ProfileSlotItem]]:
    return _call(
        "profile_history", key=key, user_id=user_id, agent_id=agent_id, run_id=run_id, filters=filters
    )


def reset() -> Call[None]:
    return _call("reset")


def promote(memory_id: Id) -> Call[PromoteResult]:
    return _call("promote", memory_id=memory_id)


def prune(
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    dry_run: bool = False,
) -> Call[PruneResult]:
    return _call("prune", user_id=user_id, agent_id=agent_id, run_id=run_id, dry_run=dry_run)


def purge(
    memory_id: Id | None = None,
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
) -> Call[PurgeResult]:
    return _call("purge", memory_id=memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)


def export(destination: str | Path | IO[str]) -> Call[dict[str, int]]:
    """The server answers the tenant's export (JSON Lines); it is written to ``destination``
    here, on the client's side, and counted by kind as ``Memory.export`` counts."""

    def write(body: bytes) -> dict[str, int]:
        text = body.decode("utf-8")
        if isinstance(destination, str | Path):
            try:
                Path(destination).write_text(text, encoding="utf-8")
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise InvalidInputError(f"cannot write the export to {str(destination)!r}: {reason}") from exc
        else:
            destination.write(text)
        counts: dict[str, int] = {}
        for line in text.splitlines()[1:]:  # the first line is the header
            if line.strip():
                kind = str(json.loads(line).get("kind"))
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    return Call("export", decode=write)


def import_data(source: str | Path | IO[str]) -> Call[dict[str, int]]:
    """The export is read here, on the client's side, and sent as the request's body."""
    if isinstance(source, str | Path):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InvalidInputError(f"cannot read the export {str(source)!r}: {reason}") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{str(source)!r} is not a memlane export (not UTF-8 text)") from exc
    else:
        text = source.read()
    return Call("import_data", content=text)


def scopes() -> Call[list[ScopeItem]]:
    return _call("scopes")


def memory_details(memory_id: Id) -> Call[MemoryDetails]:
    return _call("memory_details", memory_id=memory_id)


def graph_view(
    *,
    user_id: Id | None = None,
    agent_id: Id | None = None,
    run_id: Id | None = None,
    max_entities: int = 150,
    include_invalidated: bool = True,
) -> Call[GraphViewResult]:
    return _call(
        "graph_view", user_id=user_id, agent_id=agent_id, run_id=run_id, max_entities=max_entities,
        include_invalidated=include_invalidated,
    )  # fmt: skip


BUILDERS: tuple[Callable[..., Call[Any]], ...] = (
    add, reprocess, update, delete, delete_all, search, get, get_all, history, resolve_id, describe_llm,
    get_profile, profile_history, get_context, chat, graph_query, scopes, memory_details, graph_view,
    promote, prune, reset, purge, export, import_data,
)  # fmt: skip
"""Every ``Memory`` method the clients offer, in ``Memory``'s order."""
