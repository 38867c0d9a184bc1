"""Times a call accepts (``timestamp``, ``expiration_date``, ``reference_date``, ``as_of``), read
as UTC ISO-8601, and the filter of memories not yet expired. Pure."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from memlane.errors import InvalidInputError
from memlane.filters import Cond, Filter, Not, Or, and_

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "clock",
    "expiration_filter",
    "live_filter",
    "parse_expiration",
    "parse_timestamp",
]

_UNIX_SECONDS = re.compile(r"^[+-]?\d+(\.\d+)?$")
_BASIC_DATE = re.compile(r"^\d{8}$")
"""Eight digits are an ISO-8601 basic date (``20240501``), never Unix seconds (that is 1970-08-23)."""
MIN_YEAR, MAX_YEAR = 1900, 9999
"""The years a date or time may name (Unix seconds: from 0, 1970-01-01, to the end of 9999)."""
_MAX_UNIX = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_TIME_FORMS = "a datetime, a date, an ISO-8601 string or Unix seconds"


def parse_timestamp(value: Any, name: str = "timestamp") -> str | None:
    """A time (``add``'s ``timestamp``, ``search``'s ``reference_date``, ``as_of``) as UTC ISO-8601.

    Takes a datetime (naive means UTC), a date, an ISO-8601 string (``20240501`` included) or
    Unix seconds (an int, a float or a string of digits other than eight); years 1900 to 9999,
    Unix seconds from 0.
    """
    if value is None:
        return None
    moment = _moment(value, name)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInputError(f"{name} {value!r} is out of range") from None
    _check_year(name, value, utc)
    return utc.isoformat()


def parse_expiration(value: Any) -> str | None:
    """An expiration date as YYYY-MM-DD: the date a datetime or ISO string names (as written),
    a date, or the UTC date of Unix seconds."""
    if value is None:
        return None
    moment = _moment(value, "expiration_date")
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


def _moment(value: Any, name: str) -> datetime | date:
    """``value`` as a datetime (as given: aware or naive) or a date, its year in range."""
    if isinstance(value, str) and _UNIX_SECONDS.match(value.strip()) and not _BASIC_DATE.match(value.strip()):
        value = float(value)
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be {_TIME_FORMS}, got {value!r}")
    if isinstance(value, (int, float)):
        return _from_unix(value, name)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{name} {value!r} is not an ISO-8601 date or time") from None
    if not isinstance(value, (datetime, date)):
        raise InvalidInputError(f"{name} must be {_TIME_FORMS}, got {value!r}")
    _check_year(name, value, value)
    return value


def _from_unix(value: float, name: str) -> datetime:
    if not math.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    if value < 0:
        raise InvalidInputError(
            f"{name} {value!r} is negative: Unix seconds start at 0 (1970-01-01); "
            "give an earlier time as an ISO-8601 date"
        )
    if value > _MAX_UNIX:
        raise InvalidInputError(
            f"{name} {value!r} is out of range: Unix seconds end at {_MAX_UNIX:.0f} (year {MAX_YEAR})"
        )
    return datetime.fromtimestamp(value, tz=UTC)


def _check_year(name: str, given: Any, moment: date) -> None:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInputError(f"{name} {given!r} is out of range: use a year from {MIN_YEAR} to {MAX_YEAR}")


def expiration_filter(today: str | None = None) -> Filter:
    """Memories with no expiration date, or one not yet passed on ``today`` (default: today, UTC)."""
    today = today or datetime.now(UTC).date().isoformat()
    return Or((Not(Cond("expiration_date", "exists")), Cond("expiration_date", "gte", today)))


def clock() -> datetime:
    """Now, in UTC: what expiry is read against (tests freeze it)."""
    return datetime.now(UTC)


def live_filter(ttl: float | None, at: str | None = None) -> Filter:
    """Memories not expired at ``at`` (ISO time; default: now): no ``expiration_date`` passed,
    and not a run's (short-term) memory created more than ``ttl`` seconds before (None: a run's
    memories never expire)."""
    now = datetime.fromisoformat(at) if at else clock()
    dated = expiration_filter(now.date().isoformat())
    if ttl is None:
        return dated
    cutoff = (now - timedelta(seconds=ttl)).isoformat()
    return and_(dated, Or((Not(Cond("run_id", "exists")), Cond("created_at", "gte", cutoff))))
