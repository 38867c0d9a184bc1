"""Per-signal cost of search as one scope grows: period, profile, neighbours, dense fill.

For each size (default 1,000, 10,000 and 100,000 memories, all in ONE scope) it builds a fresh
SQLite file with the hash embedder (so the figures are the store's and the pipeline's cost, not
a model's), one ``add(infer=False)`` of 100 messages per conversation, conversations observed a
day apart, and times each signal of ``memlane.memory.search`` on its own, with a precomputed
query vector:

- ``period``: ``period_candidates`` for a one-week period in the middle of the span (the
  memories observed in it, and in the ``time_after_days`` after it, best by vector);
- ``period_wide``: the same for a period that holds a tenth of the scope;
- ``profile``: ``profile_candidates`` for three memories behind profile slots;
- ``neighbours``: ``store.neighbours`` of 50 memories (the fusion's ``_EXPAND``), window 2;
- ``fill_dense``: ``store.similarities`` of 50 memories;
- ``vector`` / ``keyword``: the main ``collect`` signals, for reference (not this script's
  subject: ``store/sqlite/vectors.py`` and ``fts.py``).

It prints p50/p95 in milliseconds per signal and size, and never asserts timings.

    python benchmarks/bench_signals.py                      # 1k, 10k, 100k; 100 repetitions
    python benchmarks/bench_signals.py --sizes 1000,10000 --repeat 50
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memlane import Memory
from memlane.config import SearchConfig
from memlane.filters import Filter, and_
from memlane.memory.scope import resolve_scope
from memlane.memory.search.candidates import Signals, period_candidates, profile_candidates
from memlane.memory.search.periods import Period
from memlane.memory.times import expiration_filter
from memlane.models import Vectors
from memlane.store.base import MemoryStore
from memlane.tokenizer import keywords

USER = "bench"
WORDS = (
    "alice went to the market in lisbon and bought fresh bread with her sister "
    "on saturday morning before the rain started we talked about work travel plans "
    "dog walk pottery class new job acme promotion birthday party dinner sushi "
    "climbing gym berlin trip flight delayed hotel booked museum visit concert"
).split()
START = datetime(2023, 1, 1, 9, tzinfo=UTC)


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(12))


def build(path: Path, size: int, seed: int = 7) -> tuple[Memory, list[str]]:
    """A store with ``size`` memories in one scope, 100 per conversation, a day apart."""
    rng = random.Random(seed)
    memory = Memory({"embedder": {"provider": "hash"}, "vector_store": {"config": {"path": str(path)}}})
    ids: list[str] = []
    for day, start in enumerate(range(0, size, 100)):
        batch = [{"role": "user", "content": sentence(rng)} for _ in range(min(100, size - start))]
        when = (START + timedelta(days=day)).isoformat()
        added = memory.add(batch, user_id=USER, infer=False, timestamp=when)["results"]
        ids.extend(r["id"] for r in added)
    return memory, ids


def timed(run: Callable[[], object], repeat: int, store: MemoryStore) -> tuple[float, float]:
    """p50 and p95 of ``run`` in ms, each run without the store's per-filter selection cache
    (a search names a new period or asks about other slots: its filters are new)."""
    samples = []
    cache = getattr(store, "_selections", None)
    for _ in range(repeat):
        if cache is not None:
            cache.clear()
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def signals(
    store: MemoryStore, where: Filter, vector: Vectors, ids: list[str], size: int
) -> dict[str, Callable[[], object]]:
    config = SearchConfig()
    days = max(1, size // 100)
    middle = START + timedelta(days=days // 2)
    week = Period(middle, middle + timedelta(days=7), "that week")
    wide = Period(START, START + timedelta(days=max(1, days // 10)), "early on")
    rng = random.Random(3)
    sample = rng.sample(ids, min(50, len(ids)))
    profiled = sample[:3]
    terms = keywords("what did alice buy in lisbon with her sister")

    def period(p: Period) -> Callable[[], object]:
        return lambda: period_candidates(store, config, vector, where, p, config.candidates, {})

    found: dict[str, Signals] = {}
    return {
        "period": period(week),
        "period_wide": period(wide),
        "profile": lambda: profile_candidates(store, vector, where, profiled, found),
        "neighbours": lambda: store.neighbours(sample, config.neighbour_window, where),
        "fill_dense": lambda: store.similarities(vector, sample),
        "vector": lambda: store.vector_search(vector, where, config.candidates),
        "keyword": lambda: store.keyword_search(terms, where, config.candidates),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma list of scope sizes")
    parser.add_argument("--repeat", type=int, default=100, help="timed runs per signal (after one warm-up)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}, hash embedder, one scope")
    table: dict[str, dict[int, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="memlane-bench-signals-") as folder:
        for size in sizes:
            t0 = time.perf_counter()
            memory, ids = build(Path(folder) / f"s{size}.db", size)
            print(f"built {size} memories in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            _, where = resolve_scope({"user_id": USER}, None)
            where = and_(where, expiration_filter())
            vector = memory.backends.embedder.embed(["what did alice buy in lisbon"], purpose="search")[0]
            store = memory.backends.store
            for name, run in signals(store, where, vector, ids, size).items():
                run()  # warm-up: the vector copy
                table.setdefault(name, {})[size] = timed(run, args.repeat, store)
            memory.close()
    head = "signal".ljust(12) + "".join(f"{f'{s:,}':>22}" for s in sizes)
    print(head + "\n" + " " * 12 + "".join(f"{'p50 / p95 ms':>22}" for _ in sizes))
    for name, row in table.items():
        cells = "".join(f"{f'{row[s][0]:.2f} / {row[s][1]:.2f}':>22}" for s in sizes)
        print(name.ljust(12) + cells)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
