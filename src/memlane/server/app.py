"""The FastAPI application behind ``memlane serve``, and the function that runs it on uvicorn.

``create_app(settings)`` builds the app (used by tests and by each worker); ``serve(settings)``
checks the keys and the binding, then runs uvicorn (``--workers N`` processes, each building
its app from the settings handed over in ``MEMLANE_SERVER_SETTINGS``). uvicorn's own graceful
shutdown applies: on SIGTERM/SIGINT it stops accepting, lets in-flight requests finish (up to
``graceful_timeout`` seconds), then the app closes every tenant's Memory.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from memlane import ConfigError, __version__
from memlane.server import routes_admin, routes_oss, routes_platform, routes_ui
from memlane.server.auth import ServerState
from memlane.server.errors import install_error_handlers
from memlane.server.keys import KeyStore
from memlane.server.middleware import RequestContext, access_log
from memlane.server.settings import SETTINGS_ENV, ServerSettings, check_binding
from memlane.server.tenants import TenantMemories

__all__ = ["app_from_env", "browser_url", "create_app", "serve"]

log = logging.getLogger("memlane.server")

_DESCRIPTION = """memlane's REST API: mem0's OSS server routes (`/memories`, `/search`...) and the
platform routes mem0's `MemoryClient` calls (`/v1/...`, `/v3/...`). Authenticate with
`Authorization: Bearer KEY` (or `Token KEY`, or `X-API-Key: KEY`); a key belongs to one tenant and
sees only that tenant's memories."""

OPTIONAL_ROUTERS = ("memlane.server.routes_memlane",)
"""Route modules other faces may add (each with a ``router``); included when present."""


def _setup_logging(level: str) -> None:
    """One JSON line per request on stderr (``memlane.server.access``) plus the server's warnings."""
    for name in ("memlane.server", access_log.name):
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(
                logging.Formatter(
                    "%(message)s" if name == access_log.name else "%(levelname)s %(name)s: %(message)s"
                )
            )
            logger.addHandler(handler)
        logger.propagate = False


def create_app(settings: ServerSettings, keys: KeyStore | None = None) -> FastAPI:
    """The app: routes, error handlers, request context (id, body limit, log) and optional CORS."""
    _setup_logging(settings.log_level)
    if keys is None and not settings.no_auth:
        keys = KeyStore(settings.keys_path())
    state = ServerState(settings=settings, keys=keys, tenants=TenantMemories(settings.base_config()))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.tenants.close()

    app = FastAPI(title="memlane", version=__version__, description=_DESCRIPTION, lifespan=lifespan)
    app.state.memlane = state
    install_error_handlers(app)
    app.include_router(routes_admin.router)
    app.include_router(routes_oss.router)
    app.include_router(routes_platform.router)
    app.include_router(routes_ui.router)
    for module_name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.include_router(module.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """The app of one uvicorn worker: the settings ``serve`` put in ``MEMLANE_SERVER_SETTINGS``."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start the server with `memlane serve`")
    return create_app(ServerSettings.model_validate_json(raw))


def serve(settings: ServerSettings) -> None:
    """Run the server until SIGINT/SIGTERM (refuses to start without keys unless --no-auth)."""
    import uvicorn

    keys = None if settings.no_auth else KeyStore(settings.keys_path())
    check_binding(settings, has_keys=keys is not None and keys.has_active_keys())
    settings.base_config()  # a bad --db/--config combination fails here, not in a worker
    _setup_logging(settings.log_level)
    log.info(
        "memlane %s serving on http://%s:%s (%s, %d worker(s))",
        __version__,
        settings.host,
        settings.port,
        "no auth" if settings.no_auth else f"keys in {settings.keys_path()}",
        settings.workers,
    )
    log.info("memory browser: %s", browser_url(settings))
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "access_log": False,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": int(settings.graceful_timeout) or None,
        "server_header": False,
    }
    if settings.workers > 1:
        from uvicorn.supervisors import Multiprocess

        _warn_sqlite_workers(settings)

        # each worker process builds its own app from the settings (config secrets included)
        os.environ[SETTINGS_ENV] = settings.model_dump_json()
        config = uvicorn.Config("memlane.server.app:app_from_env", factory=True, **options)
        Multiprocess(config, sockets=[listening_socket(settings.host, settings.port)]).run()
        return
    server = uvicorn.Server(uvicorn.Config(create_app(settings, keys), **options))
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn logged why (a port in use...)


def browser_url(settings: ServerSettings) -> str:
    """Where the memory browser answers (a wildcard host shown as the loopback address)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}{routes_ui.PATH}"


def _warn_sqlite_workers(settings: ServerSettings) -> None:
    store = settings.base_config().get("vector_store") or {}
    if store.get("provider", "sqlite") == "sqlite":
        log.warning(
            "--workers %d on the SQLite store: after a write in one worker, the others reload their "
            "copy of every vector on their next search (measured: throughput falls below one "
            "worker's with 20%% writes); use --workers 1 for write-heavy loads, or the postgres store",
            settings.workers,
        )


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made as a TCP socket (``IPPROTO_TCP``).

    uvicorn's own (``socket.socket(family)``, protocol 0) makes asyncio skip ``TCP_NODELAY`` on
    every accepted connection, so a response written in two parts (head, body) can wait for the
    client's delayed ACK (up to 40 ms on Linux) behind Nagle's algorithm.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock
