"""A store holding every record kind (for the migrate, export and reindex tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memlane import Memory
from memlane.graph.models import ExtractedRelation
from memlane.models import Message, Scope
from memlane.store.base import PendingAdd
from tests.memory.test_erase import set_slot

DIMS = 64


def graph_memory(path: Path | str, dims: int = DIMS) -> Memory:
    """A Memory on the SQLite file ``path`` with the hash embedder and the graph on."""
    return Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
            "enable_graph": True,
        }
    )


def relation(source: str, relationship: str, destination: str, **flags: Any) -> ExtractedRelation:
    return ExtractedRelation(source=source, relationship=relationship, destination=destination, **flags)


def fill(m: Memory, memories: int = 12) -> dict[str, str]:
    """Memories in three scopes (one updated, one deleted), history, messages, profile versions,
    a pending add, and a graph with an invalidated relation; returns a few ids by name."""
    ids: dict[str, str] = {}
    for i in range(memories):
        user = ("alice", "bob", "carol")[i % 3]
        result = m.add(
            [{"role": "user", "content": f"{user} fact {i}: likes item {i}", "name": user}],
            user_id=user,
            metadata={"n": i, "tag": "ü"},
            timestamp=f"2025-0{1 + i % 9}-0{1 + i % 9}T10:00:00Z",
        )
        ids.setdefault(user, result["results"][0]["id"])
    m.update(ids["alice"], text="alice moved to Bangalore")
    m.delete(ids["bob"])
    set_slot(m, "alice", "home_city", "Delhi", ids["alice"])
    set_slot(m, "alice", "home_city", "Bangalore", ids["alice"])
    scope = Scope(user_id="carol", run_id="r1")
    waiting = [Message(role="user", content="I adopted a cat")]
    with m.store.transaction() as tx:
        tx.add_messages(scope, waiting, "2025-03-03T00:00:00+00:00")
        tx.add_pending(
            PendingAdd(
                "pending-1", scope, waiting, {"prompt": None}, "2025-03-03T00:00:00+00:00", 1, "timeout"
            )
        )
    assert m.graph is not None
    alice = Scope(user_id="alice")
    facts = [
        (
            "2025-01-01T00:00:00+00:00",
            [relation("I", "lives_in", "Delhi"), relation("I", "works_at", "Acme")],
        ),
        ("2025-02-01T00:00:00+00:00", [relation("I", "lives_in", "Bangalore", replaces=True)]),
    ]
    for at, relations in facts:
        m.graph.apply(
            alice,
            [],
            relations,
            memory_ids=[ids["alice"]],
            observed_at=at,
            recorded_at=at,
            embedder=m.embedder,
        )
    return ids


def export_lines(m: Memory, path: Path) -> list[str]:
    """``m``'s export, its header without the export time (the rest byte for byte)."""
    m.export(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    del header["exported_at"]
    return [json.dumps(header), *lines[1:]]
