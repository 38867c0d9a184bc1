"""Child of the crash-safety test: writes in a loop and acknowledges every write on stdout.

Usage: ``python crash_child.py DB_PATH RUN DIMS``. Prints ``READY`` once the Memory is open,
then loops forever; after each call returns it prints (and flushes) one line:

- ``A <tag> <id1> <id2>``: ``add()`` of a user and an assistant message (two memories) returned;
- ``U <tag> <id>``: ``update()`` of the first one to a text holding ``tok<tag>u`` returned;
- ``D <tag> <id>``: ``delete()`` of the second one returned.

``<tag>`` is ``r<run>i<item>``; the texts hold ``tok<tag>a`` / ``tok<tag>b``. The parent kills
this process with SIGKILL at a random moment and checks that every acknowledged write is there.
"""

from __future__ import annotations

import sys

from memlane import Memory


def main(argv: list[str]) -> None:
    path, run, dims = argv[1], int(argv[2]), int(argv[3])
    memory = Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "sqlite", "config": {"path": path}},
        }
    )
    print("READY", flush=True)
    item = 0
    while True:
        tag = f"r{run}i{item}"
        messages = [
            {"role": "user", "content": f"crash run {run} item {item} the user says tok{tag}a"},
            {"role": "assistant", "content": f"crash run {run} item {item} the assistant says tok{tag}b"},
        ]
        result = memory.add(
            messages, user_id=f"crash-{item % 3}", metadata={"run": run, "item": item}, infer=False
        )
        first, second = (r["id"] for r in result["results"])
        print("A", tag, first, second, flush=True)
        if item % 4 == 3:
            memory.update(first, text=f"crash run {run} item {item} updated tok{tag}u")
            print("U", tag, first, flush=True)
        if item % 5 == 4:
            memory.delete(second)
            print("D", tag, second, flush=True)
        if item % 7 == 6:
            memory.search(f"crash item {item}", user_id=f"crash-{item % 3}", top_k=3)
        item += 1


if __name__ == "__main__":
    main(sys.argv)
