"""search(rerank=True) through a configured reranker."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from memlane import Memory, SearchItem
from memlane.llm import FakeLLM
from memlane.memory.search.rerank import rerank_hits
from memlane.models import Hit, MemoryRecord, Scope
from tests.conftest import hash_config

TEXTS = ["I like green tea in the morning", "my cat is called Tom", "I work as a data engineer"]


def build(path: Path, llm: FakeLLM, **config: Any) -> Memory:
    memory = Memory({**hash_config(path), **config}, llm=llm)
    for text in TEXTS:
        memory.add(text, user_id="alice", infer=False)
    return memory


def ranked(memory: Memory, query: str, **kwargs: Any) -> list[SearchItem]:
    results: list[SearchItem] = memory.search(query, user_id="alice", explain=True, **kwargs)["results"]
    return results


def scores_for(results: Sequence[Mapping[str, Any]], best: str) -> dict[str, list[dict[str, int]]]:
    """An LLM reranker answer that puts ``best`` first and scores the others 1."""
    return {"scores": [{"id": i, "score": 9 if r["memory"] == best else 1} for i, r in enumerate(results, 1)]}


RERANK = {"reranker": {"provider": "llm_reranker", "config": {}}}


def test_rerank_reorders_by_the_reranker(db_dir: Path) -> None:
    llm = FakeLLM()
    memory = build(db_dir / "r.db", llm, **RERANK)
    try:
        fused = ranked(memory, "green tea")
        assert fused[0]["memory"] == "I like green tea in the morning"
        llm.add(scores_for(fused, "my cat is called Tom"))
        results = ranked(memory, "green tea", rerank=True, top_k=2)
        assert results[0]["memory"] == "my cat is called Tom"
        assert len(results) == 2
        assert results[0]["rerank_score"] == results[0]["score_details"]["rerank_score"] == 0.9
        assert results[1]["rerank_score"] == 0.1
        assert "Query: green tea" in llm.calls[-1].text
        # rerank=False (the default) never calls the reranker
        calls = len(llm.calls)
        assert "rerank_score" not in ranked(memory, "green tea")[0]
        assert len(llm.calls) == calls
    finally:
        memory.close()


def test_a_failing_reranker_keeps_the_fused_order(db_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    llm = FakeLLM()
    memory = build(db_dir / "f.db", llm, **RERANK)
    try:
        fused = [r["memory"] for r in ranked(memory, "green tea")]
        llm.add("not json at all", "still not json", "nope")
        with caplog.at_level(logging.WARNING, logger="memlane"):
            results = ranked(memory, "green tea", rerank=True)
        assert [r["memory"] for r in results] == fused
        assert all("rerank_score" not in r for r in results)
        assert "reranking failed" in caplog.text
    finally:
        memory.close()


def test_rerank_without_a_reranker_is_the_fused_order(db_dir: Path) -> None:
    memory = build(db_dir / "n.db", FakeLLM())
    try:
        assert ranked(memory, "green tea", rerank=True) == ranked(memory, "green tea")
    finally:
        memory.close()


def hit(mid: str, score: float) -> Hit:
    record = MemoryRecord(
        id=mid,
        text=mid,
        scope=Scope(user_id="u"),
        created_at="2026-01-01T00:00:00+00:00",
        updated_at="2026-01-01T00:00:00+00:00",
    )
    return Hit(record, score, {"final_score": score})


class _Reversed:
    """A reranker that prefers the worst fused hit (a weak model)."""

    def rerank(self, query: str, documents: Sequence[str]) -> list[float]:
        return [float(i) for i in range(len(documents))]


def test_rerank_weight_blends_the_fused_score_back_in() -> None:
    hits = [hit("a", 1.0), hit("b", 0.9), hit("c", 0.1)]
    assert [h.record.id for h in rerank_hits(_Reversed(), "q", hits, 3)] == ["c", "b", "a"]
    # half and half: a = 0.5*0 + 0.5*1.0, b = 0.5*0.5 + 0.45, c = 0.5*1 + 0.05
    blended = rerank_hits(_Reversed(), "q", hits, 3, weight=0.5)
    assert [h.record.id for h in blended] == ["b", "c", "a"]
    assert [h.record.id for h in rerank_hits(_Reversed(), "q", hits, 2, weight=0.0)] == ["a", "b"]
