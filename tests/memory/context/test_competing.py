"""The order memories compete for get_context's budget: search score, plus a lift for the
memories said by the actor the query names (not when it names every actor or none)."""

from __future__ import annotations

from pathlib import Path

from memlane import Memory
from memlane.memory.context.build import ACTOR_LIFT, competing
from memlane.models import Hit, MemoryRecord, Scope
from tests.conftest import hash_config

SCOPE = Scope(user_id="conv")
STAMP = "2024-05-01T00:00:00+00:00"


def hit(mid: str, score: float, actor: str | None) -> Hit:
    record = MemoryRecord(id=mid, text=mid, scope=SCOPE, created_at=STAMP, updated_at=STAMP, actor_id=actor)
    return Hit(record, score)


def order(hits: list[Hit], query: str) -> list[str]:
    return [h.record.id for h in competing(hits, query)]


def test_the_named_actors_memories_are_lifted() -> None:
    hits = [hit("a", 0.9, "Bob"), hit("b", 0.9 - ACTOR_LIFT / 2, "Melanie"), hit("c", 0.2, "Melanie")]
    assert order(hits, "What has Melanie painted?") == ["b", "a", "c"]
    assert order(hits, "what did melanie's kids paint?") == ["b", "a", "c"]  # any case, possessive
    assert order(hits, "What has Bob painted?") == ["a", "b", "c"]


def test_without_a_named_actor_or_naming_them_all_the_search_order_stays() -> None:
    hits = [hit("b", 0.5, "Melanie"), hit("a", 0.9, "Bob"), hit("c", 0.5, None), hit("d", 0.5, "Mel")]
    assert order(hits, "What was painted?") == ["a", "b", "c", "d"]  # ties by id
    both = [hit("a", 0.9, "Bob"), hit("b", 0.8, "Melanie")]
    assert order(both, "Did Bob and Melanie paint?") == ["a", "b"]


def test_a_name_of_several_words_is_named_only_whole() -> None:
    hits = [hit("a", 0.9, "Bob"), hit("b", 0.8, "Mary Ann")]
    assert order(hits, "What did Mary paint?") == ["a", "b"]
    assert order(hits, "What did Mary Ann paint?") == ["b", "a"]


def test_get_context_puts_what_the_named_speaker_said_first(tmp_path: Path) -> None:
    with Memory(hash_config(tmp_path / "m.db")) as memory:
        said = [("Bob", "I painted the painting Ann liked"), ("Ann", "I painted a big horse by the red barn")]
        for name, text in said:
            memory.add([{"role": "user", "content": text, "name": name}], user_id="conv", infer=False)
        found = memory.search("What has Ann painted?", user_id="conv")["results"]
        assert found[0]["actor_id"] == "Bob"  # search's order: Bob's mentions Ann
        small = memory.get_context("What has Ann painted?", user_id="conv", max_tokens=20)
    assert [c["text"] for c in small["citations"].values()] == ["I painted a big horse by the red barn"]
