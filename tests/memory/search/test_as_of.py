"""``search(..., as_of=T)``: memories with their text of time T (deleted ones until deletion),
the relations of then, scored with vectors of the old texts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from memlane import InvalidInputError, Memory
from memlane.llm import FakeLLM
from memlane.models import now_iso
from tests.memory.test_graph_memory import add, answer
from tests.memory.test_graph_memory import config as graph_config
from tests.memory.write._support import config


def moment() -> str:
    """Now, strictly after every write so far and before every later one."""
    time.sleep(0.002)
    at = now_iso()
    time.sleep(0.002)
    return at


def texts(result: Any) -> list[str]:
    return [item["memory"] for item in result["results"]]


def test_as_of_reads_the_text_of_that_time(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    before = moment()
    mid = m.add("Lives in Delhi", user_id="u", infer=False)["results"][0]["id"]
    in_delhi = moment()
    m.update(mid, "Lives in Bangalore")
    later = m.add("Works at Acme in Bangalore", user_id="u", infer=False)["results"][0]["id"]
    now = moment()
    assert texts(m.search("where does the user live", user_id="u", as_of=before)) == []
    then = m.search("lives", user_id="u", as_of=in_delhi, explain=True)["results"]
    assert [(i["id"], i["memory"]) for i in then] == [(mid, "Lives in Delhi")]  # not Acme: added later
    assert then[0]["updated_at"] <= in_delhi
    assert set(texts(m.search("lives", user_id="u", as_of=now))) == {
        "Lives in Bangalore",
        "Works at Acme in Bangalore",
    }
    assert later in {i["id"] for i in m.search("acme", user_id="u", as_of=now)["results"]}
    assert m.get(mid)["memory"] == "Lives in Bangalore"  # type: ignore[index]


def test_old_texts_are_embedded_for_the_dense_signal(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    mid = m.add("Favourite colour is green", user_id="u", infer=False)["results"][0]["id"]
    at = moment()
    m.update(mid, "Favourite colour is blue")
    found = m.search("Favourite colour is green", user_id="u", as_of=at, explain=True)["results"]
    details: Any = found[0]["score_details"]
    assert found[0]["memory"] == "Favourite colour is green"
    assert details["semantic_score"] == pytest.approx(1.0, abs=1e-5)  # the old text's own vector
    current: Any = m.search("Favourite colour is blue", user_id="u", as_of=moment(), explain=True)["results"]
    assert current[0]["score_details"]["semantic_score"] == pytest.approx(1.0, abs=1e-5)  # stored vector


def test_deleted_memories_count_until_their_deletion(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    mid = m.add("Has a parrot named Kiwi", user_id="u", infer=False)["results"][0]["id"]
    alive = moment()
    m.delete(mid)
    gone = moment()
    assert [i["id"] for i in m.search("parrot", user_id="u", as_of=alive)["results"]] == [mid]
    assert texts(m.search("parrot", user_id="u", as_of=gone)) == []
    assert texts(m.search("parrot", user_id="u")) == []


def test_as_of_keeps_scope_type_and_expiry_of_that_time(tmp_path: Path) -> None:
    m = Memory(config(tmp_path / "m.db"))
    m.add("Parrot food is seeds", user_id="u", infer=False, memory_type="procedural")
    m.add("Saw a parrot at the zoo", user_id="u", infer=False, memory_type="episodic")
    m.add("Owns a parrot too", user_id="v", infer=False)
    m.add("Parrot sale", user_id="u", infer=False, expiration_date="2000-01-01")
    at = moment()
    assert texts(m.search("parrot", user_id="u", as_of=at, memory_type="episodic")) == [
        "Saw a parrot at the zoo"
    ]
    assert len(m.search("parrot", user_id="u", as_of=at)["results"]) == 2  # v's and the expired sale out
    assert len(m.search("parrot", user_id="u", as_of=at, show_expired=True)["results"]) == 3
    with pytest.raises(InvalidInputError, match="as_of"):
        m.search("parrot", user_id="u", as_of="not a time")


def test_relations_as_they_stood(tmp_path: Path) -> None:
    llm = FakeLLM(
        [
            answer([add("ADD", "Lives in Delhi")], [("user", "lives_in", "Delhi")]),
            answer([add("DELETE", "Lives in Bangalore", "0")], [("user", "lives_in", "Bangalore")]),
        ]
    )
    m = Memory(graph_config(tmp_path / "g.db"), llm=llm)
    m.add("I live in Delhi", user_id="alice")
    in_delhi = moment()
    m.add("I moved to Bangalore", user_id="alice")
    now = moment()

    def targets(at: str) -> set[str]:
        relations: Any = m.search("where does alice live", user_id="alice", as_of=at)["relations"]
        return {r["destination"] for r in relations}

    assert targets(in_delhi) == {"Delhi"}  # the invalidated relation, as it stood then
    assert targets(now) == {"Bangalore"}
    then = m.search("where does alice live", user_id="alice", as_of=in_delhi)
    assert texts(then) == ["Lives in Delhi"]  # contradicted (deleted) later; current then


def test_past_texts_embedded_per_search_are_bounded_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import OrderedDict

    from memlane.memory.search import as_of

    monkeypatch.setattr(as_of, "AS_OF_EMBED", 1)
    monkeypatch.setattr(as_of, "_CACHE", OrderedDict())
    m = Memory(config(tmp_path / "m.db"))
    ids = [
        m.add(f"Walks the dog {n} every morning", user_id="u", infer=False)["results"][0]["id"] for n in "abc"
    ]
    at = moment()
    for mid in ids:
        m.update(mid, "Sold the car")

    def scored() -> int:
        found: Any = m.search("walks the dog a", user_id="u", as_of=at, explain=True)["results"]
        assert len(found) == 3
        return sum(1 for item in found if item["score_details"]["semantic_score"] != 0.0)

    assert scored() == 1  # one past text embedded: the one sharing most query words
    assert scored() == 2  # that one from the cache, one more embedded
    assert scored() == 3
    assert len(as_of._CACHE) == 3
