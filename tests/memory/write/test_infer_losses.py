"""Issue 11: facts the inferring add used to lose without a word (FakeLLM, hash embedder).

Real facts equal to the prompt's example texts, decisions without text, memories changed by a
concurrent write while the model reads them."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from memlane import LLMError, Memory
from memlane.filters import All
from memlane.llm.fake import FakeCall
from memlane.prompts import fact_extraction, memory_update
from tests.memory.write._support import make, op


def texts(memory: Memory, user_id: str = "u") -> set[str]:
    return {item["memory"] for item in memory.get_all(user_id=user_id)["results"]}


# -- item 7: a real fact equal to an example ---------------------------------------------------


@pytest.mark.parametrize(
    ("said", "fact"),
    [
        ("I'm allergic to peanuts!", memory_update.EXAMPLE_TEXTS[2]),
        ("We adopted a cat, we named her Miso", memory_update.EXAMPLE_TEXTS[0]),
        ("I've worked as a nurse at Lakeside Hospital since March 2024", memory_update.EXAMPLE_TEXTS[1]),
    ],
)
def test_a_real_fact_equal_to_an_example_is_stored(tmp_path: Path, said: str, fact: str) -> None:
    m, llm = make(tmp_path, {"memory": [op("ADD", fact)]})
    out = m.add(said, user_id="u")["results"]
    assert [r["memory"] for r in out] == [fact]
    assert len(llm.calls) == 1


@pytest.mark.parametrize(
    ("said", "fact"),
    [
        ("Book me a window seat, please", fact_extraction.EXAMPLE_TEXTS[1]),
        ("I'm training for a marathon in October", fact_extraction.EXAMPLE_TEXTS[0]),
    ],
)
def test_classic_real_fact_equal_to_an_example_is_stored(tmp_path: Path, said: str, fact: str) -> None:
    m, _ = make(tmp_path, {"facts": [fact]}, {"memory": [op("ADD", fact)]}, pipeline="classic")
    assert [r["memory"] for r in m.add(said, user_id="u")["results"]] == [fact]


def test_a_copy_with_a_name_the_user_never_said_is_dropped(tmp_path: Path) -> None:
    copy = memory_update.EXAMPLE_TEXTS[0]  # "Has a cat named Miso"
    m, _ = make(tmp_path, {"memory": [op("ADD", copy), op("ADD", "Has a cat named Tom")]})
    m.add("I have a cat named Tom", user_id="u")
    assert texts(m) == {"Has a cat named Tom"}


def test_a_copying_model_is_asked_once_more_without_the_example(tmp_path: Path) -> None:
    copies = {"memory": [op("ADD", t) for t in memory_update.EXAMPLE_TEXTS]}
    m, llm = make(tmp_path, copies, {"memory": [op("ADD", "Likes hiking")]})
    assert [r["memory"] for r in m.add("I like hiking", user_id="u")["results"]] == ["Likes hiking"]
    assert len(llm.calls) == 2
    assert "Lakeside" in llm.calls[0].text and "Lakeside" not in llm.calls[1].text


def test_classic_copying_model_is_asked_once_more_without_the_example(tmp_path: Path) -> None:
    copies = {"facts": list(fact_extraction.EXAMPLE_TEXTS)}
    m, llm = make(
        tmp_path,
        copies,
        {"facts": ["Likes hiking"]},
        {"memory": [op("ADD", "Likes hiking")]},
        pipeline="classic",
    )
    assert [r["memory"] for r in m.add("I like hiking", user_id="u")["results"]] == ["Likes hiking"]
    assert "window" in llm.calls[0].text and "window" not in llm.calls[1].text


def test_the_copy_warning_is_logged_once_per_add(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    copy = memory_update.EXAMPLE_TEXTS[0]
    m, _ = make(tmp_path, {"memory": [*([op("ADD", copy)] * 19), op("ADD", "Likes hiking")]})
    with caplog.at_level(logging.WARNING, logger="memlane"):
        m.add("I like hiking", user_id="u")
    assert len([r for r in caplog.records if "copied" in r.getMessage()]) == 1
    assert texts(m) == {"Likes hiking"}


# -- item 8: decisions with nothing in them ----------------------------------------------------


def test_classic_add_without_text_falls_back_to_the_fact(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    m, _ = make(
        tmp_path,
        {"facts": ["Likes jazz", "Plays the piano"]},
        {"memory": [{"event": "ADD", "id": "10000000"}, {"event": "ADD", "id": "10000001"}]},
        pipeline="classic",
    )
    with caplog.at_level(logging.WARNING, logger="memlane"):
        out = m.add("I like jazz and play the piano", user_id="u")["results"]
    assert {r["memory"] for r in out} == {"Likes jazz", "Plays the piano"}
    assert any("no decision covered 2" in r.getMessage() for r in caplog.records)


def test_classic_empty_decision_list_falls_back_to_the_facts(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"facts": ["Likes jazz"]}, {"memory": []}, pipeline="classic")
    assert [r["memory"] for r in m.add("I like jazz", user_id="u")["results"]] == ["Likes jazz"]


def test_classic_covered_facts_are_not_added_twice(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        {"facts": ["Likes jazz"]},
        {"memory": [op("ADD", "Likes jazz")]},
        {"facts": ["Loves jazz a lot"]},
        {"memory": [op("UPDATE", "Loves jazz, a lot", "0")]},
        {"facts": ["Likes jazz"]},
        {"memory": [op("NONE", "", "0")]},
        pipeline="classic",
    )
    m.add("I like jazz", user_id="u")
    assert [r["event"] for r in m.add("I love jazz a lot", user_id="u")["results"]] == ["UPDATE"]
    assert m.add("jazz!", user_id="u")["results"] == []
    assert texts(m) == {"Loves jazz, a lot"}


def test_single_answer_made_of_empty_adds_is_an_error_not_an_empty_result(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": [{"event": "ADD", "id": "10000000"}]})
    with pytest.raises(LLMError, match="without text"):
        m.add("I like jazz", user_id="u")
    assert m.store.count(All()) == 0 and m.store.pending_count() == 1


def test_single_empty_add_beside_real_facts_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    m, _ = make(tmp_path, {"memory": [op("ADD"), op("ADD", "Likes jazz")]})
    with caplog.at_level(logging.WARNING, logger="memlane"):
        assert [r["memory"] for r in m.add("I like jazz", user_id="u")["results"]] == ["Likes jazz"]
    assert any("ADD without text" in r.getMessage() for r in caplog.records)


# -- item 10: a concurrent write changes what the model read ------------------------------------


def seeded(tmp_path: Path, hook: Any) -> tuple[Memory, str]:
    m, llm = make(tmp_path, {"memory": [op("ADD", "Lives in Delhi")]})
    mid = m.add("I live in Delhi", user_id="u")["results"][0]["id"]
    llm.add(hook)
    return m, mid


def test_update_of_a_memory_deleted_meanwhile_adds_the_new_fact(tmp_path: Path) -> None:
    def hook(call: FakeCall) -> dict[str, Any]:
        m.delete(mid)  # another writer, between reading the candidates and writing the plan
        return {"memory": [op("UPDATE", "Lives in Pune", "0")]}

    m, mid = seeded(tmp_path, hook)
    out = m.add("I moved to Pune", user_id="u")["results"]
    assert [(r["event"], r["memory"]) for r in out] == [("ADD", "Lives in Pune")]
    assert texts(m) == {"Lives in Pune"}


def test_delete_of_a_memory_deleted_meanwhile_is_skipped(tmp_path: Path) -> None:
    def hook(call: FakeCall) -> dict[str, Any]:
        m.delete(mid)
        return {"memory": [op("DELETE", "Lives in Pune", "0")]}

    m, mid = seeded(tmp_path, hook)
    out = m.add("I moved to Pune", user_id="u")["results"]
    assert [(r["event"], r["memory"]) for r in out] == [("ADD", "Lives in Pune")]


def test_update_of_a_memory_changed_meanwhile_keeps_both(tmp_path: Path) -> None:
    def hook(call: FakeCall) -> dict[str, Any]:
        m.update(mid, text="Lives in Mumbai")
        return {"memory": [op("UPDATE", "Lives in Pune", "0"), op("NONE", "", "0")]}

    m, mid = seeded(tmp_path, hook)
    m.add("I moved to Pune", user_id="u")
    assert texts(m) == {"Lives in Mumbai", "Lives in Pune"}


def test_threaded_adds_on_one_scope_land_every_fact(tmp_path: Path) -> None:
    gate = threading.Barrier(2, timeout=10)

    def answer(text: str) -> Any:
        def reply(call: FakeCall) -> dict[str, Any]:
            gate.wait()  # both adds have read their candidates
            if text == "Lives in Pune":
                return {"memory": [op("DELETE", text, "0")]}
            return {"memory": [op("UPDATE", text, "0")]}

        return reply

    m, llm = make(tmp_path, {"memory": [op("ADD", "Lives in Delhi")]})
    m.add("I live in Delhi", user_id="u")
    llm.add(answer("Lives in Pune"), answer("Lives in Delhi, near the lake"))
    errors: list[BaseException] = []

    def run(text: str) -> None:
        try:
            m.add(text, user_id="u")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in ("I moved to Pune", "by the lake")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert "Lives in Pune" in texts(m) or "Lives in Delhi, near the lake" in texts(m)
    assert len(texts(m)) == 2  # the first writer's change, and the second's fact as a new memory
