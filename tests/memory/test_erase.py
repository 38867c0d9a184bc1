"""purge (GDPR erase) and the erasure helpers the other tests share, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane import InvalidInputError, Memory, NotFoundError
from memlane.models import Scope, now_iso
from memlane.store.sqlite import SQLiteStore

SECRET = "Quokkasecret Birthdate 1987-03-14"


def hash_memory(path: Path, dims: int = 64) -> Memory:
    return Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        }
    )


def sqlite(memory: Memory) -> SQLiteStore:
    assert isinstance(memory.store, SQLiteStore)
    return memory.store


def every_text(store: SQLiteStore) -> str:
    """All text of every table, the FTS index's shadow tables included."""
    tables = [r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    parts: list[str] = []
    for table in tables:
        for row in store.execute(f'SELECT * FROM "{table}"'):
            parts.extend(str(v) for v in row if not isinstance(v, bytes))
            parts.extend(v.decode("utf-8", "ignore") for v in row if isinstance(v, bytes))
    return "\n".join(parts).lower()


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def set_slot(memory: Memory, user_id: str, key: str, value: str, memory_id: str | None = None) -> None:
    """A profile slot written straight to the store (these memories have no LLM to extract one)."""
    now = now_iso()
    with memory.store.transaction() as tx:
        tx.set_profile(Scope(user_id=user_id), key, value, observed_at=now, at=now, memory_id=memory_id)


def test_purge_user_erases_text_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    m = hash_memory(path)
    first = m.add(SECRET, user_id="bob")["results"][0]["id"]
    m.update(first, text=SECRET + " and more")
    second = m.add([{"role": "user", "content": f"again {SECRET}"}], user_id="bob")["results"][0]["id"]
    m.delete(second)
    m.add("carol keeps this", user_id="carol")
    set_slot(m, "bob", "birthday", SECRET, first)
    set_slot(m, "bob", "birthday", SECRET + " (confirmed)")
    set_slot(m, "carol", "diet", "vegan")
    assert m.purge(user_id="bob")["purged"] == 2
    store = sqlite(m)
    assert "quokkasecret" not in every_text(store)
    assert store.execute("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')") == []
    assert m.get_all(user_id="bob")["results"] == []
    assert [r["memory"] for r in m.get_all(user_id="carol")["results"]] == ["carol keeps this"]
    assert m.profile_history("birthday", user_id="bob") == []
    assert m.get_profile(user_id="carol")["profile"] == {"diet": "vegan"}
    m.close()
    assert b"quokkasecret" not in raw_bytes(path).lower()


def test_purge_one_memory_leaves_the_others(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "m.db")
    ids = [
        r["id"]
        for r in m.add([{"role": "user", "content": t} for t in (SECRET, "other fact")], user_id="u")[
            "results"
        ]
    ]
    m.purge(ids[0])
    assert m.history(ids[0]) == []  # no row left (an unknown id's history is [], as mem0's)
    assert m.get(ids[1]) is not None
    assert "quokkasecret" not in every_text(sqlite(m))
    assert "other fact" in every_text(sqlite(m))


def test_purge_needs_a_target(tmp_path: Path) -> None:
    m = hash_memory(tmp_path / "m.db")
    with pytest.raises(InvalidInputError):
        m.purge()
    with pytest.raises(NotFoundError):
        m.purge("no-such-id")
