"""Bad input is refused with a clear ToolError and leaves every table exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from assistant.container import Container
from tests.builders import Company, make_company, uploaded_receipt
from tests.conftest import NOW
from tools.db import transaction
from tools.errors import ErrorCode, ToolError
from tools.leave.models import LeaveAllocation

NOBODY_ID = 999_999
MISSING_ID = 999_999
COUNTED_TABLES = (
    "employees", "leave_requests", "leave_ledger", "leave_allocations", "expense_claims", "tickets",
    "ticket_comments", "approvals", "approval_decisions", "audit_log",
)
STATUS_TABLES = ("leave_requests", "expense_claims", "tickets", "approvals")


@dataclass(frozen=True)
class World:
    """A company with some history, so a refused call has rows it could wrongly touch."""

    company: Company
    pending_leave_id: int
    pending_leave_approval_id: int
    approved_leave_id: int
    ticket_id: int
    claim_id: int
    expense_approval_id: int


@dataclass(frozen=True)
class Refusal:
    """One bad call, the code it must be refused with, and what the message must mention.

    `args` may need ids that only exist once the world is built: then it is a function of the world.
    `mentions` are checked case-insensitively after `str.format(w=world)`, so "#{w.ticket_id}" works.
    """

    tool: str
    args: dict[str, Any] | Callable[[World], dict[str, Any]]
    code: ErrorCode
    mentions: tuple[str, ...]
    actor: str = "requester"

    def arguments(self, world: World) -> dict[str, Any]:
        """Return the call's arguments."""
        return self.args(world) if callable(self.args) else dict(self.args)

    def actor_id(self, world: World) -> int:
        """Return the id of the person making the call."""
        return NOBODY_ID if self.actor == "nobody" else int(getattr(world.company, self.actor))


Case = tuple[str, Refusal]


def case(case_id: str, tool: str, args: Any, code: ErrorCode, *mentions: str, actor: str = "requester") -> Case:
    """Return one named bad call."""
    return case_id, Refusal(tool, args, code, mentions, actor)


@pytest.fixture
def world(container: Container) -> World:
    """Build the company plus a pending and an approved leave request, a ticket and a pending expense claim."""
    company = make_company(container)
    uploaded_receipt(container, "lunch.pdf")  # the one RECEIPT names
    run = container.pipeline.run
    pending = run("request_leave", {"start_date": "2026-12-07", "end_date": "2026-12-09"}, actor_id=company.requester, now=NOW)
    approved = run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-15"}, actor_id=company.requester, now=NOW)
    run("decide_approval", {"approval_id": approved.data["approval_id"], "decision": "approve"}, actor_id=company.manager, now=NOW)
    ticket = run("create_ticket", {"summary": "Laptop will not boot"}, actor_id=company.requester, now=NOW)
    claim = run("submit_expense", {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-25",
                                   "merchant": "Cafe Luna"}, actor_id=company.requester, now=NOW)
    return World(company=company, pending_leave_id=pending.data["request_id"], pending_leave_approval_id=pending.data["approval_id"],
                 approved_leave_id=approved.data["request_id"], ticket_id=ticket.data["ticket_id"],
                 claim_id=claim.data["claim_id"], expense_approval_id=claim.data["approval_id"])


def _rows(session: Session, table: str, columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(f"SELECT {columns} FROM {table} ORDER BY id"))]


def snapshot(container: Container) -> dict[str, object]:
    """Return row counts, leave counters and every record's status: what a refused call must not change."""
    with transaction(container.session_factory) as session:
        state: dict[str, object] = {
            table: session.scalar(text(f"SELECT count(*) FROM {table}")) for table in COUNTED_TABLES
        }
        state["allocation_counters"] = [
            tuple(row) for row in session.execute(
                select(LeaveAllocation.id, LeaveAllocation.allowance, LeaveAllocation.taken, LeaveAllocation.reserved)
                .order_by(LeaveAllocation.id)
            )
        ]
        for table in STATUS_TABLES:
            state[f"{table}_status"] = _rows(session, table, "id, status")
        state["approval_steps"] = _rows(session, "approvals", "id, step, approver_id, reason")
        state["ticket_comments_rows"] = _rows(session, "ticket_comments", "id, ticket_id, body")
        return state


def refusal_problems(container: Container, world: World, refusal: Refusal) -> list[str]:
    """Run the bad call; return what is wrong with its refusal (nothing when it was refused cleanly)."""
    before = snapshot(container)
    try:
        container.pipeline.run(refusal.tool, refusal.arguments(world), actor_id=refusal.actor_id(world), now=NOW)
    except ToolError as error:
        problems = [] if error.code is refusal.code else [f"code {error.code!s}, expected {refusal.code!s} ({error.message!r})"]
        expected = [fragment.format(w=world) for fragment in refusal.mentions]
        problems += [f"{fragment!r} not in {error.message!r}" for fragment in expected if fragment.lower() not in error.message.lower()]
    except Exception as error:  # noqa: BLE001 - an unexpected exception type is exactly what we report
        problems = [f"raised {type(error).__name__} instead of ToolError: {error}"]
    else:
        problems = ["was accepted"]
    after = snapshot(container)
    problems += [f"{key} changed: {before[key]!r} -> {after[key]!r}" for key in before if before[key] != after[key]]
    return problems


def assert_refused_without_writing(container: Container, world: World, refusal: Refusal) -> None:
    """Check that one bad call is refused with the right code and message, and that nothing was written."""
    problems = refusal_problems(container, world, refusal)
    assert not problems, "\n".join(problems)


def assert_all_refused_without_writing(container: Container, world: World, cases: list[Case]) -> None:
    """Check every case against one world (a refused call changes nothing, so they cannot disturb each other)."""
    failures = [f"[{case_id}] {problem}" for case_id, refusal in cases for problem in refusal_problems(container, world, refusal)]
    assert not failures, "\n".join(failures)


def _leave(start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"start_date": start, "end_date": end, **more}


def _expense(**changes: Any) -> dict[str, Any]:
    valid = {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-25", "merchant": "Cafe Luna"}
    return {**valid, **changes}


INVALID = ErrorCode.INVALID_INPUT
CONFLICT = ErrorCode.CONFLICT
NOT_FOUND = ErrorCode.NOT_FOUND
MISSING = f"#{MISSING_ID}"

LEAVE_CASES = [
    case("end-before-start", "request_leave", _leave("2026-12-10", "2026-12-08"), INVALID, "2026-12-08", "before", "2026-12-10"),
    case("weekend-only", "request_leave", _leave("2026-12-05", "2026-12-06"), INVALID, "2026-12-05", "no working days"),
    case("christmas-us-holiday", "request_leave", _leave("2026-12-25", "2026-12-25"), INVALID, "2026-12-25", "no working days"),
    case("holiday-and-weekend", "request_leave", _leave("2026-12-25", "2026-12-27"), INVALID, "no working days", "public holidays"),
    case("overlaps-pending", "request_leave", _leave("2026-12-08", "2026-12-10"), CONFLICT, "overlaps", "pending",
         "#{w.pending_leave_id}"),
    case("overlaps-approved", "request_leave", _leave("2026-12-15", "2026-12-16"), CONFLICT, "overlaps", "approved",
         "#{w.approved_leave_id}"),
    case("sick-overlaps-annual", "request_leave", _leave("2026-12-14", "2026-12-14", leave_type="sick"), CONFLICT,
         "approved", "#{w.approved_leave_id}"),
    case("half-day-two-dates", "request_leave", _leave("2026-12-21", "2026-12-22", half_day="am"), INVALID, "half day is a single date", "as another"),
    case("half-day-noon", "request_leave", _leave("2026-12-21", "2026-12-21", half_day="noon"), INVALID, "half_day"),
    case("starts-in-the-past", "request_leave", _leave("2026-11-26", "2026-11-30"), INVALID, "2026-11-26", "in the past"),
    case("sick-too-far-back", "request_leave", _leave("2026-10-01", "2026-10-01", leave_type="sick"), INVALID, "sick", "30 days"),
    case("unknown-leave-type", "request_leave", _leave("2026-12-21", "2026-12-21", leave_type="vacation"), INVALID,
         "'vacation'", "annual", "sick"),
    case("start-not-a-date", "request_leave", _leave("next tuesday", "2026-12-21"), INVALID, "start_date"),
    case("start-missing", "request_leave", {"end_date": "2026-12-21"}, INVALID, "start_date"),
    # 4-22 January 2027 holds 14 working days (Martin Luther King Day is off), more than the 10 days of sick leave;
    # the request row is written before the reservation fails, so this checks the rollback.
    case("over-balance", "request_leave", _leave("2027-01-04", "2027-01-22", leave_type="sick"), ErrorCode.INSUFFICIENT_BALANCE,
         "sick", "2027", "14", "10 available"),
    case("unknown-leave-request", "get_leave_request", {"request_id": MISSING_ID}, NOT_FOUND, MISSING),
    case("cancel-unknown-request", "cancel_leave", {"request_id": MISSING_ID}, NOT_FOUND, MISSING),
    case("cancel-request-zero", "cancel_leave", {"request_id": 0}, INVALID, "request_id"),
]

RECEIPT = "uploads/lunch.pdf"
EXPENSE_CASES = [
    case("amount-zero", "submit_expense", _expense(amount="0"), INVALID, "greater than zero"),
    case("amount-negative", "submit_expense", _expense(amount="-5.00"), INVALID, "greater than zero"),
    case("amount-absurd", "submit_expense", _expense(amount="1000000"), INVALID, "too large"),
    case("amount-far-too-large", "submit_expense", _expense(amount="25000000.00"), INVALID, "too large"),
    case("amount-not-a-number", "submit_expense", _expense(amount="twelve"), INVALID, "'twelve'", "not an amount"),
    case("amount-nan", "submit_expense", _expense(amount="NaN"), INVALID, "not an amount"),
    case("amount-three-decimals", "submit_expense", _expense(amount="12.345"), INVALID, "two decimal places"),
    case("amount-exponent", "submit_expense", _expense(amount="1e2"), INVALID, "'1e2'", "not an amount"),
    case("amount-ambiguous-grouping", "submit_expense", _expense(amount="1,000"), INVALID, "'1,000'", "1234.00"),
    case("amount-yen-with-decimals", "submit_expense", _expense(amount="1500.50", currency="JPY"), INVALID, "JPY", "whole number"),
    case("currency-xyz", "submit_expense", _expense(currency="XYZ"), INVALID, "unknown currency", "'XYZ'"),
    case("currency-euro", "submit_expense", _expense(currency="EURO"), INVALID, "unknown currency", "'EURO'"),
    case("currency-without-rate", "submit_expense", _expense(currency="SEK"), INVALID, "no exchange rate", "SEK", "USD"),
    case("unknown-category", "submit_expense", _expense(category="snacks"), INVALID, "unknown expense category", "'snacks'", "meals"),
    case("over-category-limit", "submit_expense", _expense(amount="200.00", receipt_path=RECEIPT), ErrorCode.LIMIT_EXCEEDED,
         "200.00 USD", "Meals", "limit", "150.00"),
    # 140 EUR is 151.20 USD at the configured rate: over the 150 USD meals limit although 140 < 150.
    case("over-limit-converted", "submit_expense", _expense(amount="140.00", currency="EUR", receipt_path=RECEIPT),
         ErrorCode.LIMIT_EXCEEDED, "140.00 EUR", "limit", "150.00 USD"),
    case("missing-receipt", "submit_expense", _expense(amount="30.00"), INVALID, "receipt", "25.00"),
    case("future-date", "submit_expense", _expense(expense_date="2026-11-28"), INVALID, "2026-11-28", "future"),
    case("too-old", "submit_expense", _expense(expense_date="2025-11-01"), INVALID, "365 days"),
    case("blank-merchant", "submit_expense", _expense(merchant="   "), INVALID, "merchant"),
    case("receipt-path-escape", "submit_expense", _expense(receipt_path="../../etc/passwd"), INVALID, "receipt"),
    case("receipt-not-uploaded", "submit_expense", _expense(amount="30.00", receipt_path="uploads/never-sent.pdf"), INVALID,
         "no uploaded receipt"),
    case("unknown-claim", "get_expense", {"claim_id": MISSING_ID}, NOT_FOUND, MISSING),
    case("reimburse-unknown-claim", "mark_expense_reimbursed", {"claim_id": MISSING_ID}, NOT_FOUND, MISSING, actor="finance"),
]

HELPDESK_CASES = [
    case("empty-summary", "create_ticket", {"summary": ""}, INVALID, "summary"),
    case("blank-summary", "create_ticket", {"summary": "   \n\t "}, INVALID, "summary"),
    case("no-summary", "create_ticket", {"description": "it is broken"}, INVALID, "summary"),
    case("bad-priority", "create_ticket", {"summary": "VPN down", "priority": "asap"}, INVALID, "priority"),
    case("empty-comment", "comment_on_ticket", lambda w: {"ticket_id": w.ticket_id, "body": ""}, INVALID, "body"),
    case("blank-comment", "comment_on_ticket", lambda w: {"ticket_id": w.ticket_id, "body": "  \n "}, INVALID, "body"),
    case("comment-unknown-ticket", "comment_on_ticket", {"ticket_id": MISSING_ID, "body": "any news?"}, NOT_FOUND, MISSING),
    case("unknown-ticket", "get_ticket", {"ticket_id": MISSING_ID}, NOT_FOUND, MISSING),
    case("access-no-justification", "request_system_access", {"system": "GitHub", "justification": " "}, INVALID, "justification"),
]

APPROVAL_AND_PEOPLE_CASES = [
    case("unknown-approval", "decide_approval", {"approval_id": MISSING_ID, "decision": "approve"}, NOT_FOUND, MISSING,
         actor="manager"),
    case("deny-without-reason", "decide_approval", lambda w: {"approval_id": w.pending_leave_approval_id, "decision": "deny"},
         INVALID, "reason", actor="manager"),
    case("deny-blank-reason", "decide_approval",
         lambda w: {"approval_id": w.expense_approval_id, "decision": "deny", "reason": "   "}, INVALID, "reason", actor="manager"),
    case("decision-maybe", "decide_approval", lambda w: {"approval_id": w.pending_leave_approval_id, "decision": "maybe"},
         INVALID, "decision", actor="manager"),
    case("balance-of-nobody-as-hr", "get_leave_balance", {"employee_email": "nobody@example.com"}, NOT_FOUND,
         "nobody@example.com", actor="hr"),
    # Without a role that may see others, an unknown email and a known one get the same refusal.
    case("balance-of-nobody", "get_leave_balance", {"employee_email": "nobody@example.com"}, ErrorCode.FORBIDDEN, "own leave balance"),
    case("unknown-actor", "list_my_leave", {}, NOT_FOUND, str(NOBODY_ID), actor="nobody"),
    case("identity-in-arguments", "request_leave", lambda w: {**_leave("2026-12-21", "2026-12-21"), "employee_id": w.company.ceo},
         INVALID, "'employee_id' is not an argument"),
    case("unknown-tool", "delete_everything", {}, ErrorCode.UNKNOWN_TOOL, "delete_everything"),
]

CASE_GROUPS = {"leave": LEAVE_CASES, "expenses": EXPENSE_CASES, "helpdesk": HELPDESK_CASES, "approvals-people": APPROVAL_AND_PEOPLE_CASES}


def test_case_names_are_unique() -> None:
    names = [name for cases in CASE_GROUPS.values() for name, _ in cases]
    assert len(names) == len(set(names))


# One world per group rather than per case keeps the runtime low; every case still compares snapshots
# taken just before and just after its own call, and failures name the case.
@pytest.mark.parametrize("group", list(CASE_GROUPS))
def test_bad_input_is_refused_clearly_and_writes_nothing(container: Container, world: World, group: str) -> None:
    assert_all_refused_without_writing(container, world, CASE_GROUPS[group])


def test_the_checker_notices_an_accepted_call_and_its_writes(container: Container, world: World) -> None:
    valid = Refusal("create_ticket", {"summary": "Printer on fire"}, INVALID, ("summary",))
    problems = refusal_problems(container, world, valid)
    assert "was accepted" in problems
    assert any(problem.startswith("tickets changed") for problem in problems)
    assert any(problem.startswith("audit_log changed") for problem in problems)


def test_refused_deny_leaves_the_approval_decidable(container: Container, world: World) -> None:
    refusal = Refusal("decide_approval", lambda w: {"approval_id": w.pending_leave_approval_id, "decision": "deny"}, INVALID,
                      ("reason",), actor="manager")
    assert_refused_without_writing(container, world, refusal)
    denied = container.pipeline.run("decide_approval", {"approval_id": world.pending_leave_approval_id, "decision": "deny",
                                                        "reason": "Year-end freeze"}, actor_id=world.company.manager, now=NOW)
    assert denied.data["status"] == "rejected"


def test_a_refused_request_does_not_block_the_corrected_one(container: Container, world: World) -> None:
    assert_refused_without_writing(container, world, Refusal("request_leave", _leave("2026-12-22", "2026-12-21"), INVALID, ("before",)))
    corrected = container.pipeline.run("request_leave", _leave("2026-12-21", "2026-12-22"), actor_id=world.company.requester, now=NOW)
    assert corrected.data["status"] == "pending"
    assert corrected.data["working_days"] == 2
