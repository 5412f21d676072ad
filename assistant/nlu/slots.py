"""Slot extraction for the offline engine: the values an intent needs, read from one message without an LLM.

`extract_slots(text, intent=..., today=...)` returns only the slots it found, named and formatted as in
DESIGN.md (ISO dates, two-decimal amounts, ISO 4217 currencies, the fixed category codes). Dates resolve
against the user's `today` (the caller converts "now" to the user's time zone); the conventions are in
slot_calendar.py and slot_dates.py, the money rules in slot_money.py. An impossible date ("Feb 30") gives no
date slots but an `invalid_date` slot holding the reason, so the dialogue can say what is wrong.

For `intent=None` only the slots that do not depend on the intent are read: dates (as start/end), half day,
leave type, an amount with an explicit currency, and ids named by their kind ("ticket 34").
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from functools import cache

from assistant.nlu.slot_calendar import Direction
from assistant.nlu.slot_dates import MONTH_NAMES, DateFinding, find_dates
from assistant.nlu.slot_expense import describe, find_merchant
from assistant.nlu.slot_keywords import (
    EXPENSE_CATEGORIES, LEAVE_TYPES, PRIORITIES, TICKET_CATEGORIES, first_match, head_match,
)
from assistant.nlu.slot_money import find_money
from assistant.nlu.spelling import expand_leave_abbreviations
from assistant.nlu.slot_text import (
    MAX_SCAN_CHARS, capitalize_first, clean_slack_markup, mask, normalize, remove_patterns, tidy, truncate_words,
)

MAX_SUMMARY_CHARS = 200  # tickets.summary is String(200)
MAX_TOPIC_CHARS = 500


class Slot(StrEnum):
    """Slot names (DESIGN.md), plus invalid_date for a date that does not exist and left_out_dates for listed days
    the range does not cover."""

    START_DATE = "start_date"
    END_DATE = "end_date"
    LEAVE_TYPE = "leave_type"
    HALF_DAY = "half_day"
    REQUEST_ID = "request_id"
    AMOUNT = "amount"
    CURRENCY = "currency"
    CATEGORY = "category"
    EXPENSE_DATE = "expense_date"
    MERCHANT = "merchant"
    DESCRIPTION = "description"
    CLAIM_ID = "claim_id"
    SUMMARY = "summary"
    PRIORITY = "priority"
    TICKET_ID = "ticket_id"
    TOPIC = "topic"
    INVALID_DATE = "invalid_date"
    LEFT_OUT_DATES = "left_out_dates"  # listed days not back to back with the range ("monday and friday": friday)


# Which id slot an intent reads, and which id keywords name which slot when the intent does not say.
_ID_SLOT_OF_INTENT = {"leave_status": Slot.REQUEST_ID, "cancel_leave": Slot.REQUEST_ID,
                      "expense_status": Slot.CLAIM_ID, "ticket_status": Slot.TICKET_ID}
_ID_KEYWORDS = {"request": Slot.REQUEST_ID, "req": Slot.REQUEST_ID, "leave": Slot.REQUEST_ID, "time": Slot.REQUEST_ID,
                "time-off": Slot.REQUEST_ID,
                "ticket": Slot.TICKET_ID, "tkt": Slot.TICKET_ID, "inc": Slot.TICKET_ID, "case": Slot.TICKET_ID, "incident": Slot.TICKET_ID,
                "claim": Slot.CLAIM_ID, "expense": Slot.CLAIM_ID, "lr": Slot.REQUEST_ID, "exp": Slot.CLAIM_ID}


_LEAVE_INTENTS = frozenset({None, "request_leave", "cancel_leave", "leave_balance"})


def extract_slots(text: str, *, intent: str | None, today: date, default_currency: str = "USD",
                  day_first: bool = True) -> dict[str, str]:
    """Return the slots of `intent` found in text (all intent-independent ones when intent is None)."""
    original = clean_slack_markup(text)[:MAX_SCAN_CHARS]
    if intent in _LEAVE_INTENTS:
        original = expand_leave_abbreviations(original)  # "CL on Friday" is casual (annual) leave
    lowered = normalize(original)
    slots: dict[Slot, str] = {}
    if intent in (None, "request_leave"):
        _leave_slots(slots, lowered, today=today, day_first=day_first, with_ids=intent is None)
        money = find_money(original, default_currency=default_currency.upper(), allow_bare=False) if intent is None else None
        if money is not None:
            slots[Slot.AMOUNT], slots[Slot.CURRENCY] = money.amount, money.currency or ""
    elif intent == "cancel_leave":  # "cancel my sick day next week": which leave, when no number is given
        _leave_slots(slots, lowered, today=today, day_first=day_first, with_ids=False)
        slots.pop(Slot.HALF_DAY, None)
        if slots.get(Slot.LEAVE_TYPE) == "annual" and not _patterns()["annual_words"].search(lowered):
            del slots[Slot.LEAVE_TYPE]  # "time off", "PTO", "days off" name any leave, not annual leave only
    elif intent == "leave_balance":
        _set(slots, Slot.LEAVE_TYPE, first_match(LEAVE_TYPES, lowered))
    elif intent == "submit_expense":
        _expense_slots(slots, original, lowered, today=today, default_currency=default_currency.upper(), day_first=day_first)
    elif intent == "create_ticket":
        _set(slots, Slot.SUMMARY, ticket_summary(original))
        _set(slots, Slot.CATEGORY, first_match(TICKET_CATEGORIES, lowered))
        _set(slots, Slot.PRIORITY, first_match(PRIORITIES, lowered))
    elif intent == "policy_question":
        _set(slots, Slot.TOPIC, question_topic(original))
    if intent in _ID_SLOT_OF_INTENT:
        _set(slots, _ID_SLOT_OF_INTENT[intent], find_id(lowered, _ID_SLOT_OF_INTENT[intent]))
    if intent in ("cancel_leave", "leave_status") and Slot.REQUEST_ID not in slots:
        bare = _patterns()["leave_number"].search(lowered)  # "cancel leave 2": a number right after "leave"
        if bare is not None:
            slots[Slot.REQUEST_ID] = bare["id"]
    return {slot.value: value for slot, value in slots.items() if value}


def _set(slots: dict[Slot, str], slot: Slot, value: str | None) -> None:
    if value:
        slots[slot] = value


def _direction(lowered: str) -> Direction:
    """Leave dates look ahead, unless the sentence is in the past tense ("I was sick on Monday")."""
    return "past" if _patterns()["past_tense"].search(lowered) else "future"


def _leave_slots(slots: dict[Slot, str], lowered: str, *, today: date, day_first: bool, with_ids: bool) -> None:
    finding = find_dates(lowered, today=today, direction=_direction(lowered), day_first=day_first)
    _date_slots(slots, finding, single=None)
    _set(slots, Slot.LEAVE_TYPE, first_match(LEAVE_TYPES, lowered))
    _set(slots, Slot.HALF_DAY, half_day(lowered))
    if with_ids:
        for match in _patterns()["keyword_id"].finditer(lowered):
            slots.setdefault(_ID_KEYWORDS[match["keyword"].split()[0]], match["id"])


def _date_slots(slots: dict[Slot, str], finding: DateFinding, *, single: Slot | None) -> None:
    if finding.invalid:
        slots[Slot.INVALID_DATE] = finding.invalid
    elif finding.start is not None and single is not None:
        slots[single] = finding.start.isoformat()
    elif finding.start is not None:
        slots[Slot.START_DATE] = finding.start.isoformat()
        if finding.end is not None:
            slots[Slot.END_DATE] = finding.end.isoformat()
        if finding.left_out:
            slots[Slot.LEFT_OUT_DATES] = ",".join(day.isoformat() for day in finding.left_out)


def _expense_slots(slots: dict[Slot, str], original: str, lowered: str, *, today: date, default_currency: str,
                   day_first: bool) -> None:
    finding = find_dates(lowered, today=today, direction="past", day_first=day_first)
    _date_slots(slots, finding, single=Slot.EXPENSE_DATE)
    without_dates = mask(original, finding.spans)
    # "sorry it was 17 not 18,50": the amount taken back is no amount of the claim
    without_dates = mask(without_dates, [m.span() for m in _patterns()["taken_back_amount"].finditer(without_dates)])
    money = find_money(without_dates, default_currency=default_currency, allow_bare=True)
    if money is not None:
        # "-50 eur", "minus 50": kept negative, so the claim is refused with the reason instead of the sign dropped
        negative = re.search(r"(?:(?<![\d.,])\s*[-−]|\bminus)\s*(?:[$€£¥]\s?)?$", without_dates[:money.span[0]], re.IGNORECASE)
        slots[Slot.AMOUNT] = f"-{money.amount}" if negative else money.amount
        _set(slots, Slot.CURRENCY, money.currency)
    named = _patterns()["named_category"].search(lowered)  # "the category is travel", "as a training expense"
    category = (named["name"] or named["name2"] or named["name3"]) if named else head_match(EXPENSE_CATEGORIES, lowered)
    _set(slots, Slot.CATEGORY, "meals" if category == "meal" else category)
    without_money = mask(without_dates, [money.span] if money else [])
    merchant = find_merchant(without_money)
    if merchant is not None:
        slots[Slot.MERCHANT] = merchant.name
    _set(slots, Slot.DESCRIPTION, describe(without_money, remove=[], merchant=merchant))


def half_day(lowered: str) -> str | None:
    """Return "am" or "pm" when the text asks for a morning or an afternoon (not both); "good morning" greets."""
    patterns = _patterns()
    lowered = patterns["greeting_time"].sub(" ", lowered)
    morning, afternoon = patterns["am"].search(lowered), patterns["pm"].search(lowered)
    if morning and not afternoon:
        return "am"
    if afternoon and not morning:
        return "pm"
    return None


def find_id(lowered: str, slot: Slot) -> str | None:
    """Return the id of a request, claim or ticket: named by its kind, then "#12", then any named id."""
    patterns = _patterns()
    named = [(match["id"], _ID_KEYWORDS[match["keyword"].split()[0]]) for match in patterns["keyword_id"].finditer(lowered)]
    for number, kind in named:
        if kind == slot:
            return number
    hashed = patterns["hash_id"].search(lowered)
    if hashed:
        return hashed["id"]
    return named[0][0] if named else None


def ticket_summary(original: str) -> str | None:
    """Return the user's problem sentence without greetings, "can you open a ticket" and priority words."""
    cleaned = remove_patterns(original, _summary_filler())
    cleaned = _patterns()["leading_request"].sub("", tidy(cleaned))
    summary = capitalize_first(tidy(cleaned))
    return truncate_words(summary, MAX_SUMMARY_CHARS) or None


def question_topic(original: str) -> str | None:
    """Return the question of a policy question, without greetings and "quick question:"."""
    cleaned = remove_patterns(original, _topic_filler())
    topic = capitalize_first(tidy(cleaned))
    return truncate_words(topic, MAX_TOPIC_CHARS) or None


# The expense categories by name ("the category is travel"): the keyword table's, the catch-all and "meal" said singly
_CATEGORY_NAMES = "|".join(sorted({value for value, _ in EXPENSE_CATEGORIES} | {"other", "meal"}, key=len, reverse=True))


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    keywords = (r"leave\s+request|time[- ]off\s+request|expense\s+claim|expense\s+report|request|req|ticket|tkt|case|"
                r"incident|inc|claim|expense|lr|exp")  # LR-17, EXP-88: the prefixes some tools print before a number
    return {
        "annual_words": re.compile(r"\b(?:annual|vacation|vacay|holidays?)\b"),
        "taken_back_amount": re.compile(r"\b(?:not|instead of|rather than)\s+(?:[$€£¥]\s?)?\d[\d.,]*"
                                        r"(?:\s?(?:[a-z]{3}\b|dollars?|euros?|pounds?|bucks|quid))?", re.IGNORECASE),
        "named_category": re.compile(r"\bcategory\W+(?:(?:is|to|should\s+be|as|=)\W+)?(?:the\s+)?(?P<name>" + _CATEGORY_NAMES + r")\b"
                                     r"|\b(?:as|under|in|to)\s+(?:an?\s+|the\s+)?(?P<name2>" + _CATEGORY_NAMES
                                     + r")\s+(?:expense|claim|category)\b"
                                     # "no wait, travel was right": the category named as the right one after all
                                     r"|\b(?P<name3>" + _CATEGORY_NAMES + r")\s+(?:was|is)\s+(?:right|correct|fine|it)\b"),
        "past_tense": re.compile(r"\b(?:was|were|had|been|went|got|missed|stayed)\b"),
        # "the second half of the day" is an afternoon; "the second half of january" is no half day
        "am": re.compile(r"\b(?:morning|a\.m\.|first\s+half(?!\s+of\s+(?!the\s+day)))\b|\bhalf[- ]?day\s*\(?am\b|\bam\s+only\b"),
        "greeting_time": re.compile(r"\bgood\s+(?:morning|afternoon|evening)\b"),
        "pm": re.compile(r"\b(?:afternoon|p\.m\.|second\s+half(?!\s+of\s+(?!the\s+day)))\b|\bhalf[- ]?day\s*\(?pm\b"
                         r"|\bpm\s+only\b|(?<=\d)\s?pm\b"),
        "keyword_id": re.compile(rf"\b(?P<keyword>{keywords})\s*(?:#|no\.?|nr\.?|number|num\.?|id)?\s*[:#-]?\s*"
                                 r"(?P<id>\d{1,9})\b"),
        "leave_number": re.compile(r"\bleave\s*(?:no\.?|number|nr\.?)?\s*(?P<id>\d{1,9})\b(?![.,:/-]\d)"
                                   r"(?!\s*(?:days?|weeks?|hours?|h|am|pm|st|nd|rd|th)\b)(?!\s*(?:of\s+)?(?:" + MONTH_NAMES + r")\b)"),
        "hash_id": re.compile(r"(?<![\w&])#\s?(?P<id>\d{1,9})\b"),
        "leading_request": re.compile(r"^(?:can|could|would|will)\s+(?:you|u|someone)\s+(?:please\s+)?", re.IGNORECASE),
    }


@cache
def _greeting() -> str:
    return (r"^\s*(?:hi|hello|hey|hiya|yo|good\s+(?:morning|afternoon|evening))(?:\s+(?:there|team|it|all|folks|helpdesk))?"
            r"\b[\s,!.:-]*")


@cache
def _summary_filler() -> tuple[re.Pattern[str], ...]:
    flags = re.IGNORECASE
    asker = (r"(?:(?:can|could|would|will)\s+(?:you|u|someone)\s+(?:please\s+)?|please\s+|pls\s+|"
             r"i\s+(?:need|want|would\s+like|'d\s+like)\s+(?:you\s+)?(?:to\s+)?|let's\s+)?")
    ticket = (r"(?:open|create|raise|file|log|make|submit|start|put\s+in)\s+(?:me\s+)?(?:a|an)\s+(?:new\s+)?"
              r"(?:(?:it|helpdesk|support|service\s*desk)\s+)?(?:(?:low|normal|medium|high|urgent)\s+(?:prio(?:rity)?\s+)?)?"
              r"(?:ticket|request)\b(?:\s+for\s+me)?(?:\s+please)?(?:\s+(?:for|about|because|regarding|saying|that\s+says))?")
    return tuple(re.compile(pattern, flags) for pattern in (
        _greeting(),
        rf"\b{asker}{ticket}[\s?:,.!-]*",
        r"\b(?:it'?s|it\s+is|this\s+is)\s+(?:a\s+|an\s+)?(?:very\s+|super\s+|really\s+)?(?:not\s+urgent|urgent|a\s+blocker|"
        r"blocker|an\s+emergency|emergency|critical|low\s+priority|high\s+priority)\b[!.]*",
        r"\b(?:low|normal|medium|high|top)\s+prio(?:rity)?\b\s*:?",
        r"\bnot\s+urgent\b|\b(?:very\s+|super\s+)?urgent(?:ly)?\b!*|\ba\.?s\.?a\.?p\.?(?=\W|$)|\bas\s+soon\s+as\s+possible\b|"
        r"\bno\s+(?:rush|hurry)\b|\bblocker\b",
        r"\b(?:whenever|when)\s+you\s+(?:can|get\s+(?:a|the)\s+chance|have\s+(?:a\s+)?(?:time|moment|minute))\b",
        r"\bplease\s+fix(?:\s+(?:this|it))?\b",
        r"\b(?:please|pls|plz|thanks|thank\s+you|thx|cheers)\b[!.]*",
    ))


@cache
def _topic_filler() -> tuple[re.Pattern[str], ...]:
    flags = re.IGNORECASE
    return tuple(re.compile(pattern, flags) for pattern in (
        _greeting(),
        r"^\s*(?:quick|a|one|small)?\s*question\s*[:,-]\s*|^\s*i\s+have\s+a\s+(?:quick\s+)?question\s*[:,-]?\s*",
        r"^\s*(?:can|could)\s+you\s+(?:please\s+)?tell\s+me\s+|^\s*do\s+you\s+know\s+|^\s*i\s+was\s+wondering\s+",
        r"\b(?:please|thanks|thank\s+you|thx)\b[!.]*",
    ))
