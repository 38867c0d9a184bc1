"""Admin routes (admin keys only): the API keys and tenants of this server, and the service
routes anyone may call (health, readiness, version).

An admin key manages every tenant's keys: it can create a key for any tenant (and so read that
tenant's memories). Give admin keys to operators only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from memlane import MemlaneError, __version__
from memlane.redact import redact_text
from memlane.server.auth import Admin, memory_of, state_of
from memlane.server.errors import ApiError
from memlane.server.keys import DEFAULT_TENANT, KeyStore

__all__ = ["router"]

router = APIRouter()


class KeyCreate(BaseModel):
    tenant: str = DEFAULT_TENANT
    admin: bool = False


def _keys(request: Request) -> KeyStore:
    keys = state_of(request).keys
    if keys is None:
        raise ApiError(409, "no_key_store", "this server runs without keys (--no-auth)")
    return keys


@router.get("/admin/keys", tags=["admin"], summary="Every API key (never the secrets)")
def list_keys(request: Request, who: Admin, tenant: str | None = None) -> Any:
    return {"results": [key.to_dict() for key in _keys(request).list(tenant)]}


@router.post("/admin/keys", tags=["admin"], status_code=201, summary="A new key: shown once, in 'key'")
def create_key(request: Request, body: KeyCreate, who: Admin) -> Any:
    info, secret = _keys(request).create(body.tenant, admin=body.admin)
    return {**info.to_dict(), "key": secret}


@router.delete("/admin/keys/{key_id}", tags=["admin"], summary="Revoke a key (at once, in every worker)")
def revoke_key(request: Request, key_id: str, who: Admin) -> Any:
    return _keys(request).revoke(key_id).to_dict()


@router.get("/admin/tenants", tags=["admin"], summary="Tenants with an active key, and those loaded here")
def list_tenants(request: Request, who: Admin) -> Any:
    state = state_of(request)
    with_keys = state.keys.tenants() if state.keys is not None else [DEFAULT_TENANT]
    return {"results": [{"tenant": t, "loaded": t in state.tenants.loaded()} for t in with_keys]}


@router.get("/health", tags=["operations"], summary="The process answers")
async def health() -> Any:
    return {"status": "ok"}


@router.get("/ready", tags=["operations"], summary="The store answers (the default tenant's)")
def ready(request: Request) -> Any:
    try:
        memory = memory_of(state_of(request), DEFAULT_TENANT)
        memory.get_all(user_id="memlane-readiness-probe", top_k=1)
    except (ApiError, MemlaneError) as exc:
        detail = exc.detail if isinstance(exc, ApiError) else str(exc)
        body = {
            "status": "unavailable",
            "detail": redact_text(detail),
            "code": "not_ready",
            "type": "StoreError",
        }
        return JSONResponse(body, status_code=503)
    return {"status": "ready"}


@router.get("/version", tags=["operations"], summary="memlane's version")
async def version() -> Any:
    return {"version": __version__, "api": "mem0"}
