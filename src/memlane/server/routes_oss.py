"""mem0's OSS REST routes (its ``server/``): the same paths, bodies and answers.

Every route is thin: parse, call the caller's tenant's ``Memory``, answer. Fields a client did
not send are not passed on (``Memory``'s defaults apply); unknown fields are ignored.

memlane extensions (``Extensions``; mem0's clients never send them): listing and search take
``memory_type``, ``long_term`` and ``as_of`` as ``Memory.get_all`` and ``Memory.search`` do.
A value of the wrong type is a 422; a value ``Memory`` refuses (an unknown type, a time that is
not one, ``long_term`` without a run) is a 400 that says why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from memlane.redact import redacted_config
from memlane.server.auth import Admin, Caller, TenantMemory
from memlane.server.errors import ApiError
from memlane.server.idempotency import IdempotencyKey, with_key
from memlane.server.scan import all_memories

__all__ = ["EXTENSIONS", "Extensions", "IdFields", "router", "sent"]

router = APIRouter()

_NEED_ID = "At least one identifier (user_id, agent_id, run_id) is required."
_TYPE_HELP = "memlane: keep the memories of this type or these types (semantic, episodic, procedural)"
_TYPES_HELP = f"{_TYPE_HELP}; repeat the parameter for several"
_LONG_TERM_HELP = (
    "memlane: with a run_id and a user_id (or agent_id), the run plus the owner's long-term memories"
)
_AS_OF_HELP = "memlane: what memlane held at this record time (ISO-8601 or Unix seconds)"
EXTENSIONS = ("memory_type", "long_term", "as_of")
"""memlane's fields on mem0's list and search routes."""


class IdFields(BaseModel):
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None


class MessageIn(BaseModel):
    role: str
    content: str | dict[str, Any] | list[Any]


class MemoryCreate(IdFields):
    messages: list[MessageIn] = Field(..., description="the conversation to remember")
    metadata: dict[str, Any] | None = None
    expiration_date: str | None = Field(default=None, description="YYYY-MM-DD")
    infer: bool | None = None
    memory_type: str | None = None
    prompt: str | None = None


class Extensions(BaseModel):
    """memlane's own fields on mem0's list and search bodies (absent: ``Memory``'s defaults)."""

    memory_type: str | list[str] | None = Field(default=None, description=_TYPE_HELP)
    long_term: bool | None = Field(default=None, description=_LONG_TERM_HELP)
    as_of: int | float | str | None = Field(default=None, description=_AS_OF_HELP)


class SearchRequest(IdFields, Extensions):
    query: str
    filters: dict[str, Any] | None = None
    top_k: int | None = None
    limit: int | None = Field(default=None, description="mem0 1.x's name for top_k")
    threshold: float | None = None
    rerank: bool | None = None
    explain: bool | None = None
    show_expired: bool | None = None


class MemoryUpdate(BaseModel):
    text: str | None = None
    metadata: dict[str, Any] | None = None
    expiration_date: str | None = None


def sent(model: BaseModel, *names: str) -> dict[str, Any]:
    """The fields among ``names`` the client set to something other than null."""
    return {
        n: getattr(model, n) for n in names if n in model.model_fields_set and getattr(model, n) is not None
    }


def ids_of(model: IdFields) -> dict[str, Any]:
    return sent(model, "user_id", "agent_id", "run_id")


@router.post("/memories", tags=["memories"], summary="Remember messages (add; Idempotency-Key: retry safely)")
def add_memories(body: MemoryCreate, memory: TenantMemory, key: IdempotencyKey) -> Any:
    ids = ids_of(body)
    if not ids:
        raise ApiError(400, "missing_identifier", _NEED_ID)
    messages = [m.model_dump() for m in body.messages]
    options = sent(body, "metadata", "expiration_date", "infer", "memory_type", "prompt")
    return memory.add(messages, **ids, **with_key(options, key))


@router.get("/memories", tags=["memories"], summary="List memories (get_all)")
def list_memories(
    memory: TenantMemory,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    top_k: int | None = Query(default=None, ge=0, le=1000),
    show_expired: bool = False,
    memory_type: Annotated[list[str] | None, Query(description=_TYPES_HELP)] = None,
    long_term: bool | None = Query(default=None, description=_LONG_TERM_HELP),
    as_of: str | None = Query(default=None, description=_AS_OF_HELP),
) -> Any:
    ids = {k: v for k, v in {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}.items() if v}
    given: dict[str, Any] = {"memory_type": memory_type, "long_term": long_term, "as_of": as_of}
    options = {k: v for k, v in given.items() if v is not None and v is not False}
    if not ids:
        if options:
            raise ApiError(400, "missing_identifier", f"{', '.join(options)}: {_NEED_ID}")
        return {"results": all_memories(memory, 1000 if top_k is None else top_k)}
    return memory.get_all(filters=ids, top_k=top_k, show_expired=show_expired, **options)


@router.get("/memories/{memory_id}", tags=["memories"], summary="One memory, or null")
def get_memory(memory_id: str, memory: TenantMemory) -> Any:
    return memory.get(memory_id)


@router.put("/memories/{memory_id}", tags=["memories"], summary="Change a memory's text or metadata")
def update_memory(memory_id: str, body: MemoryUpdate, memory: TenantMemory) -> Any:
    options: dict[str, Any] = sent(body, "text", "metadata")
    if "expiration_date" in body.model_fields_set:
        options["expiration_date"] = body.expiration_date  # null clears it
    memory.update(memory_id, **options)
    return {"message": "Memory updated successfully!"}


@router.get("/memories/{memory_id}/history", tags=["memories"], summary="A memory's changes")
def memory_history(memory_id: str, memory: TenantMemory) -> Any:
    return memory.history(memory_id)


@router.delete("/memories/{memory_id}", tags=["memories"], summary="Delete a memory")
def delete_memory(memory_id: str, memory: TenantMemory) -> Any:
    memory.delete(memory_id)
    return {"message": "Memory deleted successfully"}


@router.delete("/memories", tags=["memories"], summary="Delete every memory of a user, agent or run")
def delete_all_memories(
    memory: TenantMemory, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
) -> Any:
    ids = {k: v for k, v in {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}.items() if v}
    if not ids:
        raise ApiError(400, "missing_identifier", _NEED_ID)
    memory.delete_all(filters=ids)
    return {"message": "All relevant memories deleted"}


@router.post("/search", tags=["memories"], summary="Search memories")
def search_memories(body: SearchRequest, memory: TenantMemory) -> Any:
    options = sent(
        body, "filters", "top_k", "limit", "threshold", "rerank", "explain", "show_expired", *EXTENSIONS
    )
    return memory.search(body.query, **ids_of(body), **options)


@router.post("/reset", tags=["admin"], summary="Delete every memory of the caller's tenant")
def reset(who: Admin, memory: TenantMemory) -> Any:
    memory.reset()
    return {"message": "All memories reset"}


@router.get("/configure", tags=["admin"], summary="The configuration in use, secrets redacted")
def configure(who: Caller, memory: TenantMemory) -> Any:
    return redacted_config(memory.config)


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/docs")
