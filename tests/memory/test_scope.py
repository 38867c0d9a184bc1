"""Ids and scopes of public calls (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from memlane.errors import InvalidFilterError, InvalidInputError
from memlane.filters import All, And, Cond
from memlane.memory.scope import resolve_scope, validate_id
from memlane.models import Scope

# -- ids and scope -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["alice", "a", "user-1_x.y@z", "o'brien", "ünï", "x" * 256, "a*", "שלום"])
def test_valid_ids(value: str) -> None:
    assert validate_id("user_id", value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" alice", "alice"), ("alice\n", "alice"), ("\talice ", "alice"), (7, "7"), (0, "0"), (-3, "-3")],
)
def test_ids_are_trimmed_and_ints_become_strings(value: Any, expected: str) -> None:
    # as mem0 does
    assert validate_id("user_id", value) == expected


@pytest.mark.parametrize("value", ["", " ", "a b", "tab\there", "nul\x00", "del\x7f", "x" * 257, "*", " * "])
def test_invalid_id_strings(value: str) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        validate_id("user_id", value)


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
     "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\x85", "\x1b"],
)  # fmt: skip
def test_ids_with_invisible_characters_are_refused(char: str) -> None:
    # two ids that print the same must not name two tenants
    with pytest.raises(InvalidInputError, match="zero-width or bidi-override"):
        validate_id("user_id", f"ali{char}ce")


def test_star_is_never_an_id_and_the_error_says_how_to_match_any() -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_id("agent_id", "*")
    assert "{'agent_id': {'exists': True}}" in str(info.value)


@pytest.mark.parametrize("value", [True, False, None, ["a"], {"a": 1}, b"alice", 1.5])
def test_ids_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        validate_id("user_id", value)


def ids(user_id: Any = None, agent_id: Any = None, run_id: Any = None) -> dict[str, Any]:
    return {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}


def test_scope_from_top_level_ids() -> None:
    scope, where = resolve_scope(ids("alice", run_id="r1"), None)
    assert scope == Scope(user_id="alice", run_id="r1")
    assert where == And((Cond("user_id", "eq", "alice"), Cond("run_id", "eq", "r1")))


def test_scope_from_filters() -> None:
    scope, where = resolve_scope(ids(), {"user_id": "alice", "topic": "x"})
    assert scope == Scope(user_id="alice")
    assert where == And((Cond("user_id", "eq", "alice"), Cond("topic", "eq", "x")))


def test_the_same_id_in_both_places_is_fine() -> None:
    scope, _ = resolve_scope(ids("alice"), {"user_id": "alice"})
    assert scope == Scope(user_id="alice")


def test_an_id_given_twice_with_different_values_raises() -> None:
    with pytest.raises(InvalidInputError, match="twice"):
        resolve_scope(ids("alice"), {"user_id": "bob"})


def test_an_operator_on_an_id_stays_a_condition() -> None:
    scope, where = resolve_scope(ids(), {"user_id": {"in": ["a", "b"]}})
    assert scope == Scope()
    assert where == Cond("user_id", "in", ("a", "b"))
    scope, where = resolve_scope(ids(), {"user_id": {"exists": True}})
    assert scope == Scope()
    assert where == Cond("user_id", "exists")


@pytest.mark.parametrize("key", ["user_id", "agent_id", "run_id"])
@pytest.mark.parametrize("where", ["top", "filters", "both"])
def test_star_is_refused_as_an_id_in_either_place(key: str, where: str) -> None:
    # "*" from an untrusted caller must never become "every tenant"
    top = {key: "*"} if where in ("top", "both") else {}
    inner = {key: "*"} if where in ("filters", "both") else {}
    with pytest.raises(InvalidInputError, match=r"'\*'"):
        resolve_scope({**ids("alice"), **top} if key != "user_id" else {**ids(), **top}, inner)


def test_ids_inside_filters_are_trimmed_and_coerced() -> None:
    scope, _ = resolve_scope(ids(), {"user_id": 42, "agent_id": " helper "})
    assert scope == Scope(user_id="42", agent_id="helper")
    assert resolve_scope(ids(" 42 "), {"user_id": 42})[0] == Scope(user_id="42")


def test_some_id_is_required() -> None:
    with pytest.raises(InvalidInputError, match="user_id, agent_id or run_id"):
        resolve_scope(ids(), None)
    with pytest.raises(InvalidInputError):
        resolve_scope(ids(), {"topic": "x"})
    assert resolve_scope(ids(), None, require=False) == (Scope(), All())


def test_filters_must_be_a_dict() -> None:
    with pytest.raises(InvalidInputError, match="dict"):
        resolve_scope(ids("a"), [("user_id", "a")])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, ["alice"], 1.5])
def test_ids_inside_filters_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        resolve_scope(ids(), {"user_id": value})


def test_bad_ids_inside_filters_raise() -> None:
    with pytest.raises(InvalidInputError):
        resolve_scope(ids(), {"user_id": "a b"})
    with pytest.raises(InvalidInputError):
        resolve_scope(ids(), {"user_id": ""})
    with pytest.raises(InvalidFilterError):
        resolve_scope(ids(), {"user_id": None})
