"""Child of the approximate-index crash test: writes and searches in a loop through a store
whose every vector search goes through the approximate index (``ann_threshold`` 1).

Usage: ``python crash_ann_child.py DB_PATH RUN DIMS``. Prints ``READY`` once the Memory is
open, then loops forever; after each call returns it prints (and flushes) one line:

- ``A <id>``: ``add()`` of one memory (text ``ann run <run> item <item> tok r<run>i<item>`` and
  40 words drawn for that item, so the hash embedder's vectors are dense: with a handful of
  words they are sparse and nearly orthogonal, which no HNSW graph searches well) returned;
- ``D <id>``: ``delete()`` of an earlier memory of this run returned.

Every third item also searches, so the index is built and followed while the parent kills
this process with SIGKILL.
"""

from __future__ import annotations

import random
import sys

from memlane import Memory


def main(argv: list[str]) -> None:
    path, run, dims = argv[1], int(argv[2]), int(argv[3])
    memory = Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "sqlite", "config": {"path": path, "ann_threshold": 1}},
        }
    )
    print("READY", flush=True)
    added: list[str] = []
    item = 0
    while True:
        words = random.Random(run * 1_000_000 + item)
        text = f"ann run {run} item {item} tok r{run}i{item} " + " ".join(
            f"w{words.randrange(5000)}" for _ in range(40)
        )
        [result] = memory.add(text, user_id="ann", infer=False)["results"]
        added.append(result["id"])
        print("A", result["id"], flush=True)
        if item % 6 == 5:
            victim = added.pop(len(added) // 2)
            memory.delete(victim)
            print("D", victim, flush=True)
        if item % 3 == 2:
            memory.search(f"ann run {run} item {item - 1}", user_id="ann", top_k=3)
        item += 1


if __name__ == "__main__":
    main(sys.argv)
