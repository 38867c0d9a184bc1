"""What HTTP costs: the same mixed load in process (``Memory``) and over ``memlane serve``.

It builds one SQLite store of ``--memories`` memories (default 10,000) over ``--users`` users
(default 100) with the hash embedder (so the figures are the server's and the store's, not an
embedding model's), then runs the same bounded load three times for ``--seconds`` each, after
``--warmup`` seconds (default 10) of the same load, uncounted (each process keeps per-scope
caches: a cold one costs a search several times its warm latency):

- in process: ``--clients`` threads (16, then 1: saturation, then the cost of one request)
  calling one ``Memory`` directly;
- HTTP, ``memlane serve --workers 1`` on 127.0.0.1, the same threads each with a keep-alive
  ``httpx.Client`` and an API key;
- HTTP, ``--workers 2``.

Each call is a search (80%: a generated question for a random user, top_k 10) or an
``add(infer=False)`` of one sentence for a random user (20%). It prints requests/s, p50/p95/p99
(ms) per kind, errors, and the HTTP p95 minus the in-process p95. The load generator runs on
the same machine (its threads share the cores with the server). It prints figures and never
asserts them.

    python benchmarks/bench_server.py                  # 10k memories, 16 clients, 20 s per phase
    python benchmarks/bench_server.py --seconds 5 --memories 2000
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
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from bench_core import queries, sentences  # benchmarks/ is on sys.path

from memlane import MemlaneError, Memory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.server.process import HASH_CONFIG, MemlaneServer  # noqa: E402

TENANT = "default"  # the server's default tenant reads --db itself: the store built here
Call = Callable[[str, str, str], None]  # (kind, user, text) -> None; raises on failure


def build_store(path: Path, memories: int, users: int) -> None:
    texts = sentences(memories, seed=7)
    per_user = max(1, memories // users)
    with Memory.from_config(
        {**HASH_CONFIG, "vector_store": {"provider": "sqlite", "config": {"path": str(path)}}}
    ) as m:
        for index in range(users):
            chunk = texts[index * per_user : (index + 1) * per_user]
            m.add([{"role": "user", "content": t} for t in chunk], user_id=f"user-{index}", infer=False)


def run_load(
    make_call: Callable[[], Call], clients: int, args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    """``clients`` threads, each with its own ``make_call()``, for ``seconds``: latencies by kind."""
    questions, facts = queries(500, seed), sentences(500, seed + 1)
    latencies: dict[str, list[float]] = {"search": [], "add": []}
    errors: list[str] = []
    lock = threading.Lock()
    warm_until = time.perf_counter() + args.warmup
    deadline = warm_until + args.seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        call = make_call()
        mine: dict[str, list[float]] = {"search": [], "add": []}
        while time.perf_counter() < deadline:
            kind = "add" if rng.random() < args.add_share else "search"
            text = rng.choice(questions if kind == "search" else facts)
            started = time.perf_counter()
            try:
                call(kind, f"user-{rng.randrange(args.users)}", text)
            except (MemlaneError, httpx.HTTPError, RuntimeError) as exc:  # counted: the figures say how many
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            if started >= warm_until:  # the warm-up's calls fill the caches, uncounted
                mine[kind].append((time.perf_counter() - started) * 1000)
        with lock:
            for kind, values in mine.items():
                latencies[kind].extend(values)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started - args.warmup
    return summarize(latencies, errors, elapsed)


def summarize(latencies: dict[str, list[float]], errors: list[str], elapsed: float) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": round(elapsed, 1), "errors": len(errors), "first_errors": errors[:3]}
    total = sum(len(v) for v in latencies.values())
    out["requests_per_s"] = round(total / elapsed, 1)
    for kind, values in [*latencies.items(), ("all", [x for v in latencies.values() for x in v])]:
        if values:
            ms = np.array(values)
            out[kind] = {
                "count": len(values),
                **{f"p{q}": round(float(np.percentile(ms, q)), 2) for q in (50, 95, 99)},
            }
    return out


def in_process(memory: Memory) -> Callable[[], Call]:
    def make() -> Call:
        def call(kind: str, user: str, text: str) -> None:
            if kind == "search":
                memory.search(text, user_id=user, top_k=10)
            else:
                memory.add(text, user_id=user, infer=False)

        return call

    return make


def over_http(url: str, key: str, clients: list[httpx.Client]) -> Callable[[], Call]:
    def make() -> Call:
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        clients.append(client)

        def call(kind: str, user: str, text: str) -> None:
            if kind == "search":
                response = client.post(
                    "/search", json={"query": text, "filters": {"user_id": user}, "top_k": 10}
                )
            else:
                body = {"messages": [{"role": "user", "content": text}], "user_id": user, "infer": False}
                response = client.post("/memories", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code} {response.text[:100]}")

        return call

    return make


def http_phase(
    folder: Path, store: Path, workers: int, clients: int, args: argparse.Namespace
) -> dict[str, Any]:
    phase = folder / f"workers-{workers}-clients-{clients}"
    phase.mkdir()
    shutil.copy(store, phase / "memlane.db")
    opened: list[httpx.Client] = []
    with MemlaneServer.start(phase, keys={TENANT: False}, extra_args=["--workers", str(workers)]) as server:
        make = over_http(server.url, server.keys[TENANT], opened)
        warm = make()
        for _ in range(20 * workers):
            warm("search", "user-0", "what does the user like?")
        result = run_load(make, clients, args, 2)
    for client in opened:
        client.close()
    return result


def run_phases(folder: Path, store: Path, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    """In process, then over HTTP with each worker count: the same load from ``clients`` threads."""
    out: dict[str, Any] = {}
    scratch = folder / f"in-process-{clients}.db"
    shutil.copy(store, scratch)
    config = {**HASH_CONFIG, "vector_store": {"provider": "sqlite", "config": {"path": str(scratch)}}}
    with Memory.from_config(config) as memory:
        memory.search("warm up", user_id="user-0")
        out["in_process"] = run_load(in_process(memory), clients, args, 2)
    print_phase("in process", out["in_process"], None)
    for workers in args.workers:
        out[f"http_workers_{workers}"] = result = http_phase(folder, store, workers, clients, args)
        print_phase(f"HTTP, {workers} worker(s)", result, out["in_process"])
    return out


def print_phase(name: str, result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    line = f"{name:<22} {result['requests_per_s']:>8.1f} req/s  errors {result['errors']}"
    print(line)
    for kind in ("search", "add", "all"):
        if kind in result:
            r = result[kind]
            extra = ""
            if baseline is not None and kind in baseline:
                extra = f"   p95 - in-process p95: {r['p95'] - baseline[kind]['p95']:+.2f} ms"
            times = f"p50 {r['p50']:>7.2f}  p95 {r['p95']:>7.2f}  p99 {r['p99']:>7.2f} ms"
            print(f"    {kind:<7} n={r['count']:<6} {times}{extra}")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 1], help="concurrent clients, per run")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of uncounted load first (caches)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--add-share", type=float, default=0.2, help="share of calls that are adds (rest: search)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(
        f"memlane server benchmark: {args.memories} memories, {args.users} users, {args.clients} clients, "
        f"{args.seconds:.0f} s per phase after {args.warmup:.0f} s of warm-up, "
        f"{1 - args.add_share:.0%} search / {args.add_share:.0%} add(infer=False), hash embedder"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {_load()} (other jobs included); the load generator runs on the same machine"
    )
    folder = Path(tempfile.mkdtemp(prefix="memlane-bench-server-"))
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    try:
        store = folder / "base.db"
        started = time.perf_counter()
        build_store(store, args.memories, args.users)
        print(f"built the store in {time.perf_counter() - started:.1f} s")
        for clients in args.clients:
            print(f"\n{clients} concurrent client(s):")
            figures[f"clients_{clients}"] = run_phases(folder, store, clients, args)
            print(f"    (load average now {_load()})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
