"""The offline engine beyond the per-intent matrix of test_conversations.py: confirmations, reads, out of
scope, bad input, policy answers, expiry."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from assistant.dialogue import words
from assistant.dialogue.reply import Reply
from assistant.receipt_note import note_receipt
from tests.builders import Company, add_employee, make_company, uploaded_receipt
from tests.conftest import NOW
from tools.approvals.models import Approval
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.expenses.models import ExpenseClaim
from tools.helpdesk.models import Ticket
from tools.leave.models import LeaveRequest
from tools.people.models import Employee

Say = Callable[[str], Reply]


def writes(container: Container) -> int:
    """Count audit records: every write leaves exactly one, so an unchanged count means nothing was written."""
    with transaction(container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def rows(container: Container, model: type) -> list:
    with transaction(container.session_factory) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def speaker(container: Container, actor_id: int, key: str = "test:conversation") -> Say:
    return lambda text: container.offline_engine.handle(key=key, actor_id=actor_id, text=text, now=NOW)


@pytest.fixture
def company(container: Container) -> Company:
    return make_company(container)


# --- confirmation --------------------------------------------------------------------------------------


def test_no_at_confirmation_writes_nothing(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("I need Dec 14 to Dec 18 off")
    assert "cancelled" in say("no").text.lower()
    assert rows(container, LeaveRequest) == []


def test_a_question_while_confirming_is_answered_and_the_request_still_waits_for_its_yes(
        container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Shall I open it?" in say("my laptop screen flickers").text
    balance = say("how many vacation days do I have?").text
    assert "leave balance" in balance and balance.endswith(words.STILL_WAITING)
    assert rows(container, Ticket) == []
    assert "Ticket #" in say("yes").text
    [ticket] = rows(container, Ticket)
    assert ticket.summary == "My laptop screen flickers"

    say("my keyboard is broken")
    replaced = say("I need some time off").text  # another request replaces the one waiting, and says so
    assert replaced.startswith("(The ticket you were making was not submitted;") and replaced.endswith(
        "Which dates would you like off? (e.g. \"Dec 14-18\" or \"next Friday\")")
    say("cancel")
    assert len(rows(container, Ticket)) == 1


def test_a_policy_question_with_it_words_while_a_ticket_waits_does_not_rewrite_the_ticket(
        container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "(hardware, normal priority). Shall I open it?" in say("my laptop screen flickers").text
    answer = say("until what time can I log in on my last day?").text  # "log in" would re-guess the category
    assert answer.endswith(words.STILL_WAITING) and "Shall I open it?" not in answer
    for question in ("will I be reimbursed for a rental car's damage insurance?", "would a new monitor be covered?"):
        assert say(question).text.endswith(words.STILL_WAITING)  # questions start with "will" and "would" too
    assert "(hardware, high priority)" in say("could it be high priority?").text  # a priority asked for is a change
    say("yes")
    [ticket] = rows(container, Ticket)
    assert (ticket.category, ticket.priority) == ("hardware", "high")


@pytest.mark.parametrize(("answer", "period"), [
    ("jan 29", "Tue 19 Jan 2027 to Fri 29 Jan 2027"),
    ("for 3 working days", "Tue 19 Jan 2027 to Thu 21 Jan 2027"),  # counted from the start
    ("the 20th", "Tue 19 Jan 2027 to Wed 20 Jan 2027"),  # a day after the start, not this December's
    ("just that day", "Tue 19 Jan 2027, 1 working day"),
])
def test_a_start_without_an_end_asks_until_when(container: Container, company: Company, answer: str, period: str) -> None:
    say = speaker(container, company.requester)
    assert "Until when?" in say("annual leave from jan 19 until the beginning of february").text  # an end it cannot read
    assert "Sorry, I didn't catch that. Until when?" in say("blah").text  # nothing of ours: asked again, the request stays
    assert period in say(answer).text
    assert rows(container, LeaveRequest) == []
    done = say("yes").text
    [request] = rows(container, LeaveRequest)
    assert f"(request #{request.id})" in done and request.start_date.isoformat() == "2027-01-19"


def test_a_question_while_confirming_changes_nothing_even_when_it_names_a_slot(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Annual leave" in say("I need Dec 14 to Dec 18 off").text
    answer = say("how many sick days do I have?").text  # names a leave type, but asks; it does not change the request
    assert "sick" in answer and answer.endswith(words.STILL_WAITING)
    assert "Annual leave" in say("actually make it Dec 15 to Dec 18").text  # a correction still changes it
    assert rows(container, LeaveRequest) == []


def test_to_a_later_day_after_a_single_day_extends_it_to_a_range(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Which dates" in say("I want to book vacation").text
    assert "Until when?" in say("from the 21st").text  # a start alone is not booked as one day
    assert "Mon 21 Dec 2026 to Wed 23 Dec 2026, 3 working days" in say("to the 23rd").text
    assert "Mon 21 Dec 2026 to Thu 24 Dec 2026" in say("until the 24th").text
    assert "Tue 22 Dec 2026, 1 working day" in say("change it to the 22nd").text  # not "to ..." first: the whole request


def test_until_a_weekday_ends_the_leave_in_the_week_it_runs_not_before_it_starts(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Mon 21 Dec 2026 to Tue 22 Dec 2026" in say("I'd like annual leave from Dec 21 to Dec 22").text
    assert "Mon 21 Dec 2026 to Wed 23 Dec 2026, 3 working days" in say("actually until wednesday").text  # not Wed 2 Dec
    assert "Mon 21 Dec 2026 to Mon 4 Jan 2027" in say("no, until the 4th").text


def test_listed_days_that_are_not_back_to_back_are_named_in_the_read_back(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    reply = say("I need monday and friday off").text
    assert reply.startswith("Annual leave: Mon 30 Nov 2026, 1 working day;")
    assert "Not included: Fri 4 Dec 2026 (not next to the days above); ask for it in a separate request." in reply
    assert "Not included" not in say("actually make it monday and tuesday").text  # new dates: nothing left out any more


def test_another_request_written_out_in_full_replaces_the_one_waiting(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert say("I'd like annual leave from Dec 21 to Dec 22").text.startswith("Annual leave")
    # its date is the claim's, never a new date for the leave
    claim = say("expense 20 usd taxi at Acme on Nov 20").text  # and the leave waiting is said not to be submitted
    assert claim.startswith("(The leave request you were making was not submitted;")
    assert claim.split("\n")[1].startswith("Expense claim: 20.00 USD for travel at Acme on Fri 20 Nov")
    assert say("I need sick leave on Monday").text.split("\n")[1].startswith("Sick leave: Mon 30 Nov 2026")
    assert say("actually make it Tuesday").text.startswith("Sick leave: Tue 1 Dec 2026")  # a correction still changes it
    say("yes")
    assert [(r.start_date.isoformat(), r.end_date.isoformat()) for r in rows(container, LeaveRequest)] == [("2026-12-01", "2026-12-01")]
    assert rows(container, ExpenseClaim) == []


def test_a_question_about_something_else_is_never_taken_for_the_answer_waited_for(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Where did you spend it" in say("I took a taxi to the airport yesterday, 22 dollars").text
    for question in ("how do I get a parking spot at the zoo?", "what's the weather like tomorrow?"):
        reply = say(question).text  # not the shop's name, and its "tomorrow" not the claim's date
        assert reply.startswith(words.OUT_OF_SCOPE) and reply.endswith("Where did you spend it (the shop, restaurant or company)?")
    assert "22.00 USD for travel at Yellow Cab on Thu 26 Nov 2026" in say("Yellow Cab").text
    assert "Fri 27 Nov 2026" in say("what about today?").text  # an answer offered as a question still changes it
    assert rows(container, ExpenseClaim) == []


def test_numeric_dates_are_read_in_the_order_the_persons_country_writes_them(container: Container, company: Company) -> None:
    with transaction(container.session_factory) as session:
        manager = session.get(Employee, company.manager)
        briton = add_employee(session, "briton@example.com", manager=manager, country="GB").id
    assert speaker(container, company.requester)("I need 12/7 to 12/9 off").text.startswith(  # US: month first
        "Annual leave: Mon 7 Dec 2026 to Wed 9 Dec 2026")
    assert speaker(container, briton, key="test:briton")("I need 7/12 to 9/12 off").text.startswith(  # GB: day first
        "Annual leave: Mon 7 Dec 2026 to Wed 9 Dec 2026")


def test_a_request_over_the_balance_says_which_days_it_read(container: Container, company: Company) -> None:
    reply = speaker(container, company.requester)("I need annual leave from Jan 4 2027 to Mar 5 2027").text
    assert reply.startswith("Not enough annual leave in 2027 for Mon 4 Jan 2027 to Fri 5 Mar 2027: 43 working days requested")  # US holidays excluded


def test_an_access_request_reads_back_the_reason_as_given(container: Container, company: Company) -> None:
    reply = speaker(container, company.requester)("I need access to GitHub because I am building the deploy pipeline").text
    assert reply.startswith('Access request: user access to GitHub; reason: "because I am building the deploy pipeline".')


@pytest.mark.parametrize("correction", ["actually make it write access", "change that to write access please"])
def test_an_access_level_corrected_keeps_the_system_and_the_reason(container: Container, company: Company,
                                                                   correction: str) -> None:
    say = speaker(container, company.requester)
    say("I need access to GitHub because I am building the deploy pipeline")
    assert say(correction).text.startswith(
        'Access request: write access to GitHub; reason: "because I am building the deploy pipeline".')


def test_the_shops_name_is_read_out_of_the_answer_and_the_claims_purpose_stays(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Where did you spend it" in say("taxi to the airport yesterday 18,50 EUR for the client visit").text
    assert "for travel at Taxi Berlin on" in say("it was a normal taxi, Taxi Berlin").text
    assert "17.00 EUR" in say("sorry it was 17 not 18,50").text
    say("yes")
    [claim] = rows(container, ExpenseClaim)
    assert (claim.merchant, claim.description) == ("Taxi Berlin", "taxi to the airport for the client visit")


@pytest.mark.parametrize("refusal", ["no", "no actually nevermind", "hmm wait, no, not yet"])
def test_a_no_hedged_or_to_the_shops_name_question_cancels(container: Container, company: Company, refusal: str) -> None:
    say = speaker(container, company.requester)
    assert "Where did you spend it" in say("taxi to the airport yesterday 18 EUR").text
    assert say(refusal).text == words.CANCELLED  # "no" is never a shop
    say("I need Dec 14 off")
    assert say(refusal).text == words.CANCELLED
    assert rows(container, ExpenseClaim) == [] and rows(container, LeaveRequest) == []


def test_two_approvals_in_one_message_are_decided_one_at_a_time_and_the_other_is_named(container: Container,
                                                                                         company: Company) -> None:
    first, second = (container.pipeline.run("request_leave", {"start_date": day, "end_date": day}, actor_id=company.requester,
                                            now=NOW).data["approval_id"] for day in ("2026-12-14", "2026-12-15"))
    boss = speaker(container, company.manager)
    readback = boss(f"approve {first} and {second}").text
    assert readback.startswith(f"Approve #{first}:") and f'(One at a time: after this, say "approve {second}".)' in readback
    boss("yes")
    statuses = {row.id: row.status for row in rows(container, Approval)}
    assert (statuses[first], statuses[second]) == ("approved", "pending")


def test_a_denial_reason_after_a_comma_is_the_reason_and_a_bare_yes_is_none(container: Container, company: Company) -> None:
    first = container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-14"},
                                   actor_id=company.requester, now=NOW).data
    second = container.pipeline.run("request_leave", {"start_date": "2026-12-15", "end_date": "2026-12-15"},
                                    actor_id=company.requester, now=NOW).data
    say = speaker(container, company.manager)
    assert "Why do you deny it?" in say(f"deny {first['approval_id']}").text
    assert "Why do you deny it?" in say("yes").text  # "yes" is no reason
    assert "with the reason \"we're short-staffed that week\"" in say("deny it, we're short-staffed that week").text
    say("yes")
    assert "with the reason \"release week\"" in say(f"deny {second['approval_id']}, release week").text
    assert rows(container, Approval)[0].reason == "we're short-staffed that week"


def test_a_look_at_another_ticket_does_not_move_the_comment_waiting(container: Container, company: Company) -> None:
    first = container.pipeline.run("create_ticket", {"summary": "VPN drops"}, actor_id=company.requester, now=NOW).data
    say = speaker(container, company.requester)
    assert say(f"add to ticket {first['ticket_id']}: also happens at the office now").text.startswith(f"Add to ticket #{first['ticket_id']}")
    assert say("whats the status of ticket 99").text.endswith(words.STILL_WAITING)  # answered; the comment stays put
    assert say("yes").text == f"Comment added to ticket #{first['ticket_id']}."


def test_a_decision_nobody_can_take_ends_there_and_a_stray_yes_is_answered(container: Container, company: Company) -> None:
    say = speaker(container, company.manager)
    assert say("approve 424").text == "No approval #424."  # no "change the details": nothing is left open
    assert say("yes").text == words.NOTHING_TO_CONFIRM


def test_a_short_follow_up_asks_the_last_question_again_with_what_it_adds(container: Container, company: Company) -> None:
    with transaction(container.session_factory) as session:
        add_employee(session, "lena.fischer@example.com", manager=session.get(Employee, company.manager))
    say = speaker(container, company.requester)
    assert say("how many vacation days do I have left?").text.startswith("Your 2026 leave balance: annual:")
    assert say("and sick days?").text == "Your 2026 leave balance: sick: 10 days available."
    manager = speaker(container, company.manager, key="test:manager")
    assert manager("how many days does requester have left?").text.startswith("Requester's 2026 leave balance")
    assert manager("what about lena").text.startswith("Lena Fischer's 2026 leave balance")
    assert manager("and sick days?").text == "Lena Fischer's 2026 leave balance: sick: 10 days available."
    assert "Which dates" in manager("and I need some time off").text  # a request of its own is no follow-up
    assert manager("cancel").text == words.CANCELLED


def test_a_question_after_a_refusal_is_answered_and_the_request_stays_open(container: Container, company: Company) -> None:
    container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester,
                           now=NOW)
    say = speaker(container, company.requester)
    assert "overlaps" in say("I need Dec 14 off").text
    balance = say("wait how many days do i have left").text
    assert balance.startswith("Your 2026 leave balance") and balance.endswith(f"{words.BACK_TO_REQUEST} {words.CHANGE_OR_CANCEL}")
    assert say("ok dec 21 then").text.startswith("Annual leave: Mon 21 Dec 2026, 1 working day")


def test_the_expense_category_can_be_named_outright(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "for travel at Acme" in say("expense 20 usd at Acme on Nov 20 for a taxi").text
    assert "for training at Acme" in say("actually the category is training").text
    assert "for software at Acme" in say("file it as a software expense").text


def test_no_while_collecting_or_after_a_refusal_cancels(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Which dates" in say("I'm not feeling well, won't be in").text
    assert say("no").text == words.CANCELLED
    say = speaker(container, company.requester, "after refusal")
    container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester, now=NOW)
    before = writes(container)
    assert "overlaps" in say("I need Dec 15 off").text
    assert say("no").text == words.CANCELLED  # not read as a new, out-of-scope message
    assert "nothing in progress" in say("cancel").text.lower()
    assert writes(container) == before


def test_yes_after_a_refusal_repeats_it_and_a_question_still_gets_answered(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    before = writes(container)
    refused = say("claim 84.50 USD for lunch at Cafe Lisboa yesterday").text
    assert "A receipt is required" in refused and "/backoffice expense" in refused  # where a receipt can be given
    again = say("yes").text
    assert again.startswith("I can't submit it as it is.") and "A receipt is required" in again
    for aside in ("no receipt", "I don't have one"):  # not a new, out-of-scope message: the claim stays open
        kept = say(aside).text
        assert kept.startswith("I can't submit it as it is.") and "A receipt is required" in kept
    assert "Shall I submit it?" in say("actually it was 20").text  # the claim is still open for a correction
    say("no")
    say("expense a taxi, 30 USD")
    say("City Cabs")  # answers "where did you spend it?"; then the receipt refusal
    assert "outside what I can help with" not in say("what's the hotel budget per night?").text  # not read as the merchant
    assert writes(container) == before


@pytest.mark.parametrize("text", ["help", "?", "what?", "I'm confused"])
def test_help_while_a_question_waits_says_what_is_asked_and_is_never_the_answer(container: Container, company: Company,
                                                                               text: str) -> None:
    say = speaker(container, company.requester)
    say("expense a taxi, 20 USD yesterday")
    reply = say(text).text
    assert reply.startswith("We're in the middle of a request. Where did you spend it") and reply.endswith("Or say cancel to stop.")
    assert "City Cabs" in say("City Cabs").text  # the next answer is the merchant, and "help" never was
    say("no")
    assert rows(container, ExpenseClaim) == []


def test_a_receipt_alone_starts_a_claim_and_one_sent_with_a_question_is_not_used(container: Container, company: Company) -> None:
    reference = uploaded_receipt(container)
    say = speaker(container, company.requester)
    assert say(note_receipt("", reference)).text == "Got your receipt. How much was it, and in which currency? (e.g. \"$45.20\" or \"30 EUR\")"
    assert "with the receipt you sent" in say("32 EUR for a taxi to the station at City Cabs yesterday").text
    say("cancel")
    reply = speaker(container, company.requester, "other")(note_receipt("what's waiting for my approval?", reference)).text
    assert reply.endswith(words.RECEIPT_NOT_USED) and "Got your receipt" not in reply
    assert rows(container, ExpenseClaim) == []


def test_a_receipt_already_on_a_claim_is_pointed_out_before_the_yes(container: Container, company: Company) -> None:
    reference = uploaded_receipt(container)
    filed = container.pipeline.run("submit_expense", {"amount": "32.00", "currency": "EUR", "category": "travel", "expense_date": "2026-11-26",
                                                      "merchant": "City Cabs", "receipt_path": reference},
                                   actor_id=company.requester, now=NOW).data
    say = speaker(container, company.requester)
    say(note_receipt("", reference))
    again = say("40 EUR for dinner at Luigi's yesterday").text
    assert again.startswith(f"Note: that receipt is already on your claim #{filed['claim_id']}. ") and again.endswith("Shall I submit it?")
    say("no")
    other = speaker(container, company.colleague)
    other(note_receipt("", reference))
    assert "the same receipt file is on another employee's claim; your approver will see that" in other("15 EUR lunch at Luigi's yesterday").text
    assert f"#{filed['claim_id']}" not in other("no").text
    assert len(rows(container, ExpenseClaim)) == 1


@pytest.mark.parametrize("agree", ["ok fine, yes", "yea", "yes pls", "sure thing", "go for it", "that's fine", "fine"])
def test_the_ways_people_say_yes_submit(container: Container, company: Company, agree: str) -> None:
    say = speaker(container, company.requester)
    assert say("I need Dec 14 off").text.endswith("Shall I submit it?")
    assert "Sent to" in say(agree).text and len(rows(container, LeaveRequest)) == 1


def test_no_to_a_cancellation_says_the_leave_stands_and_a_hedged_never_mind_is_no_reason(container: Container,
                                                                                         company: Company) -> None:
    request = container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-14"},
                                     actor_id=company.requester, now=NOW).data
    say = speaker(container, company.requester)
    say(f"cancel leave request {request['request_id']}")
    assert say("no").text == words.DROPPED["cancel_leave"]
    boss = speaker(container, company.manager, "boss")
    assert "Why" in boss(f"deny {request['approval_id']}").text
    assert boss("actually never mind").text == words.DROPPED["decide_approval"]
    assert [row.status for row in rows(container, LeaveRequest)] == ["pending"]


def test_a_day_added_extends_the_days_asked_for_or_is_left_out_when_not_next_to_them(container: Container,
                                                                                     company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Wed 9 Dec 2026, 1 working day" in say("I want wednesday the 9th off").text
    assert "Wed 9 Dec 2026 to Thu 10 Dec 2026, 2 working days" in say("and thursday too").text  # that week's, not next week's
    assert "Wed 9 Dec 2026 to Fri 11 Dec 2026, 3 working days" in say("no wait, also the friday").text
    assert "Wed 9 Dec 2026 to Mon 14 Dec 2026, 4 working days" in say("and the monday after too").text  # over the weekend
    added = say("and dec 22 as well").text
    assert "Wed 9 Dec 2026 to Mon 14 Dec 2026" in added and "Not included: Tue 22 Dec 2026" in added
    say("yes")
    [leave] = rows(container, LeaveRequest)
    assert (leave.start_date.isoformat(), leave.end_date.isoformat()) == ("2026-12-09", "2026-12-14")


def test_a_ticket_looked_at_shows_what_it_said_on_it(container: Container, company: Company) -> None:
    ticket = container.pipeline.run("create_ticket", {"summary": "Laptop will not charge"}, actor_id=company.requester,
                                    now=NOW).data["ticket_id"]
    say = speaker(container, company.requester)
    assert say(f"what's the status of ticket {ticket}?").text.endswith("No comments yet.")
    for body in ("Which model is it?", "Is the charger's light on?", "Try another socket.", "Bring it to the desk at 2."):
        container.pipeline.run("comment_on_ticket", {"ticket_id": ticket, "body": body}, actor_id=company.it, now=NOW)
    shown = say(f"did IT reply on ticket {ticket}?").text
    assert "Latest comments (1 earlier not shown):" in shown and "it@example.com" in shown
    assert "Bring it to the desk at 2." in shown and "Which model is it?" not in shown


def test_cancel_leave_by_its_type_or_dates_picks_that_leave(container: Container, company: Company) -> None:
    run = container.pipeline.run
    run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester, now=NOW)
    run("request_leave", {"start_date": "2026-11-27", "end_date": "2026-11-27", "leave_type": "sick"}, actor_id=company.requester,
        now=NOW)  # pending, from today: can still be withdrawn
    say = speaker(container, company.requester)
    assert "(sick, Fri 27 Nov 2026" in say("cancel my sick day").text
    assert say("no").text == words.DROPPED["cancel_leave"]
    assert "(annual, Mon 14 Dec 2026" in say("cancel my time off from Dec 15 to 16").text
    say("no")
    assert "Which one should I cancel?" in say("cancel my leave").text
    say("cancel")
    assert "None of your upcoming leave matches" in say("cancel my parental leave").text
    assert [r.status for r in rows(container, LeaveRequest)] == ["pending", "pending"]


def test_a_question_while_a_request_is_filled_in_is_answered_and_changes_nothing(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("i need time off from dec 14")
    side = say("btw how many sick days do I have left?").text
    assert "sick" in side and "Back to your request: Until when?" in side
    read_back = say("till the 16th").text
    assert read_back.startswith("Annual leave: Mon 14 Dec 2026 to Wed 16 Dec 2026")  # the question's "sick" changed nothing
    say("no")
    assert rows(container, LeaveRequest) == []


def test_yes_or_a_date_is_not_taken_for_the_merchant(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Where did you spend it" in say("expense 15 quid taxi on tuesday").text
    assert "Where did you spend it" in say("yes").text  # a yes names no shop: asked again
    assert "Where did you spend it" in say("yesterday").text  # a date is the date, not the shop
    read_back = say("Addison Lee").text
    assert "at Addison Lee on Thu 26 Nov 2026" in read_back
    say("no")
    assert rows(container, ExpenseClaim) == []


def test_a_balance_question_for_another_year_gets_that_years_balance(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "Your 2027 leave balance" in say("how many days do i have left in 2027").text
    assert "Your 2027 leave balance" in say("whats my balance for next year").text
    assert "Your 2026 leave balance" in say("how many days do I have left?").text


def test_a_clear_question_while_the_merchant_is_asked_is_not_the_merchant(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("expense 20 usd taxi yesterday")
    side = say("how many days do i have left").text  # no question mark, but clearly not a shop
    assert "leave balance" in side and "Back to your request: Where did you spend it" in side
    assert "at Uber on" in say("Uber").text


def test_a_number_after_leave_is_that_request_never_another_one(container: Container, company: Company) -> None:
    run = container.pipeline.run
    first = run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester, now=NOW).data
    second = run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11"}, actor_id=company.requester, now=NOW).data
    say = speaker(container, company.requester)
    assert f"#{second['request_id']}" in say(f"cancel leave {second['request_id']}").text
    say("no")
    assert "No leave request #99" in say("cancel leave 99").text  # not the one upcoming leave instead
    assert [r.status for r in rows(container, LeaveRequest)] == ["pending", "pending"] and first["request_id"] == 1


def test_an_approver_naming_the_request_decides_the_approval_about_it(container: Container, company: Company) -> None:
    run = container.pipeline.run
    claim = run("submit_expense", {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-26",
                                   "merchant": "Cafe"}, actor_id=company.requester, now=NOW).data
    leave = run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester, now=NOW).data
    assert (claim["approval_id"], leave["request_id"]) == (1, 1)  # approval #1 is the claim; leave request #1 is approval #2
    say = speaker(container, company.manager)
    read_back = say("approve leave request 1").text
    assert f"#{leave['approval_id']}" in read_back and "Annual leave" in read_back
    say("no")
    assert "Nothing waiting for your decision is about that request" in say("approve leave request 7").text
    assert [a.status for a in rows(container, Approval)] == ["pending", "pending"]


def test_a_new_request_after_a_refusal_starts_afresh_and_a_correction_changes_it(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "no working days" in say("I need a half day tomorrow afternoon").text  # Saturday 28 Nov 2026
    reply = say("I want to take unpaid leave from Jan 11 to Jan 15").text  # not a half day of unpaid leave
    assert reply.startswith("Unpaid leave: Mon 11 Jan 2027 to Fri 15 Jan 2027, 5 working days")
    say("no")
    assert "no working days" in say("I need unpaid leave on Saturday").text
    assert say("I need Dec 15 off").text.startswith("Annual leave: Tue 15 Dec 2026")  # new request: annual, as said
    say("no")
    assert "no working days" in say("I need unpaid leave on Saturday").text
    assert say("actually make it Monday").text.startswith("Unpaid leave: Mon 30 Nov 2026")  # a correction keeps the type


def test_one_day_is_not_said_in_the_plural(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "1 working day;" in say("I need Monday Dec 14 off").text
    done = say("yes").text
    assert "1 working day (request #" in done and "1 working days" not in done


# --- reads ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "answer"), [
    ("when is the next public holiday?", "The next holidays in US:\n• Fri 25 Dec 2026: Christmas Day\n• Fri 1 Jan 2027: New Year's Day"),
    ("is Dec 25 a day off?", "Yes: Fri 25 Dec 2026 is Christmas Day (a public holiday in US)."),
    ("is christmas eve a day off?", "No: Thu 24 Dec 2026 is not a public or company holiday in US."),  # that day, not xmas
    ("Is Monday a holiday?", "No: Mon 30 Nov 2026 is not a public or company holiday in US."),
    ("are there any holidays next month", "Holidays in US from Tue 1 Dec 2026 to Thu 31 Dec 2026:\n• Fri 25 Dec 2026: Christmas Day"),
    ("when is thanksgiving", "Thanksgiving Day is on Thu 25 Nov 2027 (a public holiday in US)."),
])
def test_holiday_dates_come_from_the_persons_calendar(container: Container, company: Company, question: str, answer: str) -> None:
    assert speaker(container, company.requester)(question).text.startswith(answer)


def test_a_follow_up_about_another_day_asks_the_same_question_about_that_day(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert say("is dec 28 a bank holiday?").text.startswith("No: Mon 28 Dec 2026")
    assert say("what about jan 1?").text.startswith("Yes: Fri 1 Jan 2027 is New Year's Day")
    assert say("and dec 25?").text.startswith("Yes: Fri 25 Dec 2026 is Christmas Day")


def test_a_manager_asks_for_a_reports_balance_and_a_colleague_is_refused(container: Container, company: Company) -> None:
    with transaction(container.session_factory) as session:
        add_employee(session, "priya.nair@example.com", manager=session.get(Employee, company.manager))
    question = "how many days does Priya have left?"
    assert speaker(container, company.manager)(question).text.startswith("Priya Nair's 2026 leave balance: annual: 25 days available")
    assert speaker(container, company.colleague)(question).text.startswith("I can only show your own records, not Priya's.")
    assert "nobody called Priya" in speaker(container, company.other_manager)(question).text
    # a name typed in lower case, or one the language model never saw, is still someone else's balance, not the asker's
    for other in ("how many days does priya have left?", "What is Priya Nair's leave balance?",
                  "how many days off does priya nair have left?", "whats priya's balance", "how many sick days has priya used?"):
        assert speaker(container, company.manager, key=f"test:{other}")(other).text.startswith("Priya Nair's 2026 leave balance")
    assert speaker(container, company.colleague, key="test:lower")("whats priya's balance").text.startswith(
        "I can only show your own records, not Priya's.")


def test_who_is_off_answers_a_manager_and_explains_itself_to_an_employee(container: Container, company: Company) -> None:
    container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor_id=company.requester, now=NOW)
    answer = speaker(container, company.manager)("who on my team is off in december?").text
    assert answer == "Off from 2026-12-01 to 2026-12-31:\n• Requester: annual 2026-12-14 to 2026-12-18 (pending)"
    assert "Nobody whose leave you can see is off from 2026-11-30 to 2026-12-04." == speaker(container, company.manager, "b")(
        "who is off next week?").text
    assert speaker(container, company.colleague)("who is off next week?").text == words.TEAM_LEAVE_HIDDEN


def test_a_question_about_holiday_rules_goes_to_the_policies(container: Container, company: Company, tmp_path) -> None:
    (tmp_path / "leave.md").write_text("# Leave\n\n## Public holidays\n\nPublic holidays never count against your annual leave.\n")
    container.knowledge.base.add_paths([tmp_path / "leave.md"], added_by="test")
    reply = speaker(container, company.requester)("do public holidays count against my PTO?")
    assert "never count against your annual leave" in reply.text and "Christmas" not in reply.text


def test_balance_status_and_approvals(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "25 days available" in say("how many vacation days do I have left?").text
    container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, actor_id=company.requester, now=NOW)
    assert "pending" in say("what's the status of my leave request?").text
    assert "Waiting for your decision (1)" in speaker(container, company.manager, "other")("anything waiting for my approval?").text
    for day in ("03-01", "03-02", "03-03", "03-04", "03-05", "03-08"):  # more than a reply lists: the count says so
        container.pipeline.run("request_leave", {"start_date": f"2027-{day}", "end_date": f"2027-{day}"},
                               actor_id=company.colleague, now=NOW)
    listed = speaker(container, company.manager, "more")("anything waiting for my approval?").text
    assert listed.startswith("Waiting for your decision (7), oldest first:") and "…and 2 more." in listed


def test_a_one_day_request_is_listed_as_one_day(container: Container, company: Company) -> None:
    container.pipeline.run("request_leave", {"start_date": "2027-01-15", "end_date": "2027-01-15"}, actor_id=company.requester, now=NOW)
    assert "(1 day): pending" in speaker(container, company.requester)("what's the status of my leave request?").text


def test_the_same_claim_filed_twice_is_pointed_out_before_the_yes(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("claim $20 lunch at Subway yesterday")
    filed = re.search(r"Expense claim #(\d+)", say("yes").text)  # ids: PostgreSQL's sequences skip the previews' rows
    assert filed is not None
    again = say("claim $20 lunch at subway yesterday").text
    assert again.startswith(f"Note: you already claimed this (claim #{filed[1]}") and again.endswith("Shall I submit it?")
    assert "Expense claim #" in say("yes").text  # filed anyway: the approver is told
    listed = speaker(container, company.manager, "other")("anything waiting for my approval?").text
    assert f"; check: Same amount, date and merchant as the requester's claim #{filed[1]}" in listed
    assert "already claimed" not in say("claim $21 lunch at Subway yesterday").text  # another amount is another claim
    say("no")
    assert len(rows(container, ExpenseClaim)) == 2


def test_a_declined_claim_shows_the_approvers_reason(container: Container, company: Company) -> None:
    claim = container.pipeline.run("submit_expense", {"amount": "20.00", "currency": "USD", "category": "meals",
                                                      "expense_date": "2026-11-26", "merchant": "Cafe"},
                                   actor_id=company.requester, now=NOW).data
    container.pipeline.run("decide_approval", {"approval_id": claim["approval_id"], "decision": "deny",
                                               "reason": "team lunches come from the team budget"}, actor_id=company.manager, now=NOW)
    status = speaker(container, company.requester)(f"where's my expense claim {claim['claim_id']}?").text
    assert "rejected (reason: team lunches come from the team budget)" in status


def test_out_of_scope_and_help(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    before = writes(container)
    for text in ("what's the weather in Paris tomorrow?", "order me a pizza", "transfer $200 to my savings account"):
        reply = say(text)
        assert reply.intent in {"out_of_scope", "policy_question", "help"} and not reply.wrote
    assert "time off" in say("help").text.lower()
    assert writes(container) == before


@pytest.mark.parametrize(("text", "expected"), [
    ("thanks!", "You're welcome"), ("thank you so much", "You're welcome"), ("cheers mate", "You're welcome"),
    ("bye", "Bye!"), ("have a good weekend", "Bye!"), ("ok", "Anything else"), ("👍", "Anything else"),
    ("ok cool", "Anything else"), ("great, thanks!", "You're welcome"), ("perfect 👍", "Anything else"),
])
def test_thanks_and_goodbyes_get_a_friendly_answer_not_a_refusal(container: Container, company: Company, text: str,
                                                                 expected: str) -> None:
    before = writes(container)
    reply = speaker(container, company.requester)(text)
    assert reply.text.startswith(expected) and "outside what I can help with" not in reply.text
    assert reply.intent == "out_of_scope" and writes(container) == before


def test_ok_still_confirms_a_request_that_waits_for_it(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("my keyboard is broken")
    assert "Ticket #" in say("ok").text


@pytest.mark.parametrize("text", ["休暇を取りたい", "Мне нужен отпуск", "أحتاج إجازة"])
def test_a_message_in_another_script_is_told_the_assistant_reads_english(container: Container, company: Company,
                                                                          text: str) -> None:
    before = writes(container)
    reply = speaker(container, company.requester)(text)
    assert reply.text == words.ENGLISH_ONLY and writes(container) == before


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "x" * 20_000, "休暇を取りたい", "Мне нужен отпуск", "the 31st of February off please",
                                  "half an emoji \ud83d from a JSON escape"])
def test_bad_input_gets_a_clear_reply_and_writes_nothing(container: Container, company: Company, text: str) -> None:
    before = writes(container)
    reply = speaker(container, company.requester)(text)
    assert reply.text.strip() and "error id" not in reply.text
    assert writes(container) == before


def test_nonsense_date_is_explained(container: Container, company: Company) -> None:
    reply = speaker(container, company.requester)("I want the 31st of February off")
    assert "february" in reply.text.lower() or "date" in reply.text.lower()
    assert rows(container, LeaveRequest) == []


def test_policy_question_is_answered_with_a_citation(container: Container, company: Company, tmp_path) -> None:
    policy = tmp_path / "travel.md"
    policy.write_text("# Travel\n\n## Hotels\n\nHotel stays are capped at USD 250 per night in most cities. "
                      "Book through the travel desk.\n", encoding="utf-8")
    container.knowledge.base.add_file(policy, added_by="test")
    reply = speaker(container, company.requester)("what is the hotel budget per night?")
    assert "USD 250 per night" in reply.text and "Travel > Hotels" in reply.text
    assert not reply.wrote


def test_a_question_no_intent_knows_is_answered_when_the_handbook_covers_it(container: Container, company: Company,
                                                                         tmp_path) -> None:
    policy = tmp_path / "onboarding.md"
    policy.write_text("# Getting started\n\n## Your first few days\n\nEach new hire gets a buddy from another team for their "
                      "first month.\n", encoding="utf-8")
    container.knowledge.base.add_file(policy, added_by="test")
    say = speaker(container, company.requester)
    reply = say("do new people get a mentor?")  # no intent knows it, and it clears the answer threshold only just
    assert "buddy from another team" in reply.text and "Getting started > Your first few days" in reply.text
    assert "outside what I can help with" in say("What's the weather in Paris tomorrow?").text


def test_yes_to_the_offer_of_hr_hands_the_uncovered_question_over(container: Container, company: Company, tmp_path) -> None:
    policy = tmp_path / "travel.md"
    policy.write_text("# Travel\n\n## Hotels\n\nHotel stays are capped at USD 250 per night in most cities.\n", encoding="utf-8")
    container.knowledge.base.add_file(policy, added_by="test")
    say = speaker(container, company.requester)
    assert "don't cover that" in say("what's our policy on bringing dogs to the office?").text
    offer = say("yes please").text
    assert "HR" in offer and "bringing dogs to the office" in offer and rows(container, Ticket) == []
    assert say("yes").wrote
    [ticket] = rows(container, Ticket)
    assert "bringing dogs to the office" in ticket.summary
    assert "don't cover that" in say("is there a policy on office plants?").text
    assert say("no thanks").text == words.NO_HANDOFF and len(rows(container, Ticket)) == 1
    assert say("yes").text == words.NOTHING_TO_CONFIRM  # the offer was answered; a later yes confirms nothing


def test_ticket_without_a_problem_description_is_not_opened(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("can you open an IT ticket for me")
    reply = say("   ?  ")
    assert not reply.wrote and reply.text.strip()
    say("cancel")
    assert rows(container, Ticket) == []


def test_conversation_state_expires(container: Container, company: Company) -> None:
    from datetime import timedelta

    container.offline_engine.handle(key="late", actor_id=company.requester, text="I need Dec 14 to Dec 18 off", now=NOW)
    late = container.offline_engine.handle(key="late", actor_id=company.requester, text="yes", now=NOW + timedelta(hours=2))
    assert "timed out" in late.text and not late.wrote
    assert rows(container, LeaveRequest) == []


def test_cancel_without_a_number_proposes_the_only_upcoming_request(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "no upcoming leave" in say("I'd like to cancel my leave").text.lower()
    request = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                     actor_id=company.requester, now=NOW).data
    confirm = say("I'd like to cancel my leave")
    assert f"#{request['request_id']}" in confirm.text and "Mon 11 Jan 2027" in confirm.text
    assert say("yes").wrote
    assert rows(container, LeaveRequest)[0].status == "cancelled"
