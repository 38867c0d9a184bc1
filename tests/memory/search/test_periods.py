"""find_period(): the period a query names, resolved against a reference date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memlane.memory.search.periods import find_period

MONDAY = datetime(2023, 8, 14, 15, 30, tzinfo=UTC)
"""Monday 14 August 2023, mid-afternoon: the reference date of every case below."""


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        # explicit dates, months, seasons and years
        ("What painting did Melanie show on October 13, 2023?", "2023-10-13", "2023-10-14"),
        ("What did Gina find on 1 February, 2023?", "2023-02-01", "2023-02-02"),
        ("the 3rd of June 2023", "2023-06-03", "2023-06-04"),
        ("log for 2023-05-08", "2023-05-08", "2023-05-09"),
        ("What did Mel paint in July 2023?", "2023-07-01", "2023-08-01"),
        ("Dec 2022 plans", "2022-12-01", "2023-01-01"),
        ("When did Melanie go camping in June?", "2023-06-01", "2023-07-01"),
        ("camping in October", "2022-10-01", "2022-11-01"),  # October 2023 is still ahead
        ("what happened on August 2", "2023-08-02", "2023-08-03"),
        ("beach trips in 2023", "2023-01-01", "2024-01-01"),
        ("the summer of 2022", "2022-06-01", "2022-09-01"),
        ("winter 2022", "2022-12-01", "2023-03-01"),
        # relative to the reference date
        ("what did I eat yesterday", "2023-08-13", "2023-08-14"),
        ("and today?", "2023-08-14", "2023-08-15"),
        ("the day before yesterday", "2023-08-12", "2023-08-13"),
        ("What did she do last weekend?", "2023-08-12", "2023-08-14"),
        ("plans for this weekend", "2023-08-19", "2023-08-21"),
        ("what did we do last week", "2023-08-07", "2023-08-14"),
        ("this week", "2023-08-14", "2023-08-21"),
        ("next week", "2023-08-21", "2023-08-28"),
        ("last month", "2023-07-01", "2023-08-01"),
        ("this year", "2023-01-01", "2024-01-01"),
        ("the trip last year", "2022-01-01", "2023-01-01"),
        ("last Saturday", "2023-08-12", "2023-08-13"),
        ("on Friday", "2023-08-11", "2023-08-12"),
        ("last summer", "2022-06-01", "2022-09-01"),  # summer 2023 has not ended
        ("during the summer", "2023-06-01", "2023-09-01"),
        ("recently", "2023-07-15", "2023-08-15"),
        ("three days ago", "2023-08-10", "2023-08-13"),
        ("a couple of weeks ago", "2023-07-28", "2023-08-04"),
        ("Where did Caroline move from 4 years ago?", "2019-02-14", "2020-02-14"),
        # anchored on a date in the query
        ("the week before August 3, 2023", "2023-07-24", "2023-08-04"),
        ("Maria's puppy she got two weeks before August 11, 2023", "2023-07-25", "2023-08-12"),
        ("What did Maria do last weekend before April 10, 2023?", "2023-04-08", "2023-04-11"),
        ("the day after 8 May 2023", "2023-05-08", "2023-05-11"),
        ("a new activity started recently, as mentioned on 3 June, 2023", "2023-05-04", "2023-06-04"),
        # ranges
        ("since May 2023", "2023-05-01", "2023-08-15"),
        ("after June 2023", "2023-07-01", "2023-08-15"),
        ("between March and June 2023", "2023-03-01", "2023-07-01"),
    ],
)
def test_periods(query: str, start: str, end: str) -> None:
    period = find_period(query, MONDAY)
    assert period is not None, query
    assert (period.start.date().isoformat(), period.end.date().isoformat()) == (start, end)
    assert period.start.tzinfo is UTC and period.span > timedelta(0)
    assert period.text and period.text.split()[0] in query.lower()


@pytest.mark.parametrize(
    "query",
    [
        "What does Caroline like?",
        "What may Caroline bring?",  # "may" the verb, not the month
        "What do you do on Saturdays?",  # a habit, not a date
        "Where did John move after college?",
        "How many kids does Melanie have?",
        "the 2023-13-45 build",  # no such date
        "",
    ],
)
def test_no_period(query: str) -> None:
    assert find_period(query, MONDAY) is None


def test_may_is_a_month_when_written_so() -> None:
    period = find_period("I was born in May", MONDAY)
    assert period is not None and period.start == datetime(2023, 5, 1, tzinfo=UTC)


def test_the_reference_time_of_day_and_zone_do_not_matter() -> None:
    late = datetime(2023, 8, 14, 23, 59, tzinfo=UTC)
    naive = datetime(2023, 8, 14, 1, 0)
    periods = {find_period("yesterday", ref) for ref in (MONDAY, late, naive)}
    assert len({(p.start, p.end) for p in periods if p}) == 1


EDGES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 3, 12, tzinfo=UTC),
    datetime(1, 2, 15, tzinfo=UTC),
    datetime(9999, 12, 25, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(9999, 3, 1, tzinfo=UTC),
    datetime(1, 1, 1),  # naive: read as UTC
    datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),  # past 9999 in UTC
]
"""Reference dates at both ends of the calendar (years 1 and 9999)."""

PHRASES = [
    "yesterday", "today", "tonight", "the day before yesterday", "last night", "recently",
    "this week", "last week", "next week", "this weekend", "last weekend", "next weekend",
    "this month", "last month", "next month", "this year", "last year", "next year",
    "last summer", "this winter", "next winter", "during the summer", "last Saturday",
    "next Friday", "on Monday", "three days ago", "a few months ago", "99 years ago",
    "99 years later", "in May", "May 8", "since May 2023", "after 2022",
    "two weeks before August 11, 2023", "recently, as mentioned on 3 June, 2023",
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "reference"),
    [
        ("what did I do today", datetime(9999, 12, 31, tzinfo=UTC)),
        ("next year", datetime(9999, 12, 25, tzinfo=UTC)),
        ("last week", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_period_off_the_calendar_is_dropped(query: str, reference: datetime) -> None:
    assert find_period(query, reference) is None


def test_a_period_on_the_calendar_at_its_edge_is_kept() -> None:
    period = find_period("what did I do yesterday", datetime(9999, 12, 25, tzinfo=UTC))
    assert period is not None and period.end == datetime(9999, 12, 25, tzinfo=UTC)
    period = find_period("last week", datetime(9999, 12, 25, tzinfo=UTC))
    assert period is not None and period.start == datetime(9999, 12, 13, tzinfo=UTC)
    period = find_period("next week", datetime(1, 1, 1, tzinfo=UTC))
    assert period is not None and period.start == datetime(1, 1, 8, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    phrase=st.sampled_from(PHRASES),
    around=st.text(max_size=12),
    reference=st.one_of(
        st.sampled_from(EDGES),
        st.datetimes(timezones=st.just(UTC)),
        st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=h)) for h in (-12, -5, 5, 14)])),
    ),
)
def test_any_query_on_any_reference_date_gives_a_period_or_none(
    phrase: str, around: str, reference: datetime
) -> None:
    period = find_period(f"{around} {phrase} {around}", reference)
    if period is not None:
        assert period.start < period.end
        assert period.start.tzinfo is not None and period.end.tzinfo is not None
