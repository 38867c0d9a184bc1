"""``memlane eval locomo``: reports, provenance, secrets, a scratch store, bad data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memlane import Memory, __version__
from memlane.cli import cli
from tests.cli._support import SECRET, Run, opened
from tests.eval.test_locomo import sample


def locomo_file(tmp_path: Path, sample_id: str = "conv-x", name: str = "locomo.json") -> Path:
    data = sample()
    data[0]["sample_id"] = sample_id
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_eval_locomo_writes_reports(run: Run, tmp_path: Path) -> None:
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps(sample()), encoding="utf-8")
    out = tmp_path / "report"
    result = run("eval", "locomo", "--data", str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "R@10" in result.stdout and "single-hop" in result.stdout
    assert (out / "report.html").exists()
    assert json.loads((out / "results.json").read_text())["questions"]["overall"] == 3


def test_eval_report_hides_secrets_and_records_provenance(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    llm = {"model": "m", "api_key": SECRET, "base_url": f"http://ann:{SECRET}@localhost:9/v1"}
    config.write_text(
        json.dumps({"embedder": {"provider": "hash"}, "llm": {"provider": "openai", "config": llm}}),
        encoding="utf-8",
    )
    data = locomo_file(tmp_path)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "eval", "locomo", "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("results.json", "report.html"):
        assert SECRET not in (out / name).read_text(encoding="utf-8"), name
    assert SECRET not in result.output
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert report["settings"]["config"]["llm"]["config"]["api_key"] == "***"
    assert report["settings"]["config"]["llm"]["config"]["model"] == "m"
    assert report["memlane_version"] == __version__
    assert report["started_at"][:4].isdigit()
    assert report["data"] == {
        "path": str(data.resolve()),
        "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
    }
    page = (out / "report.html").read_text(encoding="utf-8")
    assert __version__ in page and report["data"]["sha256"] in page


def test_eval_never_touches_the_global_store(tmp_path: Path) -> None:
    users = tmp_path / "mine.db"
    with opened(users) as memory:
        kept = memory.add("my own note about conv-26", user_id="conv-26", infer=False)["results"][0]["id"]
    before = users.read_bytes()
    data = locomo_file(tmp_path, "conv-26")
    runner = CliRunner(env={"MEMLANE_DB": str(users)})
    for extra in ([], ["--db", str(users)]):  # $MEMLANE_DB, and the global --db
        args = [
            *extra,
            "--embedder",
            "hash",
            "eval",
            "locomo",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "o"),
        ]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert users.read_bytes() == before
    with opened(users) as memory:
        items = memory.get_all(user_id="conv-26")["results"]
        assert [i["id"] for i in items] == [kept] and items[0]["memory"] == "my own note about conv-26"


def test_eval_keeps_its_store_only_when_eval_is_given_one(tmp_path: Path) -> None:
    data = locomo_file(tmp_path)
    store = tmp_path / "eval-store.db"
    args = ["--embedder", "hash", "eval", "locomo", "--data", str(data), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, [*args, "--db", str(store)])
    assert result.exit_code == 0, result.output
    with opened(store) as memory:
        assert len(memory.get_all(user_id="conv-x")["results"]) == 5


@pytest.mark.parametrize("count", ["-4", "0"])
def test_eval_rejects_a_non_positive_conversation_count(run: Run, tmp_path: Path, count: str) -> None:
    data = str(locomo_file(tmp_path))
    result = run("eval", "locomo", "--data", data, "--conversations", count, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "--conversations" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", "holds no conversations"),
        (b'{"a": 1}', "expected a JSON list of LoCoMo samples"),
        (b'[{"x": 1}]', "missing 'sample_id'"),
        (b'[{"sample_id": "c", "conversation": {}, "qa": []}]', "no session_<n> lists"),
        (b"not json", "not JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_eval_on_data_that_is_not_locomo_is_one_line(
    run: Run, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(content)
    out = tmp_path / "o"
    result = run("eval", "locomo", "--data", str(path), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not out.exists()


def test_eval_on_a_missing_file_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("eval", "locomo", "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read the LoCoMo file") and result.stderr.count("\n") == 1


def test_eval_load_matrix_has_a_row_per_number_of_distractors(run: Run, tmp_path: Path) -> None:
    data = str(locomo_file(tmp_path))
    out = tmp_path / "o"
    args = ["eval", "locomo", "--data", data, "--out", str(out), "--conversations", "1"]
    result = run(*args, "--distractors", "0,40", "--distractors", "150", "--seed", "4")
    assert result.exit_code == 0, result.output
    assert "load matrix" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert [row[:2] for row in rows] == [["0", "5"], ["40", "45"], ["150", "155"]]
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [row["distractors"] for row in report["matrix"]] == [0, 40, 150]
    assert report["settings"]["seed"] == 4 and report["settings"]["distractors"] == [0, 40, 150]
    assert "Load matrix" in (out / "report.html").read_text(encoding="utf-8")


def test_eval_same_seed_same_store(tmp_path: Path) -> None:
    data = str(locomo_file(tmp_path))
    texts = []
    for name in ("a.db", "b.db"):
        args = ["--embedder", "hash", "eval", "locomo", "--data", data, "--out", str(tmp_path / "o")]
        result = CliRunner().invoke(cli, [*args, "--distractors", "120", "--db", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        with opened(tmp_path / name) as memory:
            items = memory.get_all(user_id="conv-x", limit=500)["results"]
            tagged = [(i["memory"], (i["metadata"] or {}).get("distractor")) for i in items]
            texts.append(sorted((text, origin) for text, origin in tagged if origin))
    assert len(texts[0]) == 120 and texts[0] == texts[1]


@pytest.mark.parametrize("value", ["x", "-5", "1000,ten"])
def test_eval_rejects_a_bad_number_of_distractors(run: Run, tmp_path: Path, value: str) -> None:
    data = str(locomo_file(tmp_path))
    result = run("eval", "locomo", "--data", data, "--distractors", value, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "--distractors" in result.stderr
    assert not (tmp_path / "o").exists()


def test_cli_context_budget_and_recency(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = [
        "eval",
        "locomo",
        "--data",
        str(locomo_file(tmp_path)),
        "--out",
        str(out),
        "--context-budget",
        "1000",
    ]
    result = run(*args, "--context-budget", "40", "--recency-weight", "0.2", "--recency-half-life", "10")
    assert result.exit_code == 0, result.output
    assert "evidence recall inside get_context" in result.stdout
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert sorted(report["context"]) == ["1000", "40"]
    assert report["settings"]["context_budgets"] == [40, 1000]
    search = report["settings"]["config"]["search"]
    assert search["recency_weight"] == 0.2 and search["recency_half_life_days"] == 10.0


@pytest.mark.integration
def test_eval_runs_in_a_postgres_database_with_store_url(tmp_path: Path, postgres_url: str) -> None:
    data = locomo_file(tmp_path)
    args = ["--embedder", "hash", "eval", "locomo", "--data", str(data), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, [*args, "--store-url", postgres_url])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "results.json").read_text())["questions"]["overall"] == 3
    config = {"vector_store": {"provider": "postgres", "config": {"url": postgres_url, "tenant": "eval"}}}
    memory = Memory.from_config({**config, "embedder": {"provider": "hash"}})
    try:
        assert len(memory.get_all(user_id="conv-x")["results"]) == 5
    finally:
        memory.close()


def test_eval_takes_db_or_store_url_not_both(tmp_path: Path) -> None:
    data = locomo_file(tmp_path)
    args = ["--embedder", "hash", "eval", "locomo", "--data", str(data), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(
        cli, [*args, "--db", str(tmp_path / "x.db"), "--store-url", "postgresql://x/y"]
    )
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "x.db").exists()


def test_reuse_ingest_starts_the_second_run_from_the_cached_store(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMLANE_EVAL_CACHE", str(tmp_path / "cache"))
    data = str(locomo_file(tmp_path))
    reports = []
    for name in ("first", "second"):
        result = run("eval", "locomo", "--data", data, "--reuse-ingest", "--context-budget", "40",
                     "--out", str(tmp_path / name))  # fmt: skip
        assert result.exit_code == 0, result.output
        reports.append(json.loads((tmp_path / name / "results.json").read_text(encoding="utf-8")))
    assert "reused from the cache" in result.stdout
    assert len(list((tmp_path / "cache").glob("locomo-*.db"))) == 1
    first, second = reports
    assert first["settings"]["reused_ingest"] is False and second["settings"]["reused_ingest"] is True
    assert second["ingest_seconds"] == 0.0 and second["recall"] == first["recall"]
    assert second["context"] == first["context"]


def test_reuse_ingest_is_refused_with_a_chosen_store(run: Run, tmp_path: Path) -> None:
    data = str(locomo_file(tmp_path))
    result = run("eval", "locomo", "--data", data, "--reuse-ingest", "--db", str(tmp_path / "k.db"))
    assert result.exit_code == 2 and "--reuse-ingest" in result.stderr
