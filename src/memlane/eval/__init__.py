"""Benchmarks users can run: LoCoMo evidence recall and search latency."""

from memlane.eval.locomo import EvalResult, evaluate_locomo, load_locomo
from memlane.eval.locomo_cache import ingest_cache
from memlane.eval.report import provenance, table, write_reports

__all__ = [
    "EvalResult",
    "evaluate_locomo",
    "ingest_cache",
    "load_locomo",
    "provenance",
    "table",
    "write_reports",
]
