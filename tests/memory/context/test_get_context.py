"""get_context: the block's layout, budget, citations back to memories and messages, profile
and relations first, duplicates folded, the reference date, bad input; and the async twin."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from memlane import AsyncMemory, InvalidInputError, Memory
from memlane.llm import FakeLLM
from memlane.memory.context.tokens import default_counter
from tests.conftest import hash_config

TURNS = [
    ("2024-05-01", "I moved from Delhi to Bangalore last month"),
    ("2024-05-03", "I love hiking on weekends"),
    ("2024-05-04", "I love hiking on weekends"),
    ("2024-06-01", "My dog is called Rex"),
    ("2024-06-01", "Rex is a golden retriever who loves the park"),
]


@pytest.fixture
def filled(memory: Memory) -> Memory:
    for day, text in TURNS:
        memory.add(text, user_id="alice", timestamp=day)
    memory.add("Bob lives in Paris", user_id="bob", timestamp="2024-05-01")
    return memory


def test_the_block_lists_memories_oldest_first_under_their_dates(filled: Memory) -> None:
    ctx = filled.get_context("where does alice live and what is her dog called?", user_id="alice")
    hiking = ctx["citations"]["m2"]["date"]  # one of the two equal memories (either day)
    assert hiking is not None and hiking[:10] in ("2024-05-03", "2024-05-04")
    assert ctx["text"] == (
        "Memories:\n"
        "1 May 2024\n[m1] I moved from Delhi to Bangalore last month\n"
        f"{int(hiking[8:10])} May\n[m2] I love hiking on weekends\n"
        "1 Jun\n[m3] My dog is called Rex\n[m4] Rex is a golden retriever who loves the park"
    )
    assert ctx["tokens"] == default_counter().count(ctx["text"]) <= ctx["max_tokens"] == 1000
    assert ctx["tokenizer"] == "wordpiece:all-MiniLM-L6-v2"
    assert "Bob" not in ctx["text"]  # another scope


def test_every_citation_resolves_to_its_memory_and_source_messages(filled: Memory) -> None:
    ctx = filled.get_context("dog", user_id="alice")
    assert set(ctx["citations"]) == {"m1", "m2", "m3", "m4"}
    for tag, entry in ctx["citations"].items():
        assert f"[{tag}] {entry['text']}" in ctx["text"] and entry["id"] == tag
        assert entry["kind"] == "memory" and entry["memory_id"] == entry["memory_ids"][0]
        for mid in entry["memory_ids"]:
            item = filled.get(mid)
            assert item is not None and item["memory"] == entry["text"]
        sources = [m.id for mid in entry["memory_ids"] for m in filled.store.sources(mid)]
        assert entry["source_ids"] == sources and sources


def test_an_exact_duplicate_is_shown_once_and_cited_through_the_first(filled: Memory) -> None:
    ctx = filled.get_context("hiking", user_id="alice")
    [hiking] = [c for c in ctx["citations"].values() if "hiking" in c["text"]]
    assert ctx["text"].count("I love hiking on weekends") == 1
    assert len(hiking["memory_ids"]) == 2 and len(hiking["source_ids"]) == 2


def test_the_budget_decides_how_many_memories_go_in(filled: Memory) -> None:
    sizes = []
    for budget in (1, 12, 20, 30, 45, 1000):
        ctx = filled.get_context("what is the dog called?", user_id="alice", max_tokens=budget)
        assert ctx["tokens"] == default_counter().count(ctx["text"]) <= budget
        sizes.append(len(ctx["citations"]))
    assert sizes == sorted(sizes) and sizes[0] == 0 and sizes[-1] == 4
    small = filled.get_context("what is the dog called?", user_id="alice", max_tokens=20)
    assert "Rex" in small["text"]  # the best match goes in first


def test_the_same_inputs_give_the_same_bytes(filled: Memory, config: dict[str, Any]) -> None:
    first = filled.get_context("dog", user_id="alice", max_tokens=40, reference_date="2024-07-01")
    again = Memory(config)
    try:
        second = again.get_context("dog", user_id="alice", max_tokens=40, reference_date="2024-07-01")
    finally:
        again.close()
    assert first == second
    assert first["text"].startswith("Today: 1 Jul 2024\n")


def test_no_clock_time_without_a_reference_date(filled: Memory) -> None:
    text = filled.get_context("dog", user_id="alice")["text"]
    assert "Today" not in text


def test_an_empty_scope_gives_an_empty_block(memory: Memory) -> None:
    ctx = memory.get_context("anything", user_id="nobody")
    assert ctx["text"] == "" and ctx["citations"] == {} and ctx["tokens"] == 0


@pytest.mark.parametrize("bad", [0, -5, 1.5, "100", True, 2_000_000])
def test_a_bad_budget_is_refused(filled: Memory, bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_tokens"):
        filled.get_context("dog", user_id="alice", max_tokens=bad)


def test_bad_search_arguments_are_refused_as_search_refuses_them(filled: Memory) -> None:
    with pytest.raises(InvalidInputError, match="query"):
        filled.get_context("  ", user_id="alice")
    with pytest.raises(InvalidInputError, match="top_k"):
        filled.get_context("dog", user_id="alice", top_k=-1)


def test_top_k_limits_the_memories_considered(filled: Memory) -> None:
    ctx = filled.get_context("dog", user_id="alice", top_k=1)
    assert len(ctx["citations"]) == 1


def _profile_and_graph(tmp_path: Path) -> Memory:
    reply = {
        "memory": [{"event": "ADD", "id": None, "text": "Lives in Bangalore"},
                   {"event": "ADD", "id": None, "text": "Works at Acme as an engineer"}],
        "entities": [{"name": n, "type": "thing"} for n in ("user", "Bangalore", "Acme")],
        "relations": [{"source": "user", "relationship": "lives_in", "destination": "Bangalore"},
                      {"source": "user", "relationship": "works_at", "destination": "Acme"}],
        "profile": [{"key": "home_city", "value": "Bangalore"}, {"key": "employer", "value": "Acme"}],
    }  # fmt: skip
    config = {**hash_config(tmp_path / "pg.db"), "enable_graph": True, "profile": {"enabled": True}}
    memory = Memory(config, llm=FakeLLM([reply]))
    memory.add("I live in Bangalore and work at Acme", user_id="alice", timestamp="2024-03-02")
    memory.add("I went to the beach", user_id="alice", infer=False, timestamp="2024-04-01")
    return memory


def test_profile_slots_come_first_then_relations_then_memories(tmp_path: Path) -> None:
    memory = _profile_and_graph(tmp_path)
    try:
        ctx = memory.get_context("where does alice live?", user_id="alice")
    finally:
        memory.close()
    lines = ctx["text"].splitlines()
    assert lines[:3] == ["Profile:", "[p1] home city: Bangalore", "[p2] employer: Acme"]  # asked first
    assert lines[3] == "Relations:" and lines.index("Memories:") > 4
    assert "[r1] alice lives in bangalore (from 2 mar 2024)" in [line.lower() for line in lines]
    p1, r1 = ctx["citations"]["p1"], ctx["citations"]["r1"]
    assert p1["kind"] == "profile" and p1["key"] == "home_city" and p1["memory_id"] and p1["source_ids"]
    assert r1["kind"] == "relation" and r1["memory_ids"] and r1["source_ids"]
    assert r1["relation"]["relationship"] == "lives_in"
    # the memories behind the profile slots are not repeated below them
    assert "Lives in Bangalore" not in ctx["text"] and "beach" in ctx["text"]


def test_async_get_context_gives_the_same_block(db_dir: Path) -> None:
    async def run() -> tuple[Any, Any]:
        m = AsyncMemory(hash_config(db_dir / "a.db"))
        try:
            await m.add("My dog is called Rex", user_id="alice", timestamp="2024-06-01")
            got = await m.get_context("dog", user_id="alice")
            return got, m.sync.get_context("dog", user_id="alice")
        finally:
            await m.close()

    got, expected = asyncio.run(run())
    assert got == expected and "[m1] My dog is called Rex" in got["text"]
