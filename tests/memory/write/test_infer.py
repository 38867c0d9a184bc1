"""add(infer=True) with the scripted FakeLLM: operations, ids, contradictions, prompts, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane import ConfigError, EmptyOutputError, InvalidInputError, LLMError, Memory
from memlane.filters import All
from memlane.llm import FakeLLM
from memlane.prompts import memory_update
from memlane.store.sqlite import SQLiteStore
from tests.memory.write._support import config, make, op


def rows(memory: Memory) -> int:
    assert isinstance(memory.store, SQLiteStore)
    return sum(
        memory.store.execute(f"SELECT count(*) FROM {t}")[0][0] for t in ("memories", "history", "messages")
    )


def test_llm_configured_means_infer_by_default(tmp_path: Path) -> None:
    m, llm = make(tmp_path, {"memory": [op("ADD", "Is vegetarian")]})
    out = m.add("I don't eat meat", user_id="alice")
    assert [(r["memory"], r["event"]) for r in out["results"]] == [("Is vegetarian", "ADD")]
    assert len(llm.calls) == 1 and m.llm_usage.calls == 1
    assert m.get_all(user_id="alice")["results"][0]["memory"] == "Is vegetarian"


def test_infer_false_skips_the_llm(tmp_path: Path) -> None:
    m, llm = make(tmp_path)
    m.add("verbatim please", user_id="alice", infer=False)
    assert llm.calls == []


def test_one_call_sees_existing_memories_under_small_ids(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"memory": [op("ADD", "Lives in Delhi"), op("ADD", "Likes cricket")]},
        {"memory": [op("DELETE", "Lives in Bangalore", "0")]},
    )
    first = m.add("I live in Delhi and like cricket", user_id="alice")["results"]
    delhi = next(r["id"] for r in first if r["memory"] == "Lives in Delhi")
    out = m.add("I moved to Bangalore from Delhi", user_id="alice")["results"]
    prompt = llm.calls[1].text
    assert "0: Lives in Delhi" in prompt and delhi not in prompt  # the model never sees a UUID
    assert {(r["event"], r["memory"]) for r in out} == {
        ("DELETE", "Lives in Delhi"),
        ("ADD", "Lives in Bangalore"),
    }
    assert len(llm.calls) == 2


def test_contradiction_keeps_both_versions_and_current_wins(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        {"memory": [op("ADD", "Lives in Delhi")]},
        {"memory": [op("DELETE", "Lives in Bangalore", "0")]},
    )
    delhi = m.add("I live in Delhi", user_id="alice")["results"][0]["id"]
    m.add("I moved to Bangalore", user_id="alice")
    hits = m.search("where does alice live", user_id="alice")["results"]
    assert [h["memory"] for h in hits] == ["Lives in Bangalore"]
    events = [(h["event"], h["old_memory"]) for h in m.history(delhi)]
    assert events == [("ADD", None), ("DELETE", "Lives in Delhi")]
    assert [v.text for v in m.store.versions(delhi)] == ["Lives in Delhi"]
    assert m.store.versions(delhi)[0].expired_at is not None


def test_update_writes_a_new_version_with_previous_memory(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        {"memory": [op("ADD", "Likes cricket")]},
        {"memory": [op("UPDATE", "Loves playing cricket with friends", "0")]},
    )
    mid = m.add("I like cricket", user_id="u")["results"][0]["id"]
    out = m.add("I love playing cricket with my friends", user_id="u", timestamp="2025-06-01")["results"]
    assert out == [
        {
            "id": mid,
            "memory": "Loves playing cricket with friends",
            "event": "UPDATE",
            "previous_memory": "Likes cricket",
        }
    ]
    versions = m.store.versions(mid)
    assert [v.text for v in versions] == ["Likes cricket", "Loves playing cricket with friends"]
    assert versions[1].valid_from is not None and versions[1].valid_from.startswith("2025-06-01")


def test_hallucinated_id_becomes_add_never_a_crash(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": [op("UPDATE", "Has a dog named Rex", "42"), op("DELETE", "", "9")]})
    out = m.add("My dog Rex", user_id="u")["results"]
    assert [(r["event"], r["memory"]) for r in out] == [("ADD", "Has a dog named Rex")]


def test_none_backfills_agent_and_run_ids(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": [op("ADD", "Likes tea")]}, {"memory": [op("NONE", "", "0")]})
    mid = m.add("I like tea", user_id="u")["results"][0]["id"]
    assert m.add("tea is great", user_id="u", agent_id="helper")["results"] == []
    item = m.get(mid)
    assert item is not None and item["agent_id"] == "helper" and item["user_id"] == "u"
    assert len(m.history(mid)) == 1  # mem0 writes no history row for NONE


def test_add_for_one_agent_may_update_the_users_memories(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"memory": [op("ADD", "Lives in Delhi")]},
        {"memory": [op("DELETE", "Lives in Pune", "0")]},
        {"memory": []},
    )
    m.add("I live in Delhi", user_id="u", agent_id="a1")
    m.add("I moved to Pune", user_id="u", agent_id="a2")
    assert "0: Lives in Delhi" in llm.calls[1].text
    m.add("hello", user_id="someone-else")
    assert "Lives in" not in llm.calls[2].text


def test_nothing_worth_remembering_is_an_empty_result(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": []})
    assert m.add("hi!", user_id="u")["results"] == []


def test_chatty_output_is_repaired_once(tmp_path: Path) -> None:
    m, llm = make(tmp_path, "Sure! Here you go: {oops", {"memory": [op("ADD", "Plays chess")]})
    assert m.add("I play chess", user_id="u")["results"][0]["memory"] == "Plays chess"
    assert [c.repair for c in llm.calls] == [False, True]
    assert m.llm_usage.calls == 2


def test_unusable_output_raises_and_writes_no_memory(tmp_path: Path) -> None:
    m, _ = make(tmp_path, "not json", "still not json")
    with pytest.raises(LLMError, match="reprocess"):
        m.add("I play chess", user_id="u")
    assert rows(m) == 1  # only the kept message (issue 11: it waits for reprocess)
    assert m.store.count(All()) == 0


def test_llm_failure_raises_and_writes_no_memory(tmp_path: Path) -> None:
    m, _ = make(tmp_path, LLMError("boom"))
    with pytest.raises(LLMError, match="boom"):
        m.add("I play chess", user_id="u")
    assert rows(m) == 1  # only the kept message
    assert m.store.count(All()) == 0


def test_copied_prompt_example_is_never_stored(tmp_path: Path) -> None:
    example = memory_update.EXAMPLE_TEXTS[0]
    m, llm = make(tmp_path, {"memory": [op("ADD", example)]}, {"memory": [op("ADD", example)]})
    with pytest.raises(LLMError, match="copied"):
        m.add("hello there", user_id="u")
    assert m.store.count(All()) == 0
    assert len(llm.calls) == 2 and "Miso" in llm.calls[0].text and "Miso" not in llm.calls[1].text


def test_custom_instructions_and_per_call_prompt(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"memory": []},
        {"memory": []},
        custom_instructions="Only keep food preferences.",
    )
    m.add("I like sushi", user_id="u")
    m.add("I like sushi", user_id="u", prompt="Only keep sports.")
    assert "Only keep food preferences." in llm.calls[0].text
    assert "Only keep sports." in llm.calls[1].text and "food" not in llm.calls[1].text


def test_observation_date_is_in_the_prompt(tmp_path: Path) -> None:
    m, llm = make(tmp_path, {"memory": []})
    m.add("I flew home last week", user_id="u", timestamp="2024-02-10T09:00:00Z")
    assert "Observation date: 2024-02-10" in llm.calls[0].text


def test_single_call_prompt_stays_small(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path, *({"memory": [op("ADD", f"Fact number {i} about the user's life")]} for i in range(11))
    )
    for i in range(10):
        m.add(f"Something new about my life number {i}", user_id="u")
    m.add("I moved to a new flat near the lake and adopted a puppy", user_id="u")
    last = llm.calls[-1].text
    assert last.count("Fact number") == 10
    assert len(last) / 4 < 2000  # about 4 characters per token


def test_classic_pipeline_uses_two_calls(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"facts": ["Lives in Delhi"]},
        {"memory": [op("ADD", "Lives in Delhi")]},
        {"facts": ["Lives in Bangalore"]},
        {"memory": [op("DELETE", "Lives in Bangalore", "0")]},
        pipeline="classic",
    )
    m.add("I live in Delhi", user_id="u")
    out = m.add("I moved to Bangalore", user_id="u")["results"]
    assert [c.response_model for c in llm.calls] == ["Facts", "MemoryUpdate", "Facts", "MemoryUpdate"]
    assert "0: Lives in Delhi" in llm.calls[3].text
    assert {(r["event"], r["memory"]) for r in out} == {
        ("DELETE", "Lives in Delhi"),
        ("ADD", "Lives in Bangalore"),
    }


def test_classic_skips_decision_without_facts(tmp_path: Path) -> None:
    m, llm = make(tmp_path, {"facts": []}, pipeline="classic")
    assert m.add("hello", user_id="u")["results"] == []
    assert len(llm.calls) == 1


def test_custom_classic_prompts(tmp_path: Path) -> None:
    m, llm = make(
        tmp_path,
        {"facts": ["Likes jazz"]},
        {"memory": [op("ADD", "Likes jazz")]},
        pipeline="classic",
        custom_fact_extraction_prompt="Extract music tastes as JSON facts.",
        custom_update_memory_prompt="Decide memory operations, answer in JSON.",
    )
    m.add("I like jazz", user_id="u")
    assert llm.calls[0].messages[0]["content"] == "Extract music tastes as JSON facts."
    assert llm.calls[1].messages[0]["content"] == "Decide memory operations, answer in JSON."


def test_procedural_memory(tmp_path: Path) -> None:
    m, llm = make(tmp_path, {"summary": "Task: book a flight. 1. searched flights -> 3 results"})
    out = m.add(
        [{"role": "user", "content": "book a flight"}, {"role": "assistant", "content": "searching..."}],
        agent_id="travel-bot",
        memory_type="procedural_memory",
    )["results"]
    assert out[0]["event"] == "ADD" and out[0]["memory"].startswith("Task: book a flight")
    item = m.get(out[0]["id"])
    assert item is not None and item["metadata"] == {"memory_type": "procedural_memory"}
    assert llm.calls[0].response_model == "ProceduralSummary"


def test_procedural_memory_without_agent_is_an_ordinary_add(tmp_path: Path) -> None:
    m, llm = make(tmp_path, {"memory": [op("ADD", "Plays chess")]})
    out = m.add("I play chess", user_id="u", memory_type="procedural_memory")["results"]
    assert [r["memory"] for r in out] == ["Plays chess"]  # mem0: memory_type needs an agent_id
    assert llm.calls[0].response_model == "MemoryUpdate"
    with pytest.raises(InvalidInputError, match="memory_type"):
        m.add("x", agent_id="a", memory_type="reminder")


def test_procedural_memory_without_llm_is_a_config_error(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    with pytest.raises(ConfigError):
        m.add("x", agent_id="a", memory_type="procedural_memory")


IMAGE_MESSAGE = {
    "role": "user",
    "content": [
        {"type": "text", "text": "Look at my new bike"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ],
}


def test_vision_describes_images(tmp_path: Path) -> None:
    llm_section = {
        "provider": "fake",
        "config": {
            "enable_vision": True,
            "responses": [
                {"description": "A red road bike leaning on a wall"},
                {"memory": [op("ADD", "Has a red road bike")]},
            ],
        },
    }
    m = Memory(config(tmp_path / "m.db", llm=llm_section))
    assert isinstance(m.llm, FakeLLM)
    m.add([IMAGE_MESSAGE], user_id="u")
    assert m.llm.calls[0].response_model == "ImageDescription"
    assert "[image: A red road bike leaning on a wall]" in m.llm.calls[1].text


def test_images_are_dropped_when_vision_is_off(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    out = m.add([IMAGE_MESSAGE], user_id="u", infer=False)["results"]
    assert out[0]["memory"] == "Look at my new bike"
    only_image = {"role": "user", "content": [IMAGE_MESSAGE["content"][1]]}
    with pytest.raises(InvalidInputError, match="vision"):
        m.add([only_image], user_id="u", infer=False)


def test_a_failed_add_still_counts_its_llm_spend(tmp_path: Path) -> None:
    m, llm = make(tmp_path, "not json", "still not json")
    with pytest.raises(LLMError):
        m.add("I live in Pune", user_id="u")
    assert m.llm_usage.calls == len(llm.calls) == 2
    assert m.llm_usage.prompt_tokens > 0


# -- mem0 compatibility (issue 11) ---------------------------------------------------------


def test_inferred_memories_carry_attributed_to(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": [op("ADD", "Likes jazz"), op("ADD", "Recommended the Blue Note club")]})
    conversation = [
        {"role": "user", "content": "I like jazz"},
        {"role": "assistant", "content": "Then I recommend the Blue Note club"},
    ]
    out = m.add(conversation, user_id="u")["results"]
    by_text = {r["memory"]: r["id"] for r in out}
    jazz = m.get(by_text["Likes jazz"])
    assert jazz is not None and jazz["attributed_to"] == "user"
    club = m.get(by_text["Recommended the Blue Note club"])
    assert club is not None and club["attributed_to"] == "assistant"
    assert {i["attributed_to"] for i in m.get_all(user_id="u")["results"]} == {"user", "assistant"}
    hit = m.search("jazz", user_id="u")["results"][0]
    assert hit["attributed_to"] == "user" and "attributed_to" not in (hit["metadata"] or {})


def test_empty_procedural_summary_is_a_value_error(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"summary": "  "})
    with pytest.raises(ValueError, match="empty procedural summary") as caught:
        m.add("step one", agent_id="bot", memory_type="procedural_memory")
    assert isinstance(caught.value, EmptyOutputError) and isinstance(caught.value, LLMError)
