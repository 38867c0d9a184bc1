"""The other arguments of public calls: queries, top_k, paging, threshold (pure functions)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from memlane.errors import InvalidInputError
from memlane.memory.arguments import (
    MAX_TOP_K,
    page_links,
    validate_paging,
    validate_query,
    validate_threshold,
    validate_top_k,
)

# -- query, top_k, threshold -------------------------------------------------------------


def test_query() -> None:
    assert validate_query("where?") == "where?"
    for bad in ("", "   ", "\n", None, 5, ["q"]):
        with pytest.raises(InvalidInputError):
            validate_query(bad)


def test_top_k_and_limit() -> None:
    assert validate_top_k(None, None, 20) == 20
    assert validate_top_k(5, None, 20) == 5
    assert validate_top_k(None, 7, 20) == 7
    assert validate_top_k(3, 3, 20) == 3
    assert validate_top_k(0, None, 20) == 0
    assert validate_top_k(MAX_TOP_K, None, 20) == MAX_TOP_K


@pytest.mark.parametrize(
    ("top_k", "limit"),
    [(-1, None), (None, -5), (True, None), (None, False), (1.0, None), ("5", None), (10_001, None),
     (10**12, None), (3, 4), (0, 1)],
)  # fmt: skip
def test_bad_top_k(top_k: Any, limit: Any) -> None:
    with pytest.raises(InvalidInputError):
        validate_top_k(top_k, limit, 20)


def test_top_k_errors_name_the_parameter_given() -> None:
    with pytest.raises(InvalidInputError, match=r"^limit must be between 0 and 10,000, got 100,000$"):
        validate_top_k(None, 100_000, 20)
    with pytest.raises(InvalidInputError, match=r"^limit must be 0 or more"):
        validate_top_k(None, -1, 20, maximum=None)
    with pytest.raises(InvalidInputError, match=r"^top_k must be an int"):
        validate_top_k("5", None, 20)


def test_a_listing_takes_any_size() -> None:
    assert validate_top_k(None, 100_000, 100, maximum=None) == 100_000
    assert validate_top_k(10**30, None, 100, maximum=None) == 2**62  # "all", within SQL's range


def test_paging() -> None:
    assert validate_paging(None, None, None) is None
    assert validate_paging(None, None, 50) is None
    assert validate_paging(2, None, None) == (2, 100)
    assert validate_paging(2, None, 30) == (2, 30)
    assert validate_paging(None, 25, None) == (1, 25)
    assert validate_paging(3, 25, 25) == (3, 25)


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
        validate_paging(page, page_size, top_k)


def test_page_links() -> None:
    assert page_links(1, 100, 250) == {
        "count": 250, "page": 1, "page_size": 100, "next": 2, "previous": None
    }  # fmt: skip
    assert page_links(3, 100, 250)["next"] is None
    assert page_links(3, 100, 250)["previous"] == 2
    assert page_links(1, 100, 0)["next"] is None


def test_threshold() -> None:
    assert validate_threshold(None) is None
    assert validate_threshold(0) == 0.0
    assert validate_threshold(1) == 1.0
    assert validate_threshold(0.25) == 0.25


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf, -math.inf, True, False, "0.5", [0.5]])
def test_bad_threshold(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="threshold"):
        validate_threshold(value)
