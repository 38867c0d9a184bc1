"""Property test over random stores and budgets: get_context is byte-stable (the same store and
call give the same result, even from a second Memory on the same file), never over budget,
and every citation resolves (its tag is in the text, its memories exist with its text, its
sources are theirs)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane import Memory
from memlane.memory.context.pack import pack
from memlane.memory.context.tokens import byte_counter, default_counter
from tests.conftest import hash_config
from tests.memory.context.test_pack import parts_of

WORDS = ["dog", "Rex", "park", "Bangalore", "hiking", "pizza", "Acme", "sister", "violin", "  ", "\n", "é"]
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join).filter(str.strip)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2024, 12, 31))
stores = st.lists(st.tuples(texts, days), min_size=0, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=stores, budget=st.integers(min_value=1, max_value=400), query=texts, top_k=st.integers(1, 40))
def test_get_context_is_stable_within_budget_and_resolvable(
    turns: list[tuple[str, date]], budget: int, query: str, top_k: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.db"
        with Memory(hash_config(path)) as memory:
            for text, day in turns:
                memory.add(text, user_id="u", infer=False, timestamp=str(day))
            first = memory.get_context(query, user_id="u", max_tokens=budget, top_k=top_k)
            again = memory.get_context(query, user_id="u", max_tokens=budget, top_k=top_k)
            assert again == first
            assert first["tokens"] == default_counter().count(first["text"]) <= budget
            shown = first["text"].splitlines()
            for tag, entry in first["citations"].items():
                assert f"[{tag}] {entry['text']}" in shown
                for mid in entry["memory_ids"]:
                    item = memory.get(mid)
                    assert item is not None and " ".join(item["memory"].split()) == entry["text"]
                assert entry["source_ids"] == [
                    m.id for mid in entry["memory_ids"] for m in memory.store.sources(mid)
                ]
            assert sum(1 for line in shown if line.startswith("[m")) == len(first["citations"])
        with Memory(hash_config(path)) as reopened:
            assert reopened.get_context(query, user_id="u", max_tokens=budget, top_k=top_k) == first


@settings(max_examples=60, deadline=None)
@given(
    texts_=st.lists(st.text(min_size=1, max_size=80), min_size=0, max_size=30),
    budget=st.integers(min_value=1, max_value=300),
    today=st.one_of(st.none(), st.just("2024-01-02T00:00:00+00:00")),
)
def test_pack_never_exceeds_the_budget_of_any_counter(
    texts_: list[str], budget: int, today: str | None
) -> None:
    parts = parts_of(texts_, today)
    for counter in (default_counter(), byte_counter()):
        out = pack(parts, budget, counter, lambda _mid: [])
        assert out["tokens"] == counter.count(out["text"]) <= budget
        assert pack(parts, budget, counter, lambda _mid: []) == out
