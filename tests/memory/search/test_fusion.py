"""search(): dense and keyword signals fused into one score in [0, 1], scoped and filtered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from memlane import DimensionMismatchError, InvalidInputError, Memory, SearchItem
from tests.conftest import hash_config

TEXTS = [
    "I moved to Bangalore last month",
    "I like green tea in the morning",
    "my cat is called Tom",
    "I work as a data engineer",
    "green is my favourite colour",
    "Tom and I watch films on Fridays",
]


def build(path: Path, **search: Any) -> Memory:
    config = hash_config(path)
    if search:
        config["search"] = search
    memory = Memory(config)
    for text in TEXTS:
        memory.add(text, user_id="alice", infer=False)
    return memory


@pytest.fixture
def alice(memory: Memory) -> Memory:
    for text in TEXTS:
        memory.add(text, user_id="alice", infer=False)
    return memory


def search(memory: Memory, query: str, **kwargs: Any) -> list[SearchItem]:
    kwargs.setdefault("user_id", "alice")
    results: list[SearchItem] = memory.search(query, explain=True, **kwargs)["results"]
    return results


def test_the_exact_text_ranks_first_with_relevance_one(alice: Memory) -> None:
    top = search(alice, "I work as a data engineer")[0]
    assert top["memory"] == "I work as a data engineer"
    assert top["score_details"]["relevance"] == pytest.approx(1.0, abs=1e-5)
    others = search(alice, "I work as a data engineer")[1:]
    assert all(o["score_details"]["fused_score"] < top["score_details"]["fused_score"] for o in others)


def test_results_are_sorted_and_scores_bounded(alice: Memory) -> None:
    results = search(alice, "green tea with Tom")
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(results) == len(TEXTS)


def test_the_score_is_the_documented_fusion(alice: Memory) -> None:
    config = alice.config.search
    results = search(alice, "green tea")
    dense_max = max(config.dense_floor, *(max(r["score_details"]["semantic_score"], 0.0) for r in results))
    bm25_max = max(config.keyword_floor, *(r["score_details"]["bm25_score"] for r in results))
    total = config.dense_weight + config.keyword_weight
    for item in results:
        details = item["score_details"]
        d = min(max(details["semantic_score"], 0.0), 1.0)
        raw = details["bm25_score"]
        k = raw / (raw + config.keyword_saturation) if raw > 0 else 0.0
        assert details["keyword_score"] == pytest.approx(k)
        assert details["relevance"] == pytest.approx(d + (1 - d) * k)
        fused = (config.dense_weight * d / dense_max + config.keyword_weight * raw / bm25_max) / total
        assert details["fused_score"] == pytest.approx(fused)
        top = 1 + config.neighbour_weight * config.neighbour_window
        assert item["score"] == pytest.approx(
            (fused + config.neighbour_weight * details["neighbour_boost"]) / top
        )


def test_a_keyword_match_raises_the_relevance(alice: Memory) -> None:
    by_text = {r["memory"]: r for r in search(alice, "engineer")}
    hit = by_text["I work as a data engineer"]["score_details"]
    assert hit["bm25_score"] > 0
    assert hit["relevance"] > hit["semantic_score"]
    miss = by_text["my cat is called Tom"]["score_details"]
    assert miss["bm25_score"] == 0
    assert miss["relevance"] == pytest.approx(max(miss["semantic_score"], 0.0))


def test_keywords_are_stemmed(alice: Memory) -> None:
    matched = [r["memory"] for r in search(alice, "moving") if r["score_details"]["bm25_score"] > 0]
    assert matched == ["I moved to Bangalore last month"]


def test_a_query_of_stop_words_still_searches(alice: Memory) -> None:
    results = search(alice, "where is it")
    assert len(results) == len(TEXTS)
    assert all(r["score_details"]["bm25_score"] == 0 for r in results)


def test_keyword_matches_outside_the_dense_pool_are_found(db_dir: Path) -> None:
    memory = build(db_dir / "pool.db", candidates=1)
    try:
        results = search(memory, "I like green tea in the morning and the cat Tom")
        texts = [r["memory"] for r in results]
        # the dense pool holds one memory; the others come from the keyword signal and are scored too
        assert texts[0] == "I like green tea in the morning"
        assert "my cat is called Tom" in texts
        tom = next(r for r in results if r["memory"] == "my cat is called Tom")
        assert tom["score_details"]["bm25_score"] > 0
        assert tom["score_details"]["semantic_score"] != 0
    finally:
        memory.close()


def test_keyword_weight_zero_is_pure_cosine(db_dir: Path) -> None:
    memory = build(db_dir / "dense.db", keyword_weight=0.0, neighbour_weight=0.0)
    try:
        results = search(memory, "green tea")
        cosines = [max(item["score_details"]["semantic_score"], 0.0) for item in results]
        assert cosines == sorted(cosines, reverse=True)
        for item, cosine in zip(results, cosines, strict=True):
            assert item["score"] == pytest.approx(cosine / cosines[0])
    finally:
        memory.close()


def test_top_k_bounds_the_results(alice: Memory) -> None:
    assert len(search(alice, "green", top_k=2)) == 2
    assert [r["id"] for r in search(alice, "green", top_k=2)] == [r["id"] for r in search(alice, "green")[:2]]


def test_other_scopes_never_leak(alice: Memory) -> None:
    alice.add("I work as a data engineer", user_id="bob", infer=False)
    alice.add("I work as a data engineer", agent_id="helper", infer=False)
    results = search(alice, "I work as a data engineer")
    assert all(r["user_id"] == "alice" for r in results)
    assert len(results) == len(TEXTS)
    bob = search(alice, "engineer", user_id="bob")
    assert [(r["memory"], r["user_id"]) for r in bob] == [("I work as a data engineer", "bob")]


def test_scopes_combine(memory: Memory) -> None:
    memory.add("run one note", user_id="alice", run_id="r1", infer=False)
    memory.add("run two note", user_id="alice", run_id="r2", infer=False)
    memory.add("no run note", user_id="alice", infer=False)
    found = search(memory, "note", user_id="alice", run_id="r1")
    assert [r["memory"] for r in found] == ["run one note"]
    found = search(memory, "note", filters={"user_id": "alice", "run_id": {"in": ["r1", "r2"]}})
    assert {r["memory"] for r in found} == {"run one note", "run two note"}


def test_metadata_filters_apply_to_both_signals(memory: Memory) -> None:
    memory.add("tea facts one", user_id="alice", metadata={"kind": "a"}, infer=False)
    memory.add("tea facts two", user_id="alice", metadata={"kind": "b"}, infer=False)
    found = search(memory, "tea facts two", filters={"user_id": "alice", "kind": "a"})
    assert [r["memory"] for r in found] == ["tea facts one"]


def test_deleted_memories_are_not_found(alice: Memory) -> None:
    target = search(alice, "I work as a data engineer")[0]
    alice.delete(target["id"])
    assert target["id"] not in {r["id"] for r in search(alice, "I work as a data engineer")}


def test_an_empty_scope_finds_nothing(memory: Memory) -> None:
    assert search(memory, "anything", user_id="nobody") == []


def test_explain_is_off_by_default(alice: Memory) -> None:
    item = alice.search("tea", user_id="alice")["results"][0]
    assert "score_details" not in item


def test_a_store_made_with_another_dimension_is_refused(db_dir: Path) -> None:
    path = db_dir / "dims.db"
    with Memory(hash_config(path, dims=64)) as first:
        first.add("hello", user_id="alice", infer=False)
    with Memory(hash_config(path, dims=32)) as second:
        with pytest.raises(DimensionMismatchError) as info:
            second.search("hello", user_id="alice")
        assert "64" in str(info.value) and "32" in str(info.value)
        with pytest.raises(DimensionMismatchError):
            second.add("more", user_id="alice", infer=False)
        assert [r["memory"] for r in second.get_all(user_id="alice")["results"]] == ["hello"]


def test_a_turn_next_to_a_strong_hit_rises_with_it(db_dir: Path) -> None:
    """The answer to a matched question sits in the next turn of the same conversation."""
    memory = Memory(hash_config(db_dir / "conv.db"))
    try:
        turns = [
            "Do you still play the saxophone in the jazz band?",
            "Yes, every Thursday at the Blue Note club",
            "Thursday is also when I water the plants",
            "Unrelated chatter about plants and the weather",
        ]
        memory.add([{"role": "user", "content": t} for t in turns], user_id="u", infer=False)
        results = search(memory, "saxophone jazz band", user_id="u")
        by_text = {r["memory"]: r for r in results}
        answer = by_text["Yes, every Thursday at the Blue Note club"]["score_details"]
        assert answer["bm25_score"] == 0 and answer["neighbour_boost"] > 0
        assert [r["memory"] for r in results[:2]] == turns[:2]
        far = by_text["Unrelated chatter about plants and the weather"]["score_details"]
        assert far["neighbour_boost"] < answer["neighbour_boost"]
        flat = Memory({**hash_config(db_dir / "conv.db"), "search": {"neighbour_weight": 0.0}})
        assert all(r["score_details"]["neighbour_boost"] == 0 for r in search(flat, "saxophone", user_id="u"))
        flat.close()
    finally:
        memory.close()


def test_neighbours_respect_filters(db_dir: Path) -> None:
    memory = Memory(hash_config(db_dir / "f.db"))
    try:
        memory.add(
            [
                {"role": "user", "content": "the saxophone question", "metadata": {"keep": True}},
                {
                    "role": "assistant",
                    "content": "an answer that is filtered out",
                    "metadata": {"keep": False},
                },
            ],
            user_id="u",
            infer=False,
        )
        results = search(memory, "saxophone", user_id="u", filters={"keep": True})
        assert [r["memory"] for r in results] == ["the saxophone question"]
    finally:
        memory.close()


def test_the_scope_users_name_in_a_query_is_read_as_the_user(alice: Memory) -> None:
    """The vector of "where does Alice live?" in alice's memories is that of "where does the
    user live?" (the name tells alice's memories apart no better than chance); BM25 is unchanged."""

    def semantic(query: str, user: str = "alice") -> dict[str, float]:
        return {r["memory"]: r["score_details"]["semantic_score"] for r in search(alice, query, user_id=user)}

    assert semantic("where does Alice live?") == semantic("where does the user live?")
    assert semantic("alice's cat") == semantic("the user's cat")
    assert semantic("where does alicea live?") != semantic("where does the user live?")


@pytest.mark.integration
def test_the_quick_tour_finds_where_alice_lives(db_dir: Path) -> None:
    """The README's quick tour on the embedded default (the local model): the move ranks first,
    not the turn that "Noted!" answers (issue 11 #16)."""
    config = {"vector_store": {"provider": "sqlite", "config": {"path": str(db_dir / "tour.db")}}}
    with Memory(config) as memory:
        memory.add("I moved from Delhi to Bangalore last month", user_id="alice")
        memory.add(
            [
                {"role": "user", "content": "I'm vegetarian", "name": "alice"},
                {"role": "assistant", "content": "Noted!"},
            ],
            user_id="alice",
        )
        hits = memory.search("where does alice live?", filters={"user_id": "alice"}, top_k=5)["results"]
        assert hits[0]["memory"] == "I moved from Delhi to Bangalore last month"
        eats = memory.search("what does alice eat?", filters={"user_id": "alice"}, top_k=5)["results"]
        assert eats[0]["memory"] == "I'm vegetarian"


# -- time ------------------------------------------------------------------------------

MONDAY = "2023-08-14T15:00:00+00:00"


def dated(db_dir: Path, **search_config: Any) -> Memory:
    """The same kind of event observed on three different days."""
    memory = build(db_dir / "dated.db", **search_config)
    for text, when in [
        ("went hiking in the hills with my sister", "2023-08-12T10:00:00+00:00"),  # Saturday
        ("went hiking by the lake with my brother", "2023-07-01T10:00:00+00:00"),
        ("told you about the hike with my sister", "2023-08-16T10:00:00+00:00"),  # after
    ]:
        memory.add(text, user_id="alice", infer=False, timestamp=when)
    return memory


def test_a_period_in_the_query_lifts_memories_observed_then(db_dir: Path) -> None:
    memory = dated(db_dir)
    try:
        results = search(memory, "where did I go hiking last weekend?", reference_date=MONDAY)
        top = results[0]
        assert top["memory"] == "went hiking in the hills with my sister"
        times = {r["memory"]: r["score_details"]["time_score"] for r in results}
        assert times["went hiking in the hills with my sister"] == 1.0
        assert times["told you about the hike with my sister"] == 0.5  # within time_after_days
        assert times["went hiking by the lake with my brother"] == 0.0
        assert all(0.0 <= r["score"] <= 1.0 for r in results)
        # the same query a month later names another weekend: no memory is in it
        later = search(memory, "where did I go hiking last weekend?", reference_date="2023-09-20")
        assert all(r["score_details"]["time_score"] == 0.0 for r in later)
    finally:
        memory.close()


def test_a_query_without_a_period_has_no_time_signal(db_dir: Path) -> None:
    memory = dated(db_dir)
    try:
        results = search(memory, "hiking with my sister", reference_date=MONDAY)
        assert all(r["score_details"]["time_score"] == 0.0 for r in results)
    finally:
        memory.close()


def test_time_weight_zero_turns_the_time_signal_off(db_dir: Path) -> None:
    memory = dated(db_dir, time_weight=0.0)
    try:
        results = search(memory, "hiking last weekend", reference_date=MONDAY)
        assert all(r["score_details"]["time_score"] == 0.0 for r in results)
    finally:
        memory.close()


def test_memories_of_the_period_are_candidates_beyond_the_pool(db_dir: Path) -> None:
    """With two candidates per signal among 37 memories, yesterday's walk, which shares no
    word with the query, still comes in through time and wins on it."""
    memory = build(db_dir / "pool.db", candidates=1, neighbour_weight=0.0)
    try:
        for i in range(30):
            memory.add(f"note {i} on green tea", user_id="alice", infer=False, timestamp="2023-01-02")
        memory.add("a quiet walk", user_id="alice", infer=False, timestamp="2023-08-13T09:00:00Z")
        top = search(memory, "what did I do yesterday", top_k=1, reference_date=MONDAY)[0]
        assert top["memory"] == "a quiet walk"
        assert top["score_details"]["time_score"] == 1.0 and top["score_details"]["bm25_score"] == 0
    finally:
        memory.close()


def test_reference_date_is_validated(alice: Memory) -> None:
    with pytest.raises(InvalidInputError, match="reference_date"):
        alice.search("tea yesterday", user_id="alice", reference_date="next tuesday")
    # a date, a datetime and Unix seconds all work; the default is now
    for when in (date(2023, 8, 14), datetime(2023, 8, 14, tzinfo=UTC), 1692000000, None):
        assert alice.search("tea yesterday", user_id="alice", reference_date=when)["results"]


@pytest.mark.parametrize("query", ["what did I do yesterday", "next year", "last week", "today", "recently"])
@pytest.mark.parametrize(
    "reference", ["9999-12-25", "9999-12-31T23:59:59+00:00", "1900-01-01", "1900-01-03T12:00:00+00:00"]
)
def test_periods_at_the_ends_of_the_calendar_never_raise(alice: Memory, query: str, reference: str) -> None:
    """A valid reference date never makes search fail: a period off the calendar is dropped,
    one at its edge is kept (and its "talked about afterwards" window stops at year 9999)."""
    assert len(alice.search(query, user_id="alice", reference_date=reference)["results"]) == len(TEXTS)


@pytest.mark.parametrize("reference", ["0001-01-01", "0001-01-03T12:00:00+00:00", "1899-12-31"])
def test_reference_dates_before_1900_are_refused_cleanly(alice: Memory, reference: str) -> None:
    """Times are taken from 1900 to 9999 (one rule for every time argument); periods.py itself
    stays safe down to year 1 (tests/test_periods.py)."""
    with pytest.raises(InvalidInputError, match="reference_date"):
        alice.search("last week", user_id="alice", reference_date=reference)


# -- diversity -------------------------------------------------------------------------


def test_mmr_lets_other_facts_past_near_copies(db_dir: Path) -> None:
    copies = ["I like green tea", "I like green tea!", "i like GREEN tea"]
    plain = build(db_dir / "mmr.db")
    try:
        for text in copies:
            plain.add(text, user_id="alice", infer=False)
        top = [r["memory"] for r in search(plain, "I like green tea", top_k=3)]
        assert sorted(top) == sorted(copies)
        diverse = Memory({**hash_config(db_dir / "mmr.db"), "search": {"mmr_lambda": 0.5}})
        results = search(diverse, "I like green tea", top_k=3)
        assert len({r["memory"].lower().rstrip("!") for r in results}) >= 2
        assert results[0]["score_details"]["redundancy"] == 0.0
        assert max(r["score_details"]["redundancy"] for r in results) < 1.0
        assert len(search(diverse, "I like green tea", top_k=20)) == len(TEXTS) + len(copies)
        diverse.close()
    finally:
        plain.close()
