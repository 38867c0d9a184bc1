"""Reports of an evaluation: a terminal table, JSON, and an HTML page with SVG plots."""

from __future__ import annotations

import html
import json
from pathlib import Path

from memlane.eval.locomo import CATEGORIES, KS, EvalResult
from memlane.redact import redact

__all__ = ["context_table", "html_report", "matrix_table", "provenance", "table", "write_reports"]

_ROWS = ("overall", *CATEGORIES.values())
_COLOURS = ("#222222", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")


def table(result: EvalResult) -> str:
    """Recall@k and hit@k per category, then latency, ingest time and context size."""
    head = ["", "questions", *(f"R@{k}" for k in KS), *(f"hit@{k}" for k in KS)]
    rows = [head]
    for name in _ROWS:
        if name not in result.recall:
            continue
        rows.append(
            [name, str(result.questions[name])]
            + [f"{result.recall[name][k]:.3f}" for k in KS]
            + [f"{result.hit[name][k]:.3f}" for k in KS]
        )
    lines = [_columns(rows), ""]
    lines.append(
        f"search latency p50 {result.latency(0.5):.1f} ms, p95 {result.latency(0.95):.1f} ms "
        f"over {len(result.latency_ms)} searches (query embedding included)"
    )
    if result.settings.get("reused_ingest"):
        lines.append(f"ingest: {result.turns} turns, reused from the cache (--reuse-ingest)")
    else:
        lines.append(f"ingest: {result.turns} turns in {result.ingest_seconds:.1f} s")
    lines.append("context tokens at k: " + ", ".join(f"k={k}: {result.context_tokens[k]:.0f}" for k in KS))
    if result.context:
        lines += ["", context_table(result)]
    matrix = matrix_table(result)
    if matrix:
        lines += ["", "load matrix (the figures above are its first row):", matrix]
    return "\n".join(lines)


def context_table(result: EvalResult) -> str:
    """Evidence recall inside get_context's block per budget, per category, and its tokens."""
    names = [n for n in _ROWS if n in result.recall]
    head = ["context budget", *names, "tokens (mean)", "tokens (max)", "citations"]
    rows = [head]
    for budget, row in sorted(result.context.items()):
        rows.append(
            [f"{budget:,}"]
            + [f"{row['recall'].get(n, 0.0):.3f}" for n in names]
            + [f"{row['tokens']:.0f}", str(row["tokens_max"]), f"{row['citations']:.1f}"]
        )
    tokenizer = next(iter(result.context.values()))["tokenizer"]
    return f"evidence recall inside get_context (tokens: {tokenizer}):\n" + _columns(rows)


def matrix_table(result: EvalResult) -> str:
    """Recall@k and search latency per number of distractors ('' without distractors)."""
    if not any(row["distractors"] for row in result.matrix):
        return ""
    head = [
        "distractors",
        "memories/scope",
        "questions",
        *(f"R@{k}" for k in KS),
        "p50 ms",
        "p95 ms",
        "added in s",
    ]
    rows = [head]
    for row in result.matrix:
        recall = {int(k): v for k, v in row["recall"].items()}
        rows.append(
            [f"{row['distractors']:,}", f"{row['memories_per_scope']:,.0f}", str(row["questions"])]
            + [f"{recall[k]:.3f}" if k in recall else "-" for k in KS]
            + [f"{row['search_ms']['p50']:.1f}", f"{row['search_ms']['p95']:.1f}"]
            + [f"{row['distractor_ingest_seconds']:.1f}"]
        )
    return _columns(rows)


def _columns(rows: list[list[str]]) -> str:
    """Rows as aligned columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def provenance(result: EvalResult) -> str:
    """Which memlane ran, when, and on which data file (path and SHA-256)."""
    parts = [f"memlane {result.memlane_version}"]
    if result.started_at:
        parts.append(f"run at {result.started_at}")
    if result.data:
        parts.append(f"data {result.data.get('path')} (sha256 {result.data.get('sha256')})")
    return ", ".join(parts)


def write_reports(result: EvalResult, folder: str | Path) -> dict[str, Path]:
    """``results.json`` and ``report.html`` in ``folder``; returns their paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    paths["html"].write_text(html_report(result), encoding="utf-8")
    return paths


def html_report(result: EvalResult) -> str:
    """A self-contained page: the table, recall@k curves per category, a latency histogram."""
    body = [
        "<h1>memlane: LoCoMo evidence recall</h1>",
        f"<p>{html.escape(provenance(result))}</p>",
        f"<pre>{html.escape(table(result))}</pre>",
        "<h2>Evidence recall@k</h2>",
        _recall_svg(result),
        *_matrix_html(result),
        "<h2>Search latency</h2>",
        _histogram_svg(result.latency_ms),
        "<h2>Settings</h2>",
        f"<pre>{html.escape(json.dumps(redact(result.settings), indent=1))}</pre>",
    ]
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{background:#f6f6f6;padding:1em}"
    head = f"<meta charset='utf-8'><title>memlane eval</title><style>{style}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(body)}</body></html>"


def _matrix_html(result: EvalResult) -> list[str]:
    """Recall@10 and p95 latency per number of distractors (the table is in the summary)."""
    if not matrix_table(result):
        return []
    rows = " ".join(
        f"<li>{row['distractors']:,} distractors: R@10 {row['recall'].get(10, 0.0):.3f}, "
        f"p95 {row['search_ms']['p95']:.1f} ms</li>"
        for row in result.matrix
    )
    return ["<h2>Load matrix</h2>", f"<ul>{rows}</ul>"]


def _recall_svg(result: EvalResult, width: int = 560, height: int = 320) -> str:
    left, bottom, top, right = 50, 40, 20, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    x = {k: left + plot_w * i / (len(KS) - 1) for i, k in enumerate(KS)}

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"]
    parts.append(f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#999'/>")
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f"<text x='{left - 8}' y='{y(tick) + 4:.0f}' font-size='11' text-anchor='end'>{tick:.2f}</text>"
        )
    for k, px in x.items():
        parts.append(
            f"<text x='{px:.0f}' y='{height - bottom + 16}' font-size='11' text-anchor='middle'>k={k}</text>"
        )
    for index, name in enumerate(n for n in _ROWS if n in result.recall):
        colour = _COLOURS[index % len(_COLOURS)]
        points = " ".join(f"{x[k]:.1f},{y(result.recall[name][k]):.1f}" for k in KS)
        parts.append(f"<polyline points='{points}' fill='none' stroke='{colour}' stroke-width='2'/>")
        label_y = top + 16 * (index + 1)
        parts.append(
            f"<text x='{width - right + 10}' y='{label_y}' font-size='12' fill='{colour}'>{name}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _histogram_svg(values: list[float], width: int = 560, height: int = 220, bins: int = 30) -> str:
    if not values:
        return "<p>no searches</p>"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max(counts)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"]
    for i, c in enumerate(counts):
        bar_h = plot_h * c / peak
        parts.append(
            f"<rect x='{left + plot_w * i / bins:.1f}' y='{top + plot_h - bar_h:.1f}' "
            f"width='{plot_w / bins - 1:.1f}' height='{bar_h:.1f}' fill='#1f77b4'/>"
        )
    parts.append(f"<text x='{left}' y='{height - 8}' font-size='11'>{low:.1f} ms</text>")
    parts.append(
        f"<text x='{width - 10}' y='{height - 8}' font-size='11' text-anchor='end'>{high:.1f} ms</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
