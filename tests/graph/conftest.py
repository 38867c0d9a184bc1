"""The graph back ends the contract suite runs over, and a FalkorDB server for the session.

To run the suite over another back end, append a ``pytest.param(factory, id=...)`` to
``GRAPH_FACTORIES``. A factory takes the pytest request (to reach session fixtures such as a
server or a database), a new empty folder and the settings, and returns a new empty graph store plus a
function that releases it. The FalkorDB server fixture is ``tests/conftest.py``'s (one server per session).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane.embed.hash import HashEmbedder
from memlane.graph.base import GraphStore
from memlane.graph.settings import GraphSettings
from memlane.models import Vectors
from memlane.store.sqlite.graph import SQLiteGraphStore

GRAPH_DIMS = 64
EMBED = HashEmbedder(GRAPH_DIMS)

Made = tuple[GraphStore, Callable[[], None]]
GraphFactory = Callable[[pytest.FixtureRequest, Path, GraphSettings], Made]
MakeGraph = Callable[..., GraphStore]


def vec(text: str) -> Vectors:
    row: Vectors = EMBED.embed([text], purpose="search")[0]
    return row


def sqlite_graph(request: pytest.FixtureRequest, folder: Path, settings: GraphSettings) -> Made:
    store = SQLiteGraphStore(folder / "graph.db", settings)
    return store, store.close


def falkordb_graph(request: pytest.FixtureRequest, folder: Path, settings: GraphSettings) -> Made:
    from memlane.store.falkordb.graph import FalkorDBGraphStore

    socket_path: str = request.getfixturevalue("falkordb_socket")
    store = FalkorDBGraphStore(
        unix_socket_path=socket_path, graph_name=f"test-{uuid.uuid4().hex}", settings=settings
    )

    def release() -> None:
        try:
            store.drop()
        finally:
            store.close()

    return store, release


def postgres_graph(request: pytest.FixtureRequest, folder: Path, settings: GraphSettings) -> Made:
    from memlane.store.postgres.graph import PostgresGraphStore

    url: str = request.getfixturevalue("postgres_url")  # a new database per test
    # a tenant per store: empty even when one test makes several
    store = PostgresGraphStore(url, settings, tenant=f"t{uuid.uuid4().hex[:12]}", max_connections=2)
    return store, store.close


def postgres_store_graph(request: pytest.FixtureRequest, folder: Path, settings: GraphSettings) -> Made:
    """The PostgreSQL graph sharing a ``PostgresStore`` (its pool, tenant and transactions)."""
    from memlane.store.postgres.graph import PostgresGraphStore
    from memlane.store.postgres.store import PostgresStore

    url: str = request.getfixturevalue("postgres_url")
    memories = PostgresStore(url, tenant=f"t{uuid.uuid4().hex[:12]}", max_size=2)
    store = PostgresGraphStore(memories, settings)

    def release() -> None:
        store.close()
        memories.close()

    return store, release


GRAPH_FACTORIES: list[Any] = [
    pytest.param(sqlite_graph, id="sqlite"),
    pytest.param(falkordb_graph, id="falkordb", marks=pytest.mark.integration),
    pytest.param(postgres_graph, id="postgres", marks=pytest.mark.integration),
    pytest.param(postgres_store_graph, id="postgres-store", marks=pytest.mark.integration),
]


@pytest.fixture(params=GRAPH_FACTORIES)
def make_graph(request: pytest.FixtureRequest, db_dir: Path) -> Iterator[MakeGraph]:
    """``make_graph(**settings)``: a new, empty graph store of the back end under test."""
    factory: GraphFactory = request.param
    releases: list[Callable[[], None]] = []

    def make(**settings: Any) -> GraphStore:
        folder = Path(tempfile.mkdtemp(dir=db_dir))
        store, release = factory(request, folder, GraphSettings(**settings))
        releases.append(release)
        return store

    yield make
    for release in reversed(releases):
        release()


@pytest.fixture
def graph(make_graph: MakeGraph) -> GraphStore:
    return make_graph()
