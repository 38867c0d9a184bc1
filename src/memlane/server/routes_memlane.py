"""memlane's own routes: every ``Memory`` method, with all its arguments and its exact answer.

``POST /memlane/v1/<method>`` takes a JSON object of the method's keyword arguments (those not
sent keep ``Memory``'s defaults; an unknown one is a 422) and answers what the method returns,
as JSON. ``memlane.Client`` and ``memlane.AsyncClient`` use these routes; mem0's routes (same
server) keep mem0's shapes for mem0's clients. Two exceptions to "a JSON object in":
``import_data`` takes the export (JSON Lines) as its body, ``export`` answers one.

Each route is thin: parse, call the caller's tenant's ``Memory``, answer. ``reset`` needs an
admin key, as mem0's ``POST /reset`` does.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from memlane.server.auth import Admin, TenantMemory
from memlane.server.idempotency import IdempotencyKey, with_key

__all__ = ["PREFIX", "router"]

PREFIX = "/memlane/v1"

router = APIRouter(prefix=PREFIX, tags=["memlane"])

IdIn = str | int
TimeIn = str | int | float


class _Arguments(BaseModel):
    """A method's keyword arguments; only those sent are passed on."""

    model_config = ConfigDict(extra="forbid")

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class _Scope(_Arguments):
    user_id: IdIn | None = None
    agent_id: IdIn | None = None
    run_id: IdIn | None = None


class _Filtered(_Scope):
    filters: dict[str, Any] | None = None


class AddIn(_Filtered):
    messages: Any
    metadata: dict[str, Any] | None = None
    infer: bool | None = None
    memory_type: str | None = None
    prompt: str | None = None
    timestamp: TimeIn | None = None
    expiration_date: TimeIn | None = None
    idempotency_key: str | None = None
    """Or the ``Idempotency-Key`` header (``memlane.server.idempotency``)."""


class SearchIn(_Filtered):
    query: Any
    top_k: int | None = None
    limit: int | None = None
    threshold: float | None = None
    rerank: bool = False
    explain: bool = False
    show_expired: bool = False
    reference_date: TimeIn | None = None
    memory_type: str | list[str] | None = None
    long_term: bool = False
    as_of: TimeIn | None = None


class ContextIn(_Filtered):
    query: Any
    max_tokens: int = 1000
    reference_date: TimeIn | None = None
    top_k: int | None = None
    show_expired: bool = False


class ChatIn(_Filtered):
    query: Any
    max_tokens: int = 1000
    reference_date: TimeIn | None = None
    top_k: int | None = None
    remember: bool = False


class GraphQueryIn(_Scope):
    question: Any
    limit: int | None = None
    timeout_ms: int | None = None


class GetAllIn(_Filtered):
    top_k: int | None = None
    limit: int | None = None
    show_expired: bool = False
    page: int | None = None
    page_size: int | None = None
    memory_type: str | list[str] | None = None
    long_term: bool = False
    as_of: TimeIn | None = None


class MemoryIdIn(_Arguments):
    memory_id: IdIn


class UpdateIn(MemoryIdIn):
    text: str | None = None
    metadata: dict[str, Any] | None = None
    expiration_date: TimeIn | None = None
    """Not sent: kept; null: removed."""
    data: str | None = None


class ResolveIn(_Arguments):
    memory_id_or_prefix: IdIn


class ProfileIn(_Filtered):
    as_of: TimeIn | None = None


class ProfileHistoryIn(_Filtered):
    key: Any


class GraphViewIn(_Scope):
    max_entities: int = 150
    include_invalidated: bool = True


class PruneIn(_Scope):
    dry_run: bool = False


class PurgeIn(_Scope):
    memory_id: IdIn | None = None


@router.post("/add", summary="Memory.add: remember messages (Idempotency-Key: a retry answers the first)")
def add(body: AddIn, memory: TenantMemory, key: IdempotencyKey) -> Any:
    return memory.add(**with_key(body.given(), key))


@router.post("/search", summary="Memory.search")
def search(body: SearchIn, memory: TenantMemory) -> Any:
    return memory.search(**body.given())


@router.post("/get_context", summary="Memory.get_context: a cited context block for a prompt")
def get_context(body: ContextIn, memory: TenantMemory) -> Any:
    return memory.get_context(**body.given())


@router.post("/chat", summary="Memory.chat: an answer from the memories, with citations")
def chat(body: ChatIn, memory: TenantMemory) -> Any:
    return memory.chat(**body.given())


@router.post("/graph_query", summary="Memory.graph_query: a question answered from the scope's graph")
def graph_query(body: GraphQueryIn, memory: TenantMemory) -> Any:
    return memory.graph_query(**body.given())


@router.post("/get", summary="Memory.get: one memory, or null")
def get(body: MemoryIdIn, memory: TenantMemory) -> Any:
    return memory.get(**body.given())


@router.post("/get_all", summary="Memory.get_all: the memories of a scope, newest first")
def get_all(body: GetAllIn, memory: TenantMemory) -> Any:
    return memory.get_all(**body.given())


@router.post("/update", summary="Memory.update")
def update(body: UpdateIn, memory: TenantMemory) -> Any:
    return memory.update(**body.given())


@router.post("/delete", summary="Memory.delete")
def delete(body: MemoryIdIn, memory: TenantMemory) -> Any:
    return memory.delete(**body.given())


@router.post("/delete_all", summary="Memory.delete_all: every memory of a scope")
def delete_all(body: _Filtered, memory: TenantMemory) -> Any:
    return memory.delete_all(**body.given())


@router.post("/history", summary="Memory.history: a memory's changes, oldest first")
def history(body: MemoryIdIn, memory: TenantMemory) -> Any:
    return memory.history(**body.given())


@router.post("/resolve_id", summary="Memory.resolve_id: the id a unique prefix names")
def resolve_id(body: ResolveIn, memory: TenantMemory) -> Any:
    return memory.resolve_id(**body.given())


@router.post("/describe_llm", summary="Memory.describe_llm: the configured LLM, secrets masked")
def describe_llm(memory: TenantMemory) -> Any:
    return memory.describe_llm()


@router.post("/get_profile", summary="Memory.get_profile")
def get_profile(body: ProfileIn, memory: TenantMemory) -> Any:
    return memory.get_profile(**body.given())


@router.post("/profile_history", summary="Memory.profile_history: every value of one slot")
def profile_history(body: ProfileHistoryIn, memory: TenantMemory) -> Any:
    return memory.profile_history(**body.given())


@router.post("/scopes", summary="Memory.scopes: the users, agents and runs that have memories")
def scopes(memory: TenantMemory) -> Any:
    return memory.scopes()


@router.post("/memory_details", summary="Memory.memory_details: versions, history, sources, relations")
def memory_details(body: MemoryIdIn, memory: TenantMemory) -> Any:
    return memory.memory_details(**body.given())


@router.post("/graph_view", summary="Memory.graph_view: a scope's graph, bounded for drawing")
def graph_view(body: GraphViewIn, memory: TenantMemory) -> Any:
    return memory.graph_view(**body.given())


@router.post("/reprocess", summary="Memory.reprocess: retry the adds whose LLM call failed")
def reprocess(body: _Scope, memory: TenantMemory) -> Any:
    return memory.reprocess(**body.given())


@router.post("/promote", summary="Memory.promote: make a run's memory long-term")
def promote(body: MemoryIdIn, memory: TenantMemory) -> Any:
    return memory.promote(**body.given())


@router.post("/prune", summary="Memory.prune: delete the expired memories")
def prune(body: PruneIn, memory: TenantMemory) -> Any:
    return memory.prune(**body.given())


@router.post("/purge", summary="Memory.purge: erase for good (GDPR)")
def purge(body: PurgeIn, memory: TenantMemory) -> Any:
    return memory.purge(**body.given())


@router.post("/reset", summary="Memory.reset: every memory of the caller's tenant (admin key)")
def reset(who: Admin, memory: TenantMemory) -> Any:
    return memory.reset()


@router.post("/export", summary="Memory.export: the tenant's records as JSON Lines")
def export(memory: TenantMemory) -> Response:
    buffer = io.StringIO()
    memory.export(buffer)
    return Response(buffer.getvalue(), media_type="application/x-ndjson")


@router.post("/import_data", summary="Memory.import_data: load an export (the body), all or nothing")
async def import_data(request: Request, memory: TenantMemory) -> Any:
    text = (await request.body()).decode("utf-8", errors="replace")
    return await run_in_threadpool(memory.import_data, io.StringIO(text))
