"""The App Home's content: what an employee, an approver and an admin see, read through the pipeline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from assistant.container import Container
from assistant.home import INACTIVE, build_home, home_for_chat_user, knowledge_status
from tests.builders import make_company, run
from tests.conftest import NOW
from tools.db import transaction
from tools.helpdesk.models import TicketStatus
from tools.helpdesk.service import get_ticket, record_ticket_status

POLICY = "# Bicycle Policy\n\n## Storage\n\nBicycles are stored in the basement bike room.\n"



def test_an_employee_sees_balances_and_only_open_requests_claims_and_tickets(container: Container) -> None:
    company = make_company(container)
    pending = run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, company.requester)
    withdrawn = run(container, "request_leave", {"start_date": "2027-02-08", "end_date": "2027-02-08"}, company.requester)
    run(container, "cancel_leave", {"request_id": withdrawn["request_id"]}, company.requester)
    claim = run(container, "submit_expense", {"amount": "20.50", "currency": "USD", "category": "meals",
                                              "expense_date": "2026-11-26",
                                              "merchant": "Cafe"}, company.requester)
    open_ticket = run(container, "create_ticket", {"summary": "Laptop fan is loud"}, company.requester)
    solved = run(container, "create_ticket", {"summary": "Printer jam"}, company.requester)
    with transaction(container.session_factory) as session:
        record_ticket_status(session, ticket=get_ticket(session, ticket_id=solved["ticket_id"]), status=TicketStatus.RESOLVED)

    home = build_home(container, employee_id=company.requester, now=NOW)

    assert home.known and home.name == "Requester" and home.year == 2026
    annual = next(line for line in home.balances if line.leave_type == "annual")
    assert annual.reserved == 5 and annual.available == annual.allowance - 5
    assert [line.request_id for line in home.leave] == [pending["request_id"]] and home.leave[0].status == "pending"
    assert [(c.claim_id, c.amount, c.status) for c in home.expenses] == [(claim["claim_id"], "20.50", "pending_approval")]
    assert [line.ticket_id for line in home.tickets] == [open_ticket["ticket_id"]]
    assert home.approvals == [] and home.knowledge is None


def test_approved_leave_stays_on_the_home_until_it_has_ended(container: Container) -> None:
    company = make_company(container)
    leave = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    run(container, "decide_approval", {"approval_id": leave["approval_id"], "decision": "approve"}, company.manager)
    home = build_home(container, employee_id=company.requester, now=NOW)
    assert [(line.request_id, line.status) for line in home.leave] == [(leave["request_id"], "approved")]
    assert build_home(container, employee_id=company.requester, now=NOW + timedelta(days=60)).leave == []


def test_an_approver_sees_the_steps_waiting_for_them(container: Container) -> None:
    company = make_company(container)
    leave = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    home = build_home(container, employee_id=company.manager, now=NOW)
    [waiting] = home.approvals
    assert (waiting.approval_id, waiting.step, waiting.steps, waiting.kind) == (leave["approval_id"], 1, 1, "leave")
    assert waiting.requester == "requester@example.com" and "5 working days" in waiting.summary and home.more_approvals == 0
    assert build_home(container, employee_id=company.other_manager, now=NOW).approvals == []  # not theirs to decide


def test_an_approver_sees_a_possible_double_claim_on_the_queue_and_on_the_card(container: Container) -> None:
    from assistant.approval_cards import claim_new_cards
    from assistant.slack.blocks import card_blocks
    from assistant.slack.home_blocks import home_view

    company = make_company(container)
    claim = {"amount": "20", "currency": "USD", "category": "meals", "expense_date": "2026-11-26", "merchant": "Cafe"}
    first = run(container, "submit_expense", claim, company.requester)
    again = run(container, "submit_expense", claim, company.requester)
    [older, waiting] = build_home(container, employee_id=company.manager, now=NOW).approvals
    assert older.check == "" and waiting.check.startswith(f"Same amount, date and merchant as the requester's claim #{first['claim_id']}")
    assert f":warning: Same amount, date and merchant as the requester's claim #{first['claim_id']}" in str(
        home_view(build_home(container, employee_id=company.manager, now=NOW)))
    [card] = [card for card in claim_new_cards(container, find_chat_id=lambda email: "U1", now=NOW).cards
              if card.approval_id == again["approval_id"]]
    assert {"type": "mrkdwn", "text": f"*Check*\n{waiting.check}"} in card_blocks(card)[1]["fields"]


def test_a_manager_sees_who_in_their_team_is_off_in_the_next_two_weeks(container: Container) -> None:
    company = make_company(container)
    run(container, "request_leave", {"start_date": "2026-12-07", "end_date": "2026-12-08"}, company.requester)
    run(container, "request_leave", {"start_date": "2026-12-21", "end_date": "2026-12-22"}, company.colleague)  # too far out
    run(container, "request_leave", {"start_date": "2026-12-07", "end_date": "2026-12-07"}, company.other_report)  # not theirs
    team = build_home(container, employee_id=company.manager, now=NOW).team_off
    assert [(line.name, line.start_date, line.status) for line in team or []] == [("Requester", "2026-12-07", "pending")]
    assert build_home(container, employee_id=company.requester, now=NOW).team_off is None  # not a manager: no such section


def test_it_and_hr_see_their_teams_ticket_queue_and_others_do_not(container: Container) -> None:
    from assistant.slack.home_blocks import home_view

    company = make_company(container)
    ticket = run(container, "create_ticket", {"summary": "Docking station dead", "priority": "high"}, company.requester)
    run(container, "request_human_handoff", {"summary": "about my contract", "team": "hr"}, company.requester)
    it_home = build_home(container, employee_id=company.it, now=NOW)
    assert list(it_home.queues or {}) == ["it"]
    assert [(line.ticket_id, line.assignee, line.overdue) for line in it_home.queues["it"]] == [(ticket["ticket_id"], None, False)]
    later = build_home(container, employee_id=company.it, now=NOW + timedelta(days=2))  # past the 8 hours of a high ticket
    assert later.queues["it"][0].overdue
    assert "IT queue (1 open)" in str(home_view(later)) and "*overdue*" in str(home_view(later))
    assert list(build_home(container, employee_id=company.hr, now=NOW).queues or {}) == ["hr"]
    assert list(build_home(container, employee_id=company.admin, now=NOW).queues or {}) == ["it", "hr"]
    assert build_home(container, employee_id=company.requester, now=NOW).queues is None


def test_an_admin_sees_the_knowledge_base_status_and_others_do_not(container: Container, tmp_path: Path) -> None:
    company = make_company(container)
    empty = build_home(container, employee_id=company.admin, now=NOW).knowledge
    assert empty is not None and empty.documents == [] and empty.chunks == 0 and empty.last_update is None
    source = tmp_path / "bicycle-policy.md"
    source.write_text(POLICY, encoding="utf-8")
    container.knowledge.base.add_file(source, added_by="admin@example.com")
    status = knowledge_status(container)
    assert [(d.doc_id, d.title, d.chunks) for d in status.documents] == [("bicycle-policy", "Bicycle Policy", 1)]
    assert status.chunks == 1 and status.last_update is not None and status.problem == ""
    assert build_home(container, employee_id=company.hr, now=NOW).knowledge is None


def test_someone_not_in_the_directory_gets_a_home_that_says_so(container: Container) -> None:
    make_company(container)
    home = home_for_chat_user(container, "UNOBODY", lambda user: None, now=NOW)
    assert not home.known and "company directory" in home.message and home.balances == []


def test_a_chat_account_is_matched_by_email_and_an_inactive_person_sees_why_nothing_is_shown(container: Container) -> None:
    company = make_company(container)
    home = home_for_chat_user(container, "UREQ", {"UREQ": company.email("requester")}.get, now=NOW)
    assert home.known and home.name == "Requester"
    inactive = home_for_chat_user(container, "UINA", {"UINA": company.email("inactive")}.get, now=NOW)
    assert not inactive.known and inactive.message == INACTIVE
