"""Query expansion: one LLM call, cleaned answers, a typed error when the answer is garbage;
search over the phrasings, merged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from memlane import InvalidInputError, LLMError
from memlane.llm import FakeLLM
from memlane.memory.search.expand import expand_query, merge_phrasings
from memlane.models import Usage
from memlane.prompts.query_rewrite import MAX_QUERY_CHARS, QueryRewriteInput, build_messages
from tests.memory.search.test_rerank import build, hit, ranked

QUERY = "Where did Alice move last week and what does she do?"


def test_one_call_returns_the_variants() -> None:
    fake = FakeLLM([{"queries": ["Alice moved to", "Alice's job", "Alice works as"]}])
    assert expand_query(fake, QUERY) == ["Alice moved to", "Alice's job", "Alice works as"]
    (call,) = fake.calls
    assert call.response_model == "QueryRewrite"
    assert QUERY in call.text and "at most 3" in call.text


def test_duplicates_and_the_original_are_dropped_and_text_trimmed() -> None:
    answer = [
        "  Where did Alice move last week and what does she do  ",  # the original, again
        "where did alice move last week and what does she do?",
        "Alice   moved to\n",
        "alice moved to.",
        '"Alice works as"',
        "",
        "   ",
    ]
    fake = FakeLLM([{"queries": answer}])
    assert expand_query(fake, QUERY, variants=5) == ["Alice moved to", "Alice works as"]


def test_at_most_variants_are_returned() -> None:
    fake = FakeLLM([{"queries": [f"query {i}" for i in range(8)]}])
    assert expand_query(fake, QUERY, variants=2) == ["query 0", "query 1"]
    assert "at most 2" in fake.calls[0].text


def test_long_variants_are_cut_at_a_word() -> None:
    long = "Alice " + "moved to a new city " * 40
    (cut,) = expand_query(FakeLLM([{"queries": [long]}]), QUERY, variants=1)
    assert len(cut) <= MAX_QUERY_CHARS and long.startswith(cut) and not cut.endswith(" ")
    assert long[len(cut)] == " "


def test_an_empty_answer_is_no_variants() -> None:
    assert expand_query(FakeLLM([{"queries": []}]), QUERY) == []


def test_garbage_twice_raises_an_llm_error() -> None:
    fake = FakeLLM(["Here are some queries: Alice, Bangalore", "still not JSON"])
    usage = Usage()
    with pytest.raises(LLMError):
        expand_query(fake, QUERY, usage=usage)
    assert [c.repair for c in fake.calls] == [False, True]
    assert usage.calls == 2


def test_one_bad_answer_is_repaired_and_usage_added_up() -> None:
    fake = FakeLLM([{"queries": [1, 2]}, {"queries": ["Alice moved to"]}])
    usage = Usage()
    assert expand_query(fake, QUERY, usage=usage) == ["Alice moved to"]
    assert usage.calls == 2


def test_the_reference_date_reaches_the_prompt() -> None:
    fake = FakeLLM([{"queries": ["Alice moved between 2026-04-27 and 2026-05-03"]}])
    expand_query(fake, QUERY, reference_date="2026-05-04")
    assert "Reference date (today): 2026-05-04" in fake.calls[0].text
    without = build_messages(QueryRewriteInput(query=QUERY))
    assert "Reference date" not in without[1]["content"]
    assert "json" in without[0]["content"].lower()


def test_zero_variants_make_no_call() -> None:
    fake = FakeLLM()
    assert expand_query(fake, QUERY, variants=0) == []
    assert fake.calls == []


@pytest.mark.parametrize(
    ("query", "variants"), [("", 3), ("   ", 3), (QUERY, -1), (QUERY, 11), (QUERY, True)]
)
def test_bad_arguments_are_invalid_input(query: str, variants: int) -> None:
    with pytest.raises(InvalidInputError):
        expand_query(FakeLLM(), query, variants=variants)


def test_phrasings_from_the_llm_find_what_the_query_misses(db_dir: Path) -> None:
    llm = FakeLLM([{"queries": ["what is the name of the cat", "pet name"]}])
    memory = build(
        db_dir / "p.db", llm, search={"expand_queries": 2, "keyword_weight": 1.0, "dense_weight": 0.0}
    )
    try:
        results = ranked(memory, "kitten name?")
        top = results[0]
        assert top["memory"] == "my cat is called Tom"
        assert top["score_details"]["phrasing"] == 1.0  # found by the first variant
        assert len(llm.calls) == 1 and "kitten name?" in llm.calls[0].text
        assert memory.llm_usage.calls == 1
    finally:
        memory.close()


def test_a_failed_expansion_searches_the_query_alone(db_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    llm = FakeLLM(["garbage", "garbage", "garbage"])
    memory = build(db_dir / "e.db", llm, search={"expand_queries": 3})
    try:
        with caplog.at_level(logging.WARNING, logger="memlane"):
            results = ranked(memory, "green tea")
        assert results[0]["memory"] == "I like green tea in the morning"
        assert all(r["score_details"].get("phrasing", 0.0) == 0.0 for r in results)
        assert "query expansion failed" in caplog.text
    finally:
        memory.close()


def test_merge_keeps_each_memory_s_best_phrasing() -> None:
    merged = merge_phrasings([[hit("a", 0.9), hit("b", 0.5)], [hit("b", 0.95), hit("c", 0.2)]], top_k=2)
    assert [(h.record.id, h.score, h.details["phrasing"]) for h in merged] == [
        ("b", 0.95, 1.0),
        ("a", 0.9, 0.0),
    ]
