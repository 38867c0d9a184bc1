"""``Client`` and ``AsyncClient``: ``Memory``'s methods over HTTP, against ``memlane serve``.

Every method is generated from its builder in ``_calls`` (the signature of the ``Memory``
method of the same name); the classes only send. Errors come back as memlane's own types: the
server names the class in its error body (``{"detail", "code", "type"}``); without a name, the
status decides (404 ``NotFoundError``, 400/413/422 ``InvalidInputError``, 401/403
``AuthenticationError``, 5xx ``RemoteError``). A server that cannot be reached is a
``RemoteError`` too. The API key is sent as ``Authorization: Bearer`` and never appears in an
error, a log line or a ``repr``.

Retries: an ``add`` carries an ``Idempotency-Key`` (the caller's ``idempotency_key``, else one
made for that call) and is sent again, with the same key, when the connection fails or times
out before the answer arrives, or the server answers 503 (its store was briefly unavailable):
at most ``retries`` more times, after a short pause. The server answers a repeat with the first
attempt's result, so a lost answer never adds twice. Other calls are sent once.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from memlane import errors
from memlane.client import _calls as calls
from memlane.client._calls import Call
from memlane.redact import redact_text, redact_url

__all__ = ["API_KEY_ENV", "AsyncClient", "Client"]

P = ParamSpec("P")
R = TypeVar("R")

API_KEY_ENV = "MEMLANE_API_KEY"
"""Where the clients read the API key when none is given."""

_ERRORS: dict[str, type[errors.MemlaneError]] = {
    name: cls
    for name in errors.__all__
    if isinstance(cls := getattr(errors, name), type) and issubclass(cls, errors.MemlaneError)
}


def _by_status(status: int) -> type[errors.MemlaneError]:
    if status == 404:
        return errors.NotFoundError
    if status in (401, 403):
        return errors.AuthenticationError
    if status >= 500:
        return errors.RemoteError
    return errors.InvalidInputError


def _error(call: Call[Any], response: httpx.Response) -> errors.MemlaneError:
    """The memlane error an error response stands for, with the server's message."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    detail: Any = body.get("detail") if isinstance(body, dict) else None
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(detail, str):
        detail = json.dumps(detail) if detail is not None else f"HTTP {response.status_code}"
    cls = _ERRORS.get(kind) if isinstance(kind, str) else None
    cls = cls or _by_status(response.status_code)
    exc = cls.__new__(cls)  # the server's message as is: some classes build theirs from fields
    exc.args = (redact_text(f"{detail} (HTTP {response.status_code})"),)
    if isinstance(exc, errors.NotFoundError):
        exc.memory_id = str(call.body.get("memory_id", call.body.get("memory_id_or_prefix", "")))
    if isinstance(exc, errors.AuthenticationError | errors.RemoteError):
        exc.status = response.status_code
    return exc


def _unreachable(url: str, exc: httpx.TransportError) -> errors.RemoteError:
    reason = redact_text(str(exc)) or type(exc).__name__
    error = errors.RemoteError(f"cannot reach the memlane server at {redact_url(url)}: {reason}")
    error.status = None
    return error


def _result(call: Call[R], response: httpx.Response) -> R:
    if response.is_success:
        return call.decode(response.content)
    raise _error(call, response)


def _request(call: Call[Any]) -> dict[str, Any]:
    if call.content is not None:
        return {"content": call.content.encode(), "headers": {"content-type": "application/x-ndjson"}}
    return {"json": call.body, "headers": call.headers}


RETRY_STATUSES = frozenset({503})
"""Answers after which a retryable call is sent again (the store was briefly unavailable)."""


def _attempts(call: Call[Any], retries: int) -> int:
    return 1 + (max(retries, 0) if call.retry else 0)


def _pause(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1`` (0.2, 0.4, 0.8 … at most 5), with jitter."""
    return min(0.2 * 2.0**attempt, 5.0) * random.uniform(0.5, 1.0)


def _headers(api_key: str | None) -> dict[str, str]:
    from memlane import __version__  # memlane imports this module: its version is set by now

    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    headers = {"user-agent": f"memlane-client/{__version__}"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def _like_memory(method: Callable[..., Any], build: Callable[..., Call[Any]]) -> None:
    """Give ``method`` the signature of the ``Memory`` method ``build`` stands for."""
    functools.update_wrapper(method, build)
    signature = inspect.signature(build)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Call[") and returns.endswith("]"):
        returns = returns[len("Call[") : -1]
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[this, *signature.parameters.values()], return_annotation=returns
    )
    del method.__wrapped__  # type: ignore[attr-defined]


def _sync(build: Callable[P, Call[R]]) -> Callable[Concatenate[Client, P], R]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._send(build(*args, **kwargs))

    _like_memory(method, build)
    return method


def _async(build: Callable[P, Call[R]]) -> Callable[Concatenate[AsyncClient, P], Awaitable[R]]:
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._send(build(*args, **kwargs))

    _like_memory(method, build)
    return method


class _Base:
    url: str

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_url(self.url)!r})"


class Client(_Base):
    """``Memory`` over HTTP: the same methods, arguments, results and errors, on a ``memlane
    serve`` (``url``, e.g. ``"http://127.0.0.1:8000"``) as the tenant of ``api_key`` (default:
    ``$MEMLANE_API_KEY``). ``timeout`` is in seconds, per request (None: wait as long as the
    server takes, e.g. for ``add`` with a slow local LLM); ``retries``: how many more times an
    ``add`` is sent, with its idempotency key, when its answer is lost (see above)."""

    def __init__(
        self, url: str, api_key: str | None = None, *, timeout: float | None = 30.0, retries: int = 2
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self._http = httpx.Client(base_url=self.url, headers=_headers(api_key), timeout=timeout)

    def _send(self, call: Call[R]) -> R:
        attempts = _attempts(call, self.retries)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._http.post(call.path, **_request(call))
            except httpx.TransportError as exc:
                if last:
                    raise _unreachable(self.url, exc) from None
            else:
                if last or response.status_code not in RETRY_STATUSES:
                    return _result(call, response)
            time.sleep(_pause(attempt))
        raise AssertionError("unreachable")

    add = _sync(calls.add)
    reprocess = _sync(calls.reprocess)
    update = _sync(calls.update)
    delete = _sync(calls.delete)
    delete_all = _sync(calls.delete_all)
    search = _sync(calls.search)
    get = _sync(calls.get)
    get_all = _sync(calls.get_all)
    history = _sync(calls.history)
    resolve_id = _sync(calls.resolve_id)
    describe_llm = _sync(calls.describe_llm)
    get_profile = _sync(calls.get_profile)
    profile_history = _sync(calls.profile_history)
    get_context = _sync(calls.get_context)
    chat = _sync(calls.chat)
    graph_query = _sync(calls.graph_query)
    scopes = _sync(calls.scopes)
    memory_details = _sync(calls.memory_details)
    graph_view = _sync(calls.graph_view)
    promote = _sync(calls.promote)
    prune = _sync(calls.prune)
    reset = _sync(calls.reset)
    purge = _sync(calls.purge)
    export = _sync(calls.export)
    import_data = _sync(calls.import_data)

    def close(self) -> None:
        """Close the connections to the server."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """``AsyncMemory`` over HTTP: ``Client``'s methods as coroutines (httpx's async client)."""

    def __init__(
        self, url: str, api_key: str | None = None, *, timeout: float | None = 30.0, retries: int = 2
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self._http = httpx.AsyncClient(base_url=self.url, headers=_headers(api_key), timeout=timeout)

    async def _send(self, call: Call[R]) -> R:
        attempts = _attempts(call, self.retries)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._http.post(call.path, **_request(call))
            except httpx.TransportError as exc:
                if last:
                    raise _unreachable(self.url, exc) from None
            else:
                if last or response.status_code not in RETRY_STATUSES:
                    return _result(call, response)
            await asyncio.sleep(_pause(attempt))
        raise AssertionError("unreachable")

    add = _async(calls.add)
    reprocess = _async(calls.reprocess)
    update = _async(calls.update)
    delete = _async(calls.delete)
    delete_all = _async(calls.delete_all)
    search = _async(calls.search)
    get = _async(calls.get)
    get_all = _async(calls.get_all)
    history = _async(calls.history)
    resolve_id = _async(calls.resolve_id)
    describe_llm = _async(calls.describe_llm)
    get_profile = _async(calls.get_profile)
    profile_history = _async(calls.profile_history)
    get_context = _async(calls.get_context)
    chat = _async(calls.chat)
    graph_query = _async(calls.graph_query)
    scopes = _async(calls.scopes)
    memory_details = _async(calls.memory_details)
    graph_view = _async(calls.graph_view)
    promote = _async(calls.promote)
    prune = _async(calls.prune)
    reset = _async(calls.reset)
    purge = _async(calls.purge)
    export = _async(calls.export)
    import_data = _async(calls.import_data)

    async def close(self) -> None:
        """Close the connections to the server."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
