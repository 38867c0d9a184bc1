"""Validation and normalisation of the arguments of public calls (pure functions)."""

from __future__ import annotations

import logging
import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from memlane.errors import InvalidFilterError, InvalidInputError
from memlane.filters import All, And, Cond, Not, Or
from memlane.memory import inputs
from memlane.models import Scope

# -- ids and scope -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["alice", "a", "user-1_x.y@z", "o'brien", "ünï", "x" * 256, "a*", "שלום"])
def test_valid_ids(value: str) -> None:
    assert inputs.validate_id("user_id", value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" alice", "alice"), ("alice\n", "alice"), ("\talice ", "alice"), (7, "7"), (0, "0"), (-3, "-3")],
)
def test_ids_are_trimmed_and_ints_become_strings(value: Any, expected: str) -> None:
    # as mem0 does
    assert inputs.validate_id("user_id", value) == expected


@pytest.mark.parametrize("value", ["", " ", "a b", "tab\there", "nul\x00", "del\x7f", "x" * 257, "*", " * "])
def test_invalid_id_strings(value: str) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        inputs.validate_id("user_id", value)


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
     "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\x85", "\x1b"],
)  # fmt: skip
def test_ids_with_invisible_characters_are_refused(char: str) -> None:
    # two ids that print the same must not name two tenants
    with pytest.raises(InvalidInputError, match="zero-width or bidi-override"):
        inputs.validate_id("user_id", f"ali{char}ce")


def test_star_is_never_an_id_and_the_error_says_how_to_match_any() -> None:
    with pytest.raises(InvalidInputError) as info:
        inputs.validate_id("agent_id", "*")
    assert "{'agent_id': {'exists': True}}" in str(info.value)


@pytest.mark.parametrize("value", [True, False, None, ["a"], {"a": 1}, b"alice", 1.5])
def test_ids_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        inputs.validate_id("user_id", value)


def ids(user_id: Any = None, agent_id: Any = None, run_id: Any = None) -> dict[str, Any]:
    return {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}


def test_scope_from_top_level_ids() -> None:
    scope, where = inputs.resolve_scope(ids("alice", run_id="r1"), None)
    assert scope == Scope(user_id="alice", run_id="r1")
    assert where == And((Cond("user_id", "eq", "alice"), Cond("run_id", "eq", "r1")))


def test_scope_from_filters() -> None:
    scope, where = inputs.resolve_scope(ids(), {"user_id": "alice", "topic": "x"})
    assert scope == Scope(user_id="alice")
    assert where == And((Cond("user_id", "eq", "alice"), Cond("topic", "eq", "x")))


def test_the_same_id_in_both_places_is_fine() -> None:
    scope, _ = inputs.resolve_scope(ids("alice"), {"user_id": "alice"})
    assert scope == Scope(user_id="alice")


def test_an_id_given_twice_with_different_values_raises() -> None:
    with pytest.raises(InvalidInputError, match="twice"):
        inputs.resolve_scope(ids("alice"), {"user_id": "bob"})


def test_an_operator_on_an_id_stays_a_condition() -> None:
    scope, where = inputs.resolve_scope(ids(), {"user_id": {"in": ["a", "b"]}})
    assert scope == Scope()
    assert where == Cond("user_id", "in", ("a", "b"))
    scope, where = inputs.resolve_scope(ids(), {"user_id": {"exists": True}})
    assert scope == Scope()
    assert where == Cond("user_id", "exists")


@pytest.mark.parametrize("key", ["user_id", "agent_id", "run_id"])
@pytest.mark.parametrize("where", ["top", "filters", "both"])
def test_star_is_refused_as_an_id_in_either_place(key: str, where: str) -> None:
    # "*" from an untrusted caller must never become "every tenant"
    top = {key: "*"} if where in ("top", "both") else {}
    inner = {key: "*"} if where in ("filters", "both") else {}
    with pytest.raises(InvalidInputError, match=r"'\*'"):
        inputs.resolve_scope({**ids("alice"), **top} if key != "user_id" else {**ids(), **top}, inner)


def test_ids_inside_filters_are_trimmed_and_coerced() -> None:
    scope, _ = inputs.resolve_scope(ids(), {"user_id": 42, "agent_id": " helper "})
    assert scope == Scope(user_id="42", agent_id="helper")
    assert inputs.resolve_scope(ids(" 42 "), {"user_id": 42})[0] == Scope(user_id="42")


def test_some_id_is_required() -> None:
    with pytest.raises(InvalidInputError, match="user_id, agent_id or run_id"):
        inputs.resolve_scope(ids(), None)
    with pytest.raises(InvalidInputError):
        inputs.resolve_scope(ids(), {"topic": "x"})
    assert inputs.resolve_scope(ids(), None, require=False) == (Scope(), All())


def test_filters_must_be_a_dict() -> None:
    with pytest.raises(InvalidInputError, match="dict"):
        inputs.resolve_scope(ids("a"), [("user_id", "a")])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, ["alice"], 1.5])
def test_ids_inside_filters_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        inputs.resolve_scope(ids(), {"user_id": value})


def test_bad_ids_inside_filters_raise() -> None:
    with pytest.raises(InvalidInputError):
        inputs.resolve_scope(ids(), {"user_id": "a b"})
    with pytest.raises(InvalidInputError):
        inputs.resolve_scope(ids(), {"user_id": ""})
    with pytest.raises(InvalidFilterError):
        inputs.resolve_scope(ids(), {"user_id": None})


# -- query, top_k, threshold -------------------------------------------------------------


def test_query() -> None:
    assert inputs.validate_query("where?") == "where?"
    for bad in ("", "   ", "\n", None, 5, ["q"]):
        with pytest.raises(InvalidInputError):
            inputs.validate_query(bad)


def test_top_k_and_limit() -> None:
    assert inputs.validate_top_k(None, None, 20) == 20
    assert inputs.validate_top_k(5, None, 20) == 5
    assert inputs.validate_top_k(None, 7, 20) == 7
    assert inputs.validate_top_k(3, 3, 20) == 3
    assert inputs.validate_top_k(0, None, 20) == 0
    assert inputs.validate_top_k(inputs.MAX_TOP_K, None, 20) == inputs.MAX_TOP_K


@pytest.mark.parametrize(
    ("top_k", "limit"),
    [(-1, None), (None, -5), (True, None), (None, False), (1.0, None), ("5", None), (10_001, None),
     (10**12, None), (3, 4), (0, 1)],
)  # fmt: skip
def test_bad_top_k(top_k: Any, limit: Any) -> None:
    with pytest.raises(InvalidInputError):
        inputs.validate_top_k(top_k, limit, 20)


def test_top_k_errors_name_the_parameter_given() -> None:
    with pytest.raises(InvalidInputError, match=r"^limit must be between 0 and 10,000, got 100,000$"):
        inputs.validate_top_k(None, 100_000, 20)
    with pytest.raises(InvalidInputError, match=r"^limit must be 0 or more"):
        inputs.validate_top_k(None, -1, 20, maximum=None)
    with pytest.raises(InvalidInputError, match=r"^top_k must be an int"):
        inputs.validate_top_k("5", None, 20)


def test_a_listing_takes_any_size() -> None:
    assert inputs.validate_top_k(None, 100_000, 100, maximum=None) == 100_000
    assert inputs.validate_top_k(10**30, None, 100, maximum=None) == 2**62  # "all", within SQL's range


def test_paging() -> None:
    assert inputs.validate_paging(None, None, None) is None
    assert inputs.validate_paging(None, None, 50) is None
    assert inputs.validate_paging(2, None, None) == (2, 100)
    assert inputs.validate_paging(2, None, 30) == (2, 30)
    assert inputs.validate_paging(None, 25, None) == (1, 25)
    assert inputs.validate_paging(3, 25, 25) == (3, 25)


@pytest.mark.parametrize(
    ("page", "page_size", "top_k", "message"),
    [
        (0, None, None, "page must be 1 or more"),
        (-1, 10, None, "page must be 1 or more"),
        ("2", None, None, "page must be an int"),
        (True, None, None, "page must be an int"),
        (1, 0, None, "page_size must be 1 or more"),
        (1, 2.5, None, "page_size must be an int"),
        (1, 10, 20, "disagree"),
        (1, None, 0, "page size"),
    ],
)
def test_bad_paging(page: Any, page_size: Any, top_k: int | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        inputs.validate_paging(page, page_size, top_k)


def test_page_links() -> None:
    assert inputs.page_links(1, 100, 250) == {
        "count": 250, "page": 1, "page_size": 100, "next": 2, "previous": None
    }  # fmt: skip
    assert inputs.page_links(3, 100, 250)["next"] is None
    assert inputs.page_links(3, 100, 250)["previous"] == 2
    assert inputs.page_links(1, 100, 0)["next"] is None


def test_threshold() -> None:
    assert inputs.validate_threshold(None) is None
    assert inputs.validate_threshold(0) == 0.0
    assert inputs.validate_threshold(1) == 1.0
    assert inputs.validate_threshold(0.25) == 0.25


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf, -math.inf, True, False, "0.5", [0.5]])
def test_bad_threshold(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="threshold"):
        inputs.validate_threshold(value)


# -- metadata ----------------------------------------------------------------------------


def test_metadata_is_copied() -> None:
    original = {"topic": "food", "n": 1, "nested": {"a": [1, 2]}}
    cleaned = inputs.clean_metadata(original)
    assert cleaned == original and cleaned is not original
    assert inputs.clean_metadata(None) == {}


def test_identity_keys_are_stripped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="memlane"):
        cleaned = inputs.clean_metadata(
            {"user_id": "evil", "agent_id": "x", "run_id": "y", "actor_id": "z", "topic": "ok"}
        )
    assert cleaned == {"topic": "ok"}
    warned = " ".join(r.getMessage() for r in caplog.records)
    for key in ("user_id", "agent_id", "run_id", "actor_id"):
        assert key in warned


@pytest.mark.parametrize(
    "metadata",
    ["x", 5, ["a"], {1: "x"}, {"": 1}, {"k": object()}, {"k": {1, 2}}, {"k": math.nan}, {"k": math.inf},
     {"k": b"bytes"}, {"k": datetime.now(UTC)}, {"k": "a\x00b"}, {"k\x00": 1}, {"k": {"n": ["\x00"]}}],
)  # fmt: skip
def test_bad_metadata(metadata: Any) -> None:
    with pytest.raises(InvalidInputError, match="metadata"):
        inputs.clean_metadata(metadata)


# -- messages ----------------------------------------------------------------------------


def test_a_string_is_one_user_message() -> None:
    [message] = inputs.normalize_messages("I like tea")
    assert (message.role, message.content, message.name) == ("user", "I like tea", None)


def test_a_dict_is_one_message_and_role_defaults_to_user() -> None:
    [message] = inputs.normalize_messages({"content": "hi"})
    assert message.role == "user"


def test_a_list_keeps_order_roles_and_names() -> None:
    messages = inputs.normalize_messages(
        [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": "I moved", "name": " alice "},
            {"role": "assistant", "content": "Where to?"},
            {"role": "user", "content": "   "},
            {"role": "tool", "content": "tool output"},
        ]
    )
    assert [(m.role, m.content, m.name) for m in messages] == [
        ("user", "I moved", "alice"),
        ("assistant", "Where to?", None),
        ("tool", "tool output", None),
    ]
    assert len({m.id for m in messages}) == 3


def test_list_content_keeps_text_parts_and_collects_images() -> None:
    [message] = inputs.normalize_messages(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look at this"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                {"type": "text", "text": "my cat"},
                {"type": "input_audio", "input_audio": {}},
            ],
        }
    )
    assert message.content == "look at this\nmy cat"
    assert message.images == ("https://example.com/cat.png",)


def test_a_single_part_dict_as_content() -> None:
    [message] = inputs.normalize_messages({"role": "user", "content": {"type": "text", "text": "hi"}})
    assert message.content == "hi"


@pytest.mark.parametrize(
    "messages",
    [
        None,
        5,
        b"bytes",
        ("a", "b"),
        [],
        [1, 2],
        ["just a string in a list"],
        {"role": "user"},
        {"role": "user", "content": 5},
        {"role": "user", "content": None},
        {"role": "user", "content": [1]},
        {"role": "user", "content": [{"type": "text", "text": 5}]},
        {"role": "user", "content": [{"type": "text"}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]},
        {"role": 5, "content": "x"},
        {"role": "", "content": "x"},
        {"role": "user", "content": "x", "name": ""},
        {"role": "user", "content": "x", "name": 5},
        {"role": "user", "content": "x", "name": "*"},
        {"role": "user", "content": "x", "name": "al\u202eice"},
        {"role": "user", "content": "x" * (inputs.MAX_MESSAGE_CHARS + 1)},
        [{"role": "user", "content": "x" * inputs.MAX_MESSAGE_CHARS}] * 11,
        "",
        "   ",
        {"role": "system", "content": "only a system prompt"},
        [{"role": "user", "content": ""}, {"role": "assistant", "content": [{"type": "text", "text": " "}]}],
    ],
)
def test_bad_messages(messages: Any) -> None:
    with pytest.raises(InvalidInputError):
        inputs.normalize_messages(messages)


def test_size_limits_say_the_limit_the_size_and_what_to_do() -> None:
    with pytest.raises(InvalidInputError) as info:
        inputs.normalize_messages("x" * 100_001)
    assert str(info.value) == (
        "message 0 holds 100,001 characters, more than the limit of 100,000: "
        "split the text into several messages or add() calls"
    )
    with pytest.raises(InvalidInputError, match=r"1,000,001 characters in all.*limit of 1,000,000 per add"):
        inputs.normalize_messages([{"role": "user", "content": "x" * 100_000}] * 10 + [{"content": "!"}])
    assert len(inputs.normalize_messages([{"role": "user", "content": "x" * 100_000}] * 10)) == 10


# -- times -------------------------------------------------------------------------------


def test_timestamps_become_utc_iso() -> None:
    assert inputs.parse_timestamp(None) is None
    assert inputs.parse_timestamp("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00+00:00"
    assert inputs.parse_timestamp("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00+00:00"
    assert inputs.parse_timestamp("2024-05-01") == "2024-05-01T00:00:00+00:00"
    assert inputs.parse_timestamp(0) == "1970-01-01T00:00:00+00:00"
    assert inputs.parse_timestamp(1714557600.5) == "2024-05-01T10:00:00.500000+00:00"
    naive = datetime(2024, 5, 1, 10, 0)
    assert inputs.parse_timestamp(naive) == "2024-05-01T10:00:00+00:00"
    aware = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert inputs.parse_timestamp(aware) == "2024-05-01T15:00:00+00:00"
    assert inputs.parse_timestamp(date(2024, 5, 1)) == "2024-05-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000000", "2023-11-14T22:13:20+00:00"),
        (" 1700000000.5 ", "2023-11-14T22:13:20.500000+00:00"),
        ("0", "1970-01-01T00:00:00+00:00"),
        ("1900-01-01", "1900-01-01T00:00:00+00:00"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"),
        (253402300799, "9999-12-31T23:59:59+00:00"),
    ],
)
def test_unix_seconds_as_a_string_and_the_bounds(value: Any, expected: str) -> None:
    assert inputs.parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2024-13-01", "", True, math.nan, math.inf, 1e20, [2024], {"t": 1}, object(),
     -5, -0.5, "-5", "1899-12-31", "0001-01-01", datetime(1800, 1, 1), date(1066, 10, 14), 253402300800,
     "9999-12-31T23:59:59-05:00"],
)  # fmt: skip
def test_bad_timestamps(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="timestamp"):
        inputs.parse_timestamp(value)


def test_a_negative_unix_time_says_why() -> None:
    with pytest.raises(InvalidInputError, match="negative: Unix seconds start at 0"):
        inputs.parse_timestamp(-5, "reference_date")


def test_one_parser_for_every_time_argument() -> None:
    # timestamp, reference_date and expiration_date read the same forms
    assert inputs.parse_expiration(1700000000) == "2023-11-14"
    assert inputs.parse_expiration("1700000000") == "2023-11-14"
    for name in ("reference_date", "as_of"):
        assert inputs.parse_timestamp("1700000000", name) == "2023-11-14T22:13:20+00:00"
        with pytest.raises(InvalidInputError, match=name):
            inputs.parse_timestamp("-1", name)


def test_expiration_dates() -> None:
    assert inputs.parse_expiration(None) is None
    assert inputs.parse_expiration("2030-01-02") == "2030-01-02"
    assert inputs.parse_expiration(" 2030-01-02T10:00:00Z") == "2030-01-02"
    assert inputs.parse_expiration(date(2030, 1, 2)) == "2030-01-02"
    assert inputs.parse_expiration(datetime(2030, 1, 2, 23, 59)) == "2030-01-02"


@pytest.mark.parametrize(
    "value", ["soon", "2030-02-30", "", "30-01-2030", -20300102, True, -1.5, ["2030-01-02"], "1800-01-01"]
)
def test_bad_expiration_dates(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="expiration_date"):
        inputs.parse_expiration(value)


def test_expiration_filter_keeps_undated_and_not_yet_passed() -> None:
    assert inputs.expiration_filter("2030-01-01") == Or(
        (Not(Cond("expiration_date", "exists")), Cond("expiration_date", "gte", "2030-01-01"))
    )


def test_eight_digits_are_an_iso_basic_date_not_unix_seconds() -> None:
    assert inputs.parse_timestamp("20240501") == "2024-05-01T00:00:00+00:00"
    assert inputs.parse_expiration("20300102") == "2030-01-02"
    assert inputs.parse_timestamp("1700000000") == "2023-11-14T22:13:20+00:00"
