"""Figures of the stress tests: printed, kept for the terminal summary, and saved as JSON.

Every test calls ``record(name, summary, figures)``. The JSON file (``reports/reliability.json``
in the repository root, or the path in ``$MEMLANE_RELIABILITY_REPORT``) maps each test's name to
its one-line summary and its figures; ``benchmarks/reliability.py`` prints a table from it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["RECORDED", "REPORT_ENV", "record", "report_path"]

REPORT_ENV = "MEMLANE_RELIABILITY_REPORT"
RECORDED: dict[str, str] = {}
"""The latest summary of every figure recorded in this pytest session, by name, in first-recorded order."""


def report_path() -> Path:
    """Where the figures are saved: ``$MEMLANE_RELIABILITY_REPORT`` or ``reports/reliability.json``."""
    override = os.environ.get(REPORT_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "reports" / "reliability.json"


def record(name: str, summary: str, figures: dict[str, Any], *, ok: bool = True) -> None:
    """Print one test's figure and merge it into the JSON report."""
    line = summary if ok else f"{summary} [FAILED]"
    print(f"[reliability] {name}: {line}")
    RECORDED[name] = line
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[name] = {
        "summary": summary,
        "ok": ok,
        "figures": figures,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
