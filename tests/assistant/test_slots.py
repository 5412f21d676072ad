"""Slot extraction (assistant/nlu/slots.py): each phrase family, impossible dates, and hostile input.

"Today" is Friday 27 November 2026 unless a test says otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from assistant.nlu.slots import Slot, extract_slots

ROOT = Path(__file__).resolve().parents[2]
FRIDAY = date(2026, 11, 27)
TUESDAY = date(2026, 2, 10)
YEAR_END = date(2026, 12, 28)  # a Monday


def leave(text: str, today: date = FRIDAY) -> dict[str, str]:
    """Return the slots of a leave request."""
    return extract_slots(text, intent="request_leave", today=today)


def expense(text: str, today: date = FRIDAY, default_currency: str = "USD") -> dict[str, str]:
    """Return the slots of an expense claim."""
    return extract_slots(text, intent="submit_expense", today=today, default_currency=default_currency)


def dates(slots: dict[str, str]) -> tuple[str | None, str | None]:
    """Return (start_date, end_date)."""
    return slots.get("start_date"), slots.get("end_date")


# --- dates of leave requests -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "start", "end"), [
    ("I'd like tomorrow off", "2026-11-28", "2026-11-28"),
    ("off sick today", "2026-11-27", "2026-11-27"),
    ("the day after tomorrow", "2026-11-29", "2026-11-29"),
    ("on Friday", "2026-12-04", "2026-12-04"),  # a bare weekday is the next one after today
    ("this Friday", "2026-11-27", "2026-11-27"),  # "this" may be today
    ("next Friday", "2026-12-04", "2026-12-04"),  # the Friday of next calendar week
    ("next Monday", "2026-11-30", "2026-11-30"),
    ("the 24th", "2026-12-24", "2026-12-24"),  # the next 24th (this month's has passed)
    ("the 27th", "2026-11-27", "2026-11-27"),  # ... or today
    ("2027-01-11", "2027-01-11", "2027-01-11"),
    ("Dec 3", "2026-12-03", "2026-12-03"),
    ("3rd of December, 2026", "2026-12-03", "2026-12-03"),
    ("Jan 5th", "2027-01-05", "2027-01-05"),  # already past this year: next year's
    ("Nov 20", "2026-11-20", "2026-11-20"),  # a week ago stays this year (sick leave is filed afterwards)
    ("Christmas Eve", "2026-12-24", "2026-12-24"),
    ("in 3 days", "2026-11-30", "2026-11-30"),  # relative offsets go through dateparser
    ("Tuesday the 1st", "2026-12-01", "2026-12-01"),
    ("put in a day off for me on the 23rd", "2026-12-23", "2026-12-23"),  # "in a day off" is no offset from today
    ("my brother's wedding is in March, can I have the 12th off", "2027-03-12", "2027-03-12"),  # the month named apart
    ("the 12th of next month is the school play, I need it off", "2026-12-12", "2026-12-12"),
])
def test_single_days_of_leave_resolve_against_today(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("next Monday to Wednesday", "2026-11-30", "2026-12-02"),
    ("Monday to Wednesday next week", "2026-11-30", "2026-12-02"),
    ("Dec 3-5", "2026-12-03", "2026-12-05"),
    ("December 3rd to the 5th", "2026-12-03", "2026-12-05"),
    ("3-5 Dec", "2026-12-03", "2026-12-05"),
    ("between the 3rd and 7th of March", "2027-03-03", "2027-03-07"),
    ("Mar 3 - Mar 7", "2027-03-03", "2027-03-07"),
    ("Mar 3 to Mar 7 2027", "2027-03-03", "2027-03-07"),
    ("from the 21st until the 23rd", "2026-12-21", "2026-12-23"),
    ("Dec 30 - Jan 2", "2026-12-30", "2027-01-02"),  # the end crosses into next year
    ("Dec 23rd through Jan 3rd", "2026-12-23", "2027-01-03"),
    ("2026-12-21 to 2026-12-31", "2026-12-21", "2026-12-31"),
    ("from 21/12/2026 to 23/12/2026", "2026-12-21", "2026-12-23"),
    ("next week", "2026-11-30", "2026-12-04"),
    ("the whole of next week", "2026-11-30", "2026-12-04"),
    ("the week after next", "2026-12-07", "2026-12-11"),
    ("the week of Dec 7", "2026-12-07", "2026-12-11"),
    ("Monday and Tuesday", "2026-11-30", "2026-12-01"),  # consecutive days joined by "and"
    ("next week mon-wed off", "2026-11-30", "2026-12-02"),  # the days, in the week named before them
    ("2moro off", "2026-11-28", "2026-11-28"), ("tmw pls", "2026-11-28", "2026-11-28"),  # chat short forms
    ("next week from monday to wednesday", "2026-11-30", "2026-12-02"),
    ("off next week on thursday", "2026-12-03", "2026-12-03"),
    ("next week monday and friday", "2026-11-30", "2026-11-30"),  # two separate days: the first
    ("today and tomorrow", "2026-11-27", "2026-11-28"),
    ("book me off xmas week", "2026-12-21", "2026-12-25"),  # the working week around Christmas Day
    ("the week of christmas", "2026-12-21", "2026-12-25"),
    ("the week after christmas", "2026-12-28", "2027-01-01"),
    ("xmas eve and christmas day", "2026-12-24", "2026-12-25"),
    ("from the 24th through the 2nd of January", "2026-12-24", "2027-01-02"),  # the first day is the month before's
    ("the 28th to the 3rd of March", "2027-02-28", "2027-03-03"),
    ("december 28 - 3", "2026-12-28", "2027-01-03"),  # the second day is the month after's
    ("thurs+fri next week", "2026-12-03", "2026-12-04"),  # days joined by "+"
    ("10.12 to 12.12", "2026-12-10", "2026-12-12"),  # day.month without dots, joined by "to"
    ("28.12 until 30.12", "2026-12-28", "2026-12-30"),
    ("sick since monday, still off today", "2026-11-23", "2026-11-27"),  # a spell from then to today
    ("fever since yesterday, won't come in today and maybe tomorrow", "2026-11-26", "2026-11-27"),  # "maybe" asks for nothing
    ("ill since wednesday and tomorrow too", "2026-11-25", "2026-11-28"),
])
def test_ranges(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("from the 2nd for a week", "2026-12-02", "2026-12-08"),
    ("for 3 days starting Monday", "2026-11-30", "2026-12-02"),
    ("3 days off starting Monday", "2026-11-30", "2026-12-02"),
    ("for 2 days from Thursday", "2026-12-03", "2026-12-04"),
    ("for two weeks starting Dec 14", "2026-12-14", "2026-12-25"),  # a week-long period ends on the Friday
    ("for 5 working days from Dec 14", "2026-12-14", "2026-12-18"),
    ("a day off on Friday", "2026-12-04", "2026-12-04"),
])
def test_durations_count_from_the_start(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("vacation from 3 march 2027 to 5 march 2027", "2027-03-03", "2027-03-05"),  # a year's digits are no day
    ("I need leave from 22 june 2027 to 27 june 2027", "2027-06-22", "2027-06-27"),
    ("from 22nd june 2027 to 27th june 2027", "2027-06-22", "2027-06-27"),
    ("leave from 20 december to 10 january", "2026-12-20", "2027-01-10"),  # into the new year by a few weeks
])
def test_ranges_with_years_and_months_on_both_ends(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


def test_a_range_whose_second_month_comes_first_in_the_year_is_not_turned_into_eleven_months() -> None:
    assert "before it starts" in leave("leave from september 1st to 27th august")["invalid_date"]


def test_a_start_without_an_end_gives_only_the_start() -> None:
    assert leave("Maternity leave starting 1 February 2027") == {"start_date": "2027-02-01", "leave_type": "parental"}


def test_separate_days_are_not_turned_into_a_range_and_the_days_left_out_are_named() -> None:
    slots = leave("Monday and Friday")
    assert dates(slots) == ("2026-11-30", "2026-11-30") and slots[Slot.LEFT_OUT_DATES] == "2026-12-04"
    assert Slot.LEFT_OUT_DATES not in leave("Monday and Tuesday")


@pytest.mark.parametrize(("text", "start", "end", "left_out"), [
    ("I need the 7th, 8th and 9th of January off", "2027-01-07", "2027-01-09", None),  # the month named once, at the end
    ("jan 7, 8 and 9", "2027-01-07", "2027-01-09", None),
    ("january 7th, 8th and 9th", "2027-01-07", "2027-01-09", None),
    ("3 and 4 december", "2026-12-03", "2026-12-04", None),
    ("dec 3, 4 & 5", "2026-12-03", "2026-12-05", None),
    ("monday, tuesday and wednesday next week", "2026-11-30", "2026-12-02", None),
    ("next week monday, tuesday and wednesday", "2026-11-30", "2026-12-02", None),
    ("friday and monday", "2026-12-04", "2026-12-07", None),  # a weekend between does not break the run
    ("dec 14, 15, 17 and 18", "2026-12-14", "2026-12-15", "2026-12-17,2026-12-18"),
    ("between the 3rd and 10th of january", "2027-01-03", "2027-01-10", None),  # "between" makes it a range
])
def test_listed_days_are_one_range_as_far_as_they_run_back_to_back(text: str, start: str, end: str, left_out: str | None) -> None:
    slots = leave(text)
    assert dates(slots) == (start, end) and slots.get(Slot.LEFT_OUT_DATES) == left_out


@pytest.mark.parametrize(("text", "start", "end"), [
    ("can I have july second and third off", "2027-07-02", "2027-07-03"),  # days of the month written out
    ("the ninth and the tenth of august", "2027-08-09", "2027-08-10"),
    ("april twenty through may two", "2027-04-20", "2027-05-02"),
    ("march twenty-first to twenty-third", "2027-03-21", "2027-03-23"),
    ("from the first to the ninth", "2026-12-01", "2026-12-09"),
    ("tomorrow to the twentieth", "2026-11-28", "2026-12-20"),
    ("dec 28 to new years", "2026-12-28", "2027-01-01"),
    ("on the twenty first of june", "2027-06-21", "2027-06-21"),
])
def test_days_written_out_in_words(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


@pytest.mark.parametrize("text", ["I may one day want a sabbatical", "the second half of january off",
                                  "the third floor printer is down", "first thing tomorrow"])
def test_ordinary_uses_of_number_words_are_no_day(text: str) -> None:
    slots = leave(text)
    assert "half_day" not in slots and slots.get("start_date") in (None, "2026-11-28"), slots


@pytest.mark.parametrize("text", ["jan 21 to the beginning of february", "leave from jan 21 until the end of the month"])
def test_an_end_that_cannot_be_read_is_asked_for_not_guessed(text: str) -> None:
    assert dates(leave(text)) == ("2027-01-21", None)


@pytest.mark.parametrize(("text", "today", "start"), [
    ("I was sick on Monday", TUESDAY, "2026-02-09"),  # past tense: the last Monday
    ("I was off sick last Wednesday", FRIDAY, "2026-11-25"),
    ("I was ill on the 5th", TUESDAY, "2026-02-05"),
    ("Holiday next Friday", TUESDAY, "2026-02-20"),
    ("Off this Friday", TUESDAY, "2026-02-13"),
    ("Vacation Jan 4-8", YEAR_END, "2027-01-04"),
    ("take the 2nd off", YEAR_END, "2027-01-02"),
])
def test_direction_and_year_follow_tense_and_today(text: str, today: date, start: str) -> None:
    assert leave(text, today)["start_date"] == start


@pytest.mark.parametrize(("text", "day_first", "expected"), [
    ("11/01/2027", True, "2027-01-11"),  # day first by default
    ("12/25/2026", True, "2026-12-25"),  # ... unless the second number cannot be a month
    ("3.12.2026", True, "2026-12-03"),
    ("11/01/2027", False, "2027-11-01"),  # a US company: month first
    ("25/12/2026", False, "2026-12-25"),  # ... unless the first number cannot be a month
])
def test_numeric_dates_follow_the_documented_convention(text: str, day_first: bool, expected: str) -> None:
    slots = extract_slots(text, intent="request_leave", today=FRIDAY, day_first=day_first)
    assert slots["start_date"] == expected


def test_half_a_day_is_not_read_as_a_date() -> None:
    assert leave("Can I take 1/2 day tomorrow afternoon") == {"start_date": "2026-11-28", "end_date": "2026-11-28",
                                                              "half_day": "pm"}


# --- impossible dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "the 31st of February", "Feb 30", "February 30th 2027", "April 31", "the 32nd", "2027-02-29", "2026-13-01",
    "13/13/2026", "31/11/2026", "29 February",  # 2027 has no 29 February
    "from Dec 5 to Dec 3",  # ends before it starts
    "Monday 1 December",  # 1 December 2026 is a Tuesday
])
def test_impossible_dates_give_a_reason_and_no_date(text: str) -> None:
    slots = leave(f"vacation {text}")
    assert Slot.INVALID_DATE in slots and slots["invalid_date"].strip()
    assert not {"start_date", "end_date"} & set(slots)
    assert slots["leave_type"] == "annual"


def test_an_impossible_expense_date_keeps_the_other_slots() -> None:
    slots = expense("Hotel on the 31st of February 200 EUR")
    assert "31st" in slots.pop("invalid_date")
    assert slots == {"amount": "200.00", "currency": "EUR", "category": "lodging", "description": "Hotel"}


def test_the_leap_day_reason_names_the_year() -> None:
    assert "2027 is not a leap year" in leave("leave on 2027-02-29")["invalid_date"]
    assert leave("leave on Feb 29 2028")["start_date"] == "2028-02-29"


# --- leave type and half day -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "leave_type"), [
    ("vacation", "annual"), ("holiday", "annual"), ("PTO", "annual"), ("some time off", "annual"),
    ("two days off", "annual"), ("I'm sick", "sick"), ("feeling ill", "sick"), ("doctor's appointment", "sick"),
    ("I have the flu", "sick"), ("parental leave", "parental"), ("maternity leave", "parental"),
    ("paternity leave", "parental"), ("the baby is due", "parental"), ("unpaid leave", "unpaid"),
    ("unpaid vacation", "unpaid"), ("sick day off", "sick"), ("bereavement leave", "other"),
    ("feeling awful, not coming in", "sick"), ("under the weather today", "sick"),
    ("casual leave", "annual"), ("earned leave", "annual"), ("CL", "annual"), ("EL", "annual"), ("PL", "annual"),
    ("SL", "sick"), ("LWP", "unpaid"), ("2 days lop", "unpaid"), ("loss of pay", "unpaid"),
])
def test_leave_types(text: str, leave_type: str) -> None:
    assert leave(text)["leave_type"] == leave_type
    assert extract_slots(text, intent="leave_balance", today=FRIDAY) == {"leave_type": leave_type}


@pytest.mark.parametrize("text", ["I'd like Monday off", "I'll be out tomorrow", "leave balance",
                                  "feel bad about asking, but can I have Monday?",
                                  "off to El Capitan on Monday", "PL/SQL course on Monday"])
def test_no_leave_type_is_guessed(text: str) -> None:
    assert "leave_type" not in leave(text)


@pytest.mark.parametrize(("text", "half"), [
    ("tomorrow afternoon", "pm"), ("this morning", "am"), ("half day PM on Friday", "pm"),
    ("Dec 3, morning only", "am"), ("tomorrow", None), ("a half day tomorrow", None),
    ("Good morning, I need leave on 10 december", None), ("good afternoon! friday morning off please", "am"),
])
def test_half_days(text: str, half: str | None) -> None:
    assert leave(text).get("half_day") == half


# --- money -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("$45.20", "45.20", "USD"), ("45,20 EUR", "45.20", "EUR"), ("EUR 1.200,00", "1200.00", "EUR"),
    ("€12", "12.00", "EUR"), ("£8.50", "8.50", "GBP"), ("120 bucks", "120.00", "USD"),
    ("1,234.56 USD", "1234.56", "USD"), ("12 euros", "12.00", "EUR"), ("¥3000", "3000.00", "JPY"),
    ("CHF 40", "40.00", "CHF"), ("45€", "45.00", "EUR"), ("30 quid", "30.00", "GBP"), ("C$45", "45.00", "CAD"),
    ("A$ 60", "60.00", "AUD"), ("US$ 30", "30.00", "USD"), ("₹850", "850.00", "INR"), ("300 usd", "300.00", "USD"),
    ("2,50 €", "2.50", "EUR"), ("1.5k EUR", "1500.00", "EUR"), ("15 dollars", "15.00", "USD"),
    ("¥12,000", "12000.00", "JPY"), ("80 SEK", "80.00", "SEK"),
])
def test_amounts_and_currencies(text: str, amount: str, currency: str) -> None:
    slots = expense(f"taxi {text}")
    assert (slots["amount"], slots["currency"]) == (amount, currency)


@pytest.mark.parametrize(("text", "default", "currency"), [
    ("$25", "CAD", "CAD"), ("25 bucks", "AUD", "AUD"), ("$25", "EUR", "USD"), ("US$ 25", "CAD", "USD"),
    ("¥250", "CNY", "CNY"), ("€25", "CAD", "EUR"),
])
def test_the_dollar_sign_is_the_company_dollar(text: str, default: str, currency: str) -> None:
    assert expense(f"lunch {text}", default_currency=default)["currency"] == currency


@pytest.mark.parametrize(("text", "amount"), [
    ("Coffee 4.50 at Blue Bottle", "4.50"), ("Taxi 25", "25.00"), ("I paid 1,200 for the flight", "1200.00"),
    ("Mileage 120 km", None), ("hotel for 2 nights", None), ("Conference ticket for PyCon 2027", None),
])
def test_amounts_without_a_currency(text: str, amount: str | None) -> None:
    slots = expense(text)
    assert slots.get("amount") == amount and "currency" not in slots


def test_a_symbol_belongs_to_the_number_it_touches() -> None:
    slots = expense("Conference ticket for PyCon 2027 €350")
    assert (slots["amount"], slots["currency"]) == ("350.00", "EUR")


# --- expense claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expense_date"), [
    ("lunch yesterday 12 EUR", "2026-11-26"),
    ("lunch last Tuesday 12 EUR", "2026-11-24"),
    ("lunch on Tuesday 12 EUR", "2026-11-24"),  # expenses are in the past
    ("lunch on Friday 12 EUR", "2026-11-20"),
    ("lunch on the 3rd 12 EUR", "2026-11-03"),
    ("lunch on Dec 3 12 EUR", "2025-12-03"),
    ("lunch this morning 12 EUR", "2026-11-27"),
    ("lunch 2 weeks ago 12 EUR", "2026-11-13"),
    ("lunch on 11/10/2026 12 EUR", "2026-10-11"),
])
def test_expense_dates_are_past_dates(text: str, expense_date: str) -> None:
    slots = expense(text)
    assert slots["expense_date"] == expense_date and "start_date" not in slots


@pytest.mark.parametrize(("text", "expected"), [
    # day.month. without a year, after a word that introduces a date, as written in German-speaking countries
    ("please claim CHF 42 dinner with customer at Zeughauskeller on 24.11.",
     {"expense_date": "2026-11-24", "amount": "42.00", "currency": "CHF", "merchant": "Zeughauskeller",
      "description": "dinner with customer"}),
    ("lunch was 12.50.", {"amount": "12.50", "description": "lunch"}),  # a full stop after the amount ends the sentence
    ("I paid 24.11. for lunch", {"amount": "24.11", "description": "lunch"}),  # no date word before it: an amount
    ("reimburse me 60 EUR for a train ticket from Paris to Lyon on 21/11",  # a route is no merchant
     {"expense_date": "2026-11-21", "amount": "60.00", "currency": "EUR", "description": "train ticket from Paris to Lyon"}),
    ("need to expense a udemy course, 19.99", {"amount": "19.99", "merchant": "Udemy", "description": "udemy course"}),
    ("expense report for client dinner $85", {"amount": "85.00", "description": "client dinner"}),
    ("got a receipt for a taxi, 32 eur, need to claim it", {"amount": "32.00", "description": "taxi"}),
])
def test_expense_slots_written_in_other_ways(text: str, expected: dict[str, str]) -> None:
    slots = expense(text)
    assert {key: slots.get(key) for key in expected} == expected
    assert "merchant" in expected or "merchant" not in slots


@pytest.mark.parametrize(("text", "start", "end"), [
    ("leave 21.12.-23.12.", "2026-12-21", "2026-12-23"), ("off from 21.12. to 23.12.", "2026-12-21", "2026-12-23"),
    ("vacation from 21.12. until 2.1.", "2026-12-21", "2027-01-02"),
])
def test_leave_dates_written_day_dot_month_dot(text: str, start: str, end: str) -> None:
    assert dates(leave(text)) == (start, end)


@pytest.mark.parametrize(("text", "category"), [
    ("lunch", "meals"), ("dinner with a client", "meals"), ("coffee", "meals"), ("taxi", "travel"),
    ("Uber home", "travel"), ("train ticket", "travel"), ("flight to Berlin", "travel"), ("mileage", "travel"),
    ("hotel", "lodging"), ("Airbnb", "lodging"), ("new monitor", "equipment"), ("keyboard", "equipment"),
    ("laptop stand", "equipment"), ("office chair", "equipment"), ("Zoom subscription", "software"),
    ("software license", "software"), ("SaaS tool", "software"), ("online course", "training"),
    ("conference ticket", "training"), ("a book on Python", "training"), ("Uber Eats lunch", "meals"),
    ("taxi from the hotel", "travel"), ("dinner at the hotel", "meals"), ("conference hotel", "lodging"),
    ("3 nights at the Hilton", "lodging"), ("two nights in Lisbon", "lodging"), ("dinner 3 nights ago", "meals"),
    ("a gift for a client", None), ("my phone bill", "other"),  # a running cost, not the device
    ("wait no, travel was right: the lunch", "travel"),  # a category named as the right one after all
])
def test_expense_categories(text: str, category: str | None) -> None:
    assert expense(f"{text} 20 EUR").get("category") == category


@pytest.mark.parametrize(("text", "merchant"), [
    ("Lunch at Starbucks $12", "Starbucks"), ("keyboard from Amazon $40", "Amazon"), ("Uber receipt $23.40", "Uber"),
    ("Coffee 4.50 at Blue Bottle", "Blue Bottle"), ("lunch at nando's 12 eur", "Nando's"),
    ("Chair €89 at IKEA on the 20th", "IKEA"), ("Taxi from the hotel $30", None), ("Lunch at home $5", None),
    ("USB hub on Amazon 20 GBP", "Amazon"), ("Hertz invoice 120 EUR", "Hertz"),
])
def test_merchants(text: str, merchant: str | None) -> None:
    assert expense(text).get("merchant") == merchant


def test_a_full_claim() -> None:
    assert expense("Lunch with a client at Starbucks yesterday, $45.20") == {
        "amount": "45.20", "currency": "USD", "category": "meals", "expense_date": "2026-11-26",
        "merchant": "Starbucks", "description": "Lunch with a client",
    }


@pytest.mark.parametrize(("text", "description"), [
    ("Spent 120 bucks on a keyboard from Amazon", "keyboard"),
    ("Submit an expense of 1.234,56 € for the conference hotel", "conference hotel"),
    ("Claim 30 quid for a taxi", "taxi"),
    ("Taxi to the airport 45,20 EUR on Tuesday", "Taxi to the airport"),
    ("Uber receipt $23.40 from Monday", None),  # nothing left but the merchant
])
def test_descriptions_drop_amount_date_merchant_and_filler(text: str, description: str | None) -> None:
    assert expense(text).get("description") == description


# --- tickets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "category"), [
    ("my laptop won't turn on", "hardware"), ("the printer is jammed", "hardware"), ("Excel keeps crashing", "software"),
    ("please install Photoshop", "software"), ("I need access to the finance shared drive", "access"),
    ("admin rights on my laptop", "access"), ("VPN keeps disconnecting", "network"), ("wifi is down", "network"),
    ("I'm locked out of my account", "account"), ("reset my password", "account"), ("MFA codes not arriving", "account"),
    ("the coffee machine leaks", None),
])
def test_ticket_categories(text: str, category: str | None) -> None:
    assert extract_slots(text, intent="create_ticket", today=FRIDAY).get("category") == category


@pytest.mark.parametrize(("text", "priority"), [
    ("laptop broken, urgent", "urgent"), ("it's a blocker", "urgent"), ("I can't work", "urgent"),
    ("please fix asap", "high"), ("high priority: printer", "high"), ("whenever you get a chance", "low"),
    ("low priority", "low"), ("not urgent", "low"), ("no rush", "low"), ("normal priority please", "normal"),
    ("monitor flickers", None),
    ("high", "high"), ("Low!", "low"), ("medium please", "normal"), ("priority: urgent", "urgent"),  # a level on its own
    ("make it high", "high"), ("set the priority to low", "low"),
    ("cpu usage is high on my laptop", None), ("low battery warning on my phone", None),  # words, not levels
    ("i lost my phone with the authenticator app on it", "urgent"), ("my laptop was stolen", "urgent"),  # security
    ("I clicked a phishing link in an email", "urgent"), ("printer is low on toner", None),
])
def test_ticket_priorities(text: str, priority: str | None) -> None:
    assert extract_slots(text, intent="create_ticket", today=FRIDAY).get("priority") == priority


@pytest.mark.parametrize(("text", "summary"), [
    ("Can you open a ticket? My laptop won't turn on", "My laptop won't turn on"),
    ("hey, my keyboard is broken, can you open a ticket for me", "My keyboard is broken"),
    ("Please create a ticket: wifi in meeting room 3 is down", "Wifi in meeting room 3 is down"),
    ("Open a high priority ticket: the printer on floor 2 is jammed", "The printer on floor 2 is jammed"),
    ("VPN keeps disconnecting, please fix asap", "VPN keeps disconnecting"),
    ("Outlook won't sync my email, it's a blocker", "Outlook won't sync my email"),
    ("Can you give me admin rights on my laptop?", "Give me admin rights on my laptop"),
])
def test_ticket_summaries_lose_the_filler(text: str, summary: str) -> None:
    assert extract_slots(text, intent="create_ticket", today=FRIDAY)["summary"] == summary


def test_a_summary_fits_the_ticket_column() -> None:
    summary = extract_slots("printer broken " * 100, intent="create_ticket", today=FRIDAY)["summary"]
    assert len(summary) <= 200


# --- ids and topics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "intent", "slot", "value"), [
    ("status of my leave request #12?", "leave_status", "request_id", "12"),
    ("has request 45 been approved", "leave_status", "request_id", "45"),
    ("cancel leave request no. 7", "cancel_leave", "request_id", "7"),
    ("is my time off request 12 approved yet?", "leave_status", "request_id", "12"),
    ("cancel time-off request #4", "cancel_leave", "request_id", "4"),
    ("please cancel #103", "cancel_leave", "request_id", "103"),
    ("status of claim no. 7", "expense_status", "claim_id", "7"),
    ("expense claim 1024 status", "expense_status", "claim_id", "1024"),
    ("has my expense #31 been paid", "expense_status", "claim_id", "31"),
    ("what's up with ticket 34", "ticket_status", "ticket_id", "34"),
    ("any update on #56", "ticket_status", "ticket_id", "56"),
    ("ticket no. 9 still open?", "ticket_status", "ticket_id", "9"),
    ("status of INC-4411", "ticket_status", "ticket_id", "4411"),  # a service desk's incident number
    ("cancel LR-17", "cancel_leave", "request_id", "17"),  # the prefixes other tools print
    ("where is EXP-88", "expense_status", "claim_id", "88"),
    ("ticket 34", None, "ticket_id", "34"),
    ("claim 8", None, "claim_id", "8"),
])
def test_ids_follow_the_intent(text: str, intent: str | None, slot: str, value: str) -> None:
    assert extract_slots(text, intent=intent, today=FRIDAY) == {slot: value}


@pytest.mark.parametrize(("text", "intent"), [
    ("where is my expense claim?", "expense_status"), ("#12", None), ("any news on my time off request?", "leave_status"),
])
def test_no_id_is_invented(text: str, intent: str | None) -> None:
    assert extract_slots(text, intent=intent, today=FRIDAY) == {}


@pytest.mark.parametrize(("text", "topic"), [
    ("What is the policy on remote work?", "What is the policy on remote work"),
    ("hey, how many days of bereavement leave do we get?", "How many days of bereavement leave do we get"),
    ("<@U024BE7LH> what's the per diem for London?", "What's the per diem for London"),
    ("Quick question: is there a dress code?", "Is there a dress code"),
])
def test_policy_topics(text: str, topic: str) -> None:
    assert extract_slots(text, intent="policy_question", today=FRIDAY) == {"topic": topic}


@pytest.mark.parametrize("intent", ["pending_approvals", "help", "human_handoff", "out_of_scope", "create_ticket"])
def test_intents_only_get_their_own_slots(intent: str) -> None:
    slots = extract_slots("tomorrow $45 ticket #4 vacation", intent=intent, today=FRIDAY)
    assert not {"start_date", "amount", "ticket_id", "leave_type"} & set(slots)


# --- hostile input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Vacation Dec 3-5 " + "blah " * 4000,
    "🎉" * 20000,
    "休假 12月3日到5日 " * 2000,
    "Ужин 45,20 EUR в ресторане " * 800,
    "$" * 20000,
    "1" * 20000,
    "at " * 7000,
    "the 3rd - " * 2000,
    "<@U1|" * 4000,
    "١٢/١٢/٢٠٢٦ " * 1800,
    "\x00\u200b\ufeff" * 7000,
])
@pytest.mark.parametrize("intent", [None, "request_leave", "submit_expense", "create_ticket", "policy_question"])
def test_long_or_strange_input_returns_quickly(text: str, intent: str | None) -> None:
    started = time.process_time()  # CPU time: a busy CI machine must not fail this, a runaway regex must
    slots = extract_slots(text, intent=intent, today=FRIDAY)
    assert time.process_time() - started < 1.0
    assert all(isinstance(value, str) and value for value in slots.values())


def test_non_latin_text_keeps_its_amount_and_description() -> None:
    assert expense("Ужин 45,20 EUR в ресторане") == {"amount": "45.20", "currency": "EUR", "description": "Ужин в ресторане"}
    assert expense("ランチ ¥1200")["currency"] == "JPY"


def test_the_first_slot_of_a_long_message_is_found() -> None:
    assert dates(leave("Vacation Dec 3-5 " + "blah " * 4000)) == ("2026-12-03", "2026-12-05")


# --- contract ----------------------------------------------------------------------------------------


def test_importing_the_extractor_loads_no_parsing_library() -> None:
    code = ("import sys, assistant.nlu.slots\n"
            "print(sorted(m for m in ('dateparser', 'price_parser', 'pycountry', 'regex') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_benchmark_utterance_still_matches() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from slots import run, same  # bench/slots.py
    finally:
        sys.path.remove(str(ROOT / "bench"))
    items = json.loads((ROOT / "bench" / "data" / "slot_utterances.json").read_text(encoding="utf-8"))["items"]
    assert len(items) >= 120
    wrong = []
    for item in items:
        got, expected = run(item), item["expected"]
        if any(not same(slot, expected.get(slot), got.get(slot)) for slot in set(got) | set(expected)):
            wrong.append((item["id"], item["text"], got))
    assert wrong == []


ACCESS_REQUESTS = [
    ("I need admin access to the AWS console because I'm on call this week",
     {"system": "AWS console", "access_level": "admin", "justification": "because I'm on call this week"}),
    ("can I get read-only access to the finance shared drive for the audit",
     {"system": "finance shared drive", "access_level": "read", "justification": "for the audit"}),
    ("please give me GitHub access", {"system": "GitHub"}),
    ("I need a Figma license", {"system": "Figma"}),
    ("I need Jira and Confluence access to review tickets", {"system": "Jira and Confluence", "justification": "to review tickets"}),
    ("could I have edit rights on the budget spreadsheet?", {"system": "budget spreadsheet", "access_level": "write"}),
    ("I need admin access to the AWS console for deploying the billing service",
     {"system": "AWS console", "access_level": "admin", "justification": "for deploying the billing service"}),
    ("I need access", {}),
    ("can i get admin on github? need to set up the new payments repo", {"system": "github", "access_level": "admin"}),
    ("I want to write to the team about it", None),
    ("I can't access the shared drive", None),  # a problem: an ordinary ticket
    ("my access to Jira was revoked", None),
    ("my laptop is broken", None),
    ("I need a new account", None),
]


@pytest.mark.parametrize(("text", "expected"), ACCESS_REQUESTS)
def test_access_requests_are_told_from_access_problems(text: str, expected: dict[str, str] | None) -> None:
    from assistant.nlu.slot_access import access_request

    assert access_request(text) == expected


def test_an_answer_to_the_system_question_is_the_system() -> None:
    from assistant.nlu.slot_access import read_access_slots

    assert read_access_slots("the Salesforce sandbox.", "system") == {"system": "Salesforce sandbox"}
    assert read_access_slots("it", "system") == {}
    assert read_access_slots("quarterly reporting", "justification") == {"justification": "quarterly reporting"}
    for no_reason in ("yes", "OK.", "no", "?"):  # agreeing is no reason: the question is asked again
        assert read_access_slots(no_reason, "justification") == {}


@pytest.mark.parametrize(("text", "ordered", "slots"), [
    ("approve 7", True, {"decision": "approve", "approval_id": "7"}),
    ("deny request 7 because we are short staffed", True, {"decision": "deny", "approval_id": "7", "reason": "we are short staffed"}),
    ("reject #3, the team is at a conference", True, {"decision": "deny", "approval_id": "3", "reason": "the team is at a conference"}),
    ("don't approve 5, budget is frozen", True, {"decision": "deny", "approval_id": "5", "reason": "budget is frozen"}),
    ("can you approve 9?", True, {"decision": "approve", "approval_id": "9"}),
    ("what do I need to approve?", False, {"decision": "approve"}),  # a question about the queue, not a decision
    ("show me pending approvals", False, {}),
    ("approve tom's expense of 230 eur", True, {"decision": "approve"}),  # an amount is not an approval number
    ("approve the $75 taxi claim", True, {"decision": "approve"}),
    ("deny 4 because 3 nights is too long", True, {"decision": "deny", "approval_id": "4", "reason": "3 nights is too long"}),
])
def test_an_approvers_decision_is_read_from_the_message(text: str, ordered: bool, slots: dict[str, str]) -> None:
    from assistant.nlu.slot_decision import decision_request, read_decision_slots

    assert decision_request(text) is ordered and read_decision_slots(text) == slots


def test_an_answer_to_the_reason_question_is_the_reason() -> None:
    from assistant.nlu.slot_decision import read_decision_slots

    assert read_decision_slots("too many people on leave that week", "reason") == {"reason": "too many people on leave that week"}
    assert read_decision_slots("8", "reason") == {"approval_id": "8"}


@pytest.mark.parametrize(("text", "asks", "slots"), [
    ("add a comment to ticket 3: I restarted and it is still broken", True, {"ticket_id": "3", "body": "I restarted and it is still broken"}),
    ("comment on #12 - the error came back after lunch", True, {"ticket_id": "12", "body": "the error came back after lunch"}),
    ("update ticket 7 with: it works again, you can close it", True, {"ticket_id": "7", "body": "it works again, you can close it"}),
    ("please tell IT on ticket 4 that I'm working from home tomorrow", True, {"ticket_id": "4", "body": "I'm working from home tomorrow"}),
    ("add a note to my ticket", True, {}),
    ("any update on ticket 42?", False, {"ticket_id": "42"}),  # a question about the ticket, not a comment
    ("can you open an IT ticket for me", False, {}),
])
def test_a_comment_for_a_ticket_is_read_from_the_message(text: str, asks: bool, slots: dict[str, str]) -> None:
    from assistant.nlu.slot_comment import comment_request, read_comment_slots

    assert comment_request(text) is asks and read_comment_slots(text) == slots


@pytest.mark.parametrize(("text", "start", "end"), [
    ("vacation from christmas eve to new year", "2026-12-24", "2027-01-01"),  # "new year" as the end of time off
    ("want to take vacation between xmas and new year", "2026-12-25", "2027-01-01"),
    ("i want to start paternity leave on jan 11", "2027-01-11", None),  # a start alone: the end is asked for
])
def test_new_year_as_an_end_and_a_start_said_with_start(text: str, start: str, end: str | None) -> None:
    assert dates(leave(text)) == (start, end)


def test_new_year_is_no_date_of_a_party_and_an_amount_may_end_with_a_comma() -> None:
    assert "expense_date" not in expense("new year party dinner 40 eur")
    assert expense("got a receipt for printer ink 34.99, pls submit")["amount"] == "34.99"
    assert expense("expense 12.50, lunch")["amount"] == "12.50"
    assert "amount" not in expense("lunch for 2,5 people")  # a comma with a digit after it is no sentence's end


@pytest.mark.parametrize(("text", "amount"), [("expense -50 eur taxi", "-50.00"), ("minus 50 eur lunch", "-50.00"),
                                              ("expense 20-25 eur taxi", "25.00")])
def test_a_negative_amount_keeps_its_sign_so_the_claim_is_refused(text: str, amount: str) -> None:
    assert expense(text)["amount"] == amount  # a range's dash is no minus


def test_a_range_of_day_month_pairs_without_their_dots_is_read_and_one_alone_is_not() -> None:
    assert dates(leave("holiday 28.12 - 30.12 please")) == ("2026-12-28", "2026-12-30")
    assert "expense_date" not in expense("lunch 12.50 at pret")
