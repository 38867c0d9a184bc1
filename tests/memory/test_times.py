"""Times of public calls, read as UTC ISO-8601 (pure functions)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from memlane.errors import InvalidInputError
from memlane.filters import Cond, Not, Or
from memlane.memory.times import expiration_filter, parse_expiration, parse_timestamp

# -- times -------------------------------------------------------------------------------


def test_timestamps_become_utc_iso() -> None:
    assert parse_timestamp(None) is None
    assert parse_timestamp("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00+00:00"
    assert parse_timestamp("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00+00:00"
    assert parse_timestamp("2024-05-01") == "2024-05-01T00:00:00+00:00"
    assert parse_timestamp(0) == "1970-01-01T00:00:00+00:00"
    assert parse_timestamp(1714557600.5) == "2024-05-01T10:00:00.500000+00:00"
    naive = datetime(2024, 5, 1, 10, 0)
    assert parse_timestamp(naive) == "2024-05-01T10:00:00+00:00"
    aware = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_timestamp(aware) == "2024-05-01T15:00:00+00:00"
    assert parse_timestamp(date(2024, 5, 1)) == "2024-05-01T00:00:00+00:00"


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
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2024-13-01", "", True, math.nan, math.inf, 1e20, [2024], {"t": 1}, object(),
     -5, -0.5, "-5", "1899-12-31", "0001-01-01", datetime(1800, 1, 1), date(1066, 10, 14), 253402300800,
     "9999-12-31T23:59:59-05:00"],
)  # fmt: skip
def test_bad_timestamps(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="timestamp"):
        parse_timestamp(value)


def test_a_negative_unix_time_says_why() -> None:
    with pytest.raises(InvalidInputError, match="negative: Unix seconds start at 0"):
        parse_timestamp(-5, "reference_date")


def test_one_parser_for_every_time_argument() -> None:
    # timestamp, reference_date and expiration_date read the same forms
    assert parse_expiration(1700000000) == "2023-11-14"
    assert parse_expiration("1700000000") == "2023-11-14"
    for name in ("reference_date", "as_of"):
        assert parse_timestamp("1700000000", name) == "2023-11-14T22:13:20+00:00"
        with pytest.raises(InvalidInputError, match=name):
            parse_timestamp("-1", name)


def test_expiration_dates() -> None:
    assert parse_expiration(None) is None
    assert parse_expiration("2030-01-02") == "2030-01-02"
    assert parse_expiration(" 2030-01-02T10:00:00Z") == "2030-01-02"
    assert parse_expiration(date(2030, 1, 2)) == "2030-01-02"
    assert parse_expiration(datetime(2030, 1, 2, 23, 59)) == "2030-01-02"


@pytest.mark.parametrize(
    "value", ["soon", "2030-02-30", "", "30-01-2030", -20300102, True, -1.5, ["2030-01-02"], "1800-01-01"]
)
def test_bad_expiration_dates(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="expiration_date"):
        parse_expiration(value)


def test_expiration_filter_keeps_undated_and_not_yet_passed() -> None:
    assert expiration_filter("2030-01-01") == Or(
        (Not(Cond("expiration_date", "exists")), Cond("expiration_date", "gte", "2030-01-01"))
    )


def test_eight_digits_are_an_iso_basic_date_not_unix_seconds() -> None:
    assert parse_timestamp("20240501") == "2024-05-01T00:00:00+00:00"
    assert parse_expiration("20300102") == "2030-01-02"
    assert parse_timestamp("1700000000") == "2023-11-14T22:13:20+00:00"
