"""The back ends the store contract suite runs over.

To run the suite over another back end, append a ``pytest.param(factory, id=...)`` to
``STORE_FACTORIES``. A factory takes the pytest request (to reach session fixtures such as a
database server, via ``request.getfixturevalue``) and a new empty folder of the test's own, and
returns a new, empty store that no other test sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane.store.base import MemoryStore
from memlane.store.sqlite import SQLiteStore

StoreFactory = Callable[[pytest.FixtureRequest, Path], MemoryStore]

CONTRACT_DIMS = 64
"""The vector size the contract suite uses (the hash embedder's, configured to it)."""


def sqlite_file(request: pytest.FixtureRequest, folder: Path) -> MemoryStore:
    return SQLiteStore(folder / "contract.db")


def sqlite_memory(request: pytest.FixtureRequest, folder: Path) -> MemoryStore:
    return SQLiteStore(":memory:")


def sqlite_approximate(request: pytest.FixtureRequest, folder: Path) -> MemoryStore:
    """Every vector search that can goes through the approximate index (threshold 1)."""
    return SQLiteStore(folder / "contract.db", ann_threshold=1)


def postgres_store(request: pytest.FixtureRequest, folder: Path) -> MemoryStore:
    """A store of a new tenant in the test's own database on the session's PostgreSQL server
    (dropped after the test): stores made by one test share the database, never their rows."""
    from memlane.store.postgres.store import PostgresStore

    return PostgresStore(
        request.getfixturevalue("postgres_url"), tenant=f"t-{uuid.uuid4().hex[:12]}", max_size=4
    )


STORE_FACTORIES: list[Any] = [
    pytest.param(sqlite_file, id="sqlite-file"),
    pytest.param(sqlite_memory, id="sqlite-memory"),
    pytest.param(sqlite_approximate, id="sqlite-approximate"),
    pytest.param(postgres_store, id="postgres", marks=pytest.mark.integration),
]


@pytest.fixture(params=STORE_FACTORIES)
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.param
    return factory


@pytest.fixture
def contract_store(
    store_factory: StoreFactory, request: pytest.FixtureRequest, db_dir: Path
) -> Iterator[MemoryStore]:
    """A new store of the back end under test, with its vector size set to ``CONTRACT_DIMS``."""
    store = store_factory(request, db_dir)
    store.ensure_dimension(CONTRACT_DIMS)
    yield store
    store.close()
