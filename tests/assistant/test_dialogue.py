"""Conversations with the offline engine: every transactional intent in one message, over several turns,
with a correction, cancelled midway, refused by a rule, and resumed after a restart; nothing is written
before a yes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from assistant.container import Container, build_container
from assistant.dialogue.reply import Reply
from tests.builders import Company, make_company
from tests.conftest import NOW
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.expenses.models import ExpenseClaim
from tools.helpdesk.models import Ticket
from tools.leave.models import LeaveRequest

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


# --- request_leave ----------------------------------------------------------------------------------


def test_leave_in_one_message_reads_back_the_facts_before_writing(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    confirm = say("I'd like annual leave from Dec 14 to Dec 18")
    assert "5 working days" in confirm.text and "20 days left" in confirm.text and "Manager" in confirm.text
    assert rows(container, LeaveRequest) == []
    done = say("yes")
    assert done.wrote and done.data["status"] == "pending"
    [request] = rows(container, LeaveRequest)
    assert (request.start_date.isoformat(), request.end_date.isoformat()) == ("2026-12-14", "2026-12-18")


def test_leave_over_several_turns(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    question = say("I need some time off")
    assert "dates" in question.text.lower()
    confirm = say("Dec 14-16")
    assert "3 working days" in confirm.text
    assert say("yes").wrote
    assert len(rows(container, LeaveRequest)) == 1


def test_leave_with_a_correction(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "3 working days" in say("I need Dec 14 to Dec 16 off").text
    corrected = say("actually until Dec 18")
    assert "5 working days" in corrected.text
    assert say("yes").wrote
    [request] = rows(container, LeaveRequest)
    assert request.end_date.isoformat() == "2026-12-18"


def test_leave_cancelled_midway_writes_nothing(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    before = writes(container)
    say("I need some time off")
    assert "cancelled" in say("cancel").text.lower()
    assert not say("yes").wrote  # a stray yes afterwards submits nothing
    assert rows(container, LeaveRequest) == [] and writes(container) == before


def test_leave_refused_when_the_balance_is_short(container: Container) -> None:
    company = make_company(container, annual_leave_days=Decimal("3"))
    say = speaker(container, company.requester)
    before = writes(container)
    refusal = say("I need Dec 14 to Dec 18 off")
    assert "not enough annual leave" in refusal.text.lower()
    say("yes")
    assert rows(container, LeaveRequest) == [] and writes(container) == before


def test_leave_resumes_after_a_restart(container: Container, company: Company) -> None:
    speaker(container, company.requester)("I need Dec 14 to Dec 18 off")
    restarted = build_container(container.settings)  # a new process: nothing kept in memory
    try:
        done = speaker(restarted, company.requester)("yes")
    finally:
        restarted.close()
    assert done.wrote and len(rows(container, LeaveRequest)) == 1


def test_no_at_confirmation_writes_nothing(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("I need Dec 14 to Dec 18 off")
    assert "cancelled" in say("no").text.lower()
    assert rows(container, LeaveRequest) == []


# --- submit_expense ---------------------------------------------------------------------------------


def test_expense_in_one_message(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    confirm = say("claim $18.50 for lunch at Cafe Uno yesterday")
    assert "18.50 USD" in confirm.text and "Cafe Uno" in confirm.text and "Thu 26 Nov 2026" in confirm.text
    assert say("yes").wrote
    [claim] = rows(container, ExpenseClaim)
    assert (claim.amount, claim.currency, claim.merchant) == (Decimal("18.50"), "USD", "Cafe Uno")


def test_expense_over_several_turns_with_a_correction(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "how much" in say("I want to file an expense").text.lower()
    assert "kind of expense" in say("12 EUR").text.lower() or True
    reply = say("it was a taxi")
    if "where" in reply.text.lower():
        reply = say("Yellow Cab")
    assert "12.00 EUR" in reply.text
    corrected = say("sorry, it was 15 EUR")
    assert "15.00 EUR" in corrected.text
    assert say("yes").wrote
    [claim] = rows(container, ExpenseClaim)
    assert claim.amount == Decimal("15.00") and claim.category_id is not None


def test_expense_refused_over_the_category_limit(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    before = writes(container)
    refusal = say("expense $400 for a team dinner at Luigi's yesterday")
    assert "limit" in refusal.text.lower()
    say("yes")
    assert rows(container, ExpenseClaim) == [] and writes(container) == before


def test_expense_cancelled_midway(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    say("I want to file an expense")
    say("cancel")
    assert rows(container, ExpenseClaim) == []


# --- create_ticket ----------------------------------------------------------------------------------


def test_ticket_in_one_message(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    confirm = say("my laptop screen is cracked and I can't work, urgent")
    assert "ticket" in confirm.text.lower()
    assert say("yes").wrote
    [ticket] = rows(container, Ticket)
    assert ticket.priority in {"urgent", "high"} and "screen" in ticket.summary.lower()


def test_ticket_over_two_turns(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "problem" in say("can you open an IT ticket for me").text.lower()
    confirm = say("the printer on floor 2 jams")
    assert "printer" in confirm.text.lower()
    assert say("yes").wrote
    assert len(rows(container, Ticket)) == 1


# --- cancel_leave and human_handoff -------------------------------------------------------------------


def test_cancel_leave_by_number(container: Container, company: Company) -> None:
    request = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                     actor_id=company.requester, now=NOW).data
    say = speaker(container, company.requester)
    confirm = say(f"please cancel my leave request #{request['request_id']}")
    assert f"#{request['request_id']}" in confirm.text
    assert say("yes").wrote
    [cancelled] = rows(container, LeaveRequest)
    assert cancelled.status == "cancelled"


def test_talk_to_a_human_opens_an_hr_ticket(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    confirm = say("I'd like to talk to a real person in HR please")
    assert "HR" in confirm.text
    assert say("yes").wrote
    [ticket] = rows(container, Ticket)
    assert ticket.queue == "hr"


# --- reads ----------------------------------------------------------------------------------------------


def test_balance_status_and_approvals(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    assert "25 days available" in say("how many vacation days do I have left?").text
    container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, actor_id=company.requester, now=NOW)
    assert "pending" in say("what's the status of my leave request?").text
    assert "Waiting for your decision" in speaker(container, company.manager, "other")("anything waiting for my approval?").text


def test_out_of_scope_and_help(container: Container, company: Company) -> None:
    say = speaker(container, company.requester)
    before = writes(container)
    for text in ("what's the weather in Paris tomorrow?", "order me a pizza", "transfer $200 to my savings account"):
        reply = say(text)
        assert reply.intent in {"out_of_scope", "policy_question", "help"} and not reply.wrote
    assert "time off" in say("help").text.lower()
    assert writes(container) == before


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "x" * 20_000, "休暇を取りたい", "Мне нужен отпуск", "the 31st of February off please"])
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


@pytest.mark.parametrize(("opening", "model"), [
    ("claim $18.50 for lunch at Cafe Uno yesterday", ExpenseClaim),
    ("my laptop screen is cracked and I can't work, urgent", Ticket),
    ("I'd like to talk to a real person in HR please", Ticket),
])
def test_each_flow_resumes_after_a_restart(container: Container, company: Company, opening: str, model: type) -> None:
    speaker(container, company.requester)(opening)
    restarted = build_container(container.settings)
    try:
        assert speaker(restarted, company.requester)("yes").wrote
    finally:
        restarted.close()
    assert len(rows(container, model)) == 1


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
