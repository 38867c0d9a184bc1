"""memlane in one minute: remember a conversation, search it, update a memory, read its history.

Runs fully offline: the embedded default (one SQLite file and the local all-MiniLM-L6-v2
model), no LLM, no network, no key. The database goes to a fresh temporary folder, so every
run starts clean.

    python examples/quickstart.py        (or: make demo)
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from memlane import Memory

CONVERSATION = [
    {"role": "user", "content": "Hi! I just moved from Delhi to Bangalore last month."},
    {"role": "assistant", "content": "Welcome to Bangalore! What brought you here?"},
    {"role": "user", "content": "I started a new job at Acme as a product designer."},
    {"role": "assistant", "content": "Congratulations on the job at Acme!"},
    {"role": "user", "content": "I'm vegetarian, so I'm hunting for good dosa places near Indiranagar."},
    {"role": "assistant", "content": "Indiranagar has plenty of vegetarian South Indian restaurants."},
    {"role": "user", "content": "My dog Bruno loves the parks here, he's a golden retriever."},
    {"role": "user", "content": "Next spring I'm planning a two-week trip to Japan."},
]

QUERIES = [
    "Where did alice move?",
    "Where does she work?",
    "What is her dog's name?",
    "What are her travel plans?",
]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows aligned under their headers."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def show_hits(query: str, hits: list[dict[str, Any]]) -> None:
    print(f'\nsearch("{query}")')
    print(table(["SCORE", "ROLE", "MEMORY"], [[f"{h['score']:.3f}", h["role"], h["memory"]] for h in hits]))


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="memlane-demo-"))
    db = folder / "memlane.db"
    print(f"memlane quickstart; database: {db}")

    # The default config (local embedder, SQLite store) with the store path moved to the temp folder.
    memory = Memory.from_config({"vector_store": {"provider": "sqlite", "config": {"path": str(db)}}})
    with memory:
        start = time.perf_counter()
        added = memory.add(CONVERSATION, user_id="alice", infer=False)["results"]
        print(f"\nadd(): {len(added)} messages stored verbatim in {time.perf_counter() - start:.1f} s")
        print("(the first call loads the embedding model; no LLM is configured, so infer=False stores")
        print(" each message as written; with an LLM, add() extracts facts instead)")

        for query in QUERIES:
            hits = memory.search(query, filters={"user_id": "alice"}, top_k=3)["results"]
            show_hits(query, hits)

        # Bruno's memory gets more precise; the old text stays in the history.
        bruno = memory.search("dog Bruno", filters={"user_id": "alice"}, top_k=1)["results"][0]
        memory.update(bruno["id"], text="Alice's dog Bruno is a three-year-old golden retriever.")
        current = memory.get(bruno["id"])
        assert current is not None
        print(f"\nupdate({bruno['id'][:8]}...): {current['memory']}")
        print(f"history({bruno['id'][:8]}...):")
        events = memory.history(bruno["id"])
        print(
            table(
                ["EVENT", "OLD", "NEW"],
                [[e["event"], e["old_memory"] or "", e["new_memory"] or ""] for e in events],
            )
        )

        total = len(memory.get_all(filters={"user_id": "alice"})["results"])
        print(f"\nalice has {total} memories. Explore them with the CLI:")
        print(f"  memlane --db {db} list -u alice")
        print(f'  memlane --db {db} search "is she vegetarian?" -u alice')


if __name__ == "__main__":
    main()
