"""The local embedder on torch and on ONNX Runtime, through ``LocalEmbedder.embed``.

- load: model load (torch), and for ONNX the first load with an empty cache (export and
  verification included) and a load from the cached, verified export in a new process (with
  its imports: ONNX Runtime and the tokenizer alone; the same process would share its model);
- one text per call (a search query): p50 / p95 over N queries;
- texts per second at 1, 10 and 100 texts per call (an ``add`` of that many messages);
- the largest difference between the two back ends' vectors.

Calls alternate between the back ends, so load from other processes falls on both alike. It
prints figures and never asserts timings.

    python benchmarks/bench_embed.py                  # 300 queries, 600 texts per batch size
    python benchmarks/bench_embed.py --threads 1      # both back ends on one thread throughout
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import queries, sentences  # the same synthetic texts as bench_core

from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig


def load(config: LocalEmbedderConfig) -> tuple[LocalEmbedder, float]:
    start = time.perf_counter()
    embedder = LocalEmbedder(config)
    embedder.embed(["warm up"])
    return embedder, time.perf_counter() - start


def load_in_new_process(config: LocalEmbedderConfig) -> tuple[float, bool]:
    """(seconds, whether torch was imported) for a new process's first embedding, imports included."""
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "from memlane.embed.local import LocalEmbedder, LocalEmbedderConfig\n"
        f"LocalEmbedder(LocalEmbedderConfig.model_validate({config.model_dump()!r})).embed(['warm up'])\n"
        "print(time.perf_counter() - start, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, torch = out.stdout.split()[-2:]
    return float(seconds), torch == "True"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=300, help="timed single-text calls per back end")
    parser.add_argument("--texts", type=int, default=600, help="texts embedded per batch size")
    parser.add_argument("--threads", type=int, help="the embedders' `threads` option; default: unset")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    cache = Path(tempfile.mkdtemp(prefix="memlane-onnx-"))
    try:
        return run(args, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run(args: argparse.Namespace, cache: Path) -> int:
    torch_model, torch_load = load(LocalEmbedderConfig(backend="torch", threads=args.threads))
    onnx_config = LocalEmbedderConfig(backend="onnx", onnx_cache=str(cache), threads=args.threads)
    onnx_model, onnx_cold = load(onnx_config)
    onnx_warm, torch_imported = load_in_new_process(onnx_config)
    if onnx_model.backend != "onnx":
        print("ONNX Runtime could not run the model (see the warnings above)", file=sys.stderr)
        return 1
    size_mb = sum(p.stat().st_size for p in cache.glob("*.onnx")) / 1e6
    models = {"torch": torch_model, "onnx": onnx_model}
    print("memlane local embedder: torch against ONNX Runtime (all-MiniLM-L6-v2)")
    print(f"  {os.cpu_count()} CPU cores; threads option: {args.threads}")
    print(f"  load: torch {torch_load:.1f} s (with imports), onnx {onnx_cold:.1f} s (with the export)")
    torch_note = "torch imported" if torch_imported else "no torch"
    print(f"  load in a new process, from the verified export: {onnx_warm:.2f} s ({torch_note})")
    print(f"  exported file {size_mb:.0f} MB\n")

    qs = queries(args.queries, args.seed)
    for q in qs[:20]:  # warm-up
        for model in models.values():
            model.embed([q], purpose="search")
    times: dict[str, list[float]] = {name: [] for name in models}
    diff = 0.0
    for q in qs:
        rows: dict[str, np.ndarray] = {}
        for name, model in models.items():
            start = time.perf_counter()
            rows[name] = model.embed([q], purpose="search")
            times[name].append((time.perf_counter() - start) * 1000)
        diff = max(diff, float(np.abs(rows["torch"] - rows["onnx"]).max()))
    print(f"one text per call ({len(qs)} queries)     p50 ms   p95 ms")
    for name, ms in times.items():
        print(f"  {name:<36} {np.percentile(ms, 50):6.2f}   {np.percentile(ms, 95):6.2f}")

    texts = sentences(args.texts, args.seed)
    print("\ntexts per second          torch     onnx")
    for per_call in (1, 10, 100):
        batches = [texts[i : i + per_call] for i in range(0, len(texts), per_call)]
        seconds = dict.fromkeys(models, 0.0)
        for batch in batches:
            for name, model in models.items():
                start = time.perf_counter()
                rows[name] = model.embed(batch)
                seconds[name] += time.perf_counter() - start
            diff = max(diff, float(np.abs(rows["torch"] - rows["onnx"]).max()))
        rates = [len(texts) / seconds[name] for name in models]
        print(f"  {per_call:>3} per call          {rates[0]:7.0f}  {rates[1]:7.0f}")
    print(f"\nlargest difference between the vectors: {diff:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
