"""Memory types: the single call types each fact and dates events; search/get_all filter by type."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, InvalidInputError
from memlane.filters import Cond, Not, Or
from memlane.llm.schema import response_schema
from memlane.memory.kinds import event_time, type_filter, typed
from memlane.prompts import memory_update
from memlane.prompts.common import MemoryOp
from tests.memory.write._support import config, make, op


def typed_op(event: str, text: str, kind: Any, when: Any = None, id: str | None = None) -> dict[str, Any]:
    return {**op(event, text, id), "type": kind, "when": when}


def texts(result: dict[str, Any]) -> list[str]:
    return sorted(item["memory"] for item in result["results"])


def test_the_single_call_types_facts_and_dates_events(tmp_path: Path) -> None:
    answer = {
        "memory": [
            typed_op("ADD", "Is vegetarian", "semantic"),
            typed_op("ADD", "Ran the Berlin marathon on 2024-04-21", "episodic", "2024-04-21"),
            typed_op("ADD", "Deploys with make release then tags the commit", "procedural"),
        ]
    }
    m, llm = make(tmp_path, answer)
    m.add("long chat", user_id="u", timestamp="2024-05-02T10:00:00Z")
    prompt = llm.calls[0].messages[0]["content"]
    assert '"episodic"' in prompt and '"when"' in prompt
    items = {i["memory"]: i for i in m.get_all(user_id="u")["results"]}
    veg = items["Is vegetarian"]
    run = items["Ran the Berlin marathon on 2024-04-21"]
    how = items["Deploys with make release then tags the commit"]
    assert veg["metadata"] is None  # semantic is the default: nothing written
    assert run["metadata"] == {"memory_type": "episodic"}
    assert how["metadata"] == {"memory_type": "procedural"}
    record = m.store.get(run["id"])
    assert record is not None and record.valid_from == "2024-04-21T00:00:00+00:00"
    assert record.created_at > record.valid_from  # recorded now, happened then
    veg_record = m.store.get(veg["id"])
    assert veg_record is not None and veg_record.valid_from == "2024-05-02T10:00:00+00:00"


def test_type_filters_on_search_and_get_all(tmp_path: Path) -> None:
    answer = {
        "memory": [
            typed_op("ADD", "Likes green tea", "semantic"),
            typed_op("ADD", "Visited Kyoto for a tea ceremony", "episodic", "2024-03-10"),
            typed_op("ADD", "Brews tea at 80 degrees for two minutes", "procedural"),
        ]
    }
    m, _ = make(tmp_path, answer)
    m.add("tea talk", user_id="u")
    m.add("Old note about tea", user_id="u", infer=False)  # verbatim: semantic
    m.add("Summarise how to brew", agent_id="a", infer=False, metadata={"memory_type": "procedural_memory"})

    def listed(kind: Any, **ids: Any) -> list[str]:
        return texts(m.get_all(memory_type=kind, **ids))  # type: ignore[arg-type]

    assert listed("semantic", user_id="u") == ["Likes green tea", "Old note about tea"]
    assert listed("episodic", user_id="u") == ["Visited Kyoto for a tea ceremony"]
    assert listed(["episodic", "procedural"], user_id="u") == [
        "Brews tea at 80 degrees for two minutes",
        "Visited Kyoto for a tea ceremony",
    ]
    assert listed("procedural", agent_id="a") == ["Summarise how to brew"]  # mem0's value matches
    found = m.search("tea", user_id="u", memory_type="episodic")
    assert texts(dict(found)) == ["Visited Kyoto for a tea ceremony"]
    found = m.search("tea", user_id="u", memory_type=["semantic"])
    assert texts(dict(found)) == ["Likes green tea", "Old note about tea"]


def test_add_memory_type_types_every_memory(tmp_path: Path) -> None:
    m, _ = make(tmp_path, {"memory": [typed_op("ADD", "Met Sam at the fair", "semantic")]})
    m.add("x", user_id="u", memory_type="episodic")
    m.add("Step 1: open the valve", user_id="u", memory_type="procedural", infer=False)
    m.add("Likes jazz", user_id="u", memory_type="semantic", infer=False)
    kinds = {i["memory"]: (i["metadata"] or {}).get("memory_type") for i in m.get_all(user_id="u")["results"]}
    assert kinds == {
        "Met Sam at the fair": "episodic",  # the caller's type wins over the model's
        "Step 1: open the valve": "procedural",
        "Likes jazz": "semantic",  # named by the caller: written
    }


def test_an_update_takes_the_facts_new_type_and_date(tmp_path: Path) -> None:
    m, _ = make(
        tmp_path,
        {"memory": [typed_op("ADD", "Is planning a trip to Rome", "semantic")]},
        {"memory": [typed_op("UPDATE", "Went to Rome on 2024-06-01", "episodic", "2024-06-01", id="0")]},
    )
    first = m.add("planning Rome", user_id="u")["results"][0]["id"]
    m.add("I went to Rome on June 1st", user_id="u")
    item = m.get(first)
    assert item is not None and item["metadata"] == {"memory_type": "episodic"}
    record = m.store.get(first)
    assert record is not None and record.valid_from == "2024-06-01T00:00:00+00:00"


def test_bad_types_are_typed_errors_and_change_nothing(tmp_path: Path) -> None:
    m, _ = make(tmp_path)
    for bad in ("reminder", 3, [], ["semantic", "x"]):
        with pytest.raises(InvalidInputError, match="memory_type"):
            m.get_all(user_id="u", memory_type=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="memory_type"):
            m.search("q", user_id="u", memory_type=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="procedural_memory"):
        m.add("x", user_id="u", memory_type="fact", infer=False)
    assert m.get_all(user_id="u")["results"] == []


def test_the_models_type_and_date_are_read_leniently() -> None:
    assert MemoryOp.model_validate({"event": "ADD", "text": "x", "type": "Event"}).type == "episodic"
    assert MemoryOp.model_validate({"event": "ADD", "text": "x", "type": "gossip"}).type is None
    assert MemoryOp.model_validate({"event": "ADD", "text": "x", "when": "2024-02-30"}).when is None
    later = {"event": "ADD", "text": "x", "when": "2024-02-03T10:00"}
    assert MemoryOp.model_validate(later).when == "2024-02-03"
    assert MemoryOp.model_validate({"event": "ADD", "text": "x", "when": "soon"}).when is None
    assert MemoryOp.model_validate({"event": "ADD", "text": "x"}).type is None  # older answers still parse


def test_kind_helpers() -> None:
    assert type_filter("episodic") == Cond("memory_type", "in", ["episodic"])
    assert type_filter("procedural") == Cond("memory_type", "in", ["procedural", "procedural_memory"])
    legacy = Or((Cond("memory_type", "in", ["semantic"]), Not(Cond("memory_type", "exists"))))
    assert type_filter("semantic") == legacy
    assert typed({}, ("semantic", None)) == {}
    mem0 = {"memory_type": "procedural_memory"}
    assert typed(mem0, ("episodic", None)) == mem0
    assert event_time(("episodic", "2024-01-02"), "now") == "2024-01-02T00:00:00+00:00"
    assert event_time(("semantic", "2024-01-02"), "now") == "now"
    assert event_time(("episodic", None), "now") == "now"


def test_example_answer_in_the_prompt_carries_types() -> None:
    data = memory_update.MemoryUpdateInput(conversation="user: hi", observation_date="2024-01-01")
    system = memory_update.build_messages(data)[0]["content"]
    assert '"type": "episodic"' in system and '"when": "2024-03-01"' in system


def test_async_memory_filters_by_type(tmp_path: Path) -> None:
    async def run() -> list[str]:
        m = AsyncMemory(config(tmp_path / "a.db"))
        await m.add("Went hiking on Sunday", user_id="u", memory_type="episodic", infer=False)
        await m.add("Likes hiking", user_id="u", infer=False)
        found = await m.search("hiking", user_id="u", memory_type="episodic")
        await m.close()
        return [i["memory"] for i in found["results"]]

    assert asyncio.run(run()) == ["Went hiking on Sunday"]


def test_the_schema_carries_bounded_type_and_date() -> None:
    item = response_schema(memory_update.MemoryUpdate).schema["properties"]["memory"]["items"]
    kinds = item["properties"]["type"]
    assert all(name in str(kinds) for name in ("semantic", "episodic", "procedural"))
    assert item["properties"]["when"]["anyOf"][0]["maxLength"] == 10
