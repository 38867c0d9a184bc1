"""Opening the SQLite file: another application's database is refused unchanged, read-only
opens never create a store, bad paths are typed errors, and the embedder that wrote a store is
recorded and checked."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from memlane import Memory
from memlane.embed.hash import HashEmbedder
from memlane.errors import ConfigError, DimensionMismatchError, EmbedderMismatchError, StoreError
from memlane.store.base import check_embedder
from memlane.store.sqlite import SQLiteStore
from memlane.store.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import hash_config


def foreign_db(path: Path, user_version: int = 0) -> bytes:
    """Another application's SQLite file (rollback journal, its own tables); its bytes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    if user_version:
        conn.execute(f"PRAGMA user_version = {user_version}")
    conn.close()
    return path.read_bytes()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("create", [True, False])
@pytest.mark.parametrize("user_version", [0, 3])
def test_another_apps_database_is_refused_unchanged(db_dir: Path, create: bool, user_version: int) -> None:
    path = db_dir / "other.db"
    before = foreign_db(path, user_version)
    with pytest.raises(StoreError, match="not a memlane database") as info:
        SQLiteStore(path, create=create)
    assert "notes" in str(info.value)
    assert path.read_bytes() == before  # no WAL switch, no schema, no header change
    assert sorted(p.name for p in db_dir.iterdir()) == ["other.db"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


def test_another_apps_application_id_is_refused(db_dir: Path) -> None:
    path = db_dir / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="application_id"):
        SQLiteStore(path)
    assert digest(path) == before


def test_a_memlane_database_carries_memlanes_application_id(db_dir: Path) -> None:
    SQLiteStore(db_dir / "m.db").close()
    conn = sqlite3.connect(db_dir / "m.db")
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    conn.close()


def test_a_store_from_before_the_application_id_still_opens(db_dir: Path) -> None:
    path = db_dir / "old.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0")
    conn.close()
    SQLiteStore(path, create=False).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()


@pytest.mark.parametrize("empty", [False, True])
def test_create_false_refuses_a_missing_or_empty_file(db_dir: Path, empty: bool) -> None:
    path = db_dir / "sub" / "none.db"
    if empty:
        path.parent.mkdir()
        path.touch()
    with pytest.raises(StoreError, match="no memlane database at"):
        SQLiteStore(path, create=False)
    assert path.exists() == empty
    assert not empty or path.stat().st_size == 0
    assert sorted(p.name for p in db_dir.rglob("*")) == (["none.db", "sub"] if empty else [])


def test_create_false_opens_an_existing_store(db_dir: Path) -> None:
    path = db_dir / "m.db"
    SQLiteStore(path).close()
    store = SQLiteStore(path, create=False)
    try:
        assert store.execute("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    finally:
        store.close()


def test_an_empty_file_becomes_a_store(db_dir: Path) -> None:
    path = db_dir / "empty.db"
    path.touch()
    SQLiteStore(path).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_path_under_a_file_is_a_store_error(db_dir: Path) -> None:
    blocker = db_dir / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder") as info:
        SQLiteStore(blocker / "sub" / "m.db")
    assert str(blocker) in str(info.value) and "--db" in str(info.value)
    with pytest.raises(StoreError):
        SQLiteStore(blocker / "m.db")


def test_a_path_under_a_read_only_folder_is_a_store_error(
    db_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)  # tests may run as root, who ignores chmod
    with pytest.raises(StoreError, match="Permission denied"):
        SQLiteStore(db_dir / "ro" / "m.db")


def test_a_missing_file_in_a_read_only_folder_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        if _writable(folder):
            pytest.skip("this user can write anywhere (root)")
        with pytest.raises(StoreError, match="cannot open"):
            SQLiteStore(folder / "m.db")
    finally:
        folder.chmod(0o700)


def _writable(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


# -- the embedder that wrote the store ------------------------------------------------------


def test_the_first_embedder_is_recorded_and_another_refused(store: SQLiteStore) -> None:
    check_embedder(store, HashEmbedder(64))
    assert store.execute("SELECT value FROM meta WHERE key = 'embedder'") == [("hash:64",)]

    class Other(HashEmbedder):
        @property
        def identity(self) -> str:
            return "local:all-MiniLM-L6-v2"

    with pytest.raises(EmbedderMismatchError) as info:
        check_embedder(store, Other(64))
    error = info.value
    assert isinstance(error, DimensionMismatchError)
    assert (error.stored_embedder, error.embedder_identity) == ("hash:64", "local:all-MiniLM-L6-v2")
    assert (error.stored, error.embedder) == (64, 64)
    assert "hash:64" in str(error) and "all-MiniLM-L6-v2" in str(error) and "re-index" in str(error)
    check_embedder(store, HashEmbedder(64))


def test_a_store_without_a_record_adopts_the_first_embedder(store: SQLiteStore) -> None:
    store.ensure_dimension(64)  # a store written before the record existed
    assert store.execute("SELECT value FROM meta WHERE key = 'embedder'") == []
    store.ensure_embedder("hash:64")
    assert store.execute("SELECT value FROM meta WHERE key = 'embedder'") == [("hash:64",)]


def test_reset_forgets_the_embedder(store: SQLiteStore) -> None:
    store.ensure_embedder("hash:64")
    store.reset()
    store.ensure_embedder("local:all-MiniLM-L6-v2")


def test_memory_refuses_another_embedder_of_the_same_size(db_path: Path) -> None:
    with Memory(hash_config(db_path, dims=384)) as first:
        first.add("I live in Bangalore", user_id="u")
    other = {**hash_config(db_path), "embedder": {"provider": "openai", "config": {"embedding_dims": 384}}}
    with Memory(other) as second:
        with pytest.raises(EmbedderMismatchError, match="hash:384"):
            second.search("where?", user_id="u")
        with pytest.raises(EmbedderMismatchError):
            second.add("more", user_id="u", infer=False)
    with Memory(hash_config(db_path, dims=384)) as again:
        assert again.search("Bangalore", user_id="u")["results"]


def test_mem0_embedding_model_dims_is_checked_against_the_embedder(db_path: Path) -> None:
    config = hash_config(db_path, dims=64)
    config["vector_store"]["config"].update(embedding_model_dims=1536, collection_name="mem0")
    with Memory(config) as memory, pytest.raises(ConfigError, match="embedding_model_dims is 1536"):
        memory.add("x", user_id="u")
    config["vector_store"]["config"]["embedding_model_dims"] = 64
    with Memory(config) as memory:
        assert memory.add("x", user_id="u")["results"]
