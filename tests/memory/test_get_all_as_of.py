"""``get_all(..., as_of=T)``: the memories as they stood at record time T (each with its text of
then, those deleted since included, those recorded since left out) and the relations of then,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memlane import InvalidInputError, Memory
from memlane.llm import FakeLLM
from tests.memory.search.test_as_of import moment, texts
from tests.memory.test_graph_memory import add, answer

MakeMemory = Callable[..., Memory]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeMemory]:
    """Memories on the back end of the run (each call: its own file, or its own tenant)."""
    made: list[Memory] = []

    def build(llm: FakeLLM | None = None, **extra: Any) -> Memory:
        if request.param == "sqlite":
            store = {"provider": "sqlite", "config": {"path": str(tmp_path / f"m{len(made)}.db")}}
        else:
            url = request.getfixturevalue("postgres_url")
            store = {"provider": "postgres", "config": {"url": url, "tenant": f"t{len(made)}", "max_size": 4}}
        config = {"embedder": {"provider": "hash", "config": {"embedding_dims": 64}}, "vector_store": store}
        memory = Memory({**config, **extra}, llm=llm)
        made.append(memory)
        return memory

    try:
        yield build
    finally:
        for memory in made:
            memory.close()


def test_memories_as_they_stood(make: MakeMemory) -> None:
    m = make()
    before = moment()
    kept = m.add("Lives in Delhi", user_id="u", infer=False)["results"][0]["id"]
    gone = m.add("Has a parrot named Kiwi", user_id="u", infer=False)["results"][0]["id"]
    then = moment()
    m.update(kept, "Lives in Bangalore")
    m.delete(gone)
    m.add("Works at Acme", user_id="u", infer=False)
    m.add("Lives in Paris", user_id="v", infer=False)
    assert m.get_all(user_id="u", as_of=before)["results"] == []
    past = m.get_all(user_id="u", as_of=then)["results"]
    assert [(i["id"], i["memory"]) for i in past] == [
        (gone, "Has a parrot named Kiwi"),
        (kept, "Lives in Delhi"),
    ]
    assert all(i["updated_at"] <= then for i in past)
    assert sorted(texts(m.get_all(user_id="u", as_of=moment()))) == ["Lives in Bangalore", "Works at Acme"]
    assert sorted(texts(m.get_all(user_id="u"))) == ["Lives in Bangalore", "Works at Acme"]  # unchanged


def test_pages_and_filters_as_of(make: MakeMemory) -> None:
    m = make()
    for n in range(5):
        m.add(f"Note {n}", user_id="u", infer=False, memory_type="episodic" if n % 2 else "semantic")
    at = moment()
    m.add("Note 5", user_id="u", infer=False)
    first = m.get_all(user_id="u", as_of=at, page=1, page_size=2)
    assert texts(first) == ["Note 4", "Note 3"] and first["count"] == 5 and first["next"] == 2
    last = m.get_all(user_id="u", as_of=at, page=3, page_size=2)
    assert texts(last) == ["Note 0"] and last["next"] is None and last["previous"] == 2
    assert texts(m.get_all(user_id="u", as_of=at, top_k=2)) == ["Note 4", "Note 3"]
    assert texts(m.get_all(user_id="u", as_of=at, memory_type="episodic")) == ["Note 3", "Note 1"]
    assert texts(m.get_all(filters={"user_id": "u", "memory_type": "semantic"}, as_of=at)) == [
        "Note 4",
        "Note 2",
        "Note 0",
    ]


def test_relations_as_of(make: MakeMemory) -> None:
    llm = FakeLLM(
        [
            answer([add("ADD", "Lives in Delhi")], [("user", "lives_in", "Delhi")]),
            answer([add("ADD", "Moved to Bangalore")], [("user", "lives_in", "Bangalore")], replaces=True),
        ]
    )
    m = make(llm, enable_graph=True)
    m.add("I live in Delhi", user_id="alice")
    then = moment()
    m.add("I moved to Bangalore", user_id="alice")
    past = m.get_all(user_id="alice", as_of=then)
    assert [r["target"] for r in past["relations"]] == ["Delhi"] and texts(past) == ["Lives in Delhi"]
    assert [r["target"] for r in m.get_all(user_id="alice")["relations"]] == ["Bangalore"]


def test_a_bad_as_of_is_refused(make: MakeMemory) -> None:
    m = make()
    with pytest.raises(InvalidInputError, match="as_of"):
        m.get_all(user_id="u", as_of="yesterday-ish")
