"""Who is calling: the API key from the headers, its tenant, and that tenant's ``Memory``.

Accepted headers: ``Authorization: Bearer KEY``, ``Authorization: Token KEY`` (mem0's client) and
``X-API-Key: KEY``. With ``--no-auth`` every request is the ``default`` tenant's admin and headers
are ignored. Route functions take ``Caller``, ``TenantMemory`` or ``Admin`` as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from memlane import MemlaneError, Memory
from memlane.redact import redact_text
from memlane.server.errors import ApiError
from memlane.server.keys import DEFAULT_TENANT, KeyInfo, KeyStore
from memlane.server.settings import ServerSettings
from memlane.server.tenants import TenantMemories

__all__ = ["Admin", "Caller", "CallerInfo", "ServerState", "TenantMemory", "state_of"]

_SCHEMES = ("bearer", "token")
_AUTH_ERROR = "AuthenticationError"


@dataclass
class ServerState:
    """What every request shares: the settings, the key store and the tenants' memories."""

    settings: ServerSettings
    keys: KeyStore | None
    tenants: TenantMemories


@dataclass(frozen=True)
class CallerInfo:
    tenant: str
    admin: bool
    key: KeyInfo | None = None


def state_of(request: Request) -> ServerState:
    state = request.app.state.memlane
    assert isinstance(state, ServerState)
    return state


def secret_from(request: Request) -> str | None:
    """The key the request carries, if any (never logged)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() in _SCHEMES and value.strip():
            return value.strip()
        raise ApiError(
            401,
            "bad_authorization",
            "the Authorization header must use the scheme Bearer or Token, followed by the key",
            _AUTH_ERROR,
        )
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


async def caller(request: Request) -> CallerInfo:
    """The caller (on the event loop: the key lookup is one indexed SQLite read, and every thread
    hop costs a wake-up on a busy machine)."""
    state = state_of(request)
    if state.settings.no_auth or state.keys is None:
        found = CallerInfo(DEFAULT_TENANT, admin=True)
    else:
        secret = secret_from(request)
        if secret is None:
            raise ApiError(
                401,
                "missing_key",
                "authentication required: send the API key in an Authorization header (scheme Bearer or "
                "Token) or in an X-API-Key header; `memlane keys create --tenant NAME` makes one",
                _AUTH_ERROR,
            )
        info = state.keys.verify(secret)
        if info is None:
            raise ApiError(401, "invalid_key", "invalid or revoked API key", _AUTH_ERROR)
        found = CallerInfo(info.tenant, admin=info.admin, key=info)
    request.state.tenant = found.tenant
    return found


async def admin(who: Annotated[CallerInfo, Depends(caller)]) -> CallerInfo:
    if not who.admin:
        raise ApiError(
            403, "admin_required", "this route needs an admin key (memlane keys create --admin)", _AUTH_ERROR
        )
    return who


def memory_of(state: ServerState, tenant: str) -> Memory:
    try:
        return state.tenants.get(tenant)
    except (MemlaneError, OSError) as exc:  # a bad base config, a folder that cannot be made
        raise ApiError(
            503,
            "tenant_unavailable",
            redact_text(f"the memory of tenant {tenant!r} cannot be opened: {exc}"),
            "StoreError",
        ) from None


async def tenant_memory(request: Request, who: Annotated[CallerInfo, Depends(caller)]) -> Memory:
    """The tenant's Memory: at hand once built; built in the threadpool the first time."""
    state = state_of(request)
    memory = state.tenants.loaded_memory(who.tenant)
    if memory is None:
        memory = await run_in_threadpool(memory_of, state, who.tenant)
    return memory


Caller = Annotated[CallerInfo, Depends(caller)]
Admin = Annotated[CallerInfo, Depends(admin)]
TenantMemory = Annotated[Memory, Depends(tenant_memory)]
