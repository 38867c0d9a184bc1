"""Run the reliability proofs (``pytest -m stress tests/stress``) and print every figure they measured.

Usage: ``.venv/bin/python benchmarks/reliability.py [extra pytest args]``

The tests write their figures to ``reports/reliability.json`` (git-ignored); this script starts from an
empty report, runs them, then prints one row per figure, e.g. "concurrency: 2,000 adds in 4 processes +
400 in 4 threads, 0 errors, 0 lost, 0 duplicated, N adds/s". The exit status is pytest's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "reliability.json"
REPORT_ENV = "MEMLANE_RELIABILITY_REPORT"
ORDER = ("concurrency", "crash_safety", "bad_input", "sql_injection", "tenant_isolation", "deletion_at_scale")


def run_tests(extra: list[str]) -> tuple[int, float]:
    """Run the stress suite into a fresh report; (pytest's exit status, seconds)."""
    REPORT.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/stress",
        "-m",
        "stress",
        "-q",
        "-p",
        "no:cacheprovider",
        *extra,
    ]
    env = {**os.environ, REPORT_ENV: str(REPORT)}
    started = time.perf_counter()
    status = subprocess.call(command, cwd=ROOT, env=env)
    return status, time.perf_counter() - started


def _rank(name: str) -> tuple[int, str]:
    for index, prefix in enumerate(ORDER):
        if name.startswith(prefix):
            return index, name
    return len(ORDER), name


def table(report: dict[str, Any]) -> list[str]:
    """One line per recorded figure: status, name, summary."""
    names = sorted(report, key=_rank)
    width = max((len(n) for n in names), default=0)
    lines = [f"{'':4}  {'proof':<{width}}  figure", f"{'':4}  {'-' * width}  {'-' * 6}"]
    for name in names:
        entry = report[name]
        status = "ok" if entry.get("ok") else "FAIL"
        lines.append(f"{status:<4}  {name:<{width}}  {entry.get('summary', '')}")
    return lines


def main(argv: list[str]) -> int:
    status, seconds = run_tests(argv)
    try:
        report: dict[str, Any] = json.loads(REPORT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"\nno figures were recorded ({REPORT} is missing or unreadable); pytest exited {status}")
        return status or 1
    print(f"\nmemlane reliability figures (pytest exit status {status}, {seconds:.0f} s; from {REPORT})\n")
    for line in table(report):
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
