"""The memory browser: ``GET /ui`` (the page) and ``GET /ui/static/<file>`` (its scripts and
styles), served from the package (``memlane/server/ui/``), with no network at run time.

The page itself holds no data and needs no key: it asks for one, keeps it in the browser's
session storage and sends it with every call to ``/memlane/v1/...`` as the API does
(``Authorization: Bearer KEY``), so a key sees only its tenant's memories.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Response

from memlane.server.errors import ApiError

__all__ = ["PATH", "router"]

PATH = "/ui"

router = APIRouter(prefix=PATH, tags=["memory browser"], include_in_schema=False)

_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


@cache
def _files() -> dict[str, bytes]:
    """Every file of the page, by name (read once)."""
    folder = resources.files("memlane.server") / "ui"
    return {
        item.name: item.read_bytes()
        for item in folder.iterdir()
        if item.is_file() and any(item.name.endswith(suffix) for suffix in _TYPES)
    }


def _answer(name: str) -> Response:
    body = _files().get(name)
    if body is None:
        raise ApiError(404, "not_found", f"the memory browser has no file {name!r}")
    media = _TYPES[name[name.rfind(".") :]]
    return Response(body, media_type=media, headers=_HEADERS)


@router.get("", summary="The memory browser")
def page() -> Response:
    return _answer("index.html")


@router.get("/static/{name}", summary="A file of the memory browser")
def static(name: str) -> Response:
    return _answer(name)
