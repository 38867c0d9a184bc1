"""The optional search stages against a real local LLM: LLM reranking and query expansion.

Ingests one LoCoMo conversation verbatim (the embedded default store and embedder), then asks its
first ``--questions`` questions three ways: the fused search alone, ``rerank=True`` with the
``llm_reranker`` scoring the best ``--candidates`` hits, and ``search.expand_queries`` phrasings.
The LLM is gemma-3-270m on a llama.cpp server started (and stopped) here. It prints evidence
recall@10, search latency and how often a stage fell back (the reranker or the expansion failed
and the fused order was kept), never asserting anything.

gemma-3-270m is far too small to judge relevance: read the recall as a check that the stages run
end to end on a real server, not as what a capable model would reach.

    python benchmarks/bench_refine.py --data path/to/locomo10.json --questions 20
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from memlane import Memory
from memlane.eval.locomo import Conversation, Question, evaluate_locomo, load_locomo

REPO = Path(__file__).resolve().parents[1]


class FallbackCounter(logging.Handler):
    """Counts the warnings search logs when a stage falls back."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "reranking failed" in message or "query expansion failed" in message:
            self.count += 1
            self.first = self.first or message


def recall_at(found: list[dict[str, Any]], gold: tuple[str, ...], k: int = 10) -> float:
    top = {str((r.get("metadata") or {}).get("dia_id")) for r in found[:k]}
    return len(set(gold) & top) / len(gold)


def ask(memory: Memory, questions: list[Question], reference: str, **options: Any) -> dict[str, float]:
    counter = FallbackCounter()
    logging.getLogger("memlane").addHandler(counter)
    recalls: list[float] = []
    recalls5: list[float] = []
    latencies: list[float] = []
    try:
        for q in questions:
            start = time.perf_counter()
            found = memory.search(
                q.text, user_id=q.conversation, top_k=10, reference_date=reference, **options
            )
            latencies.append((time.perf_counter() - start) * 1000)
            recalls.append(recall_at(found["results"], q.gold))
            recalls5.append(recall_at(found["results"], q.gold, 5))
            print(f"  {latencies[-1]:8.0f} ms  {q.text[:70]}", file=sys.stderr, flush=True)
    finally:
        logging.getLogger("memlane").removeHandler(counter)
    if counter.first:
        print(f"  first fallback: {counter.first[:300]}", file=sys.stderr, flush=True)
    return {
        "recall@5": statistics.fmean(recalls5),
        "recall@10": statistics.fmean(recalls),
        "p50 ms": statistics.median(latencies),
        "fallbacks": float(counter.count),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=os.environ.get("MEMLANE_LOCOMO"), help="LoCoMo JSON file (default: $MEMLANE_LOCOMO)"
    )
    parser.add_argument("--questions", type=int, default=20, help="questions of the first conversation")
    parser.add_argument("--candidates", type=int, default=20, help="hits the reranker scores")
    parser.add_argument("--rerank-weight", type=float, default=1.0, help="search.rerank_weight")
    parser.add_argument("--skip-expansion", action="store_true", help="measure the reranker only")
    parser.add_argument("--variants", type=int, default=2, help="phrasings asked of the LLM")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    args = parser.parse_args(argv)
    if args.data is None:
        parser.error("give --data PATH or set MEMLANE_LOCOMO to a LoCoMo JSON file (e.g. locomo10.json)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on `timeout` too
    sys.path.insert(0, str(REPO))
    from tests.llama_server import LlamaServer, missing_packages

    missing = missing_packages()
    if missing:
        raise SystemExit(f"needs the llama extra: {', '.join(missing)} not installed")
    conv: Conversation = load_locomo(args.data)[0]
    questions = [q for q in conv.questions if q.gold][: args.questions]
    with (
        tempfile.TemporaryDirectory(prefix="memlane-bench-refine-") as tmp,
        LlamaServer.start(Path(tmp), threads=args.threads, n_ctx=8192, seed=0) as server,
    ):
        llm = {
            "provider": "openai",
            "config": {
                "base_url": server.url,
                "model": server.model,
                "temperature": 0,
                "seed": 0,
                "max_tokens": 400,
                "max_retries": 1,
                "structured_output": "json_object_schema",
            },
        }
        base = {"vector_store": {"config": {"path": str(Path(tmp) / "m.db")}}, "llm": llm}
        memory = Memory(base)
        evaluate_locomo(memory, [conv], progress=lambda *a: None)
        rows = {"fused (default)": ask(memory, questions, conv.last_observed)}
        memory.close()
        reranking = Memory(
            {
                **base,
                "reranker": {"provider": "llm_reranker", "config": {}},
                "search": {"rerank_candidates": args.candidates, "rerank_weight": args.rerank_weight},
            }
        )
        rows[f"+ llm_reranker over {args.candidates}, weight {args.rerank_weight:g}"] = ask(
            reranking, questions, conv.last_observed, rerank=True
        )
        reranking.close()
        if not args.skip_expansion:
            expanding = Memory({**base, "search": {"expand_queries": args.variants}})
            rows[f"+ {args.variants} phrasings"] = ask(expanding, questions, conv.last_observed)
            expanding.close()
    print(
        f"{len(questions)} questions of {conv.sample_id}; gemma-3-270m on llama.cpp, {args.threads} threads"
    )
    print(f"{'search':<36} {'recall@5':>9} {'recall@10':>9} {'p50 ms':>9} {'fallbacks':>9}")
    for name, row in rows.items():
        figures = f"{row['recall@5']:>9.3f} {row['recall@10']:>9.3f} {row['p50 ms']:>9.0f}"
        print(f"{name:<36} {figures} {int(row['fallbacks']):>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
