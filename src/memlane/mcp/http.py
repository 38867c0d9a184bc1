"""The MCP tools over streamable HTTP: the user from the URL, the tenant from the API key.

``http_app(memory_for, verify)`` is an ASGI application serving ``/mcp/<user_id>``:

- every request needs an API key (``Authorization: Bearer KEY``, ``Authorization: Token KEY``
  or ``X-API-Key: KEY``, read as ``memlane serve`` reads them), checked by ``verify`` (the REST
  server's key store); a missing, unknown or revoked key is refused with 401 before the MCP
  layer sees the request;
- the key's tenant chooses the ``Memory`` (``memory_for(tenant)``), the path the user; the
  tools never take either from the model;
- the transport is stateless (each POST stands alone), so one connection can never carry a
  request into another user's or tenant's memories.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from memlane import ConfigError, Memory
from memlane.mcp.tools import Caller, build_server
from memlane.server.auth import secret_from
from memlane.server.errors import ApiError
from memlane.server.keys import KeyInfo, KeyStore
from memlane.server.tenants import TenantMemories

__all__ = ["MCP_PATH", "Verify", "http_app", "serve_http"]

MCP_PATH = "/mcp"
_USER_PATH = re.compile(r"/mcp/([^/]+)/?")
_SCOPE_KEY = "memlane.mcp"


Verify = Callable[[str], KeyInfo | None]


async def _refuse(send: Send, status: int, detail: str, code: str, kind: str) -> None:
    body = json.dumps({"detail": detail, "code": code, "type": kind}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _KeyAndUser:
    """Checks the key, reads the user from the path, hands the request to the MCP app at ``/mcp``."""

    def __init__(self, app: ASGIApp, verify: Verify) -> None:
        self.app = app
        self.verify = verify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: the MCP app's session manager starts and stops
            await self.app(scope, receive, send)
            return
        match = _USER_PATH.fullmatch(scope["path"])
        if match is None:
            await _refuse(
                send, 404, "not found: the MCP endpoint is /mcp/<user_id>", "not_found", "NotFoundError"
            )
            return
        try:
            key = secret_from(Request(scope))
        except ApiError as exc:  # an Authorization header of another scheme
            await _refuse(send, 401, exc.detail, exc.code, exc.type_name)
            return
        info = await asyncio.to_thread(self.verify, key) if key else None
        if info is None:
            detail = (
                "a valid API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
                "(create one with `memlane keys create --tenant NAME`)"
            )
            await _refuse(send, 401, detail, "unauthorized", "AuthenticationError")
            return
        inner = dict(scope, path=MCP_PATH, raw_path=MCP_PATH.encode())
        inner[_SCOPE_KEY] = (info.tenant, unquote(match.group(1)))
        await self.app(inner, receive, send)


def _resolver(memory_for: Callable[[str], Memory]) -> Callable[[Context], Caller]:
    def resolve(ctx: Context) -> Caller:
        request: Any = ctx.request_context.request
        who = getattr(request, "scope", {}).get(_SCOPE_KEY)
        if who is None:
            raise ToolError("this request carries no verified API key and user")
        tenant, user_id = who
        return Caller(memory_for(tenant), user_id)

    return resolve


def http_app(memory_for: Callable[[str], Memory], verify: Verify, *, host: str = "127.0.0.1") -> ASGIApp:
    """The ASGI app of the MCP tools at ``/mcp/<user_id>``, every request authenticated by ``verify``."""
    server = build_server(_resolver(memory_for))
    inner = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=True, json_response=True, host=host
    )
    return _KeyAndUser(inner, verify)


def serve_http(base_config: dict[str, Any], *, host: str, port: int, keys_path: str | None) -> None:
    """Serve the tools at ``http://host:port/mcp/<user_id>`` until interrupted: each tenant's
    ``Memory`` derived from ``base_config`` as ``memlane serve`` does, keys from its key store."""
    import uvicorn

    keys = KeyStore(keys_path)
    if not keys.has_active_keys():
        raise ConfigError(
            f"no API key in {keys.path}: create one with `memlane keys create --tenant NAME` "
            "(the MCP endpoint refuses every request without one)"
        )
    memories = TenantMemories(base_config)
    try:
        app = http_app(memories.get, keys.verify, host=host)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        memories.close()
