"""The clients without a server: the same signatures as Memory's, the route bodies that match
them, errors mapped by status when the body names none, and no secret in a repr."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import memlane
from memlane import (
    AsyncClient,
    AsyncMemory,
    AuthenticationError,
    Client,
    InvalidInputError,
    MemlaneError,
    Memory,
    NotFoundError,
    RemoteError,
)
from memlane.server import routes_memlane

SECRET = "ml_secret0123456789abcdefghijklmnopqrstuvwxyzAB"

NOT_REMOTE = {
    "backup": "a file copy on the server's own disk; remotely, export() gives the same records",
    "from_config": "the server's configuration chooses the back ends",
    "reindex": "changes the server's embedder: run `memlane reindex` on its store, then restart it",
}
"""``Memory`` methods the clients do not offer, and why. A new ``Memory`` method fails
``test_every_memory_method_is_offered_with_its_signature`` until it is offered or listed here."""

FILE_ROUTES = {"export", "import_data"}
"""Routes whose body (or answer) is the export file itself, not the method's arguments."""


def _methods(cls: type) -> list[str]:
    """The public methods ``cls`` defines or inherits from its own bases (``Memory``'s mixins)."""
    return sorted(
        {
            name
            for klass in cls.__mro__[:-1]  # not object
            for name, value in vars(klass).items()
            if not name.startswith("_") and not isinstance(value, property) and callable(getattr(cls, name))
        }
    )


def _same(theirs: inspect.Signature, ours: inspect.Signature) -> None:
    assert list(theirs.parameters) == list(ours.parameters)
    for name, parameter in theirs.parameters.items():
        mine = ours.parameters[name]
        assert (parameter.kind, parameter.annotation) == (mine.kind, mine.annotation), name
        if type(parameter.default) is object:  # a private "not given" sentinel on both sides
            assert type(mine.default) is object, name
        else:
            assert parameter.default == mine.default, name
    assert theirs.return_annotation == ours.return_annotation


@pytest.mark.parametrize(("local", "remote"), [(Memory, Client), (AsyncMemory, AsyncClient)])
def test_every_memory_method_is_offered_with_its_signature(local: type, remote: type) -> None:
    offered = [name for name in _methods(local) if name not in NOT_REMOTE]
    assert offered == [name for name in _methods(remote) if name in offered]
    assert set(_methods(remote)) == set(offered), "a client method Memory does not have"
    for name in offered:
        _same(inspect.signature(getattr(local, name)), inspect.signature(getattr(remote, name)))
        assert inspect.iscoroutinefunction(getattr(remote, name)) == (remote is AsyncClient), name


def test_each_route_takes_exactly_the_arguments_of_its_method() -> None:
    routes: dict[str, Any] = {route.path: route for route in routes_memlane.router.routes}  # type: ignore[attr-defined]
    for name in _methods(Memory):
        if name in NOT_REMOTE or name == "close":
            continue
        route = routes.pop(f"{routes_memlane.PREFIX}/{name}")
        if name in FILE_ROUTES:
            continue
        hints = typing.get_type_hints(route.endpoint)
        body = hints.get("body")
        fields = set(body.model_fields) if isinstance(body, type) and issubclass(body, BaseModel) else set()
        parameters = set(inspect.signature(getattr(Memory, name)).parameters) - {"self"}
        assert fields == parameters, name
    assert routes == {}, "routes no Memory method stands for"


def test_the_repr_shows_neither_the_key_nor_a_password_in_the_url() -> None:
    for client in (Client("http://me:hunter2@host:8000/", api_key=SECRET), AsyncClient("http://h", SECRET)):
        assert SECRET not in repr(client) and "hunter2" not in repr(client)
        assert "host" in repr(client) or "http://h" in repr(client)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, NotFoundError), (400, InvalidInputError), (422, InvalidInputError), (413, InvalidInputError),
     (401, AuthenticationError), (403, AuthenticationError), (502, RemoteError), (503, RemoteError)],
)  # fmt: skip
def test_an_error_body_without_a_type_maps_by_status(status: int, expected: type[MemlaneError]) -> None:
    """Proxies in front of the server answer errors of their own (no ``type``): the status decides."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html>Bad Gateway</html>")

    client = Client("http://memlane.test", api_key=SECRET)
    client._http = httpx.Client(base_url=client.url, transport=httpx.MockTransport(answer))
    with pytest.raises(expected) as raised:
        client.get("abc")
    assert type(raised.value) is expected and f"HTTP {status}" in str(raised.value)


def test_the_new_errors_sit_in_the_tree() -> None:
    assert issubclass(AuthenticationError, MemlaneError) and not issubclass(AuthenticationError, ValueError)
    assert issubclass(RemoteError, memlane.ProviderError) and not issubclass(RemoteError, ValueError)
