"""Per request: an id (``X-Request-ID``), the body size limit, and one structured log line.

The log line (logger ``memlane.server.access``, JSON) has the request id, method, route (the
path template, so no memory id or user id leaks into logs), status, latency and tenant: never a
key, a header, a query string or a body.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memlane.redact import redact_text

__all__ = ["RequestContext", "access_log"]

access_log = logging.getLogger("memlane.server.access")
log = logging.getLogger("memlane.server")
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _error(
    status: int, code: str, detail: str, request_id: str, type_name: str = "InvalidInputError"
) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail, "code": code, "type": type_name, "request_id": request_id})
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json")],
    }
    return start, {"type": "http.response.body", "body": body.encode()}


class RequestContext:
    """Pure ASGI middleware (no per-request task), outermost."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = _header(scope, b"x-request-id")
        request_id = given if given and _GOOD_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        outcome: dict[str, Any] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"], outcome["started"] = message["status"], True
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            body = await self._bounded_body(scope, receive)
            if body is None:
                limit = f"the request body is over {self.max_body_bytes} bytes (the server's max_body_bytes)"
                for message in _error(413, "body_too_large", limit, request_id):
                    await send_with_id(message)
            else:
                await self.app(scope, _replay(body, receive), send_with_id)
        except Exception as exc:  # noqa: BLE001 - a bug: a 500 with the request id only, logged redacted
            log.error("unexpected error: %s: %s", type(exc).__name__, redact_text(str(exc)))
            if "started" not in outcome:
                detail = "internal error; the server log has the details"
                for message in _error(500, "internal_error", detail, request_id, "MemlaneError"):
                    await send_with_id(message)
        finally:
            self._log(scope, request_id, outcome["status"], started)

    async def _bounded_body(self, scope: Scope, receive: Receive) -> list[Message] | None:
        """The request's body messages, or None when they exceed the limit."""
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return None
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    def _log(self, scope: Scope, request_id: str, status: int, started: float) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        route = scope.get("route")
        state = scope.get("state") or {}
        record = {
            "event": "request",
            "request_id": request_id,
            "method": scope.get("method"),
            "route": getattr(route, "path", None) or "(unmatched)",
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "tenant": state.get("tenant"),
        }
        access_log.info(json.dumps(record))


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
