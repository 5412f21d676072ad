"""Working-day arithmetic: weekends, the country's public holidays and company holidays."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays

from tools.errors import ErrorCode, ToolError

WEEKEND = {5, 6}


@lru_cache(maxsize=256)
def _public_holidays(country: str, year: int) -> dict[date, str]:
    try:
        with warnings.catch_warnings():  # past its tables the package warns on stderr and returns what it can compute
            warnings.simplefilter("ignore")
            calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"No public holiday calendar for country '{country}'.") from error
    return dict(calendar.items())


def is_supported_country(country: str) -> bool:
    """Return True when the holidays package knows this ISO 3166 alpha-2 country code."""
    return country.upper() in holidays.list_supported_countries()


def days_off(country: str, start: date, end: date, extra: Iterable[date] = ()) -> dict[date, str]:
    """Return the non-weekend holidays between start and end inclusive, with their names."""
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, name in _public_holidays(country, year).items():
            if start <= day <= end:
                found[day] = name
    for day in extra:
        if start <= day <= end:
            found.setdefault(day, "Company holiday")
    return found


def working_days_by_year(
    country: str, start: date, end: date, *, half_day: bool = False, extra_holidays: Iterable[date] = ()
) -> dict[int, Decimal]:
    """Count working days per calendar year; a half day counts 0.5."""
    off = days_off(country, start, end, extra_holidays)
    counts: dict[int, Decimal] = {}
    day = start
    while day <= end:
        if day.weekday() not in WEEKEND and day not in off:
            counts[day.year] = counts.get(day.year, Decimal("0")) + (Decimal("0.5") if half_day else Decimal("1"))
        day += timedelta(days=1)
    return counts
