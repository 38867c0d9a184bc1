"""Core latency and throughput of the embedded default: ``add(infer=False)`` and ``search()``.

For each size (default 1,000 and 10,000 memories, all in ONE scope) it builds a fresh SQLite
file in a temporary folder and measures, with the real local embedder (all-MiniLM-L6-v2):

- ingest throughput (memories/s) of ``Memory.add(..., infer=False)`` called with 1 message,
  with 10 messages, and (to fill large sizes quickly) with 100 messages per call;
- ``Memory.search`` latency p50/p95 over N queries (query embedding included);
- how much of each figure is the embedding model: the embedder is wrapped in a timer, so
  every figure splits into "embedding" and "the rest" (store, SQL, fusion, Python);
- the store's own ``vector_search`` (exact cosine over the scope, precomputed query vector)
  and ``keyword_search`` (FTS5 BM25) latencies at each size.

It prints figures and never asserts timings. ``--json PATH`` writes them as JSON.

    python benchmarks/bench_core.py                       # defaults: 1k and 10k, 200 queries
    python benchmarks/bench_core.py --sizes 1000 --embedder hash
    python benchmarks/bench_core.py --sizes 1000 --backend torch   # the local model on torch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np

import memlane
from memlane import Memory
from memlane.config import SearchConfig
from memlane.embed.base import Embedder, Purpose
from memlane.filters import Filter, and_
from memlane.memory.scope import resolve_scope
from memlane.memory.times import expiration_filter
from memlane.models import Vectors
from memlane.tokenizer import keywords

USER = "bench"

# -- synthetic data ------------------------------------------------------------------------

NAMES = (
    "Alice Bob Chitra Dev Emma Farhan Gita Hiro Ines Jonas Kavya Liam Mei Nikhil Olga Priya Quentin "
    "Rahul Sofia Tariq Uma Victor Wen Ximena Yusuf Zara Arjun Bea Carlos Dana Eitan Fatima Goran Hana"
).split()
CITIES = (
    "Bangalore Delhi Mumbai Pune Chennai Tokyo Osaka Berlin Lisbon Madrid Paris Toronto Austin Denver "
    "Nairobi Lagos Cairo Sydney Auckland Seoul Hanoi Jakarta Oslo Dublin Prague Vienna Zurich Lima"
).split()
FOODS = (
    "dosa biryani ramen sushi tacos paella pho falafel hummus pasta risotto curry dumplings kimchi "
    "pancakes bagels croissants idli pizza burritos ceviche goulash pierogi momos laksa"
).split()
HOBBIES = (
    "pottery chess climbing salsa dancing knitting surfing photography birdwatching baking running "
    "cycling gardening painting origami calligraphy swimming yoga archery fencing woodworking"
).split()
COMPANIES = "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Cyberdyne Soylent Tyrell Aperture".split()
JOBS = (
    "designer engineer teacher nurse chef pilot architect lawyer accountant journalist "
    "researcher pharmacist electrician librarian translator"
).split()
PETS = "dog cat parrot rabbit hamster turtle goldfish".split()
PET_NAMES = "Bruno Luna Max Coco Milo Bella Rocky Daisy Simba Kiwi Pepper Mochi".split()
COUNTRIES = "Japan Peru Kenya Iceland Vietnam Morocco Norway Chile Greece Mexico Portugal Canada".split()
SEASONS = "spring summer autumn winter".split()
MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
DRINKS = "coffee tea matcha chai espresso cocoa kombucha lemonade".split()
TOPICS = (
    "budgets the product launch hiring the roadmap marketing a reorg the offsite security "
    "customer churn pricing the migration onboarding"
).split(" ")
ALLERGENS = "peanuts shellfish gluten dairy pollen cats penicillin soy".split()

TEMPLATES = (
    "{name} moved from {city} to {city2} in {month}.",
    "{name} loves eating {food} on {day}s.",
    "{name} works as a {job} at {company}.",
    "{name}'s {pet} is called {pet_name}.",
    "{name} is planning a trip to {country} next {season}.",
    "{name} started learning {hobby} last {month}.",
    "{name} is allergic to {allergen}.",
    "{name} prefers {drink} over {drink2} in the morning.",
    "{name} has a meeting with {name2} about {topic} on {day}.",
    "{name} recommended a {food} place in {city} to {name2}.",
    "{name} goes {hobby} with {name2} every {day}.",
    "{name} wants to quit {company} and become a {job}.",
    "{name} celebrated a birthday in {city} with {food} and {drink}.",
    "{name} adopted a {pet} named {pet_name} in {month}.",
    "{name} and {name2} are flying to {country} in {season}.",
    "{name} asked the assistant for a {food} recipe without {allergen}.",
)
QUERY_TEMPLATES = (
    "Where does {name} live now?",
    "What food does {name} like?",
    "Where does {name} work?",
    "What is the name of {name}'s {pet}?",
    "Is {name} travelling to {country}?",
    "What hobbies does {name} have?",
    "What is {name} allergic to?",
    "What does {name} drink in the morning?",
    "Who is meeting about {topic}?",
    "Who likes {food} in {city}?",
)


def _fill(template: str, rng: random.Random) -> str:
    name, name2 = rng.sample(NAMES, 2)
    city, city2 = rng.sample(CITIES, 2)
    drink, drink2 = rng.sample(DRINKS, 2)
    return template.format(
        name=name,
        name2=name2,
        city=city,
        city2=city2,
        food=rng.choice(FOODS),
        hobby=rng.choice(HOBBIES),
        company=rng.choice(COMPANIES),
        job=rng.choice(JOBS),
        pet=rng.choice(PETS),
        pet_name=rng.choice(PET_NAMES),
        country=rng.choice(COUNTRIES),
        season=rng.choice(SEASONS),
        month=rng.choice(MONTHS),
        day=rng.choice(DAYS),
        drink=drink,
        drink2=drink2,
        topic=rng.choice(TOPICS),
        allergen=rng.choice(ALLERGENS),
    )


def sentences(count: int, seed: int) -> list[str]:
    """``count`` distinct sentences from the templates, in a reproducible order."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[_fill(rng.choice(TEMPLATES), rng)] = None
    return list(seen)


def queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    return [_fill(rng.choice(QUERY_TEMPLATES), rng) for _ in range(count)]


# -- timing --------------------------------------------------------------------------------


class TimedEmbedder:
    """Delegates to an embedder and adds up the time spent in it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.last = 0.0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def identity(self) -> str:
        return self.inner.identity

    def close(self) -> None:
        self.inner.close()

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "add") -> Vectors:
        start = time.perf_counter()
        try:
            return self.inner.embed(texts, purpose=purpose)
        finally:
            self.last = time.perf_counter() - start
            self.seconds += self.last


@dataclass
class Ingest:
    """One ingest phase: ``count`` memories added ``per_call`` messages at a time."""

    per_call: int
    count: int
    calls: int
    seconds: float
    embed_seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = np.asarray(seconds, dtype=np.float64) * 1000.0
        return cls(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)), float(ms.mean()))


@dataclass
class SizeResult:
    size: int
    ingest: list[Ingest] = field(default_factory=list)
    search: dict[str, Latency] = field(default_factory=dict)
    db_mb: float = 0.0


def plan_ingest(size: int, single_max: int, ten_max: int) -> list[tuple[int, int]]:
    """(messages per call, memories) phases: 1 per call, then 10, then the rest 100 at a time."""
    single = min(single_max, size // 2)
    ten = min(ten_max, size - single)
    phases = [(1, single), (10, ten), (100, size - single - ten)]
    return [(per_call, count) for per_call, count in phases if count > 0]


def ingest(memory: Memory, timer: TimedEmbedder, texts: list[str], per_call: int) -> Ingest:
    embed_before = timer.seconds
    calls = 0
    start = time.perf_counter()
    for i in range(0, len(texts), per_call):
        batch = [{"role": "user", "content": t} for t in texts[i : i + per_call]]
        memory.add(batch, user_id=USER, infer=False)
        calls += 1
    seconds = time.perf_counter() - start
    return Ingest(per_call, len(texts), calls, seconds, timer.seconds - embed_before)


def time_calls(call: Callable[[int], object], count: int) -> list[float]:
    out: list[float] = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


def scope_filter() -> Filter:
    """The filter ``Memory.search`` hands the store for ``filters={"user_id": USER}``."""
    _, where = resolve_scope({"user_id": USER}, None)
    return and_(where, expiration_filter(datetime.now(UTC).date().isoformat()))


def measure_search(memory: Memory, timer: TimedEmbedder, qs: list[str]) -> dict[str, Latency]:
    scope = {"user_id": USER}
    for q in qs[:5]:  # warm-up: loads the vector copy, fills SQLite's page cache
        memory.search(q, filters=scope)
    totals: list[float] = []
    embeds: list[float] = []
    for q in qs:
        start = time.perf_counter()
        memory.search(q, filters=scope)
        totals.append(time.perf_counter() - start)
        embeds.append(timer.last)
    rest = [t - e for t, e in zip(totals, embeds, strict=True)]

    store = memory.store
    where = scope_filter()
    pool = memory.config.search.candidates
    vectors = timer.inner.embed(qs, purpose="search")
    terms = [keywords(q) for q in qs]
    return {
        "search": Latency.of(totals),
        "query_embedding": Latency.of(embeds),
        "search_minus_embedding": Latency.of(rest),
        "vector_search": Latency.of(
            time_calls(lambda i: store.vector_search(vectors[i], where, pool), len(qs))
        ),
        "keyword_search": Latency.of(
            time_calls(lambda i: store.keyword_search(terms[i], where, pool), len(qs))
        ),
    }


def run_size(
    size: int, args: argparse.Namespace, folder: Path, make_embedder: Callable[[], Embedder]
) -> SizeResult:
    path = folder / f"bench-{size}.db"
    timer = TimedEmbedder(make_embedder())
    config = {"vector_store": {"provider": "sqlite", "config": {"path": str(path)}}}
    memory = Memory(config, embedder=timer)
    result = SizeResult(size)
    texts = sentences(size, args.seed)
    done = 0
    with memory:
        for per_call, count in plan_ingest(size, args.single_max, args.ten_max):
            phase = ingest(memory, timer, texts[done : done + count], per_call)
            result.ingest.append(phase)
            done += count
            print(f"  added {done:,}/{size:,} ({per_call} per call)", file=sys.stderr, flush=True)
        assert memory.store.count(scope_filter()) == size
        result.search = measure_search(memory, timer, queries(args.queries, args.seed))
    result.db_mb = sum(p.stat().st_size for p in folder.glob(f"bench-{size}.db*")) / 1e6
    return result


# -- output --------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def report(result: SizeResult, pool: int) -> str:
    ingest_rows = [
        [
            f"add(), {p.per_call} message{'s' if p.per_call > 1 else ''} per call",
            f"{p.count:,}",
            f"{p.calls:,}",
            f"{p.seconds:.1f}",
            f"{p.per_second:,.0f}",
            f"{p.embed_seconds / p.count * 1000:.2f}",
            f"{(p.seconds - p.embed_seconds) / p.count * 1000:.2f}",
            f"{p.embed_seconds / p.seconds * 100:.0f}%",
        ]
        for p in result.ingest
    ]
    labels = {
        "search": "Memory.search (all)",
        "query_embedding": "  of which query embedding",
        "search_minus_embedding": "  of which the rest",
        "vector_search": f"store.vector_search only (limit {pool})",
        "keyword_search": f"store.keyword_search only (limit {pool})",
    }
    search_rows = [
        [labels[k], f"{v.p50_ms:.2f}", f"{v.p95_ms:.2f}", f"{v.mean_ms:.2f}"]
        for k, v in result.search.items()
    ]
    return "\n".join(
        [
            f"== {result.size:,} memories in one scope (SQLite file {result.db_mb:.1f} MB) ==",
            table(
                ["ingest", "memories", "calls", "s", "memories/s", "embed ms/mem", "rest ms/mem", "embed"],
                ingest_rows,
            ),
            "",
            table(["search latency", "p50 ms", "p95 ms", "mean ms"], search_rows),
        ]
    )


def summary(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        by_call = {p.per_call: p for p in r.ingest}
        rows.append(
            [
                f"{r.size:,}",
                *(f"{by_call[n].per_second:,.0f}" if n in by_call else "-" for n in (1, 10, 100)),
                f"{r.search['search'].p50_ms:.1f}",
                f"{r.search['search'].p95_ms:.1f}",
                f"{r.search['query_embedding'].p50_ms:.1f}",
                f"{r.search['vector_search'].p50_ms:.2f}",
                f"{r.search['vector_search'].p95_ms:.2f}",
            ]
        )
    headers = [
        "memories",
        "add 1/call mem/s",
        "add 10/call mem/s",
        "add 100/call mem/s",
        "search p50 ms",
        "search p95 ms",
        "query embed p50 ms",
        "vector p50 ms",
        "vector p95 ms",
    ]
    return table(headers, rows)


def make_embedder_factory(
    name: str, backend: Literal["auto", "torch", "onnx"] = "auto", threads: int | None = None
) -> tuple[Callable[[], Embedder], str, float]:
    """A factory of warmed-up embedders of one kind, its description and the model load time."""
    if name == "hash":
        from memlane.embed.hash import HashEmbedder

        return (lambda: HashEmbedder(384)), "hash (deterministic test embedder, 384 dims)", 0.0
    from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig

    model = LocalEmbedder(LocalEmbedderConfig(backend=backend, threads=threads))
    start = time.perf_counter()
    model.embed(["warm up"])
    load = time.perf_counter() - start
    described = f"local (all-MiniLM-L6-v2, {model.dimension} dims, CPU, {model.backend})"
    return (lambda: model), described, load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="memories per run")
    parser.add_argument("--queries", type=int, default=200, help="timed search queries per size")
    parser.add_argument("--embedder", choices=["local", "hash"], default="local")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--single-max", type=int, default=1000, help="most memories added 1 per call")
    parser.add_argument("--ten-max", type=int, default=3000, help="most memories added 10 per call")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--threads",
        type=int,
        help="limit torch's, ONNX Runtime's and numpy's BLAS thread pools to N; default: as is",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx"],
        default="auto",
        help="what runs the local model (default: auto, ONNX Runtime when installed)",
    )
    args = parser.parse_args(argv)
    make_embedder, described, load_s = make_embedder_factory(args.embedder, args.backend, args.threads)
    if args.threads:  # after the model loaded, so every BLAS pool it brought is capped too
        limit_threads(args.threads)
    folder = Path(tempfile.mkdtemp(prefix="memlane-bench-"))
    pool = SearchConfig().candidates  # what Memory.search asks each signal for
    print("memlane core benchmark")
    print(f"  memlane {memlane.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"  {os.cpu_count()} CPU cores; torch threads: {_torch_threads()}; numpy BLAS: {_blas()}")
    print(f"  embedder: {described}; model load + first call {load_s:.1f} s (not counted below)")
    print(f"  store: SQLite files in {folder} (removed at the end)")
    print(f"  one scope (user_id={USER!r}); {args.queries} queries per size; search with default top_k")
    print()
    results: list[SizeResult] = []
    started = time.perf_counter()
    try:
        for size in args.sizes:
            result = run_size(size, args, folder, make_embedder)
            results.append(result)
            print(report(result, pool))
            print()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("== summary ==")
    print(summary(results))
    print(
        f"\nIngest order per size: 1 message per call for the first half (at most {args.single_max:,}), "
        f"then 10 per call (at most {args.ten_max:,}),\nthen the rest 100 per call, so the store grows "
        "while each phase runs. 'rest' = time not spent in the embedder (SQLite, FTS5, vectors, Python)."
    )
    print(f"total wall time {time.perf_counter() - started:.0f} s")
    if args.json:
        payload: dict[str, Any] = {
            "embedder": described,
            "model_load_s": load_s,
            "queries": args.queries,
            "cpu_count": os.cpu_count(),
            "results": [
                {**asdict(r), "ingest": [{**asdict(p), "per_second": p.per_second} for p in r.ingest]}
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def limit_threads(count: int) -> None:
    """Cap torch's intra-op threads and every BLAS pool numpy uses (threadpoolctl, if installed)."""
    try:
        import torch

        torch.set_num_threads(count)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        print("note: threadpoolctl is not installed; numpy's BLAS threads are not limited", file=sys.stderr)
        return
    threadpool_limits(count, user_api="blas")


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in pools) or "unknown"


def _torch_threads() -> str:
    if "torch" not in sys.modules:
        return "n/a"
    return str(sys.modules["torch"].get_num_threads())


if __name__ == "__main__":
    raise SystemExit(main())
