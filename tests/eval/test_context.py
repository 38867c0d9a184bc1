"""Evidence recall inside get_context's block: per budget, the cited evidence share and tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memlane import InvalidInputError, Memory
from memlane.eval import evaluate_locomo, load_locomo
from memlane.eval.context import context_recall
from memlane.eval.locomo import CATEGORIES
from memlane.eval.report import table
from tests.conftest import hash_config
from tests.eval.test_locomo import sample


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(sample()), encoding="utf-8")
    return path


def test_recall_inside_the_context_grows_with_the_budget(tmp_path: Path, data_file: Path) -> None:
    with Memory(hash_config(tmp_path / "e.db")) as memory:
        result = evaluate_locomo(memory, load_locomo(data_file), context_budgets=[8, 40, 1000])
    small, middle, large = (result.context[n] for n in (8, 40, 1000))
    assert small["recall"]["overall"] == 0.0 and small["tokens"] <= 8  # not even one line fits
    assert 0.0 < middle["recall"]["overall"] < 1.0 and middle["tokens_max"] <= 40
    assert large["recall"]["overall"] == 1.0 and large["citations"] == 5.0  # all five turns
    assert large["tokenizer"] == "wordpiece:all-MiniLM-L6-v2"
    assert set(large["recall"]) == {"overall", "multi-hop", "temporal", "single-hop"}
    assert "evidence recall inside get_context" in table(result)
    assert result.to_dict()["context"][1000]["recall"]["overall"] == 1.0


def test_a_bad_budget_is_refused(tmp_path: Path, data_file: Path) -> None:
    with Memory(hash_config(tmp_path / "e.db")) as memory, pytest.raises(InvalidInputError, match="budgets"):
        context_recall(memory, load_locomo(data_file), [0], CATEGORIES, lambda *_: None)
