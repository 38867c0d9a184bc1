"""Child of the PostgreSQL crash-safety test: writes in a loop, acknowledging each write.

Usage: ``python crash_child.py URL RUN DIMS``. Prints ``READY`` once its Memory is open, then
loops forever, printing one line after each call returns (the lines of
``tests/stress/crash_child.py``: ``A <tag> <id1> <id2>``, ``U <tag> <id>``, ``D <tag> <id>``).
The parent kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import sys

from memlane import Memory


def main(argv: list[str]) -> None:
    url, run, dims = argv[1], int(argv[2]), int(argv[3])
    memory = Memory(
        {
            "embedder": {"provider": "hash", "config": {"embedding_dims": dims}},
            "vector_store": {"provider": "postgres", "config": {"url": url, "max_size": 2}},
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
        item += 1


if __name__ == "__main__":
    main(sys.argv)
