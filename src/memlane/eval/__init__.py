"""Benchmarks users can run: LoCoMo evidence recall and search latency."""

from memlane.eval.locomo import EvalResult, evaluate_locomo, load_locomo

__all__ = ["EvalResult", "evaluate_locomo", "load_locomo"]
