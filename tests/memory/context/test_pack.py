"""pack() on records alone: priorities, caps, folding, the final count, the short dates."""

from __future__ import annotations

from collections.abc import Sequence

from memlane.graph.models import Relation, ScoredRelation
from memlane.memory.context.pack import ContextParts, pack, short_date
from memlane.memory.context.tokens import TokenCounter, byte_counter
from memlane.models import Hit, MemoryRecord, ProfileSlot, Scope

SCOPE = Scope(user_id="u")
WORDS = TokenCounter("words", lambda text: len(text.split()))


def record(n: int, text: str, day: str = "2024-01-01") -> MemoryRecord:
    return MemoryRecord(f"id{n:03}", text, SCOPE, day, day, valid_from=f"{day}T10:00:00+00:00")


def parts_of(texts: Sequence[str], today: str | None = None) -> ContextParts:
    """Hits ranked in the order given, one day apart."""
    hits = [Hit(record(n, t, f"2024-01-{n % 28 + 1:02}"), 1.0 - n / 100) for n, t in enumerate(texts)]
    return ContextParts(hits=hits, today=today)


def test_short_dates() -> None:
    assert short_date("2023-05-08T13:56:00+00:00") == "8 May 2023"
    assert short_date(None) == "" and short_date("garbage") == "garbage"


def test_memories_by_rank_shown_by_date_each_date_once() -> None:
    hits = [
        Hit(record(1, "second day", "2024-01-02"), 0.9),
        Hit(record(2, "first day", "2024-01-01"), 0.8),
        Hit(record(3, "second day too", "2024-01-02"), 0.7),
    ]
    out = pack(ContextParts(hits=hits), 1000, WORDS, lambda mid: [f"msg-{mid}"])
    assert out["text"] == (
        "Memories:\n1 Jan 2024\n[m1] first day\n2 Jan\n[m2] second day\n[m3] second day too"
    )
    assert out["citations"]["m2"]["memory_id"] == "id001"
    assert out["citations"]["m2"]["source_ids"] == ["msg-id001"]


def test_a_date_line_names_its_year_only_when_it_changes() -> None:
    hits = [Hit(record(n, f"memory {n}", day), 1.0 - n / 10) for n, day in
            enumerate(["2023-12-30", "2024-01-02", "2024-01-02", "2024-02-01", "2025-01-01"])]  # fmt: skip
    text = pack(ContextParts(hits=hits), 1000, WORDS, lambda _m: [])["text"]
    dates = [line for line in text.splitlines()[1:] if not line.startswith("[")]
    assert dates == ["30 Dec 2023", "2 Jan 2024", "1 Feb", "1 Jan 2025"]


def test_a_long_memory_that_does_not_fit_lets_shorter_ones_in() -> None:
    hits = [
        Hit(record(1, "short one"), 0.9),
        Hit(record(2, "a very long memory " * 10), 0.8),
        Hit(record(3, "short two"), 0.7),
    ]
    out = pack(ContextParts(hits=hits), 14, WORDS, lambda _m: [])
    assert [c["text"] for c in out["citations"].values()] == ["short one", "short two"]
    assert out["tokens"] <= 14


def test_profile_and_relations_take_at_most_a_quarter_each() -> None:
    slots = [ProfileSlot(SCOPE, f"key_{n}", "some value here", None, "2024-01-01") for n in range(20)]
    rel = Relation("r", "alice", "lives_in", "paris", "a", "b", SCOPE, "2024", "2024")
    relations = [ScoredRelation(rel, 1.0, 1)] * 20
    hits = [Hit(record(n, f"memory {n}"), 1.0 - n / 100) for n in range(40)]
    out = pack(ContextParts(slots, relations, hits), 100, WORDS, lambda _m: [])
    kinds = [c["kind"] for c in out["citations"].values()]
    profile_words = sum(
        len(f"[p] {c['text']}".split()) for c in out["citations"].values() if c["kind"] == "profile"
    )
    assert 0 < profile_words <= 25 and "relation" in kinds and kinds.count("memory") > 10
    assert out["tokens"] <= 100


class Lumpy:
    """A counter that is not additive: the whole text costs more than its lines."""

    name = "lumpy"

    def count(self, text: str) -> int:
        return len(text.split()) + text.count("\n") * 2


def test_the_final_count_holds_for_a_counter_that_is_not_additive() -> None:
    parts = parts_of([f"memory number {n}" for n in range(30)])
    counter = TokenCounter("lumpy", Lumpy().count)
    out = pack(parts, 50, counter, lambda _m: [])
    assert out["tokens"] == counter.count(out["text"]) <= 50 and out["citations"]


def test_bytes_fallback_counts_utf8() -> None:
    assert byte_counter().count("é") == 2
