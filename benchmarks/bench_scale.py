"""Search latency as ONE scope grows: the store's cost, not the model's (issue 13).

For each size (default 1k, 10k, 100k memories, all in one scope) it builds a fresh SQLite
file with the deterministic hash embedder (so no figure includes a model), from 12-word
synthetic memories over a Zipf-like 20,000-word vocabulary (fixed seed). A share of the
memories (``--name-share``, default 30 %) names the user, so one term is common in the scope,
as a speaker's name is in a conversation. Memories go in with ``add(infer=False)``, 100
messages per call. Then it times, over ``--queries`` queries (3-6 words drawn from the same
vocabulary, a third of them with the user's name):

- ``Memory.search`` (store + fusion; the hash embedder's query embedding is negligible);
- the store's ``keyword_search`` alone (scope-local BM25) and ``vector_search`` alone,
  with the pool ``Memory.search`` asks each signal for;

and prints p50/p95 per size and the ratio p95(size) / p95(smallest size). Figures only, no
assertions.

    python benchmarks/bench_scale.py                      # 1k, 10k, 100k
    python benchmarks/bench_scale.py --sizes 1000 10000 --queries 100
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from bench_core import time_calls  # the same timing loop as the core benchmark (benchmarks/ is on sys.path)

import memlane
from memlane import Memory
from memlane.config import SearchConfig
from memlane.embed.hash import HashEmbedder
from memlane.filters import Filter, and_
from memlane.memory.scope import resolve_scope
from memlane.memory.times import expiration_filter
from memlane.tokenizer import keywords

USER = "bench"
NAME = "Caroline"
VOCABULARY = 20_000
WORDS_PER_MEMORY = 12
PER_CALL = 100


def vocabulary(seed: int) -> list[str]:
    """``VOCABULARY`` distinct pronounceable made-up words (no stop words, deterministic)."""
    rng = random.Random(seed)
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        words.setdefault(word, None)
    return list(words)


class Zipf:
    """Draws words with probability proportional to 1 / rank (a Zipf-like law, s = 1)."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        weights = 1.0 / np.arange(1, len(words) + 1)
        self.cumulative = np.cumsum(weights / weights.sum())
        self.rng = rng

    def draw(self, count: int) -> list[str]:
        picks = np.searchsorted(self.cumulative, [self.rng.random() for _ in range(count)])
        return [self.words[min(int(i), len(self.words) - 1)] for i in picks]


def memories(count: int, seed: int, name_share: float) -> list[str]:
    rng = random.Random(seed)
    zipf = Zipf(vocabulary(seed), rng)
    out: list[str] = []
    for _ in range(count):
        words = zipf.draw(WORDS_PER_MEMORY)
        if rng.random() < name_share:
            words[rng.randrange(WORDS_PER_MEMORY)] = NAME
        out.append(" ".join(words).capitalize() + ".")
    return out


def queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    zipf = Zipf(vocabulary(seed), rng)
    out: list[str] = []
    for i in range(count):
        words = zipf.draw(rng.randint(3, 6))
        if i % 3 == 0:
            words.insert(0, NAME)
        out.append("What about " + " ".join(words) + "?")
    return out


def build(path: Path, size: int, seed: int, name_share: float) -> tuple[Memory, float]:
    config = {"vector_store": {"provider": "sqlite", "config": {"path": str(path)}}}
    memory = Memory(config, embedder=HashEmbedder(384))
    texts = memories(size, seed, name_share)
    start = time.perf_counter()
    for i in range(0, size, PER_CALL):
        batch = [{"role": "user", "content": t} for t in texts[i : i + PER_CALL]]
        memory.add(batch, user_id=USER, infer=False)
    return memory, time.perf_counter() - start


def scope_filter() -> Filter:
    """The filter ``Memory.search`` hands the store for ``filters={"user_id": USER}``."""
    _, where = resolve_scope({"user_id": USER}, None)
    return and_(where, expiration_filter(datetime.now(UTC).date().isoformat()))


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def measure(memory: Memory, qs: list[str]) -> dict[str, tuple[float, float]]:
    scope = {"user_id": USER}
    for q in qs[:5]:  # warm-up: the vector copy, SQLite's page cache
        memory.search(q, filters=scope)
    store = memory.store
    where = scope_filter()
    pool = SearchConfig().candidates
    vectors = HashEmbedder(384).embed(qs, purpose="search")
    terms = [keywords(q) for q in qs]
    return {
        "search": percentiles(time_calls(lambda i: memory.search(qs[i], filters=scope), len(qs))),
        "keyword_search": percentiles(
            time_calls(lambda i: store.keyword_search(terms[i], where, pool), len(qs))
        ),
        "vector_search": percentiles(
            time_calls(lambda i: store.vector_search(vectors[i], where, pool), len(qs))
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100, help="timed queries per size and signal")
    parser.add_argument("--name-share", type=float, default=0.3, help="share of memories naming the user")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="memlane-scale-"))
    print("memlane scale benchmark (hash embedder: the store's cost)")
    print(f"  memlane {memlane.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPU cores")
    print(
        f"  one scope; {WORDS_PER_MEMORY}-word memories over a Zipf-like {VOCABULARY}-word vocabulary; "
        f"{args.name_share:.0%} name the user; {args.queries} queries per size"
    )
    qs = queries(args.queries, args.seed)
    rows: list[tuple[int, float, dict[str, tuple[float, float]]]] = []
    try:
        for size in args.sizes:
            memory, seconds = build(folder / f"scale-{size}.db", size, args.seed, args.name_share)
            rows.append((size, seconds, measure(memory, qs)))
            memory.close()
            print(f"  built {size} memories in {seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = rows[0][2]["search"][1] or 1e-9
    print()
    print(
        f"{'memories':>9} | {'search p50':>10} {'p95':>8} {'p95/p95(' + str(rows[0][0]) + ')':>14} | "
        f"{'BM25 p50':>9} {'p95':>8} | {'vectors p50':>11} {'p95':>8}   (ms)"
    )
    for size, _, m in rows:
        s, k, v = m["search"], m["keyword_search"], m["vector_search"]
        print(
            f"{size:>9} | {s[0]:>10.1f} {s[1]:>8.1f} {s[1] / base:>14.1f} | "
            f"{k[0]:>9.1f} {k[1]:>8.1f} | {v[0]:>11.1f} {v[1]:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
