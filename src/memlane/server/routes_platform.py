"""mem0's platform routes that ``mem0.MemoryClient`` / ``AsyncMemoryClient`` call, so those
clients work unchanged with ``host=<this server>`` and a memlane key as ``api_key``.

Calls are synchronous (``add`` answers with its results rather than a queued event). The
platform's ``app_id`` scope has no memlane equivalent and is refused with a 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from memlane import Memory, NotFoundError
from memlane.server.auth import Caller, TenantMemory
from memlane.server.errors import ApiError
from memlane.server.idempotency import IdempotencyKey, with_key
from memlane.server.routes_oss import EXTENSIONS, Extensions, IdFields, MessageIn, ids_of, sent
from memlane.server.scan import ENTITY_KINDS, entities

__all__ = ["router"]

router = APIRouter(tags=["platform (mem0 client)"])

_NO_APP = "memlane has no app_id scope: use user_id, agent_id or run_id"
_MAX_BATCH = 1000


class PlatformAdd(IdFields):
    messages: list[MessageIn]
    app_id: str | None = None
    metadata: dict[str, Any] | None = None
    infer: bool | None = None
    memory_type: str | None = None
    prompt: str | None = None
    timestamp: int | float | str | None = None
    expiration_date: str | None = None
    filters: dict[str, Any] | None = None


class PlatformList(Extensions):
    filters: dict[str, Any] | None = None
    top_k: int | None = None
    show_expired: bool | None = None


class PlatformSearch(Extensions):
    query: str
    filters: dict[str, Any] | None = None
    top_k: int | None = None
    threshold: float | None = None
    rerank: bool | None = None
    explain: bool | None = None
    show_expired: bool | None = None
    reference_date: int | float | str | None = None


class PlatformUpdate(BaseModel):
    text: str | None = None
    metadata: dict[str, Any] | None = None
    timestamp: int | float | str | None = None
    expiration_date: str | None = None


class BatchItem(BaseModel):
    memory_id: str
    text: str | None = None
    metadata: dict[str, Any] | None = None


class Batch(BaseModel):
    memories: list[BatchItem] = Field(..., max_length=_MAX_BATCH)


def _refuse_app_id(*values: Any) -> None:
    if any(value is not None for value in values):
        raise ApiError(400, "unsupported_scope", _NO_APP)


@router.get("/v1/ping/", summary="Check a key (the client calls it first)")
def ping(who: Caller) -> Any:
    return {
        "status": "ok",
        "tenant": who.tenant,
        "org_id": "memlane",
        "project_id": who.tenant,
        "user_email": None,
    }


@router.post("/v3/memories/add/", summary="Remember messages (add; Idempotency-Key: retry safely)")
def add(body: PlatformAdd, memory: TenantMemory, key: IdempotencyKey) -> Any:
    _refuse_app_id(body.app_id, (body.filters or {}).get("app_id"))
    messages = [m.model_dump() for m in body.messages]
    options = sent(
        body, "metadata", "infer", "memory_type", "prompt", "timestamp", "expiration_date", "filters"
    )
    return memory.add(messages, **ids_of(body), **with_key(options, key))


@router.post("/v3/memories/", summary="List memories (get_all), optionally one page")
def get_all(
    body: PlatformList,
    memory: TenantMemory,
    page: int | None = Query(default=None, ge=1),
    page_size: int | None = Query(default=None, ge=1, le=1000),
) -> Any:
    _refuse_app_id((body.filters or {}).get("app_id"))
    options = sent(body, "top_k", "show_expired", *EXTENSIONS)
    return memory.get_all(filters=body.filters, page=page, page_size=page_size, **options)


@router.post("/v3/memories/search/", summary="Search memories")
def search(body: PlatformSearch, memory: TenantMemory) -> Any:
    _refuse_app_id((body.filters or {}).get("app_id"))
    options = sent(
        body, "filters", "top_k", "threshold", "rerank", "explain", "show_expired", "reference_date",
        *EXTENSIONS,
    )  # fmt: skip
    return memory.search(body.query, **options)


@router.get("/v1/memories/{memory_id}/", summary="One memory (404 when there is none)")
def get(memory_id: str, memory: TenantMemory) -> Any:
    item = memory.get(memory_id)
    if item is None:
        raise NotFoundError(memory_id)
    return item


@router.put("/v1/memories/{memory_id}/", summary="Change a memory's text, metadata or expiration")
def update(memory_id: str, body: PlatformUpdate, memory: TenantMemory) -> Any:
    if "timestamp" in body.model_fields_set and body.timestamp is not None:
        raise ApiError(400, "unsupported_field", "update() cannot change a memory's timestamp in memlane")
    options: dict[str, Any] = sent(body, "text", "metadata")
    if "expiration_date" in body.model_fields_set:
        options["expiration_date"] = body.expiration_date
    return memory.update(memory_id, **options)


@router.delete("/v1/memories/{memory_id}/", summary="Delete a memory")
def delete(memory_id: str, memory: TenantMemory, delete_linked: bool = False) -> Any:
    return memory.delete(memory_id)


@router.delete("/v1/memories/", summary="Delete every memory of a user, agent or run")
def delete_all(
    memory: TenantMemory,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    app_id: str | None = None,
) -> Any:
    _refuse_app_id(app_id)
    ids = {k: v for k, v in {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}.items() if v}
    if not ids:
        raise ApiError(
            400, "missing_identifier", "name the user_id, agent_id or run_id whose memories to delete"
        )
    return memory.delete_all(filters=ids)


@router.get("/v1/memories/{memory_id}/history/", summary="A memory's changes")
def history(memory_id: str, memory: TenantMemory) -> Any:
    return memory.history(memory_id)


@router.get("/v1/entities/", summary="Users, agents and runs that have memories")
def list_entities(memory: TenantMemory) -> Any:
    results = entities(memory)
    return {"count": len(results), "next": None, "previous": None, "results": results}


@router.delete("/v2/entities/{kind}/{name}/", summary="Delete every memory of one user, agent or run")
def delete_entity(kind: str, name: str, memory: TenantMemory) -> Any:
    key = ENTITY_KINDS.get(kind)
    if key is None:
        _refuse_app_id(name if kind == "app" else None)
        raise ApiError(400, "invalid_entity_type", f"entity type must be user, agent or run, got {kind!r}")
    result = memory.delete_all(filters={key: name})
    return {"message": "Entity deleted successfully.", "deleted": result.get("deleted", 0)}


def _check_batch(memory: Memory, batch: Batch) -> None:
    """Every id exists before anything changes (a batch with an unknown id changes nothing)."""
    missing = [item.memory_id for item in batch.memories if memory.get(item.memory_id) is None]
    if missing:
        raise NotFoundError(missing[0])


@router.put("/v1/batch/", summary="Update up to 1000 memories")
def batch_update(body: Batch, memory: TenantMemory) -> Any:
    for item in body.memories:
        if item.text is None and item.metadata is None:
            raise ApiError(
                400, "invalid_input", f"memory {item.memory_id!r}: give text or metadata to update"
            )
    _check_batch(memory, body)
    for item in body.memories:
        memory.update(item.memory_id, **sent(item, "text", "metadata"))
    return {"message": f"Successfully updated {len(body.memories)} memories"}


@router.delete("/v1/batch/", summary="Delete up to 1000 memories")
def batch_delete(body: Batch, memory: TenantMemory) -> Any:
    _check_batch(memory, body)
    for item in body.memories:
        memory.delete(item.memory_id)
    return {"message": f"Successfully deleted {len(body.memories)} memories"}
