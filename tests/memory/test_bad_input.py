"""Bad arguments raise a typed memlane error (a ValueError) and write nothing."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from memlane import InvalidFilterError, InvalidInputError, MemlaneError, Memory, NotFoundError
from tests.conftest import Snapshot

Call = Callable[[Any, str], Any]
"""A call on a Memory (typed Any: the calls pass wrong types on purpose) holding one memory of
user "alice", whose id is the second argument."""

UNKNOWN = "00000000-0000-4000-8000-000000000000"
IMAGE_ONLY = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}

CASES: list[tuple[str, Call, type[MemlaneError]]] = [
    # ids of the wrong type, empty, or with whitespace inside
    ("add-user-bool", lambda m, i: m.add("x", user_id=True, infer=False), InvalidInputError),
    ("add-user-list", lambda m, i: m.add("x", user_id=["alice"], infer=False), InvalidInputError),
    ("add-agent-float", lambda m, i: m.add("x", agent_id=1.5, infer=False), InvalidInputError),
    ("add-run-dict", lambda m, i: m.add("x", run_id={"a": 1}, infer=False), InvalidInputError),
    ("add-user-empty", lambda m, i: m.add("x", user_id="", infer=False), InvalidInputError),
    ("add-user-space", lambda m, i: m.add("x", user_id="alice smith", infer=False), InvalidInputError),
    ("add-user-control", lambda m, i: m.add("x", user_id="al\x00ice", infer=False), InvalidInputError),
    ("add-user-long", lambda m, i: m.add("x", user_id="a" * 300, infer=False), InvalidInputError),
    ("add-no-id", lambda m, i: m.add("x", infer=False), InvalidInputError),
    ("add-none-ids", lambda m, i: m.add("x", user_id=None, agent_id=None, run_id=None), InvalidInputError),
    ("add-filters-empty", lambda m, i: m.add("x", filters={"user_id": ""}, infer=False), InvalidInputError),
    ("add-filters-none", lambda m, i: m.add("x", filters={"user_id": None}, infer=False), InvalidFilterError),
    ("add-filters-clash", lambda m, i: m.add("x", user_id="a", filters={"user_id": "b"}), InvalidInputError),
    ("add-filters-other", lambda m, i: m.add("x", user_id="a", filters={"topic": "t"}), InvalidInputError),
    ("add-filters-not-dict", lambda m, i: m.add("x", user_id="a", filters="user_id=a"), InvalidInputError),
    ("search-filters-bool", lambda m, i: m.search("q", filters={"agent_id": False}), InvalidInputError),
    ("search-no-id", lambda m, i: m.search("q"), InvalidInputError),
    ("get-all-user-bool", lambda m, i: m.get_all(user_id=True), InvalidInputError),
    ("get-all-filters-list", lambda m, i: m.get_all(filters={"user_id": ["alice"]}), InvalidInputError),
    ("get-all-no-id", lambda m, i: m.get_all(), InvalidInputError),
    ("delete-all-empty", lambda m, i: m.delete_all(user_id=""), InvalidInputError),
    ("delete-all-space", lambda m, i: m.delete_all(user_id="ali ce"), InvalidInputError),
    ("delete-all-none", lambda m, i: m.delete_all(), InvalidInputError),
    (
        "delete-all-bad-filter",
        lambda m, i: m.delete_all("alice", filters={"k": {"bogus": 1}}),
        InvalidFilterError,
    ),
    # "*" is never an id; invisible characters make look-alike ids
    ("add-user-star", lambda m, i: m.add("x", user_id="*", infer=False), InvalidInputError),
    ("add-agent-star", lambda m, i: m.add("x", user_id="a", agent_id="*", infer=False), InvalidInputError),
    ("add-filters-star", lambda m, i: m.add("x", filters={"run_id": "*"}, infer=False), InvalidInputError),
    ("add-name-star", lambda m, i: m.add({"content": "x", "name": "*"}, user_id="a"), InvalidInputError),
    ("add-user-zero-width", lambda m, i: m.add("x", user_id="ali\u200bce"), InvalidInputError),
    ("add-user-bidi", lambda m, i: m.add("x", user_id="\u202ealice", infer=False), InvalidInputError),
    ("search-user-star", lambda m, i: m.search("q", user_id="*"), InvalidInputError),
    ("search-filters-star", lambda m, i: m.search("q", filters={"user_id": "*"}), InvalidInputError),
    (
        "search-or-star",
        lambda m, i: m.search("q", user_id="alice", filters={"OR": [{"agent_id": "*"}]}),
        InvalidFilterError,
    ),
    (
        "search-actor-star",
        lambda m, i: m.search("q", user_id="alice", filters={"actor_id": "*"}),
        InvalidFilterError,
    ),
    ("get-all-star", lambda m, i: m.get_all(filters={"user_id": "*"}), InvalidInputError),
    ("delete-all-star", lambda m, i: m.delete_all(user_id="*"), InvalidInputError),
    ("delete-all-filters-star", lambda m, i: m.delete_all(filters={"user_id": "*"}), InvalidInputError),
    (
        "delete-all-exists",
        lambda m, i: m.delete_all(filters={"user_id": {"exists": True}}),
        InvalidInputError,
    ),
    ("delete-all-feff", lambda m, i: m.delete_all(user_id="\ufeffalice"), InvalidInputError),
    ("get-star", lambda m, i: m.get("*"), InvalidInputError),
    ("update-star", lambda m, i: m.update("*", text="x"), InvalidInputError),
    ("delete-star", lambda m, i: m.delete("*"), InvalidInputError),
    ("history-star", lambda m, i: m.history("*"), InvalidInputError),
    ("get-none", lambda m, i: m.get(None), InvalidInputError),
    ("get-empty", lambda m, i: m.get(""), InvalidInputError),
    ("update-int-id", lambda m, i: m.update(5, text="x"), NotFoundError),  # "5": no such memory
    ("delete-none-id", lambda m, i: m.delete(None), InvalidInputError),
    ("delete-bool-id", lambda m, i: m.delete(True), InvalidInputError),
    ("history-list-id", lambda m, i: m.history([i]), InvalidInputError),
    ("history-empty-id", lambda m, i: m.history(""), InvalidInputError),
    # messages of the wrong type
    ("msg-int", lambda m, i: m.add(42, user_id="alice", infer=False), InvalidInputError),
    ("msg-none", lambda m, i: m.add(None, user_id="alice", infer=False), InvalidInputError),
    ("msg-bytes", lambda m, i: m.add(b"hello", user_id="alice", infer=False), InvalidInputError),
    ("msg-tuple", lambda m, i: m.add(("a", "b"), user_id="alice", infer=False), InvalidInputError),
    ("msg-list-ints", lambda m, i: m.add([1, 2], user_id="alice", infer=False), InvalidInputError),
    ("msg-list-strs", lambda m, i: m.add(["hello"], user_id="alice", infer=False), InvalidInputError),
    ("msg-no-content", lambda m, i: m.add({"role": "user"}, user_id="alice", infer=False), InvalidInputError),
    ("msg-content-int", lambda m, i: m.add({"content": 5}, user_id="alice", infer=False), InvalidInputError),
    (
        "msg-content-none",
        lambda m, i: m.add({"content": None}, user_id="alice", infer=False),
        InvalidInputError,
    ),
    ("msg-part-int", lambda m, i: m.add({"content": [1]}, user_id="alice", infer=False), InvalidInputError),
    (
        "msg-part-text-int",
        lambda m, i: m.add({"content": [{"type": "text", "text": 5}]}, user_id="alice", infer=False),
        InvalidInputError,
    ),
    ("msg-role-int", lambda m, i: m.add({"role": 5, "content": "x"}, user_id="alice"), InvalidInputError),
    ("msg-name-empty", lambda m, i: m.add({"content": "x", "name": ""}, user_id="alice"), InvalidInputError),
    ("msg-empty", lambda m, i: m.add("", user_id="alice", infer=False), InvalidInputError),
    ("msg-blank", lambda m, i: m.add("  \n ", user_id="alice", infer=False), InvalidInputError),
    ("msg-empty-list", lambda m, i: m.add([], user_id="alice", infer=False), InvalidInputError),
    (
        "msg-only-system",
        lambda m, i: m.add({"role": "system", "content": "be nice"}, user_id="alice", infer=False),
        InvalidInputError,
    ),
    (
        "msg-one-bad-among-good",
        lambda m, i: m.add([{"content": "fine"}, {"content": 5}], user_id="alice", infer=False),
        InvalidInputError,
    ),
    ("msg-only-image", lambda m, i: m.add(IMAGE_ONLY, user_id="alice", infer=False), InvalidInputError),
    # filters
    (
        "filter-op",
        lambda m, i: m.search("q", user_id="alice", filters={"k": {"regex": "."}}),
        InvalidFilterError,
    ),
    ("filter-no-op", lambda m, i: m.search("q", user_id="alice", filters={"k": {}}), InvalidFilterError),
    ("filter-or-empty", lambda m, i: m.search("q", user_id="alice", filters={"OR": []}), InvalidFilterError),
    ("filter-none", lambda m, i: m.get_all(user_id="alice", filters={"k": None}), InvalidFilterError),
    ("filter-list", lambda m, i: m.get_all(user_id="alice", filters={"k": [1]}), InvalidFilterError),
    ("filter-key", lambda m, i: m.get_all(user_id="alice", filters={"bad key": 1}), InvalidFilterError),
    (
        "filter-in-empty",
        lambda m, i: m.get_all(user_id="alice", filters={"k": {"in": []}}),
        InvalidFilterError,
    ),
    (
        "filter-gt-bool",
        lambda m, i: m.get_all(user_id="alice", filters={"k": {"gt": True}}),
        InvalidFilterError,
    ),
    ("filter-nan", lambda m, i: m.get_all(user_id="alice", filters={"k": math.nan}), InvalidFilterError),
    ("filters-str", lambda m, i: m.search("q", user_id="alice", filters="k=1"), InvalidInputError),
    # threshold
    ("threshold-neg", lambda m, i: m.search("q", user_id="alice", threshold=-0.1), InvalidInputError),
    ("threshold-big", lambda m, i: m.search("q", user_id="alice", threshold=1.5), InvalidInputError),
    ("threshold-nan", lambda m, i: m.search("q", user_id="alice", threshold=math.nan), InvalidInputError),
    ("threshold-inf", lambda m, i: m.search("q", user_id="alice", threshold=math.inf), InvalidInputError),
    ("threshold-bool", lambda m, i: m.search("q", user_id="alice", threshold=True), InvalidInputError),
    ("threshold-str", lambda m, i: m.search("q", user_id="alice", threshold="0.5"), InvalidInputError),
    # top_k and limit
    ("top-k-neg", lambda m, i: m.search("q", user_id="alice", top_k=-1), InvalidInputError),
    ("top-k-bool", lambda m, i: m.search("q", user_id="alice", top_k=True), InvalidInputError),
    ("top-k-huge", lambda m, i: m.search("q", user_id="alice", top_k=10**9), InvalidInputError),
    ("top-k-float", lambda m, i: m.search("q", user_id="alice", top_k=2.0), InvalidInputError),
    ("top-k-str", lambda m, i: m.search("q", user_id="alice", top_k="5"), InvalidInputError),
    ("top-k-limit-clash", lambda m, i: m.search("q", user_id="alice", top_k=3, limit=4), InvalidInputError),
    ("limit-neg", lambda m, i: m.get_all(user_id="alice", limit=-1), InvalidInputError),
    ("get-all-top-k-bool", lambda m, i: m.get_all(user_id="alice", top_k=False), InvalidInputError),
    ("get-all-clash", lambda m, i: m.get_all(user_id="alice", top_k=1, limit=2), InvalidInputError),
    # queries
    ("query-empty", lambda m, i: m.search("", user_id="alice"), InvalidInputError),
    ("query-blank", lambda m, i: m.search("   ", user_id="alice"), InvalidInputError),
    ("query-none", lambda m, i: m.search(None, user_id="alice"), InvalidInputError),
    ("query-int", lambda m, i: m.search(5, user_id="alice"), InvalidInputError),
    # update
    ("update-nothing", lambda m, i: m.update(i), InvalidInputError),
    ("update-empty-text", lambda m, i: m.update(i, text=""), InvalidInputError),
    ("update-blank-text", lambda m, i: m.update(i, text="   "), InvalidInputError),
    ("update-int-text", lambda m, i: m.update(i, text=5), InvalidInputError),
    ("update-list-text", lambda m, i: m.update(i, text=["a"]), InvalidInputError),
    ("update-bad-metadata", lambda m, i: m.update(i, metadata="x"), InvalidInputError),
    (
        "update-metadata-object",
        lambda m, i: m.update(i, text="new", metadata={"k": object()}),
        InvalidInputError,
    ),
    (
        "update-bad-expiration",
        lambda m, i: m.update(i, text="new", expiration_date="soon"),
        InvalidInputError,
    ),
    # unknown ids
    ("update-unknown", lambda m, i: m.update(UNKNOWN, text="x"), NotFoundError),
    ("delete-unknown", lambda m, i: m.delete(UNKNOWN), NotFoundError),
    ("update-unknown-plain", lambda m, i: m.update("no-such-memory", metadata={"a": 1}), NotFoundError),
    # metadata
    ("meta-str", lambda m, i: m.add("x", user_id="alice", metadata="x", infer=False), InvalidInputError),
    ("meta-list", lambda m, i: m.add("x", user_id="alice", metadata=[1], infer=False), InvalidInputError),
    ("meta-object", lambda m, i: m.add("x", user_id="alice", metadata={"k": object()}), InvalidInputError),
    ("meta-set", lambda m, i: m.add("x", user_id="alice", metadata={"k": {1, 2}}), InvalidInputError),
    ("meta-nan", lambda m, i: m.add("x", user_id="alice", metadata={"k": math.nan}), InvalidInputError),
    ("meta-int-key", lambda m, i: m.add("x", user_id="alice", metadata={1: "v"}), InvalidInputError),
    ("meta-empty-key", lambda m, i: m.add("x", user_id="alice", metadata={"": 1}), InvalidInputError),
    ("meta-nul", lambda m, i: m.add("x", user_id="alice", metadata={"k": "a\x00b"}), InvalidInputError),
    ("meta-bytes", lambda m, i: m.add("x", user_id="alice", metadata={"k": b"v"}), InvalidInputError),
    # timestamps and expiration dates
    (
        "ts-word",
        lambda m, i: m.add("x", user_id="alice", timestamp="yesterday", infer=False),
        InvalidInputError,
    ),
    ("ts-bool", lambda m, i: m.add("x", user_id="alice", timestamp=True, infer=False), InvalidInputError),
    ("ts-nan", lambda m, i: m.add("x", user_id="alice", timestamp=math.nan, infer=False), InvalidInputError),
    ("ts-huge", lambda m, i: m.add("x", user_id="alice", timestamp=1e20, infer=False), InvalidInputError),
    ("ts-list", lambda m, i: m.add("x", user_id="alice", timestamp=[2024], infer=False), InvalidInputError),
    ("exp-word", lambda m, i: m.add("x", user_id="alice", expiration_date="soon"), InvalidInputError),
    ("exp-feb-30", lambda m, i: m.add("x", user_id="alice", expiration_date="2030-02-30"), InvalidInputError),
    ("exp-bool", lambda m, i: m.add("x", user_id="alice", expiration_date=True), InvalidInputError),
    ("ts-negative", lambda m, i: m.add("x", user_id="alice", timestamp=-5, infer=False), InvalidInputError),
    ("ts-year-1800", lambda m, i: m.add("x", user_id="alice", timestamp="1800-01-01"), InvalidInputError),
    ("exp-negative", lambda m, i: m.add("x", user_id="alice", expiration_date=-1), InvalidInputError),
    ("ref-negative", lambda m, i: m.search("q", user_id="alice", reference_date="-5"), InvalidInputError),
    (
        "meta-created-at",
        lambda m, i: m.add("x", user_id="a", metadata={"created_at": "soon"}),
        InvalidInputError,
    ),
    # sizes and paging
    ("msg-too-long", lambda m, i: m.add("x" * 100_001, user_id="alice", infer=False), InvalidInputError),
    (
        "add-too-much",
        lambda m, i: m.add([{"content": "x" * 100_000}] * 11, user_id="alice"),
        InvalidInputError,
    ),
    ("update-too-long", lambda m, i: m.update(i, text="x" * 100_001), InvalidInputError),
    ("get-all-page-0", lambda m, i: m.get_all(user_id="alice", page=0), InvalidInputError),
    ("get-all-limit-neg", lambda m, i: m.get_all(user_id="alice", limit=-1), InvalidInputError),
    # other arguments
    (
        "memory-type",
        lambda m, i: m.add("x", agent_id="a", memory_type="reminder", infer=False),
        InvalidInputError,
    ),
]


@pytest.fixture
def existing(memory: Memory) -> str:
    """One memory with an update in its history, so that there are rows of every kind."""
    mid: str = memory.add({"role": "user", "content": "I like tea", "name": "alice"}, user_id="alice")[
        "results"
    ][0]["id"]
    memory.update(mid, text="I like green tea")
    return mid


@pytest.mark.parametrize(("call", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_and_writes_nothing(
    memory: Memory, existing: str, snapshot: Snapshot, call: Call, error: type[MemlaneError]
) -> None:
    before = snapshot()
    item_before = memory.get(existing)
    with pytest.raises(error) as info:
        call(memory, existing)
    assert isinstance(info.value, ValueError)
    assert type(info.value) is error
    assert str(info.value)
    assert snapshot() == before
    assert memory.get(existing) == item_before
    assert [h["event"] for h in memory.history(existing)] == ["ADD", "UPDATE"]


def test_case_ids_are_unique() -> None:
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


def test_the_memory_still_works_after_bad_input(memory: Memory, existing: str) -> None:
    for _, call, error in CASES[:20]:
        with pytest.raises(error):
            call(memory, existing)
    memory.add("still fine", user_id="alice", infer=False)
    assert len(memory.get_all(user_id="alice")["results"]) == 2
