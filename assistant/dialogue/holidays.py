"""Questions about holiday dates ("when is the next public holiday?", "is Dec 24 a day off?", "holidays in May"),
answered from the holiday calendar of the person's country (the `list_holidays` tool), not from the policy text.

Questions about holiday rules ("do public holidays count against my PTO?") are left to the policy search.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from assistant.nlu.slot_dates import find_dates
from assistant.nlu.slot_text import normalize
from tools.db import run_in_transaction
from tools.people.service import get_employee
from tools.pipeline import Pipeline, employee_today

HOLIDAY = r"(?:public |bank |national |federal |company |office )?holidays?"
# A question about when holidays are: it asks for dates, a list, or whether a day is one.
DATE_QUESTION = re.compile(
    rf"^(?:so |and |hey |hi |please |pls )?(?:when(?:'s|s| is| are| do| does)?|what(?:'s| is| are)?(?: the)?|which|list|show|tell me"
    rf"|any|are there|is there)\b.*\b{HOLIDAY}\b"
    rf"|\b(?:next|upcoming|coming|remaining|left)\b.*\b{HOLIDAY}\b|\b{HOLIDAY} (?:this|next|in|for|left|coming|remaining)\b"
    rf"|^is (?:it |the )?.+ an? (?:{HOLIDAY}|day off)\b|^when is (?P<name>[a-z' .]+?)\??$"
)
# Words of a question about the holiday rules rather than the dates.
RULE_WORDS = re.compile(r"\b(?:polic\w*|count\w*|against|pay|paid|work(?:ing)? on|in lieu|swap\w*|rules?|entitle\w*|allowance"
                        r"|carry|accru\w*|observe[ds]?|floating|religious|instead)\b")
NAMES = re.compile(r"christmas|thanksgiving|easter|new year|independence|labou?r day|memorial|boxing|good friday|whit|"
                   r"ascension|reformation|unity|juneteenth|veterans|columbus|presidents|martin luther king|mlk|"
                   r"may day|all saints|assumption|corpus christi|epiphany|pentecost|victoria day|canada day|bastille")
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
FEW = 3  # "when is the next holiday": the next few
MANY = 12  # a period's holidays


@dataclass(frozen=True)
class HolidayQuestion:
    """What a holiday-dates question asks: the holidays of a period, whether one day is a holiday, or one by name."""

    start: date
    end: date
    day: date | None = None
    name: str | None = None
    limit: int = MANY


def read_holiday_question(text: str, today: date) -> HolidayQuestion | None:
    """Return the holiday-dates question in text, or None when it is not one (or asks about holiday rules)."""
    lowered = normalize(text).rstrip(" ?!.")
    match = DATE_QUESTION.search(lowered)
    if match is None or RULE_WORDS.search(lowered):
        return None
    named = NAMES.search(lowered)
    if match.group("name") and not named:
        return None  # "when is the town fair": not a holiday we know by name
    found = find_dates(lowered, today=today, direction="future")
    if lowered.startswith("is ") and found.start is not None and found.invalid is None and found.end in (None, found.start):
        return HolidayQuestion(found.start, found.start, day=found.start)  # "is christmas eve a day off?": that day
    if named:
        return HolidayQuestion(today, today + timedelta(days=365), name=named.group(0), limit=1)
    if found.start is not None and found.invalid is None:
        end = found.end or found.start
        return HolidayQuestion(found.start, end, day=found.start if end == found.start else None)
    period = read_period(lowered, today)
    if period is not None:
        return HolidayQuestion(*period)
    upcoming = re.search(r"\b(?:next|upcoming|coming)\b", lowered) and not re.search(r"\bholidays\b", lowered)
    return HolidayQuestion(today, today + timedelta(days=365), limit=FEW if upcoming else MANY)


def read_period(lowered: str, today: date) -> tuple[date, date] | None:
    """Read "this month", "next month", "this year", "next year", "in May", "in 2027" from a lower-case text."""
    if re.search(r"\bthis month\b", lowered):
        return today, _month_end(today.year, today.month)
    if re.search(r"\bnext month\b", lowered):
        first = _month_end(today.year, today.month) + timedelta(days=1)
        return first, _month_end(first.year, first.month)
    if re.search(r"\b(?:this year|rest of the year|left|remaining)\b", lowered):
        return today, date(today.year, 12, 31)
    if re.search(r"\bnext year\b", lowered):
        return date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)
    year = re.search(r"\b(20\d\d)\b", lowered)
    month = next((MONTHS[word] for word in re.findall(r"[a-z]+", lowered) if word in MONTHS and word != "may" or
                  word == "may" and re.search(r"\b(?:in|of|during) may\b", lowered)), None)
    if month is not None:
        in_year = int(year.group(1)) if year else today.year if month >= today.month else today.year + 1
        return max(date(in_year, month, 1), today) if not year else date(in_year, month, 1), _month_end(in_year, month)
    if year:
        return date(int(year.group(1)), 1, 1), date(int(year.group(1)), 12, 31)
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def answer_holiday_question(question: HolidayQuestion, run: Callable[[str, dict[str, Any]], Any]) -> str:
    """Answer from the person's holiday calendar (their country's public holidays and the company's own)."""
    data = run("list_holidays", {"start_date": question.start.isoformat(), "end_date": question.end.isoformat(), "limit": 100}).data
    rows, country = data["holidays"], data["country"]
    if question.day is not None:
        hit = next((row for row in rows if row["date"] == question.day.isoformat()), None)
        when = _day(question.day)
        if hit is not None:
            return f"Yes: {when} is {hit['name']} ({_kind(hit, country)})."
        weekend = " It is a weekend day." if question.day.weekday() >= 5 else ""
        return f"No: {when} is not a public or company holiday in {country}.{weekend}"
    if question.name is not None:
        wanted = "martin luther king" if question.name == "mlk" else question.name
        hit = next((row for row in rows if wanted in row["name"].lower()), None)
        if hit is None:
            return f"{question.name.title()} is not a public or company holiday in {country} in the next twelve months."
        return f"{hit['name']} is on {_day(date.fromisoformat(hit['date']))} ({_kind(hit, country)})."
    period = f"from {_day(question.start)} to {_day(question.end)}"
    if not rows:
        return f"There are no public or company holidays in {country} {period}."
    shown = rows[: question.limit]
    title = (f"The next holidays in {country}:" if question.limit == FEW
             else f"Holidays in {country} {period}:")
    lines = [f"• {_day(date.fromisoformat(row['date']))}: {row['name']}" + (" (company holiday)" if row["kind"] == "company" else "")
             for row in shown]
    more = f"\n…and {len(rows) - len(shown)} more." if len(rows) > len(shown) and question.limit != FEW else ""
    return "\n".join([title, *lines]) + more


def holiday_answer(pipeline: Pipeline, actor_id: int, text: str, now: datetime) -> str | None:
    """Answer a holiday-dates question asked outside a conversation (e.g. a slash command); None when it is not one."""
    today = run_in_transaction(pipeline.session_factory, lambda session: employee_today(
        get_employee(session, employee_id=actor_id), now, pipeline.default_timezone))
    question = read_holiday_question(text, today)
    if question is None:
        return None
    return answer_holiday_question(question, lambda tool, args: pipeline.run(tool, args, actor_id=actor_id, now=now))


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def _kind(row: dict[str, Any], country: str) -> str:
    return "a company holiday" if row["kind"] == "company" else f"a public holiday in {country}"
