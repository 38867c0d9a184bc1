"""The LLM reranker: one call scores every document; skipped ones score 0; garbage raises."""

from __future__ import annotations

import logging

import pytest

from memlane import ConfigError, RerankError
from memlane.llm import FakeCall, FakeLLM
from memlane.prompts import rerank as prompt
from memlane.rerank import LLMReranker, LLMRerankerConfig, Reranker, build_reranker

DOCS = ["Moved to Bangalore in February 2026", "Has a cat named Miso", "Is allergic to peanuts"]


def scores(*pairs: tuple[int, float]) -> dict[str, list[dict[str, float]]]:
    return {"scores": [{"id": n, "score": s} for n, s in pairs]}


def test_scores_come_back_in_document_order_in_0_1() -> None:
    fake = FakeLLM([scores((3, 2), (1, 10), (2, 5.5))])
    reranker = LLMReranker(fake)
    assert isinstance(reranker, Reranker)
    assert reranker.rerank("where does the user live?", DOCS) == [1.0, 0.55, 0.2]
    (call,) = fake.calls
    assert call.response_model == "RerankScores"
    assert "Query: where does the user live?" in call.text
    assert "1: Moved to Bangalore in February 2026" in call.text
    assert "3: Is allergic to peanuts" in call.text
    assert reranker.usage.calls == 1


def test_no_documents_make_no_call() -> None:
    fake = FakeLLM()
    assert LLMReranker(fake).rerank("anything", []) == []
    assert fake.calls == []


def test_missing_ids_score_zero_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeLLM([scores((2, 8))])
    with caplog.at_level(logging.WARNING, logger="memlane"):
        assert LLMReranker(fake).rerank("pets", DOCS) == [0.0, 0.8, 0.0]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "2 of 3" in warned and "1, 3" in warned


def test_unknown_and_repeated_ids_are_ignored_and_scores_clamped() -> None:
    items: list[dict[str, object]] = [{"id": 1, "score": 14}, {"id": 1, "score": 0}, {"id": 9, "score": 9}]
    items += [{"id": "2", "score": "-3"}, {"id": 3, "score": 4}]
    answer = {"scores": items}
    assert LLMReranker(FakeLLM([answer])).rerank("q", DOCS) == [1.0, 0.0, 0.4]


def test_an_answer_that_scores_nothing_is_an_error() -> None:
    with pytest.raises(RerankError, match="none of the 3 documents"):
        LLMReranker(FakeLLM([{"scores": []}])).rerank("q", DOCS)
    with pytest.raises(RerankError, match="none of the 3 documents"):
        LLMReranker(FakeLLM([scores((7, 9))])).rerank("q", DOCS)


def test_garbage_twice_is_a_rerank_error_never_an_empty_list() -> None:
    fake = FakeLLM(["I think the first one is best.", "Still no JSON, sorry."])
    reranker = LLMReranker(fake)
    with pytest.raises(RerankError, match="no usable scores") as info:
        reranker.rerank("q", DOCS)
    assert info.value.__cause__ is not None
    assert [c.repair for c in fake.calls] == [False, True]
    assert reranker.usage.calls == 2  # failed calls are counted too


def test_one_bad_answer_is_repaired() -> None:
    fake = FakeLLM(['{"scores": [{"id": 1, "score": "high"}]}', scores((1, 3), (2, 6), (3, 9))])
    assert LLMReranker(fake).rerank("q", DOCS) == [0.3, 0.6, 0.9]
    assert [c.repair for c in fake.calls] == [False, True]


def test_an_llm_failure_is_a_rerank_error() -> None:
    with pytest.raises(RerankError):
        LLMReranker(FakeLLM()).rerank("q", DOCS)  # an empty script fails like a dead server


def test_long_documents_are_cut_in_the_prompt() -> None:
    fake = FakeLLM([scores((1, 5))])
    config = LLMRerankerConfig(max_document_chars=40)
    LLMReranker(fake, config).rerank("q", ["word " * 100])
    line = next(x for x in fake.calls[0].text.splitlines() if x.startswith("1: "))
    assert len(line) <= len("1: ") + 40 and line.endswith("…")


def test_more_documents_than_one_call_takes_are_scored_in_batches() -> None:
    count = prompt.MAX_DOCUMENTS + 5

    def all_fives(call: FakeCall) -> dict[str, list[dict[str, float]]]:
        numbers = [int(x.split(":", 1)[0]) for x in call.text.splitlines() if x[:1].isdigit()]
        return scores(*((n, 5) for n in numbers))

    fake = FakeLLM([all_fives, all_fives])
    assert LLMReranker(fake).rerank("q", [f"doc {i}" for i in range(count)]) == [0.5] * count
    assert len(fake.calls) == 2


def test_build_uses_the_memory_llm_by_default() -> None:
    memory_llm = FakeLLM([scores((1, 1), (2, 2), (3, 3))])
    reranker = build_reranker("llm_reranker", {}, llm=memory_llm)
    assert isinstance(reranker, LLMReranker) and reranker.llm is memory_llm
    assert reranker.rerank("q", DOCS) == [0.1, 0.2, 0.3]


def test_build_prefers_the_nested_llm() -> None:
    nested = {"provider": "fake", "config": {"responses": [scores((1, 7), (2, 7), (3, 7))]}}
    memory_llm = FakeLLM()
    reranker = build_reranker("llm_reranker", {"llm": nested}, llm=memory_llm)
    assert isinstance(reranker, LLMReranker) and reranker.llm is not memory_llm
    assert reranker.rerank("q", DOCS) == [0.7, 0.7, 0.7]
    assert memory_llm.calls == []


def test_build_without_any_llm_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs an LLM"):
        build_reranker("llm_reranker", {})


def test_the_prompt_asks_for_every_number_once() -> None:
    messages = prompt.build_messages(prompt.RerankInput(query="q", documents=["a", "b"]))
    assert messages[0]["role"] == "system" and "json" in messages[0]["content"].lower()
    assert messages[1]["content"].endswith("Memories:\n1: a\n2: b")


def test_the_schema_is_bounded_to_the_documents_but_validation_is_not() -> None:
    """A grammar-constrained server (llama.cpp) cannot number past the documents: gemma-3-270m
    ran on to max_tokens without the bounds (45 s and no answer) and answers in 4 s with them."""
    schema = prompt.scores_for(3).model_json_schema()
    listed = schema["properties"]["scores"]
    assert (listed["minItems"], listed["maxItems"]) == (3, 3)
    item = next(iter(schema["$defs"].values()))["properties"]
    assert (item["id"]["minimum"], item["id"]["maximum"]) == (1, 3)
    assert (item["score"]["minimum"], item["score"]["maximum"]) == (0, 10)
    lenient = prompt.scores_for(3).model_validate({"scores": [{"id": 9, "score": 14}]})
    assert lenient.scores[0].id == 9  # ignored later, not a reason to reject the answer
    fake = FakeLLM([scores((1, 5), (2, 5), (3, 5))])
    LLMReranker(fake).rerank("q", DOCS)
    assert fake.calls[0].response_model == "RerankScores"
