"""What short-term memory, memory types and ``as_of`` cost: search latency with each, and the
price of promotion on recurrence in ``add``.

One scope of N memories (default 1,000; half in runs, a fifth updated once, 5% deleted) in a
fresh SQLite file, with the real local embedder (``--embedder hash`` for a quick run). Prints
p50/p95 over Q queries (query embedding included) of:

- ``search`` (the baseline), ``search(memory_type=...)``, ``search(run_id=, long_term=True)``;
- ``search(as_of=T)`` at a T before the updates and deletions (old texts embedded, at most 64
  per search, then cached: a second pass over the same queries) and at now (every text
  current: stored vectors only);
- ``add(infer=False)`` of one message in a run with ``short_term.promote_recurring`` on and off
  (on: one more nearest-neighbour lookup per new memory).

It prints figures and never asserts timings.

    python benchmarks/bench_shortterm.py                      # 1,000 memories, 100 queries
    python benchmarks/bench_shortterm.py --size 5000 --embedder hash
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from memlane import Memory
from memlane.models import now_iso

WORDS = (
    "tea coffee flight hotel Lisbon Berlin marathon dog cat doctor dentist gym piano guitar sister "
    "brother office project deadline budget recipe pasta garden bike train concert museum book"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10))).capitalize()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def timed(label: str, calls: list[Callable[[], Any]]) -> None:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    print(f"{label:<44} {percentiles(samples)}")


def build(path: Path, size: int, embedder: str, promote: bool, rng: random.Random) -> tuple[Memory, str]:
    config: dict[str, Any] = {
        "vector_store": {"provider": "sqlite", "config": {"path": str(path)}},
        "short_term": {"promote_recurring": promote},
    }
    if embedder == "hash":
        config["embedder"] = {"provider": "hash", "config": {"embedding_dims": 384}}
    memory = Memory(config)
    batch = []
    for index in range(size):
        run = f"run{index % 20}" if index % 2 else None
        batch.append((sentence(rng), run, "episodic" if index % 3 == 0 else None))
    ids = []
    for text, run, kind in batch:
        added = memory.add(text, user_id="u", run_id=run, infer=False, memory_type=kind)
        ids.append(added["results"][0]["id"])
    before = now_iso()
    time.sleep(0.01)
    for memory_id in rng.sample(ids, size // 5):
        memory.update(memory_id, sentence(rng))
    for memory_id in rng.sample(ids, size // 20):
        memory.delete(memory_id)
    return memory, before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--embedder", choices=("local", "hash"), default="local")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        memory, before = build(Path(folder) / "on.db", args.size, args.embedder, True, rng)
        took = time.perf_counter() - started
        print(f"{args.size:,} memories built in {took:.1f} s ({args.embedder} embedder)")
        queries = [sentence(rng) for _ in range(args.queries)]
        memory.search(queries[0], user_id="u")  # warm-up: model load, caches
        timed("search", [lambda q=q: memory.search(q, user_id="u") for q in queries])
        timed(
            "search(memory_type='episodic')",
            [lambda q=q: memory.search(q, user_id="u", memory_type="episodic") for q in queries],
        )
        timed(
            "search(run_id=..., long_term=True)",
            [lambda q=q: memory.search(q, user_id="u", run_id="run1", long_term=True) for q in queries],
        )
        for label in ("search(as_of=before the updates), 1st pass", "same queries again (cached)"):
            timed(label, [lambda q=q: memory.search(q, user_id="u", as_of=before) for q in queries])
        now = now_iso()
        timed("search(as_of=now)", [lambda q=q: memory.search(q, user_id="u", as_of=now) for q in queries])
        adds = [sentence(rng) for _ in range(args.queries)]
        timed(
            "add(infer=False) in a run, promotion on",
            [lambda t=t: memory.add(t, user_id="u", run_id="new", infer=False) for t in adds],
        )
        memory.config.short_term.promote_recurring = False
        timed(
            "add(infer=False) in a run, promotion off",
            [lambda t=t: memory.add(t, user_id="u", run_id="new2", infer=False) for t in adds],
        )
        memory.close()
    print(f"(machine shared with other jobs: load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
