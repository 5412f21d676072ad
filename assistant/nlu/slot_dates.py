"""Date phrases in a message: find them, join them into ranges and durations, resolve them against today.

Numeric dates are day first (11/01/2027 is 11 January 2027, as in most of the world and close to ISO order),
unless the second number cannot be a month (12/25/2026 is 25 December); with `day_first=False` they are month
first unless the first number cannot be a month. Both numbers above 12 is an invalid date.
Durations: "for 3 days" counts calendar days, "for 3 working days" weekdays; "for a week" ends six days later,
but on the Friday when that would be a weekend. "from X" or "starting X" with no end gives only a start, and so
does "X to" an end that cannot be read ("jan 21 to the beginning of february"): the end is asked for, not guessed.
Days of the month may be written out ("july second and third", "the ninth of august", "april twenty").
Days listed ("the 7th, 8th and 9th of January", "jan 7, 8 and 9", "monday, tuesday and wednesday") are one range as
far as they run back to back (a weekend between them does not break the run); the days after a gap are left out
of the range and reported (`left_out`), so the person can be told instead of the days being dropped unsaid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

from assistant.nlu.slot_calendar import (
    WEEKDAY_NAMES, CalendarDay, Direction, InvalidDate, Offset, Problem, RelativeDays, Spec, WeekdaySpec, WeekSpan,
    add_duration, check_day_of_month, make_date, monday_of, resolve, week_span,
)
from assistant.nlu.slot_text import Span, mask

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))  # a regex alternation, the longest name first
# "sat" and "sun" are left out on purpose: as words they are far more common than as days.
WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2, "thursday": 3,
    "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6,
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3,
}
HOLIDAYS = {"christmas eve": (12, 24), "christmas day": (12, 25), "boxing day": (12, 26), "xmas eve": (12, 24),
            "xmas day": (12, 25), "christmas": (12, 25), "xmas": (12, 25),
            "new year's eve": (12, 31), "new years eve": (12, 31), "new year's day": (1, 1), "new years day": (1, 1),
            "new year's": (1, 1), "new years": (1, 1), "new year": (1, 1)}
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_UNIT_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
# Days of the month written out, as people type what they would say: "july second", "the ninth of august", "april twenty"
DAY_ORDINAL_WORDS = {
    **{word: number for number, word in enumerate(_UNIT_ORDINALS, 1)},
    **{teen + "th": number for number, teen in enumerate(_TEENS, 10) if teen != "twelve"},
    "twelfth": 12, "twentieth": 20, "thirtieth": 30,
    **{f"twenty{joint}{word}": 20 + number for number, word in enumerate(_UNIT_ORDINALS, 1) for joint in (" ", "-")},
    "thirty first": 31, "thirty-first": 31,
}
DAY_CARDINAL_WORDS = {
    **{word: number for number, word in enumerate(_UNITS, 1)}, **{word: number for number, word in enumerate(_TEENS, 10)},
    "twenty": 20, "thirty": 30, "thirty one": 31, "thirty-one": 31,
    **{f"twenty{joint}{word}": 20 + number for number, word in enumerate(_UNITS, 1) for joint in (" ", "-")},
}
DAY_WORDS = {**DAY_CARDINAL_WORDS, **DAY_ORDINAL_WORDS}
# Chat short forms of relative days, read as the word they stand for (the intents read them written out, too).
DAY_SHORT_FORMS = {"tmr": "tomorrow", "tmrw": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow",
                   "tomoz": "tomorrow", "yday": "yesterday"}
WEEK_WORDS = {"this": 0, "current": 0, "next": 1, "coming": 1, "following": 1, "last": -1, "previous": -1, "past": -1}
WEEKDAY_MODIFIERS = {"this": "this", "coming": "this", "next": "next", "last": "last", "past": "last", "previous": "last"}


@dataclass(frozen=True)
class Mention:
    """One date phrase: a single day (`last` is None), a range written as one phrase, or a marker."""

    start: int
    end: int
    first: Spec
    last: Spec | None = None
    marker: str = ""  # "week_of": "the week of <date>"; "whole_week": the working week around a day ("xmas week")
    listed: tuple[Spec, ...] = ()  # the days of a list written as one phrase ("jan 7, 8 and 9"), first included


@dataclass(frozen=True)
class DateFinding:
    """What the dates of a message say: a day or range, or why they are invalid, and where they were written."""

    start: date | None = None
    end: date | None = None
    open_ended: bool = False
    invalid: str | None = None
    spans: tuple[Span, ...] = ()
    left_out: tuple[date, ...] = ()  # listed days not back to back with the range ("monday and friday": the friday)


MAX_ROLLOVER_DAYS = 62  # a range written with two months may run into the next year by this much at most


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    month = r"(?P<{0}>" + MONTH_NAMES + r")\b\.?"
    weekday = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
    # a day written out counts where a date can end: "july second and third", not "may one day" or "the second half"
    word_end = r"(?=\s*(?:$|[.,;:!?)]|-(?![a-z])|\d{{4}}|(?:to|till|til|until|through|thru|and|or|for|off|please|pls|of)\b))"
    ordinals = "|".join(sorted((re.escape(word) for word in DAY_ORDINAL_WORDS), key=len, reverse=True))
    cardinals = "|".join(sorted((re.escape(word) for word in DAY_WORDS), key=len, reverse=True))
    # (?<!\d): a day is never the tail of a year ("2027 to 5 march" holds no 27th)
    day_after_month = r"(?:the\s+)?(?P<{0}>(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?\b|(?:" + cardinals + r")\b" + word_end + ")"
    day_before_month = r"(?:the\s+)?(?P<{0}>(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?\b|(?:" + ordinals + r")\b)"
    # "september 1st to 27th august": the second day has its own month, so the first month does not cover both
    own_month = r"(?!\s+(?:of\s+)?(?:" + MONTH_NAMES + r")\b)"
    year = r"(?:,?\s+(?P<year>\d{4})\b)?"
    to = r"\s*(?:-|to|till|til|until|through|thru)\s*"  # "and" lists days: "dec 3 and 4" is two days, read below
    listed = r"(?:\s*,\s*(?:(?:and|&)\s+)?|\s*(?:and|&)\s+)(?:the\s+)?"
    numbers = "|".join(sorted((re.escape(word) for word in NUMBER_WORDS), key=len, reverse=True))
    holidays = "|".join(re.escape(name) for name in sorted(HOLIDAYS, key=len, reverse=True) if name != "new year")
    short_days = "|".join(DAY_SHORT_FORMS)
    day_dot_month = r"(?P<a>0?[1-9]|[12]\d|3[01])\.(?P<b>0?[1-9]|1[0-2])\."
    table = [
        # "jan 7, 8 and 9", "the 7th, 8th and 9th of january": days listed with one month
        ("month_day_list", month.format("month") + r"\s+" + day_after_month.format("d1") + r"(?P<more>(?:" + listed
         + r"(?:\d{1,2}(?:st|nd|rd|th)?\b(?![.,/:]\d)|(?:" + cardinals + r")\b" + word_end.format() + r"))+)" + own_month + year),
        ("day_list_month", day_before_month.format("d1") + r"(?P<more>(?:" + listed + r"(?:\d{1,2}(?:st|nd|rd|th)?|"
         + ordinals + r")\b)+)\s+(?:of\s+)?" + month.format("month") + year),
        ("month_first_range", month.format("month") + r"\s+" + day_after_month.format("d1") + to
         + day_after_month.format("d2") + own_month + year),
        ("day_first_range", day_before_month.format("d1") + to + day_before_month.format("d2") + r"\s+(?:of\s+)?"
         + month.format("month") + year),
        ("iso", r"\b(?P<year>\d{4})-(?P<a>\d{1,2})-(?P<b>\d{1,2})\b"),
        ("numeric", r"(?<![\d.,/])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})\b(?![.,/]\d)"),
        ("numeric", r"(?<![\d.,/$])(?P<a>\d{1,2})/(?P<b>\d{1,2})\b(?![/\d])(?!\s*(?:days?\b|of\b|hours?\b))"),
        # day.month. without a year, as written in German-speaking countries ("on 24.11.", "21.12.-23.12."); only
        # after a word that introduces a date, since "it was 12.50." is an amount
        ("numeric", r"(?:(?<=\bon )|(?<=\bfrom )|(?<=\bto )|(?<=\buntil )|(?<=\btill )|(?<=\bby )|(?<=\bsince )|(?<=\band )"
                    r"|(?<=-)|(?<=- )|(?<=\u2013))" + day_dot_month + r"(?!\d)"),
        ("numeric", r"(?<![\d.,/$])" + day_dot_month + r"(?=\s*[-\u2013]\s*\d{1,2}\.\d{1,2}\.)"),
        # "28.12 - 30.12": day.month without its dots, as a range of two (one alone could be an amount)
        ("numeric", r"(?<![\d.,/$€£¥])(?P<a>0?[1-9]|[12]\d|3[01])\.(?P<b>0?[1-9]|1[0-2])(?=\s*(?:[-\u2013]|to|till|until|thru|through)"
                    r"\s*(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\b(?![.,]\d))"),
        ("numeric", r"(?:(?<=\d[-\u2013])|(?<=\d [-\u2013] )|(?<=\d [-\u2013])|(?<=\d[-\u2013] )|(?<=\.\d to )|(?<=\.\d\d to )"
                    r"|(?<=\.\d until )|(?<=\.\d\d until )|(?<=\.\d till )|(?<=\.\d\d till )|(?<=\.\d through )|(?<=\.\d\d through ))"
                    r"(?P<a>0?[1-9]|[12]\d|3[01])\.(?P<b>0?[1-9]|1[0-2])\b(?![.,]\d)"),
        ("month_day", month.format("month") + r"\s+" + day_after_month.format("d1") + year),
        ("day_month", day_before_month.format("d1") + r"\s+(?:of\s+)?" + month.format("month") + year),
        # the working week around the day, or the one after it ("the week after christmas" is new year's week)
        ("holiday_week", r"\b(?:the\s+)?(?:(?P<after>week\s+after)\s+)?(?P<name>christmas|xmas)(?(after)|\s+week)\b"),
        ("holiday", r"\b(?P<name>" + holidays + r")\b"),
        # "new year" alone is a date only as the end or start of time off ("christmas eve to new year"), not a party
        ("holiday", r"(?:(?<=\bto )|(?<=\buntil )|(?<=\btill )|(?<=\bthrough )|(?<=\bthru )|(?<=\band )|(?<=\bover )"
                    r"|(?<=\bafter )|(?<=\bfrom )|(?<=\bbefore ))(?:the\s+)?(?P<name>new year)\b(?!'s|s\b|\s+(?:party|parties|dinner|drinks))"),
        # "in 3 days" is a date; "put in a day off" or "in two weeks of leave" is a duration
        ("offset", rf"\bin\s+(?:{numbers}|\d{{1,3}})\s+(?:days?|weeks?|months?)\b(?!\s+(?:off|of|leave|holiday|pto|vacation|sick))"
                   r"|\bin\s+a\s+fortnight\b"
                   rf"|\b(?:{numbers}|\d{{1,3}})\s+(?:days?|weeks?|months?)\s+(?:ago|from\s+(?:today|now))\b"),
        ("rest_of_week", r"\b(?:the\s+)?rest\s+of\s+(?:the|this)\s+week\b"),
        ("week_after_next", r"\b(?:the\s+)?week\s+after\s+next\b"),
        ("week", r"\b(?:the\s+)?(?P<which>this|current|next|coming|following|last|previous|past)\s+week\b(?!\s+of\b)"),
        ("week_of", r"\b(?:the\s+)?week\s+(?:of|starting|beginning|commencing)\b"),
        ("weekday", r"\b(?:(?P<mod>this|next|last|coming|past|previous)\s+)?(?P<wd>" + weekday + r")\b\.?"),
        ("relative", r"\b(?:the\s+)?day\s+after\s+tomorrow\b|\b(?:the\s+)?day\s+before\s+yesterday\b|\btoday\b|"
                     r"\btonight\b|\btomorrow\b|\byesterday\b|\blast\s+night\b|\bthis\s+(?:morning|afternoon|evening)\b"
                     rf"|\b(?:{short_days})\b"),
        ("ordinal", r"\b(?:the\s+)?(?P<d1>\d{1,2})(?:st|nd|rd|th)\b"),
        ("ordinal", r"(?:\bthe\s+|(?<=\band )|(?<=\bto )|(?<=\bthrough )|(?<=\buntil )|(?<=\btill )|(?<=-)|(?<=- ))"
                    r"(?P<d1>" + ordinals + r")\b" + word_end),
    ]
    return [(kind, re.compile(pattern)) for kind, pattern in table]


@cache
def _helper_patterns() -> dict[str, re.Pattern[str]]:
    numbers = "|".join(sorted((re.escape(word) for word in NUMBER_WORDS), key=len, reverse=True))
    return {
        "duration": re.compile(rf"(?<![\d/])\b(?P<count>{numbers}|\d{{1,2}})\s+(?:(?P<working>working|business|work)\s+)?"
                               r"(?P<unit>days?|weeks?)\b(?!\s+ago)"),
        "connector": re.compile(r"\s*(?:,\s*)?(?:-|to|till|til|until|through|thru|and|up\s+to)\s*(?:the\s+|on\s+)?"),
        # "starting 1 February", "I want to start paternity leave on jan 11": the start alone, the end asked for
        "open_start": re.compile(r"\b(?:from|starting(?:\s+on|\s+from)?|beginning|as\s+of|effective)\s*$"
                                 r"|\bstart(?:s|ing)?(?:\s+(?!(?:work|working|back|again)\b)[\w']+){0,3}\s+(?:on|from)\s*$"),
        "between": re.compile(r"\bbetween\s*$"),
        "same_day": re.compile(r"\b(?:just|only) (?:that|the one|one|the|a single) day\b|\b(?:that|the same|one|a single) day only\b"
                               r"|\bsame day\b|^\W*(?:just |only )?(?:that day|one day|1 day)\W*$"),
        # an end that is there but cannot be read: "jan 21 to the beginning of february", "until easter"
        "unread_end": re.compile(r"\s*(?:-|to|till|til|until|through|thru)\s+(?:the\s+)?(?:beginning|start|end|middle|mid|early|late"
                                 r"|easter|thanksgiving|black friday|labou?r day|memorial day)\b"),
        "glue": re.compile(r"[\s,]*(?:of\s+)?"),
        # "since monday": a spell that began then and runs to today; "maybe tomorrow" is no day asked for
        "since": re.compile(r"\bsince\s+(?:last\s+|the\s+)?$"),
        "hedged": re.compile(r"\b(?:maybe|possibly|perhaps|might|probably|or)\s+(?:also\s+)?(?:until\s+)?$"),
        # between the days of a list: "the 7th, 8th and 9th", "monday & tuesday"
        "list_glue": re.compile(r"\s*(?:,\s*(?:(?:and|&)\s+)?|(?:and|&)\s+|\+\s*)(?:the\s+|on\s+)?"),  # "thurs+fri" too
        "month_before": re.compile(r"\b(?:" + MONTH_NAMES + r")\.?\s+(?:the\s+)?$"),
        # between a week and the days in it: "next week mon-wed", "next week: from monday to wednesday"
        "week_lead": re.compile(r"[\s,:]*(?:(?:from|on)\s+)?(?:the\s+)?"),
        # a month named on its own: "married in march ... the 12th" means March 12
        "month_context": re.compile(r"\b(?:in|of|for|during|this|next|early|mid|late)\s+(?:the\s+month\s+of\s+)?(?P<month>"
                                    + MONTH_NAMES + r")\b"),
    }


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _day(written: str) -> int:
    """The day of the month in "24", "24th", "twenty-fourth" or "twenty four"."""
    digits = written.rstrip("stndrh")
    return int(digits) if digits.isdigit() else DAY_WORDS[" ".join(written.split())]


def _numeric(match: re.Match[str], day_first: bool) -> Spec:
    first, second = int(match["a"]), int(match["b"])
    year = match.groupdict().get("year")
    full_year = (2000 + int(year) if len(year) == 2 else int(year)) if year else None
    if match.re.pattern.startswith(r"\b(?P<year>"):  # ISO: year-month-day, always
        return CalendarDay(day=second, month=first, year=full_year)
    if first > 12 and second > 12:
        return Problem(f"{match.group(0)} is not a valid date")
    day_then_month = (day_first and second <= 12) or (not day_first and first > 12)
    day, month = (first, second) if day_then_month else (second, first)
    return CalendarDay(day=day, month=month, year=full_year)


def _spec(kind: str, match: re.Match[str], day_first: bool) -> Mention:
    text, groups = match.group(0), match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    if kind in ("month_day_list", "day_list_month"):
        month = MONTHS[groups["month"]]
        days = [groups["d1"], *(item for item in _LIST_SEPARATOR.split(groups["more"].strip()) if item)]
        listed = tuple(CalendarDay(_day(day), month, year) for day in days)
        return Mention(*match.span(), listed[0], listed=listed)
    if kind in ("month_first_range", "day_first_range"):
        month, day1, day2 = MONTHS[groups["month"]], _day(groups["d1"]), _day(groups["d2"])
        first, last = CalendarDay(day1, month, year), CalendarDay(day2, month, year)
        if day1 > day2 and kind == "day_first_range":  # "the 24th through the 2nd of January": the 24th is December's
            first = CalendarDay(day1, 12 if month == 1 else month - 1, year - 1 if year and month == 1 else year)
        elif day1 > day2:  # "December 28 - 3": the 3rd is January's
            last = CalendarDay(day2, 1 if month == 12 else month + 1, year + 1 if year and month == 12 else year)
        return Mention(*match.span(), first, last)
    if kind in ("iso", "numeric"):
        return Mention(*match.span(), _numeric(match, day_first))
    if kind in ("month_day", "day_month", "ordinal"):
        written_month = MONTHS[groups["month"]] if groups.get("month") else None
        return Mention(*match.span(), CalendarDay(_day(groups["d1"]), written_month, year))
    if kind in ("holiday", "holiday_week"):
        month, day = HOLIDAYS["new year's day" if groups.get("after") else groups["name"]]
        return Mention(*match.span(), CalendarDay(day, month), marker="whole_week" if kind == "holiday_week" else "")
    if kind == "offset":
        return Mention(*match.span(), Offset(text))
    if kind == "rest_of_week":
        return Mention(*match.span(), RelativeDays(0), WeekdaySpec(4))  # today to Friday
    if kind == "week_after_next":
        return Mention(*match.span(), WeekSpan(2))
    if kind == "week":
        return Mention(*match.span(), WeekSpan(WEEK_WORDS[groups["which"]]))
    if kind == "week_of":
        return Mention(*match.span(), WeekSpan(0), marker="week_of")
    if kind == "weekday":
        modifier = WEEKDAY_MODIFIERS.get(groups["mod"] or "", "")
        return Mention(*match.span(), WeekdaySpec(WEEKDAYS[groups["wd"]], modifier))
    said = DAY_SHORT_FORMS.get(text, text)
    days = 2 if "after tomorrow" in said else -2 if "before yesterday" in said else \
        1 if "tom" in said else -1 if "yesterday" in said or "last" in said else 0
    return Mention(*match.span(), RelativeDays(days))


def scan(text: str, *, day_first: bool = True) -> list[Mention]:
    """Return the date phrases of a normalised text, without overlaps, in reading order."""
    taken: list[Mention] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(text):
            if any(match.start() < other.end and other.start < match.end() for other in taken):
                continue
            if kind == "day_first_range" and _helper_patterns()["month_before"].search(text, 0, match.start()):
                continue  # "september 1st to 27th august": the 1st is september's, the range is two dates
            taken.append(_spec(kind, match, day_first))
    return sorted(_in_the_month_named(text, taken), key=lambda mention: mention.start)


def _in_the_month_named(text: str, mentions: list[Mention]) -> list[Mention]:
    """Give days written without a month ("the 12th") the one month the text names on its own ("in March")."""
    named = {MONTHS[match["month"]] for match in _helper_patterns()["month_context"].finditer(text)
             if not any(match.start() < other.end and other.start < match.end() for other in mentions)}
    if len(named) != 1:
        return mentions
    month = named.pop()

    def pinned(spec: Spec | None) -> Spec | None:
        return replace(spec, month=month) if isinstance(spec, CalendarDay) and spec.month is None else spec

    return [replace(mention, first=pinned(mention.first), last=pinned(mention.last)) for mention in mentions]


_LIST_SEPARATOR = re.compile(r"\s*(?:,|\band\b|&)\s*(?:(?:and|&)\s+)?(?:the\s+)?")


@dataclass(frozen=True)
class _Segment:
    first: Spec
    last: Spec | None
    start: int
    end: int
    weekday_check: int | None = None
    listed: tuple[Spec, ...] = ()  # days listed rather than a range: the range runs as far as they are back to back
    week_of: bool = False


def _pin_to_week(spec: Spec, week: WeekSpan) -> Spec:
    return replace(spec, week=week.weeks) if isinstance(spec, WeekdaySpec) and not spec.modifier else spec


def _week_after(first: Spec, following: Mention | None, gap: str) -> WeekSpan | None:
    """Return the week named right after weekdays ("Tuesday next week"), which then says which week they are in."""
    if following is None or following.marker or not isinstance(following.first, WeekSpan):
        return None
    if not isinstance(first, WeekdaySpec) or _helper_patterns()["glue"].fullmatch(gap) is None:
        return None
    return following.first


def _segments(mentions: list[Mention], text: str) -> list[_Segment]:
    helpers = _helper_patterns()
    segments: list[_Segment] = []
    index = 0
    while index < len(mentions):
        here = mentions[index]
        after = mentions[index + 1] if index + 1 < len(mentions) else None
        gap = text[here.end:after.start] if after else ""
        glued = after is not None and helpers["glue"].fullmatch(gap) is not None
        if here.marker == "week_of" and after is not None and glued:
            segments.append(_Segment(after.first, None, here.start, after.end, week_of=True))
            index += 2
            continue
        if here.marker == "whole_week":  # "christmas week"
            segments.append(_Segment(here.first, None, here.start, here.end, week_of=True))
            index += 1
            continue
        if here.marker:  # "the week of" with no day after it says nothing
            index += 1
            continue
        if (isinstance(here.first, WeekSpan) and here.last is None and after is not None and not after.marker
                and isinstance(after.first, WeekdaySpec) and not after.first.modifier and helpers["week_lead"].fullmatch(gap)):
            # "next week mon-wed": the days, in that week (as "mon-wed next week" below)
            first, last, end, used = after.first, after.last, after.end, 2
            run = _list_run(mentions, index + 1, text)
            following = mentions[index + 2] if index + 2 < len(mentions) else None
            connector = helpers["connector"].fullmatch(text[after.end:following.start]) if following is not None else None
            if run is not None:  # "next week monday, wednesday and friday"
                first, last, end, used = run[0][0], run[0][-1], run[1], 1 + run[2]
            elif last is None and following is not None and not following.marker and isinstance(following.first, WeekdaySpec) \
                    and connector is not None:
                last, end, used = following.last or following.first, following.end, 3
            listed = tuple(_pin_to_week(spec, here.first) for spec in run[0]) if run is not None else ()
            segments.append(_Segment(_pin_to_week(first, here.first), last and _pin_to_week(last, here.first), here.start, end,
                                     listed=listed))
            index += used
            continue
        if isinstance(here.first, WeekdaySpec) and after is not None and glued and isinstance(after.first, CalendarDay) \
                and after.last is None and not here.first.modifier:
            segments.append(_Segment(after.first, None, here.start, after.end, weekday_check=here.first.weekday))
            index += 2
            continue
        first, last, end, used = here.first, here.last, here.end, 1
        run = _list_run(mentions, index, text)
        listed: tuple[Spec, ...] = ()
        if run is not None:  # "the 7th, 8th and 9th", "monday and tuesday"
            listed, end, used = run
            first, last = listed[0], listed[-1]
        elif after is not None and here.last is None and not isinstance(here.first, WeekSpan):
            connector = helpers["connector"].fullmatch(gap)
            if connector and after.marker == "" and not isinstance(after.first, WeekSpan):
                last, end, used = after.last or after.first, after.end, 2
        following = mentions[index + used] if index + used < len(mentions) else None
        week = _week_after(first, following, text[end:following.start] if following else "")
        if week is not None and following is not None:  # "Monday to Wednesday next week"
            first, last = _pin_to_week(first, week), last and _pin_to_week(last, week)
            listed = tuple(_pin_to_week(spec, week) for spec in listed)
            end, used = following.end, used + 1
        if len(listed) == 2 and helpers["between"].search(text[max(0, here.start - 12):here.start]):
            listed = ()  # "between the 3rd and the 10th" is a range
        segments.append(_Segment(first, last, here.start, end, listed=listed))
        index += used
    return segments


def _listable(mention: Mention) -> bool:
    """Whether a date phrase is a day (or days) that can stand in a list."""
    return bool(mention.listed) or (not mention.marker and mention.last is None
                                    and isinstance(mention.first, (CalendarDay, WeekdaySpec, RelativeDays)))


def _list_run(mentions: list[Mention], index: int, text: str) -> tuple[tuple[Spec, ...], int, int] | None:
    """The days listed from mentions[index] on ("the 7th, 8th and 9th", "monday and friday"): their specifications,
    where the list ends in the text and how many phrases it takes; None when no list of two or more starts there."""
    here = mentions[index]
    if not _listable(here):
        return None
    specs, end, used = list(here.listed or (here.first,)), here.end, 1
    while index + used < len(mentions):
        following = mentions[index + used]
        if not _listable(following) or _helper_patterns()["list_glue"].fullmatch(text[end:following.start]) is None:
            break
        specs.extend(following.listed or (following.first,))
        end, used = following.end, used + 1
    return (tuple(specs), end, used) if len(specs) > 1 else None


def _with_months(specs: tuple[Spec, ...]) -> list[Spec]:
    """Give listed days written without a month the month of the next day that has one ("the 7th and 8th of
    January"), else of the one before ("January 7th and 8th")."""
    filled = list(specs)
    for position, spec in enumerate(filled):
        if isinstance(spec, CalendarDay) and spec.month is None:
            later = [other for other in filled[position + 1:] if isinstance(other, CalendarDay) and other.month]
            earlier = [other for other in filled[:position] if isinstance(other, CalendarDay) and other.month]
            source = later[0] if later else earlier[-1] if earlier else None
            if source is not None:
                filled[position] = replace(spec, month=source.month, year=source.year)
    return filled


def _resolve_list(specs: tuple[Spec, ...], today: date, direction: Direction) -> tuple[date, date, tuple[date, ...]]:
    """Return the range the listed days make as far as they run back to back, and the days left out of it."""
    days: list[date] = []
    for spec in _with_months(specs):
        days.append(resolve(spec, today=today, direction=direction, after=days[-1] if days else None))
    ordered = sorted(set(days))
    start = end = ordered[0]
    for position, day in enumerate(ordered[1:], 1):
        if any(between.weekday() < 5 for between in (end + timedelta(days=n) for n in range(1, (day - end).days))):
            return start, end, tuple(ordered[position:])  # a working day between: the run ends here
        end = day
    return start, end, ()


def _resolve_segment(segment: _Segment, today: date, direction: Direction) -> tuple[date, date, tuple[date, ...]]:
    """Return the first and last day of a segment, and the listed days left out of that range."""
    if segment.listed:
        return _resolve_list(segment.listed, today, direction)
    if segment.week_of:
        monday = monday_of(resolve(segment.first, today=today, direction=direction))
        return monday, monday + timedelta(days=4), ()
    if isinstance(segment.first, WeekSpan):
        return (*week_span(segment.first.weeks, today), ())
    start = resolve(segment.first, today=today, direction=direction)
    if segment.weekday_check is not None and start.weekday() != segment.weekday_check:
        raise InvalidDate(f"{start:%B} {start.day}, {start.year} is a {WEEKDAY_NAMES[start.weekday()]}, "
                          f"not a {WEEKDAY_NAMES[segment.weekday_check]}")
    if segment.last is None:
        return start, start, ()
    last = segment.last
    if isinstance(segment.first, CalendarDay) and isinstance(last, CalendarDay) and last.year and not segment.first.year:
        # "Mar 3 to Mar 7 2027": the start takes the end's year (the year before when it would come after the end).
        check_day_of_month(segment.first.day, segment.first.month)
        year = last.year if (segment.first.month or 0, segment.first.day) <= (last.month or 0, last.day) else last.year - 1
        start = make_date(year, segment.first.month or last.month or 1, segment.first.day)
    end = resolve(last, today=today, direction=direction, after=start)
    if end < start:
        raise InvalidDate(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    if (isinstance(segment.first, CalendarDay) and isinstance(last, CalendarDay) and segment.first.month and last.month
            and not last.year and end.year > start.year and (end - start).days > MAX_ROLLOVER_DAYS):
        # "Dec 28 to Jan 3" runs into the new year; "September 1st to 27th August" ends before it starts
        raise InvalidDate(f"the range ends ({end:%B} {end.day}) before it starts ({start:%B} {start.day})")
    return start, end, ()


def find_dates(text: str, *, today: date, direction: Direction, day_first: bool = True) -> DateFinding:
    """Find, join and resolve the date phrases of a normalised (lowercase) text."""
    mentions = scan(text, day_first=day_first)
    spans = tuple((mention.start, mention.end) for mention in mentions)
    if not mentions:
        return DateFinding()
    try:
        for mention in mentions:  # any impossible day anywhere makes the whole message's dates doubtful
            for spec in (mention.first, mention.last):
                if spec is not None:
                    _validate(spec)
        since = _since(mentions, text, today)
        if since is not None:
            return DateFinding(*since, spans=spans)
        segments = _segments(mentions, text)
        if not segments:
            return DateFinding(spans=spans)
        segment = segments[0]
        start, end, left_out = _resolve_segment(segment, today, direction)
    except InvalidDate as problem:
        return DateFinding(invalid=str(problem), spans=spans)
    except OverflowError:
        return DateFinding(invalid="that date is too far away", spans=spans)
    helpers = _helper_patterns()
    if start == end and segment.last is None:
        try:
            last = _duration_end(start, mask(text, spans))
        except OverflowError:
            return DateFinding(invalid="that date is too far away", spans=spans)
        if last is not None:
            return DateFinding(start, last, spans=spans)
        if (helpers["open_start"].search(text[max(0, segment.start - 40):segment.start])
                or helpers["unread_end"].match(text, segment.end)):  # the end is asked for, never guessed
            return DateFinding(start, None, open_ended=True, spans=spans)
    return DateFinding(start, end, spans=spans, left_out=left_out)


def _since(mentions: list[Mention], text: str, today: date) -> tuple[date, date] | None:
    """Read "sick since monday, still off today" as the days from then to today (or to a later day said without a
    "maybe": "since yesterday, and tomorrow too"); None when the first date is not "since" one."""
    first = mentions[0]
    if first.last is not None or first.marker or not _helper_patterns()["since"].search(text, 0, first.start):
        return None
    start = resolve(first.first, today=today, direction="past")
    if start > today:
        return None
    end = today
    for later in mentions[1:]:
        if later.last is None and not later.marker and not _helper_patterns()["hedged"].search(text, 0, later.start):
            day = resolve(later.first, today=today, direction="future")
            end = max(end, day) if (day - today).days <= 14 else end
    return start, end


def last_day_of(text: str, *, start: date, day_first: bool = True) -> date | None:
    """Read the answer to "until when?" for leave beginning on `start`: a day ("Jan 29", "the 29th"), a duration
    from the start ("for a week", "3 working days") or "just that day"; None when the text says none of them."""
    lowered = text.lower()
    if _helper_patterns()["same_day"].search(lowered):
        return start
    finding = find_dates(lowered, today=start, direction="future", day_first=day_first)  # "the 29th" after the start
    if finding.start is not None:
        return finding.end or finding.start
    return _duration_end(start, lowered)


def _duration_end(start: date, text: str) -> date | None:
    """The last day of a period the text gives as a duration ("for 3 days", "a week", "5 working days") from start."""
    duration = _helper_patterns()["duration"].search(text)
    if duration is None or not 1 <= (count := _number(duration["count"])) <= 366:
        return None
    unit = "working" if duration["working"] else "week" if duration["unit"].startswith("week") else "day"
    return add_duration(start, count, unit)


def _validate(spec: Spec) -> None:
    """Raise InvalidDate for a day no calendar has; a year-less 29 February is judged when its year is chosen."""
    if isinstance(spec, Problem):
        raise InvalidDate(spec.reason)
    if isinstance(spec, CalendarDay):
        check_day_of_month(spec.day, spec.month)
        if spec.year is not None and spec.month is not None:
            make_date(spec.year, spec.month, spec.day)
