"""mem0's filter language parsed into the typed tree every store compiles."""

from __future__ import annotations

import math
from typing import Any

import pytest

from memlane.errors import InvalidFilterError, InvalidInputError
from memlane.filters import OPERATORS, All, And, Cond, Not, Or, and_, parse_filters


def test_none_and_empty_match_everything() -> None:
    assert parse_filters(None) == All()
    assert parse_filters({}) == All()


def test_plain_value_is_equality() -> None:
    assert parse_filters({"user_id": "alice"}) == Cond("user_id", "eq", "alice")
    assert parse_filters({"n": 3}) == Cond("n", "eq", 3)
    assert parse_filters({"flag": True}) == Cond("flag", "eq", True)
    assert parse_filters({"x": 1.5}) == Cond("x", "eq", 1.5)


def test_star_means_the_key_is_set_on_metadata_keys() -> None:
    assert parse_filters({"category": "*"}) == Cond("category", "exists")


def test_exists_is_the_explicit_wildcard() -> None:
    assert parse_filters({"agent_id": {"exists": True}}) == Cond("agent_id", "exists")
    assert parse_filters({"agent_id": {"$exists": False}}) == Not(Cond("agent_id", "exists"))
    assert parse_filters({"category": {"exists": True}}) == Cond("category", "exists")


@pytest.mark.parametrize("key", ["user_id", "agent_id", "run_id", "actor_id", "id"])
@pytest.mark.parametrize(
    "filters",
    [
        lambda k: {k: "*"},
        lambda k: {k: " * "},
        lambda k: {k: {"eq": "*"}},
        lambda k: {k: {"ne": "*"}},
        lambda k: {k: {"in": ["alice", "*"]}},
        lambda k: {k: {"nin": ["*"]}},
        lambda k: {"OR": [{k: "*"}]},
        lambda k: {"NOT": [{k: "*"}]},
    ],
)
def test_star_is_never_an_id_value(key: str, filters: Any) -> None:
    # an untrusted id that happens to be "*" must not widen a call to every tenant
    with pytest.raises(InvalidFilterError, match="exists"):
        parse_filters(filters(key))


@pytest.mark.parametrize(
    "value", ["a\u200bb", "\u202eab", "a\u2066b", "\ufeffab", "a\x1fb", "", "  ", True, 1.5, None]
)
def test_id_values_follow_the_id_rule(value: Any) -> None:
    for filters in ({"user_id": value}, {"agent_id": {"in": [value]}}, {"actor_id": {"ne": value}}):
        with pytest.raises(InvalidFilterError):
            parse_filters(filters)


def test_id_values_are_trimmed_and_ints_become_strings() -> None:
    assert parse_filters({"user_id": 7}) == Cond("user_id", "eq", "7")
    assert parse_filters({"run_id": {"in": [1, " r2 "]}}) == Cond("run_id", "in", ("1", "r2"))
    assert parse_filters({"actor_id": " Alice Smith "}) == Cond(
        "actor_id", "eq", "Alice Smith"
    )  # names have spaces
    with pytest.raises(InvalidFilterError, match="whitespace"):
        parse_filters({"user_id": "alice smith"})


def test_contains_on_an_id_stays_a_substring_test() -> None:
    # an operator the caller wrote on purpose, not an id value
    assert parse_filters({"user_id": {"contains": "*"}}) == Cond("user_id", "contains", "*")


def test_several_keys_are_anded_in_order() -> None:
    assert parse_filters({"user_id": "a", "topic": "b"}) == And(
        (Cond("user_id", "eq", "a"), Cond("topic", "eq", "b"))
    )


@pytest.mark.parametrize("op", [o for o in OPERATORS if o != "exists"])
def test_every_operator_parses(op: str) -> None:
    value: Any = "x"
    if op in ("in", "nin"):
        value = ["x", "y"]
    expected_value = tuple(value) if isinstance(value, list) else value
    assert parse_filters({"k": {op: value}}) == Cond("k", op, expected_value)  # type: ignore[arg-type]


def test_operators_accept_a_dollar_prefix_and_any_case() -> None:
    assert parse_filters({"k": {"$gte": 2}}) == Cond("k", "gte", 2)
    assert parse_filters({"k": {"LT": 2}}) == Cond("k", "lt", 2)


def test_several_operators_on_one_key_are_merged() -> None:
    assert parse_filters({"n": {"gte": 1, "lt": 5}}) == And((Cond("n", "gte", 1), Cond("n", "lt", 5)))


def test_in_takes_tuples_and_lists() -> None:
    assert parse_filters({"k": {"in": ("a",)}}) == Cond("k", "in", ("a",))


def test_and_is_flattened() -> None:
    parsed = parse_filters({"user_id": "a", "AND": [{"x": 1}, {"AND": [{"y": 2}]}]})
    assert parsed == And((Cond("user_id", "eq", "a"), Cond("x", "eq", 1), Cond("y", "eq", 2)))


def test_or_and_not() -> None:
    assert parse_filters({"OR": [{"a": 1}, {"b": 2}]}) == Or((Cond("a", "eq", 1), Cond("b", "eq", 2)))
    assert parse_filters({"NOT": [{"a": 1}, {"b": 2}]}) == Not(And((Cond("a", "eq", 1), Cond("b", "eq", 2))))


@pytest.mark.parametrize("key", ["OR", "or", "$or", "$OR", "Or"])
def test_logical_keys_in_any_spelling(key: str) -> None:
    assert parse_filters({key: [{"a": 1}, {"b": 2}]}) == Or((Cond("a", "eq", 1), Cond("b", "eq", 2)))


def test_a_single_dict_is_accepted_for_a_logical_operator() -> None:
    assert parse_filters({"NOT": {"a": 1}}) == Not(Cond("a", "eq", 1))


def test_nested_logic() -> None:
    parsed = parse_filters({"OR": [{"AND": [{"a": 1}, {"b": 2}]}, {"NOT": [{"c": {"in": [3, 4]}}]}]})
    assert parsed == Or((And((Cond("a", "eq", 1), Cond("b", "eq", 2))), Not(Cond("c", "in", (3, 4)))))


def test_and_helper() -> None:
    a, b = Cond("a", "eq", 1), Cond("b", "eq", 2)
    assert and_() == All()
    assert and_(All(), All()) == All()
    assert and_(a) == a
    assert and_(All(), a, And((b,))) == And((a, b))


def test_keys_with_dots_and_dashes_are_allowed() -> None:
    assert parse_filters({"a.b-c_d": 1}) == Cond("a.b-c_d", "eq", 1)


@pytest.mark.parametrize(
    "filters",
    [
        {"k": {"regex": "x"}},
        {"k": {"like": "x"}},
        {"k": {"exists": "yes"}},
        {"k": {"exists": 1}},
        {"k": {"exists": None}},
        {"k": {}},
        {"k": {1: "x"}},
        {"k": None},
        {"k": [1, 2]},
        {"k": {"a": "b"}},
        {"k": math.nan},
        {"k": {"eq": math.nan}},
        {"k": "a\x00b"},
        {"k": {"in": ["ok", "\x00"]}},
        {"k": {"eq": None}},
        {"k": {"eq": [1]}},
        {"k": {"eq": {"x": 1}}},
        {"k": {"in": []}},
        {"k": {"in": "abc"}},
        {"k": {"in": [None]}},
        {"k": {"nin": [[1]]}},
        {"k": {"gt": True}},
        {"k": {"lte": False}},
        {"k": {"contains": 5}},
        {"k": {"icontains": None}},
        {"OR": []},
        {"OR": "x"},
        {"AND": [1]},
        {"NOT": [None]},
        {"XOR": [{"a": 1}]},
        {"": 1},
        {"bad key": 1},
        {"a'b": 1},
        {'a"b': 1},
        {"a;b": 1},
        {"x" * 101: 1},
        {5: 1},
        {"OR": [{"a": {"bogus": 1}}]},
    ],
)
def test_invalid_filters_raise(filters: Any) -> None:
    with pytest.raises(InvalidFilterError):
        parse_filters(filters)


def test_non_dict_filters_raise() -> None:
    with pytest.raises(InvalidFilterError, match="must be a dict"):
        parse_filters(["user_id", "a"])  # type: ignore[arg-type]


def test_unknown_operator_error_lists_the_known_ones() -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_filters({"k": {"regex": "x"}})
    message = str(info.value)
    assert "regex" in message
    for op in OPERATORS:
        assert op in message


def test_filter_errors_are_value_errors() -> None:
    assert issubclass(InvalidFilterError, InvalidInputError)
    assert issubclass(InvalidFilterError, ValueError)
