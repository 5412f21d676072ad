"""The conversation matrix of the offline engine: every transactional flow completed in one message, over
several turns, with a correction, cancelled midway, refused by a rule, and resumed after a restart.

Each case is a script of turns (RESTART builds a new container in between, as a new process would) and a check
of the database afterwards. Nothing may be written before the final yes, and a refused or cancelled conversation
writes nothing at all (the audit trail, which every write extends, stays the same length).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.container import Container, build_container
from assistant.dialogue.reply import Reply
from tests.builders import Company, make_company
from tests.conftest import NOW
from tools.approvals.models import Approval
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.expenses.models import ExpenseClaim
from tools.helpdesk.models import Ticket, TicketComment
from tools.leave.models import LeaveRequest

RESTART = object()
Context = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A scripted conversation and what the database holds afterwards."""

    turns: tuple[Any, ...]  # texts, RESTART, or callables of the context returning a text
    check: Callable[[Container, Context], None]
    actor: str = "requester"
    setup: Callable[[Container, Company], Context] = lambda container, company: {}
    replies: dict[int, str] = field(default_factory=dict)  # turn index -> text the reply must contain (case-insensitive)
    annual_leave_days: Decimal | None = None


def rows(container: Container, model: type) -> list:
    with transaction(container.session_factory) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def audit_count(container: Container) -> int:
    with transaction(container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def nothing_of(model: type) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        assert [row for row in rows(container, model) if row.id not in context.get("existing", ())] == []
        assert audit_count(container) == context["audit_before"], "a refused or cancelled conversation wrote something"
    return check


# --- request_leave ----------------------------------------------------------------------------------------


def one_leave(start: str, end: str) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [request] = rows(container, LeaveRequest)
        assert (request.start_date.isoformat(), request.end_date.isoformat(), request.status) == (start, end, "pending")
    return check


LEAVE = {
    "one_message": Case(("I'd like annual leave from Dec 14 to Dec 18", "yes"), one_leave("2026-12-14", "2026-12-18"),
                        replies={0: "5 working days", 1: "sent to manager for approval"}),
    "several_turns": Case(("I need some time off", "Dec 14-16", "yes"), one_leave("2026-12-14", "2026-12-16"),
                          replies={0: "which dates", 1: "3 working days"}),
    "correction": Case(("I need Dec 14 to Dec 16 off", "actually until Dec 18", "yes"), one_leave("2026-12-14", "2026-12-18"),
                       replies={0: "3 working days", 1: "5 working days"}),
    "cancelled": Case(("I need some time off", "Dec 14-16", "cancel", "yes"), nothing_of(LeaveRequest), replies={2: "cancelled"}),
    "refused": Case(("I need Dec 14 to Dec 18 off", "yes"), nothing_of(LeaveRequest), replies={0: "not enough annual leave"},
                    annual_leave_days=Decimal("3")),
    "restart": Case(("I need Dec 14 to Dec 18 off", RESTART, "yes"), one_leave("2026-12-14", "2026-12-18")),
}


# --- submit_expense ---------------------------------------------------------------------------------------


def one_claim(amount: str, currency: str, merchant: str, expense_date: str) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [claim] = rows(container, ExpenseClaim)
        assert (claim.amount, claim.currency, claim.merchant, claim.expense_date.isoformat()) == \
            (Decimal(amount), currency, merchant, expense_date)
    return check


EXPENSES = {
    "one_message": Case(("claim $18.50 for lunch at Cafe Uno yesterday", "yes"), one_claim("18.50", "USD", "Cafe Uno", "2026-11-26"),
                        replies={0: "18.50 USD"}),
    "several_turns": Case(("I want to file an expense", "12 EUR", "it was a taxi", "Yellow Cab", "yes"),
                          one_claim("12.00", "EUR", "Yellow Cab", "2026-11-27"),
                          replies={0: "how much", 1: "what kind", 2: "where", 3: "12.00 EUR"}),
    "correction": Case(("claim $18.50 for lunch at Cafe Uno yesterday", "sorry, it was $21.40", "yes"),
                       one_claim("21.40", "USD", "Cafe Uno", "2026-11-26"), replies={1: "21.40 USD"}),
    "cancelled": Case(("I want to file an expense", "12 EUR", "never mind"), nothing_of(ExpenseClaim), replies={2: "cancelled"}),
    "refused": Case(("expense $400 for a team dinner at Luigi's yesterday", "yes"), nothing_of(ExpenseClaim), replies={0: "limit"}),
    "restart": Case(("claim $18.50 for lunch at Cafe Uno yesterday", RESTART, "yes"), one_claim("18.50", "USD", "Cafe Uno", "2026-11-26")),
}


# --- create_ticket ----------------------------------------------------------------------------------------


def one_ticket(words: str, priority: str | None = None, queue: str = "it") -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [ticket] = rows(container, Ticket)
        assert words in ticket.summary.lower() and ticket.queue == queue
        assert priority is None or ticket.priority == priority
    return check


TICKETS = {
    "one_message": Case(("my laptop screen is cracked and I can't work, urgent", "yes"), one_ticket("screen", "urgent"),
                        replies={0: "urgent priority"}),
    "several_turns": Case(("can you open an IT ticket for me", "the printer on floor 2 jams", "yes"), one_ticket("printer"),
                          replies={0: "what's the problem", 1: "printer"}),
    "correction": Case(("my laptop screen is cracked", "actually make it urgent", "yes"), one_ticket("screen", "urgent"),
                       replies={1: "urgent priority"}),
    "cancelled": Case(("can you open an IT ticket for me", "cancel"), nothing_of(Ticket), replies={1: "cancelled"}),
    "refused": Case(("my laptop screen is cracked", "yes"), nothing_of(Ticket), actor="inactive", replies={1: "not an active employee"}),
    "restart": Case(("my laptop screen is cracked and I can't work, urgent", RESTART, "yes"), one_ticket("screen", "urgent")),
}


# --- request_access (a create_ticket message asking for access: IT approves it) ----------------------------


def one_access_request(system: str, level: str, why: str) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [ticket] = [row for row in rows(container, Ticket) if row.id not in context["existing"]]
        assert (ticket.system, ticket.category, ticket.status) == (system, "access", "pending")
        assert f"({level})" in ticket.summary and why in ticket.description
        [approval] = [row for row in rows(container, Approval) if row.subject == f"ticket:{ticket.id}"]
        assert (approval.kind, approval.status) == ("system_access", "pending")
    return check


def pending_github_request(container: Container, company: Company) -> Context:
    container.pipeline.run("request_system_access", {"system": "GitHub", "justification": "code reviews"},
                           actor_id=company.requester, now=NOW)
    return {}


ACCESS = {
    "one_message": Case(("I need admin access to the AWS console because I'm on call next week", "yes"),
                        one_access_request("AWS console", "admin", "on call next week"),
                        replies={0: "admin access to aws console", 1: "for approval"}),
    "several_turns": Case(("can I get Tableau access?", "to build the quarterly sales dashboards", "yes"),
                          one_access_request("Tableau", "user", "quarterly sales dashboards"),
                          replies={0: "what do you need it for", 1: "user access to tableau"}),
    "correction": Case(("I need admin access to the AWS console because I'm on call", "actually read-only is enough", "yes"),
                       one_access_request("AWS console", "read", "on call"), replies={0: "admin access", 1: "read access"}),
    "cancelled": Case(("I need access to the finance shared drive", "cancel"), nothing_of(Ticket), replies={1: "cancelled"}),
    "refused": Case(("I need access to GitHub for the billing repo", "yes"), nothing_of(Ticket), setup=pending_github_request,
                    replies={0: "already asked for access to github"}),
    "restart": Case(("I need admin access to the AWS console because I'm on call next week", RESTART, "yes"),
                    one_access_request("AWS console", "admin", "on call next week")),
}


# --- decide_approval (a pending_approvals message that decides: the approver says approve or deny) --------


def pending_leave_approval(container: Container, company: Company) -> Context:
    data = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                  actor_id=company.requester, now=NOW).data
    return {"approval": data["approval_id"], "request": data["request_id"]}


def decided(status: str, leave_status: str, reason: str = "") -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [approval] = rows(container, Approval)
        [request] = rows(container, LeaveRequest)
        assert (approval.status, request.status) == (status, leave_status) and reason in approval.reason
        if status == "pending":
            assert audit_count(container) == context["audit_before"], "a refused or cancelled decision wrote something"
    return check


DECISIONS = {
    "one_message": Case((lambda c: f"approve {c['approval']}", "yes"), decided("approved", "approved"), actor="manager",
                        setup=pending_leave_approval, replies={0: "approve #", 1: "approved"}),
    "several_turns": Case(("deny it", "two people are already off that week", "yes"),
                          decided("rejected", "rejected", "already off"), actor="manager", setup=pending_leave_approval,
                          replies={0: "why do you deny it", 1: "deny #"}),
    "correction": Case((lambda c: f"approve #{c['approval']}", "actually deny it because the release is that week", "yes"),
                       decided("rejected", "rejected", "release"), actor="manager", setup=pending_leave_approval,
                       replies={0: "approve #", 1: "deny #"}),
    "cancelled": Case((lambda c: f"approve {c['approval']}", "no"), decided("pending", "pending"), actor="manager",
                      setup=pending_leave_approval, replies={1: "no decision recorded"}),
    "refused": Case((lambda c: f"approve {c['approval']}", "yes"), decided("pending", "pending"), actor="other_manager",
                    setup=pending_leave_approval, replies={0: "not waiting for your decision"}),
    "restart": Case((lambda c: f"approve {c['approval']}", RESTART, "yes"), decided("approved", "approved"), actor="manager",
                    setup=pending_leave_approval),
}


# --- comment_on_ticket (a ticket_status message that adds to a ticket rather than asking about it) ------------


def open_tickets(container: Container, company: Company) -> Context:
    first = container.pipeline.run("create_ticket", {"summary": "Laptop fan is loud"}, actor_id=company.requester, now=NOW).data
    second = container.pipeline.run("create_ticket", {"summary": "VPN drops"}, actor_id=company.requester, now=NOW).data
    return {"first": first["ticket_id"], "second": second["ticket_id"]}


def one_open_ticket(container: Container, company: Company) -> Context:
    return {"first": container.pipeline.run("create_ticket", {"summary": "Laptop fan is loud"}, actor_id=company.requester,
                                            now=NOW).data["ticket_id"]}


def one_comment(on: str, words: str) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        [comment] = rows(container, TicketComment)
        assert comment.ticket_id == context[on] and words in comment.body
    return check


COMMENTS = {
    "one_message": Case((lambda c: f"add a comment to ticket {c['first']}: I restarted and it is still loud", "yes"),
                        one_comment("first", "still loud"), setup=open_tickets, replies={0: "laptop fan is loud", 1: "comment added"}),
    "several_turns": Case(("add a note to my ticket", "it also gets very hot", "yes"), one_comment("first", "very hot"),
                          setup=one_open_ticket, replies={0: "what should i add", 1: "very hot"}),
    "correction": Case((lambda c: f"comment on ticket {c['first']}: it happens every morning", lambda c: f"sorry, I meant ticket {c['second']}",
                        "yes"), one_comment("second", "every morning"), setup=open_tickets, replies={1: "vpn drops"}),
    "cancelled": Case((lambda c: f"add a comment to ticket {c['first']}: never mind", "no"), nothing_of(TicketComment),
                      setup=open_tickets, replies={1: "nothing was submitted"}),
    "refused": Case((lambda c: f"add a comment to ticket {c['first']}: same here", "yes"), nothing_of(TicketComment),
                    actor="colleague", setup=open_tickets, replies={0: "not allowed to see ticket"}),
    "restart": Case((lambda c: f"add a comment to ticket {c['first']}: I restarted and it is still loud", RESTART, "yes"),
                    one_comment("first", "still loud"), setup=open_tickets),
}


# --- cancel_leave -----------------------------------------------------------------------------------------


def two_requests(container: Container, company: Company) -> Context:
    first = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                   actor_id=company.requester, now=NOW).data["request_id"]
    second = container.pipeline.run("request_leave", {"start_date": "2027-02-08", "end_date": "2027-02-09"},
                                    actor_id=company.requester, now=NOW).data["request_id"]
    colleagues = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                        actor_id=company.colleague, now=NOW).data["request_id"]
    return {"first": first, "second": second, "colleagues": colleagues}


def statuses(first: str, second: str) -> Callable[[Container, Context], None]:
    def check(container: Container, context: Context) -> None:
        by_id = {request.id: request.status for request in rows(container, LeaveRequest)}
        assert (by_id[context["first"]], by_id[context["second"]], by_id[context["colleagues"]]) == (first, second, "pending")
        if first == second == "pending":
            assert audit_count(container) == context["audit_before"]
    return check


CANCEL_LEAVE = {
    "one_message": Case((lambda c: f"please cancel my leave request #{c['first']}", "yes"), statuses("cancelled", "pending"),
                        setup=two_requests, replies={0: "mon 11 jan 2027", 1: "cancelled"}),
    "several_turns": Case(("I want to cancel my leave", lambda c: f"request {c['second']}", "yes"), statuses("pending", "cancelled"),
                          setup=two_requests, replies={0: "which one should i cancel? #1", 1: "mon 8 feb 2027"}),
    "correction": Case((lambda c: f"cancel leave request #{c['first']}", lambda c: f"sorry, I meant request #{c['second']}", "yes"),
                       statuses("pending", "cancelled"), setup=two_requests, replies={1: "mon 8 feb 2027"}),
    "cancelled": Case((lambda c: f"cancel leave request #{c['first']}", "no"), statuses("pending", "pending"), setup=two_requests,
                      replies={1: "your leave was not cancelled"}),
    "refused": Case((lambda c: f"cancel leave request #{c['colleagues']}", "yes"), statuses("pending", "pending"), setup=two_requests,
                    replies={0: "not allowed to see leave request"}),
    "restart": Case((lambda c: f"please cancel my leave request #{c['first']}", RESTART, "yes"), statuses("cancelled", "pending"),
                    setup=two_requests),
}


# --- human_handoff ----------------------------------------------------------------------------------------


HANDOFF = {
    "one_message": Case(("I'd like to talk to a real person in HR about my parental leave", "yes"),
                        one_ticket("parental", queue="hr"), replies={0: "hr", 1: "ticket #"}),
    "several_turns": Case(("talk to a human", "a question about my payslip", "yes"), one_ticket("payslip", queue="hr"),
                          replies={0: "what would you like", 1: "payslip"}),
    "correction": Case(("I'd like to talk to someone about my contract", "actually make it IT", "yes"),
                       one_ticket("contract", queue="it"), replies={0: "for hr", 1: "for it"}),
    "cancelled": Case(("talk to a human", "forget it"), nothing_of(Ticket), replies={1: "cancelled"}),
    "refused": Case(("I'd like to talk to a person about my contract", "yes"), nothing_of(Ticket), actor="inactive",
                    replies={1: "not an active employee"}),
    "restart": Case(("I'd like to talk to a real person in HR about my parental leave", RESTART, "yes"),
                    one_ticket("parental", queue="hr")),
}

MATRIX = {"request_leave": LEAVE, "submit_expense": EXPENSES, "create_ticket": TICKETS, "request_access": ACCESS,
          "decide_approval": DECISIONS, "comment_on_ticket": COMMENTS, "cancel_leave": CANCEL_LEAVE, "human_handoff": HANDOFF}
KINDS = ("one_message", "several_turns", "correction", "cancelled", "refused", "restart")


def test_every_transactional_intent_has_every_case() -> None:
    from assistant.dialogue.flows import FLOWS

    assert set(MATRIX) == set(FLOWS)
    assert all(tuple(cases) == KINDS for cases in MATRIX.values())


@pytest.mark.parametrize(("intent", "kind"), [(intent, kind) for intent in MATRIX for kind in KINDS])
def test_conversation(container: Container, intent: str, kind: str) -> None:
    run_case(container, MATRIX[intent][kind])


def test_a_duplicate_access_request_is_refused_before_asking_why(container: Container) -> None:
    run_case(container, Case(("can I get GitHub access?",), nothing_of(Ticket), setup=pending_github_request,
                             replies={0: "already asked for access to github"}))


def test_a_bare_priority_at_the_read_back_changes_the_ticket(container: Container) -> None:
    run_case(container, Case(("the vpn keeps dropping", "high", "yes"), one_ticket("vpn", "high"),
                             replies={1: "high priority", 2: "opened (high)"}))


def run_case(container: Container, case: Case) -> None:
    """Play a case's turns through the offline engine and check the replies and what was written."""
    company = make_company(container, annual_leave_days=case.annual_leave_days)
    context = case.setup(container, company)
    context["existing"] = {row.id for row in rows(container, Ticket)}
    context["audit_before"] = audit_count(container)
    actor = getattr(company, case.actor)
    current, opened = container, []
    replies: list[Reply] = []
    try:
        for turn in case.turns:
            if turn is RESTART:
                current = build_container(container.settings)  # a new process: nothing kept in memory
                opened.append(current)
                continue
            text = turn(context) if callable(turn) else turn
            before = audit_count(container)
            reply = current.offline_engine.handle(key="test:matrix", actor_id=actor, text=text, now=NOW)
            assert reply.text.strip() and "error id" not in reply.text, f"{text!r} -> {reply.text!r}"
            if not reply.wrote:
                assert audit_count(container) == before, f"{text!r} wrote without a yes"
            replies.append(reply)
    finally:
        for extra in opened:
            extra.close()
    for index, expected in case.replies.items():
        assert expected.lower() in replies[index].text.lower(), f"turn {index}: {replies[index].text!r} lacks {expected!r}"
    wrote = [reply.wrote for reply in replies]
    assert wrote.count(True) <= 1 and (not any(wrote) or wrote[-1]), "only the final yes may write"
    case.check(container, context)
