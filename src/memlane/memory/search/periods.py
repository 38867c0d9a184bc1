"""Time periods named in a query, resolved against a reference date, with no model.

``find_period("What did Maria do last weekend?", reference)`` gives the Saturday and Sunday
before ``reference``. Understood (case-insensitive, English):

- dates: ``2023-05-08``, ``8 May 2023``, ``May 8th, 2023``, ``the 8th of May 2023``, ``May 8``;
  months and years: ``May 2023``, ``in May``, ``in 2023``; seasons: ``summer 2023``,
  ``last summer``, ``this winter``, ``during the summer``;
- relative to the reference: ``today``, ``yesterday``, ``the day before yesterday``,
  ``last night``, ``this/last week``, ``this/last weekend``, ``this/last month``,
  ``this/last year``, ``last Saturday``, ``on Friday``, ``recently``, ``lately``,
  ``three days ago``, ``a couple of weeks ago``, ``a few months ago``;
- anchored on a date in the same query: ``two weeks before August 11, 2023``, ``the week
  before 3 August 2023``, ``the day after 8 May 2023``, ``last weekend before April 10,
  2023``; ``since May 2023``, ``after 2022``, ``between March and June 2023``.

When a query names a date and also a relative expression ("recently, as mentioned on
3 June 2023"), the date is the query's "now": the relative expression is resolved against
it and the period also covers that day (the conversation that mentions an event usually
happens on the anchor day or soon after). Amounts are approximate in conversation, so
"N units ago" covers half a unit on either side (one day for days).

A period that does not fit the calendar (years 1 to 9999: "next year" read on 25 December 9999,
"last week" on 1 January 0001) is dropped: ``find_period`` returns None, never an error, for
any reference date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta

__all__ = ["Period", "find_period"]


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open UTC period ``[start, end)`` and the words of the query that named it."""

    start: datetime
    end: datetime
    text: str

    @property
    def span(self) -> timedelta:
        return self.end - self.start


_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
"""First month of each (northern) season; each lasts three months."""
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "few": 3, "several": 4,
}  # fmt: skip
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_NUMBER = r"(?P<day>[12][0-9]|3[01]|0?[1-9])"
_DAY = _DAY_NUMBER + r"(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)[0-9]{2})"
_AMOUNT = r"(?P<n>[0-9]{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY_NAMES = "|".join(_WEEKDAYS)

_DATES = [
    re.compile(r"\b(?P<year>(?:19|20)[0-9]{2})-(?P<mnum>0?[1-9]|1[0-2])-" + _DAY_NUMBER + r"\b"),
    re.compile(r"\b(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"\b"),
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b"),
    re.compile(r"\b" + _MONTH + r"\s+" + _YEAR + r"\b"),
    re.compile(r"\b(?:the\s+)?" + _DAY + r"\s+of\s+" + _MONTH + r"\b"),
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r"\b(?!\s*(?:[0-9]|:))"),
    re.compile(r"\b(?:in|during|since|before|after|of|by|until|from|and|between)\s+" + _MONTH + r"\b"),
    re.compile(r"\b(?P<season>spring|summer|autumn|fall|winter)\s+(?:of\s+)?" + _YEAR + r"\b"),
    re.compile(r"\b(?:in|during|since|before|after|of|by|until|from|and)\s+" + _YEAR + r"\b"),
]
_QUANTITY = re.compile(
    r"\b(?:the\s+)?(?:"
    + _AMOUNT
    + r"\s+)?"
    + _UNIT
    + r"\s+(?P<dir>ago|earlier|before|prior\s+to|after|later)\b"
)
_SINCE = re.compile(r"\b(?P<op>since|after|between)\b")
_RELATIVE = re.compile(
    r"\b(?P<phrase>the\s+day\s+before\s+yesterday|yesterday|today|tonight|this\s+morning|"
    r"this\s+afternoon|this\s+evening|last\s+night|recently|lately|these\s+days|nowadays|"
    r"(?P<which>this|last|past|previous|next)\s+(?P<what>week(?:end)?|month|year|"
    r"spring|summer|autumn|fall|winter|" + _WEEKDAY_NAMES + r")|"
    r"(?:during|in)\s+the\s+(?P<season>spring|summer|autumn|fall|winter)|"
    r"(?:on\s+)?(?P<weekday>" + _WEEKDAY_NAMES + r"))\b"
)
_DAY_DELTA = timedelta(days=1)
_FIXED = {
    "today": (0, 1), "tonight": (0, 1), "this morning": (0, 1), "this afternoon": (0, 1),
    "this evening": (0, 1), "yesterday": (-1, 0), "last night": (-1, 1),
    "the day before yesterday": (-2, -1), "recently": (-30, 1), "lately": (-30, 1),
    "these days": (-30, 1), "nowadays": (-30, 1),
}  # fmt: skip
"""Phrases that name the days from ``first`` to ``last`` (excluded) relative to the reference."""
_AGO = ("ago", "earlier")
"""Directions of a quantity that count back from the reference date itself."""


class _OffCalendar(Exception):
    """A year outside the calendar (1 to 9999) while resolving a period."""


def find_period(text: str, reference: datetime) -> Period | None:
    """The period ``text`` names, resolved against ``reference`` (UTC), or None (also when the
    period falls off the calendar)."""
    try:
        return _find(text, reference)
    except (OverflowError, _OffCalendar):  # datetime arithmetic past year 1 or 9999
        return None


def _find(text: str, reference: datetime) -> Period | None:
    ref = _day(reference)
    lowered = text.lower()
    dates = _dates(text, lowered, ref)
    quantity = _QUANTITY.search(lowered)
    relative = _RELATIVE.search(lowered)
    if dates and (quantity or relative):
        return _anchored(dates[0], quantity, relative)
    if dates:
        return _combine(dates, lowered, ref)
    if relative is not None:
        return _period(*_named(relative, ref), relative.group(0))
    if quantity is not None and quantity.group("dir") in _AGO:
        return _period(*_around(quantity, ref), quantity.group(0))
    return None


def _anchored(
    anchor: tuple[datetime, datetime, str],
    quantity: re.Match[str] | None,
    relative: re.Match[str] | None,
) -> Period:
    """A relative expression resolved against the query's own date, that date included."""
    start, end, words = anchor
    if quantity is not None and (relative is None or quantity.group("dir") not in _AGO):
        found, said = _around(quantity, start), quantity.group(0)
    else:
        assert relative is not None
        found, said = _named(relative, start), relative.group(0)
    return _period(min(found[0], start), max(found[1], end), f"{said} {words}")


def _day(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _period(start: datetime, end: datetime, text: str) -> Period:
    return Period(start, end, text.strip())


def _at(year: int, month: int, day: int = 1) -> datetime:
    if not MINYEAR <= year <= MAXYEAR:
        raise _OffCalendar(year)
    return datetime(year, month, day, tzinfo=UTC)


def _month_end(year: int, month: int) -> datetime:
    return _at(year + 1, 1) if month == 12 else _at(year, month + 1)


def _latest_year(month: int, day: int, ref: datetime) -> int:
    """The year in which ``month``/``day`` last fell on or before ``ref``."""
    return ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1


def _dates(text: str, lowered: str, ref: datetime) -> list[tuple[datetime, datetime, str]]:
    """Every explicit date, month, season or year in ``text``, in order of appearance."""
    found: list[tuple[int, datetime, datetime, str]] = []
    taken: list[range] = []
    for pattern in _DATES:
        for match in pattern.finditer(lowered):
            where = range(*match.span())
            if any(where.start < t.stop and t.start < where.stop for t in taken):
                continue
            if "month" in match.re.groupindex and not _is_month(match, text):
                continue
            resolved = _resolve_date(match, ref)
            if resolved is None:
                continue
            taken.append(where)
            found.append((match.start(), resolved[0], resolved[1], match.group(0)))
    found.sort(key=lambda row: row[0])
    return [(start, end, words) for _, start, end, words in found]


def _is_month(match: re.Match[str], text: str) -> bool:
    """ "may" is a month only when written "May" or next to a day or year."""
    if match.group("month") != "may":
        return True
    groups = match.groupdict()
    if groups.get("day") or groups.get("year"):
        return True
    start = match.start("month")
    return text[start : start + 3] == "May"


def _resolve_date(match: re.Match[str], ref: datetime) -> tuple[datetime, datetime] | None:
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    if groups.get("season"):
        assert year is not None
        return _season(groups["season"], year)
    month = _MONTHS[groups["month"]] if groups.get("month") else None
    if groups.get("mnum"):
        month = int(groups["mnum"])
    day = int(groups["day"]) if groups.get("day") else None
    if month is None:
        assert year is not None
        return _at(year, 1), _at(year + 1, 1)
    if year is None:
        year = _latest_year(month, day or 1, ref)
    if day is None:
        return _at(year, month), _month_end(year, month)
    try:
        start = _at(year, month, day)
    except ValueError:
        return None
    return start, start + _DAY_DELTA


def _season(name: str, year: int) -> tuple[datetime, datetime]:
    first = _SEASONS[name]
    start = _at(year, first)
    end = _at(year + 1, 3) if first == 12 else _at(year, first + 3)
    return start, end


def _latest_season(name: str, ref: datetime, *, ended: bool) -> tuple[datetime, datetime]:
    """The most recent ``name`` season that began (or, with ``ended``, ended) by ``ref``."""
    for year in (ref.year, ref.year - 1, ref.year - 2):
        start, end = _season(name, year)
        if (end if ended else start) <= ref:
            return start, end
    return _season(name, ref.year - 2)


def _combine(dates: list[tuple[datetime, datetime, str]], lowered: str, ref: datetime) -> Period | None:
    """One period from the explicit dates: ``since X``, ``between X and Y``, or the first."""
    start, end, words = dates[0]
    op = _SINCE.search(lowered)
    if op is None:
        return _period(start, end, words)
    if op.group("op") == "between" and len(dates) > 1:
        return _period(start, max(end, dates[1][1]), words + " … " + dates[1][2])
    if op.group("op") == "since":
        return _period(start, max(ref + _DAY_DELTA, end), "since " + words)
    if op.group("op") == "after":
        return _period(end, max(ref + _DAY_DELTA, end + _DAY_DELTA), "after " + words)
    return _period(start, end, words)


def _amount(match: re.Match[str]) -> int:
    raw = match.group("n")
    if raw is None:
        return 1
    return int(raw) if raw.isdigit() else _NUMBERS[re.sub(r"\s+", " ", raw)]


def _around(quantity: re.Match[str], anchor: datetime) -> tuple[datetime, datetime]:
    """``N units ago`` / ``before`` / ``after`` the anchor day, with half a unit of slack."""
    unit = _UNITS[quantity.group("unit")]
    days = timedelta(days=_amount(quantity) * unit)
    slack = timedelta(days=max(1, unit // 2))
    centre = anchor + days if quantity.group("dir") in ("after", "later") else anchor - days
    return centre - slack, centre + _DAY_DELTA + slack


def _named(match: re.Match[str], ref: datetime) -> tuple[datetime, datetime]:
    phrase = re.sub(r"\s+", " ", match.group(0))
    if phrase in _FIXED:
        first, last = _FIXED[phrase]
        return ref + timedelta(days=first), ref + timedelta(days=last)
    if match.group("season"):
        return _latest_season(match.group("season"), ref, ended=False)
    which = match.group("which")
    what = match.group("what")
    if which is None:
        weekday = _WEEKDAYS[match.group("weekday")]
        start = ref - timedelta(days=(ref.weekday() - weekday) % 7)
        return start, start + _DAY_DELTA
    step = {"this": 0, "next": 1}.get(which, -1)
    return _calendar(what, step, ref)


def _calendar(what: str, step: int, ref: datetime) -> tuple[datetime, datetime]:
    """This (step 0), the last (-1) or the next (+1) week, weekend, month, year, season or weekday."""
    if what == "week":
        monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(weeks=1)
    if what == "weekend":
        saturday = ref + timedelta(days=5 - ref.weekday())  # this week's
        if step < 0:
            saturday -= timedelta(weeks=1)
        elif step > 0 and ref.weekday() >= 5:
            saturday += timedelta(weeks=1)
        return saturday, saturday + 2 * _DAY_DELTA
    if what == "month":
        index = ref.year * 12 + ref.month - 1 + step
        year, month = divmod(index, 12)
        return _at(year, month + 1), _month_end(year, month + 1)
    if what == "year":
        return _at(ref.year + step, 1), _at(ref.year + step + 1, 1)
    if what in _SEASONS:
        if step == 0:
            return _latest_season(what, ref, ended=False)
        if step < 0:
            return _latest_season(what, ref, ended=True)
        return _season(what, _latest_season(what, ref, ended=False)[0].year + 1)
    weekday = _WEEKDAYS[what]
    back = (ref.weekday() - weekday) % 7 or 7
    if step > 0:
        start = ref + timedelta(days=(weekday - ref.weekday()) % 7 or 7)
    elif step == 0:
        start = ref - timedelta(days=(ref.weekday() - weekday) % 7)
    else:
        start = ref - timedelta(days=back)
    return start, start + _DAY_DELTA
