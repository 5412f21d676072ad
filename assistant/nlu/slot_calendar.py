"""Date specifications (what a phrase says) and their resolution against the user's today (which day it means).

Conventions, chosen so the offline dialogue can read one interpretation back before acting:
- A bare weekday ("Friday", "on Friday") is the next one after today for leave and the last one before today
  for expenses or past-tense sentences; "this Friday" may be today; "next Friday" is the Friday of next
  calendar week (weeks run Monday to Sunday); "last Friday" is the most recent one before today.
- "the 24th" is the next 24th on or after today (the previous one, on or before today, in the past);
  a month and day without a year ("Dec 3") is the next such day, or the last one in the past; but a day at
  most 30 days behind today stays in this year even for leave (sick leave is often recorded afterwards).
- The end of a range is the first matching day on or after its start ("Dec 30 - Jan 2" crosses the year).
- Impossible dates ("Feb 30", "the 32nd", "2027-02-29") raise InvalidDate with a reason for the user.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Direction = Literal["future", "past"]
RECENT_PAST_DAYS = 30  # a month and day without a year this close behind today means this year's
MONTH_NAMES = tuple(calendar.month_name)  # "", "January", ...
WEEKDAY_NAMES = tuple(calendar.day_name)  # "Monday", ...


class InvalidDate(ValueError):
    """A phrase names a day that does not exist; the message is the reason shown to the user."""


@dataclass(frozen=True)
class CalendarDay:
    """A calendar day, possibly without its year or month ("the 24th")."""

    day: int
    month: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class WeekdaySpec:
    """A weekday, with "this"/"next"/"last" or pinned to a week counted from the current one."""

    weekday: int
    modifier: str = ""
    week: int | None = None


@dataclass(frozen=True)
class RelativeDays:
    """A day counted from today: 0 today, 1 tomorrow, -1 yesterday."""

    days: int


@dataclass(frozen=True)
class WeekSpan:
    """Monday to Friday of a week counted from the current one (1: next week)."""

    weeks: int


@dataclass(frozen=True)
class Offset:
    """A relative phrase that dateparser resolves ("in 3 days", "two weeks ago")."""

    phrase: str


@dataclass(frozen=True)
class Problem:
    """A phrase already known to be impossible."""

    reason: str


Spec = CalendarDay | WeekdaySpec | RelativeDays | WeekSpan | Offset | Problem


def ordinal(number: int) -> str:
    """Return 1st, 2nd, 3rd, 4th, 11th, 22nd..."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def check_day_of_month(day: int, month: int | None) -> None:
    """Raise InvalidDate when no year has this day in this month (or in any month)."""
    if month is not None and not 1 <= month <= 12:
        raise InvalidDate(f"there is no month {month}")
    if not 1 <= day <= 31:
        raise InvalidDate(f"no month has a {ordinal(day)} day")
    if month is not None:
        longest = 29 if month == 2 else calendar.monthrange(2001, month)[1]
        if day > longest:
            raise InvalidDate(f"{MONTH_NAMES[month]} has no {ordinal(day)} day (it has at most {longest} days)")


def make_date(year: int, month: int, day: int) -> date:
    """Build a date or raise InvalidDate with the reason it does not exist."""
    check_day_of_month(day, month)
    if not 1900 <= year <= 2200:
        raise InvalidDate(f"{year} is not a year I can book")
    if month == 2 and day == 29 and not calendar.isleap(year):
        raise InvalidDate(f"February {year} has no 29th: {year} is not a leap year")
    return date(year, month, day)


def monday_of(day: date) -> date:
    """Return the Monday of the week that holds day."""
    return day - timedelta(days=day.weekday())


def week_span(weeks: int, today: date) -> tuple[date, date]:
    """Return Monday and Friday of the week `weeks` after the current one."""
    monday = monday_of(today) + timedelta(weeks=weeks)
    return monday, monday + timedelta(days=4)


def _day_only(day: int, base: date, direction: Direction, inclusive: bool = True) -> date:
    check_day_of_month(day, None)
    year, month = base.year, base.month
    step = 1 if direction == "future" else -1
    for _ in range(14):  # a 31st is at most a few months away
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if (candidate >= base) if direction == "future" else (candidate <= base):
                return candidate
        month += step
        if month in (0, 13):
            year, month = year + step, 1 if step == 1 else 12
    raise InvalidDate(f"no month has a {ordinal(day)} day")


def _month_day(spec: CalendarDay, base: date, direction: Direction, after: date | None) -> date:
    assert spec.month is not None
    check_day_of_month(spec.day, spec.month)
    if spec.year is not None:
        return make_date(spec.year, spec.month, spec.day)
    if after is not None:
        # An end day: same year as the start unless its month comes earlier, which means it crosses the year.
        year = after.year if spec.month >= after.month else after.year + 1
        return make_date(year, spec.month, spec.day)
    key = (spec.month, spec.day)
    if direction == "future":
        # Recent days stay in this year ("sick 12/11" on 27 Nov is two weeks ago, not eleven months ahead).
        grace = base - timedelta(days=RECENT_PAST_DAYS)
        year = next(year for year in (grace.year, grace.year + 1) if (year, *key) >= (grace.year, grace.month, grace.day))
    else:
        year = base.year if key <= (base.month, base.day) else base.year - 1
    return make_date(year, spec.month, spec.day)


def _weekday(spec: WeekdaySpec, today: date, direction: Direction, after: date | None) -> date:
    if spec.week is not None:
        return monday_of(today) + timedelta(weeks=spec.week, days=spec.weekday)
    ahead = (spec.weekday - today.weekday()) % 7  # 0..6 days to the next such weekday (0: today)
    behind = (today.weekday() - spec.weekday) % 7
    if after is not None and spec.modifier in ("", "this"):
        return after + timedelta(days=(spec.weekday - after.weekday()) % 7)
    if spec.modifier == "next":
        return monday_of(today) + timedelta(weeks=1, days=spec.weekday)
    if spec.modifier == "last":
        return today - timedelta(days=behind or 7)
    if spec.modifier == "this":  # the one of this week that may be today: coming (leave) or gone (expenses)
        if direction == "future":
            return today + timedelta(days=ahead)
        return today - timedelta(days=behind if spec.weekday <= today.weekday() else behind or 7)
    if direction == "future":
        return today + timedelta(days=ahead or 7)
    return today - timedelta(days=behind or 7)


def _offset(phrase: str, today: date, direction: Direction) -> date:
    import dateparser  # lazy: ~70 ms to import and ~100 ms on its first call, only for these rare phrases

    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, 0),
        "PREFER_DATES_FROM": direction,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if parsed is None:
        raise InvalidDate(f"I could not work out which day \"{phrase}\" is")
    return parsed.date()


def resolve(spec: Spec, *, today: date, direction: Direction, after: date | None = None) -> date:
    """Return the day a specification means; `after` is the start when it is the end of a range."""
    match spec:
        case Problem(reason=reason):
            raise InvalidDate(reason)
        case CalendarDay(month=None):
            return _day_only(spec.day, after or today, "future" if after else direction)
        case CalendarDay():
            return _month_day(spec, today, direction, after)
        case WeekdaySpec():
            return _weekday(spec, today, direction, after)
        case RelativeDays(days=days):
            return today + timedelta(days=days)
        case Offset(phrase=phrase):
            return _offset(phrase, today, direction)
        case WeekSpan(weeks=weeks):
            return week_span(weeks, today)[0]
    raise TypeError(f"not a date specification: {spec!r}")


def add_duration(start: date, count: int, unit: str) -> date:
    """Return the last day of a period of `count` days, working days or weeks beginning on start."""
    if unit == "working":
        day, left = start, count - (start.weekday() < 5)
        while left > 0:
            day += timedelta(days=1)
            left -= day.weekday() < 5
        return day
    if unit == "week":
        end = start + timedelta(days=7 * count - 1)
        if start.weekday() < 5 and end.weekday() >= 5:
            end -= timedelta(days=end.weekday() - 4)  # a week off ends on the Friday, not the weekend after it
        return end
    return start + timedelta(days=count - 1)
