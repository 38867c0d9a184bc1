"""Profile cues: which profile slots a search query asks about."""

from __future__ import annotations

import pytest

from memlane.memory.search.profile_cues import asked_slots
from memlane.models import ProfileSlot, Scope


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("where does she live?", {"home_city", "country"}),
        ("Is Bob allergic to anything?", {"allergies"}),
        ("what are the kids called", {"children", "name", "preferred_name"}),
        ("who is his wife", {"partner"}),
        ("anything about Bangalore?", set()),  # values are no cue: BM25 finds them
        ("what is the weather like", set()),
    ],
)
def test_asked_slots(query: str, keys: set[str]) -> None:
    def slot(key: str, value: str) -> ProfileSlot:
        return ProfileSlot(scope=Scope(user_id="u"), key=key, value=value, valid_from="2024-01-01",
                           recorded_at="2024-01-01", memory_id="m-" + key)  # fmt: skip

    slots = [slot("home_city", "Bangalore"), slot("country", "India"), slot("allergies", "peanuts")]
    slots += [slot("children", "Ava and Leo"), slot("name", "Bob"), slot("preferred_name", "Bobby")]
    slots += [slot("partner", "Carla")]
    assert {s.key for s in asked_slots(slots, query)} == keys
