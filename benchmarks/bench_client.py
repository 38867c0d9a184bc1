"""What ``memlane.Client`` costs over ``Memory``: the same calls, one at a time, both ways.

It fills one tenant of a real ``memlane serve`` (127.0.0.1, one worker) and an in-process
``Memory`` with the same ``--memories`` memories over ``--users`` users (hash embedder, so the
figures are the client, HTTP and the server, not an embedding model), then times, in turn on
each, ``--calls`` calls of ``search``, ``get`` and ``add(infer=False)``, one after the other
(latency, not throughput: ``benchmarks/bench_server.py`` runs concurrent load). It prints
p50/p95 per call and way, and the difference; it never asserts timings.

    python benchmarks/bench_client.py                     # 2,000 memories, 300 calls each
    python benchmarks/bench_client.py --memories 10000 --calls 500
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_core import Latency, queries, sentences
from tests.server.process import HASH_CONFIG, MemlaneServer

from memlane import Client, Memory


def fill(memory: Any, texts: list[str], users: int) -> list[str]:
    """Add ``texts`` round-robin over ``users`` users, 50 messages a call; the new ids."""
    ids: list[str] = []
    for start in range(0, len(texts), 50):
        chunk = [{"role": "user", "content": text} for text in texts[start : start + 50]]
        result = memory.add(chunk, user_id=f"user-{start // 50 % users}", infer=False)
        ids += [item["id"] for item in result["results"]]
    return ids


def timed(call: Callable[[int], object], count: int) -> Latency:
    seconds = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - start)
    return Latency.of(seconds)


def measure(memory: Any, ids: list[str], asked: list[str], users: int, calls: int) -> dict[str, Latency]:
    return {
        "search": timed(lambda i: memory.search(asked[i], user_id=f"user-{i % users}", top_k=10), calls),
        "get": timed(lambda i: memory.get(ids[i * 7 % len(ids)]), calls),
        "add": timed(lambda i: memory.add(f"note {i}", user_id=f"user-{i % users}", infer=False), calls),
    }


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--memories", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    texts, asked = sentences(args.memories, seed=7), queries(args.calls, seed=7)
    folder = Path(tempfile.mkdtemp(prefix="memlane-bench-client-"))
    try:
        store = {"provider": "sqlite", "config": {"path": str(folder / "local.db")}}
        config = {**HASH_CONFIG, "vector_store": store}
        with Memory.from_config(config) as memory:
            local = measure(memory, fill(memory, texts, args.users), asked, args.users, args.calls)
        with (
            MemlaneServer.start(folder / "server", keys={"bench": False}) as server,
            Client(server.url, api_key=server.keys["bench"]) as client,
        ):
            remote = measure(client, fill(client, texts, args.users), asked, args.users, args.calls)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.memories} memories over {args.users} users, {args.calls} sequential calls each (ms)")
    print(f"{'call':8} {'Memory p50':>11} {'p95':>7} {'Client p50':>11} {'p95':>7} {'+p50':>7} {'+p95':>7}")
    for name in local:
        mine, theirs = local[name], remote[name]
        print(
            f"{name:8} {mine.p50_ms:11.2f} {mine.p95_ms:7.2f} {theirs.p50_ms:11.2f} {theirs.p95_ms:7.2f} "
            f"{theirs.p50_ms - mine.p50_ms:7.2f} {theirs.p95_ms - mine.p95_ms:7.2f}"
        )


if __name__ == "__main__":
    main()
