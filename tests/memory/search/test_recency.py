"""Recency in ranking: off by default; with a weight, newer memories rank above older ones of
equal relevance, the signal halves every half-life before the reference date, and explain
shows it as its own part of the score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memlane import ConfigError, Memory
from memlane.config import MemoryConfig
from tests.conftest import hash_config


def filled(tmp_path: Path, **search: Any) -> Memory:
    memory = Memory({**hash_config(tmp_path / "r.db"), "search": search})
    memory.add("We talked about the trip to Rome", user_id="u", timestamp="2024-01-01")
    memory.add("We talked about the trip to Rome", user_id="u", timestamp="2024-03-01")
    return memory


def dates(memory: Memory, results: list[Any]) -> list[str]:
    out = []
    for r in results:
        record = memory.store.get(r["id"])
        assert record is not None and record.valid_from is not None
        out.append(record.valid_from[:10])
    return out


def test_recency_is_off_by_default(tmp_path: Path) -> None:
    assert MemoryConfig().search.recency_weight == 0.0
    memory = filled(tmp_path)
    try:
        found = memory.search("trip to Rome", user_id="u", explain=True, reference_date="2024-03-01")
    finally:
        memory.close()
    for r in found["results"]:
        assert r["score_details"]["recency_score"] == 0.0 and r["score_details"]["recency_boost"] == 0.0


def test_the_newer_of_two_equal_memories_ranks_first_and_explain_shows_the_part(tmp_path: Path) -> None:
    memory = filled(tmp_path, recency_weight=0.2, recency_half_life_days=30)
    try:
        found = memory.search("trip to Rome", user_id="u", explain=True, reference_date="2024-03-01")[
            "results"
        ]
        assert dates(memory, found) == ["2024-03-01", "2024-01-01"]
        new, old = (r["score_details"] for r in found)
        assert new["recency_score"] == pytest.approx(1.0)
        assert old["recency_score"] == pytest.approx(0.5 ** (60 / 30))  # 60 days: two half-lives
        assert new["recency_boost"] == pytest.approx(0.2) and old["recency_boost"] == pytest.approx(0.05)
        for details in (new, old):
            assert details["max_possible_score"] == pytest.approx(1 + 0.35 * 2 + 0.2)
            assert details["final_score"] == pytest.approx(
                details["raw_score"] / details["max_possible_score"]
            )
            assert 0.0 <= details["final_score"] <= 1.0
        # counted from the reference date, not the clock: from mid-February the March memory is "later"
        earlier = memory.search("trip to Rome", user_id="u", explain=True, reference_date="2024-01-31")
        scores = [r["score_details"]["recency_score"] for r in earlier["results"]]
        assert sorted(scores, reverse=True) == pytest.approx([1.0, 0.5])
    finally:
        memory.close()


def test_recency_does_not_outweigh_a_clearly_better_match(tmp_path: Path) -> None:
    memory = Memory({**hash_config(tmp_path / "w.db"), "search": {"recency_weight": 0.1}})
    try:
        memory.add("The trip to Rome was in May", user_id="u", timestamp="2023-01-01")
        memory.add("Bought new shoes", user_id="u", timestamp="2024-03-01")
        found = memory.search("trip to Rome in May", user_id="u", reference_date="2024-03-01")
        assert found["results"][0]["memory"] == "The trip to Rome was in May"
    finally:
        memory.close()


@pytest.mark.parametrize(
    "bad", [{"recency_weight": -0.1}, {"recency_weight": 1.5}, {"recency_half_life_days": 0}]
)
def test_bad_recency_settings_fail_at_load(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        MemoryConfig.load({"search": bad})
