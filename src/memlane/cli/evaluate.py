"""``memlane eval``: benchmarks a user runs on their own machine, each in a scratch store."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from memlane import Memory
from memlane.cli._app import CliContext
from memlane.cli._options import pass_cli_context
from memlane.eval import evaluate_locomo, ingest_cache, load_locomo, provenance, table, write_reports

__all__ = ["COMMANDS", "eval_group", "eval_locomo"]


@click.group("eval")
def eval_group() -> None:
    """Benchmarks you can run on your own machine."""


@eval_group.command("locomo")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False),
              help="A LoCoMo JSON file (e.g. locomo10.json).")  # fmt: skip
@click.option("--out", "out", default="locomo-report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for results.json and report.html.")  # fmt: skip
@click.option("--conversations", "limit", type=click.IntRange(min=1), help="Only the first N conversations.")
@click.option("--db", "store", type=click.Path(dir_okay=False),
              help="Keep the evaluated store in this SQLite file (its LoCoMo scopes are cleared first). "
              "Default: a fresh store in a temporary folder, removed afterwards.")  # fmt: skip
@click.option("--store-url", "store_url", metavar="URL",
              help="Evaluate in this PostgreSQL database instead (postgresql://...; tenant 'eval', "
              "its LoCoMo scopes cleared first; needs memlane[postgres]). Not with --db.")  # fmt: skip
@click.option("--distractors", "distractors", multiple=True, metavar="N[,N...]",
              help="Load matrix: ask the questions again with N extra memories in each conversation's "
              "scope (other conversations' turns and synthetic ones, deterministic). Repeat it or give "
              "a comma list, e.g. 0,1000,10000,100000.")  # fmt: skip
@click.option("--seed", "seed", default=0, show_default=True, type=int,
              help="Seed of the distractors: the same seed gives the same memories.")  # fmt: skip
@click.option("--context-budget", "budgets", multiple=True, type=click.IntRange(min=1), metavar="N",
              help="Also pack each question's context with get_context(max_tokens=N) and report the "
              "share of the evidence it cites, and its tokens. Repeat for several budgets.")  # fmt: skip
@click.option("--reuse-ingest", "reuse", is_flag=True,
              help="Keep the ingested store in a cache ($MEMLANE_EVAL_CACHE, else memlane-eval-cache in the "
              "temporary folder) keyed "
              "by the data, the conversations, memlane's version and the config less its search settings, "
              "and start from it when the key matches: the second run skips the ingest. Not with --db "
              "or --store-url.")  # fmt: skip
@click.option("--recency-weight", "recency", type=click.FloatRange(0, 1),
              help="Rank with recency (search.recency_weight, off by default): a memory observed d days "
              "before the question's reference date gets W * 0.5 ** (d / half-life) more.")  # fmt: skip
@click.option("--recency-half-life", "half_life", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
              help="search.recency_half_life_days (default 30).")  # fmt: skip
@pass_cli_context
def eval_locomo(
    context: CliContext,
    data: str,
    out: str,
    limit: int | None,
    store: str | None,
    store_url: str | None,
    distractors: tuple[str, ...],
    seed: int,
    budgets: tuple[int, ...],
    reuse: bool,
    recency: float | None,
    half_life: float | None,
) -> None:
    """Evidence recall@k of search on LoCoMo (turns stored verbatim; categories 1-4).

    Runs in a fresh database in a temporary folder unless this command's own --db is given;
    the global --db and $MEMLANE_DB are never used. --config still chooses the embedder and
    search settings.

    With --distractors, recall@k and search latency are reported per number of distractors.
    They are added 100 per call with the configured embedder, which is the slow part: with
    the local model, 100,000 distractors x 5 conversations (500,000 memories) take about 20
    minutes at 450 short memories/s (an idle 2-core machine) and hours on a busy one. For a
    quick matrix use --conversations 1 and the hash embedder (memlane --embedder hash eval
    locomo ...): 100,000 distractors in about a minute.
    """
    if store and store_url:
        raise click.UsageError("give --db (a SQLite file) or --store-url (PostgreSQL), not both")
    if reuse and (store or store_url):
        raise click.UsageError("--reuse-ingest runs in a scratch SQLite store: drop --db / --store-url")
    levels = _levels(distractors)
    loaded = load_locomo(data)
    conversations = loaded[:limit]
    with tempfile.TemporaryDirectory(prefix="memlane-eval-") as scratch:
        search = {"recency_weight": recency, "recency_half_life_days": half_life}
        search = {k: v for k, v in search.items() if v is not None}
        path = store or str(Path(scratch) / "eval.db")
        memory: Memory = context.scratch_memory(path, search, store_url)
        cache = ingest_cache(data, conversations, memory.config) if reuse else None
        hit = False
        if cache is not None and cache.exists():  # a cached ingest: start from a copy of it
            memory.close()
            hit = cache.restore(path)
            memory = context.scratch_memory(path, search, store_url)
        try:
            result = evaluate_locomo(
                memory, conversations, data_file=data, distractors=levels, seed=seed, pool=loaded,
                context_budgets=sorted(set(budgets)), ingested=hit,
                after_ingest=None if cache is None or hit else lambda: cache.save(path),
            )  # fmt: skip
        finally:
            memory.close()
    paths = write_reports(result, out)
    if context.json:
        click.echo(paths["json"].read_text(encoding="utf-8"))
        return
    click.echo(provenance(result))
    click.echo(table(result))
    click.echo(f"\nwrote {paths['json']} and {paths['html']}")


def _levels(values: tuple[str, ...]) -> list[int]:
    """The numbers of ``--distractors`` (each a number or a comma list); 0 alone without any."""
    levels: list[int] = []
    for value in values:
        for part in filter(str.strip, value.split(",")):
            text = part.strip().replace("_", "")
            if not text.isdigit():
                raise click.BadParameter(
                    f"{part.strip()!r} is not a number of distractors (0 or more, e.g. 0,1000,10000)",
                    param_hint="'--distractors'",
                )
            levels.append(int(text))
    return sorted(set(levels)) or [0]


COMMANDS: tuple[click.Command, ...] = (eval_group,)
"""The commands this module adds to the ``memlane`` group."""
