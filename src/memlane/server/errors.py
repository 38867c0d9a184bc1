"""Errors as JSON: ``{"detail": message, "code": code, "type": memlane error class}``.

What a client sent wrong is a 4xx (400 bad input, 404 unknown id, 401/403 auth, 409 an
idempotency key reused with other arguments or still in flight, 413 too large, 422 a body or
query that does not validate); a back end that failed is a 502 (LLM, embedder,
reranker) or 503 (store); anything else is a 500 with only the request id. Messages are
redacted (memlane.redact) and never carry a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from memlane import (
    ConfigError,
    ConflictError,
    DimensionMismatchError,
    EmbedderError,
    InvalidFilterError,
    InvalidInputError,
    LLMError,
    MemlaneError,
    NotFoundError,
    ProviderError,
    RerankError,
    StoreError,
)
from memlane.redact import redact_text

__all__ = ["ApiError", "error_body", "install_error_handlers", "status_of"]

log = logging.getLogger("memlane.server")

# (error class, status, code), most specific first
_TABLE: tuple[tuple[type[MemlaneError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (InvalidFilterError, 400, "invalid_filter"),
    (InvalidInputError, 400, "invalid_input"),
    (ConfigError, 400, "not_configured"),
    (DimensionMismatchError, 503, "store_mismatch"),
    (StoreError, 503, "store_unavailable"),
    (LLMError, 502, "llm_failed"),
    (EmbedderError, 502, "embedder_failed"),
    (RerankError, 502, "rerank_failed"),
    (ProviderError, 502, "provider_failed"),
    (MemlaneError, 400, "invalid_request"),
)


class ApiError(Exception):
    """An error the server itself raises (auth, limits, unsupported fields)."""

    def __init__(self, status: int, code: str, detail: str, type_name: str = "InvalidInputError") -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.type_name = type_name


def status_of(exc: MemlaneError) -> tuple[int, str]:
    for cls, status, code in _TABLE:
        if isinstance(exc, cls):
            return status, code
    return 400, "invalid_request"  # pragma: no cover - MemlaneError is last in the table


def error_body(detail: str, code: str, type_name: str, request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": redact_text(detail), "code": code, "type": type_name}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return body


def _memlane(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MemlaneError)
    status, code = status_of(exc)
    if status >= 500:
        log.warning("provider failure: %s: %s", type(exc).__name__, redact_text(str(exc)))
    body = error_body(str(exc) or type(exc).__name__, code, type(exc).__name__, request)
    return JSONResponse(body, status_code=status)


def _api(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    body = error_body(exc.detail, exc.code, exc.type_name, request)
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    body = error_body(
        "invalid request: " + "; ".join(problems), "invalid_request", "InvalidInputError", request
    )
    return JSONResponse(body, status_code=422)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    type_name = "NotFoundError" if exc.status_code == 404 else "InvalidInputError"
    body = error_body(str(exc.detail), code, type_name, request)
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error: %s: %s", type(exc).__name__, redact_text(str(exc)))
    body = error_body(
        "internal error; the server log has the details", "internal_error", "MemlaneError", request
    )
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MemlaneError, _memlane)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
