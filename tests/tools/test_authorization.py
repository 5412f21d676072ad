"""Authorization matrix: every registered tool against every role, and identity never taken from arguments."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from assistant.container import Container
from tests.builders import Company, add_employee, make_company, uploaded_receipt
from tests.conftest import NOW
from tools.db import transaction
from tools.errors import ErrorCode, ToolError
from tools.people.models import Role
from tools.people.service import get_employee
from tools.registry import build_registry
from tools.schema import metadata

Outcome = str  # OK, or the ErrorCode of the refusal
OK: Outcome = "ok"
NO = ErrorCode.FORBIDDEN
NF = ErrorCode.NOT_FOUND

# The matrix columns: the roles of the rules, plus a peer of the requester (same manager, no extra role)
# and the CEO (the requester's skip-level manager: in the reporting line, but not the direct approver).
ROLES = ("requester", "manager", "other_manager", "hr", "finance", "it", "admin", "inactive", "colleague", "ceo")
ACTIVE_ROLES = tuple(role for role in ROLES if role != "inactive")
# Every leave request of a test takes the next Tuesday from here; no Tuesday of 2027 is a US holiday.
FIRST_LEAVE_DAY = date(2027, 1, 12)
SMALL_EXPENSE = {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-20", "merchant": "Cafe Roma"}
# Over the 500 USD threshold, so the chain is manager then finance.
LARGE_EXPENSE = {"amount": "600.00", "currency": "USD", "category": "travel", "expense_date": "2026-11-20",
                 "merchant": "Rail Co", "receipt_path": "uploads/rail.pdf"}
SYSTEM_NUMBERS = itertools.count(1)
ACCESS_REQUEST = {"system": "GitHub", "access_level": "read", "justification": "Code reviews for the billing team."}


@dataclass
class Scenario:
    """One company and a supply of distinct leave days, shared by every cell of one test."""

    container: Container
    company: Company
    leave_days: Iterator[date]

    def actor(self, role: str) -> int:
        """Return the employee id of the person playing `role`."""
        return int(getattr(self.company, role))

    def run(self, tool: str, args: dict[str, Any], role: str) -> dict[str, Any]:
        """Run one tool through the pipeline as `role` and return its data."""
        return self.container.pipeline.run(tool, args, actor_id=self.actor(role), now=NOW).data


def new_scenario(container: Container) -> Scenario:
    """Build the test company on this test's database."""
    days = (FIRST_LEAVE_DAY + timedelta(weeks=week) for week in itertools.count())
    uploaded_receipt(container, "rail.pdf")  # the one LARGE_EXPENSE names
    return Scenario(container, make_company(container), days)


def database_snapshot(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table, to prove that a refused call changed nothing at all."""
    with container.engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
            for table in metadata().sorted_tables
        }


# Records the cells need, made through the pipeline by their owner (the requester unless said otherwise).

def leave_request(s: Scenario, owner: str = "requester", leave_type: str = "annual") -> dict[str, Any]:
    """Request one day of leave as `owner`."""
    day = next(s.leave_days).isoformat()
    return s.run("request_leave", {"start_date": day, "end_date": day, "leave_type": leave_type}, owner)


def approve(s: Scenario, approval_id: int, role: str) -> dict[str, Any]:
    """Approve the current step of an approval as `role`."""
    return s.run("decide_approval", {"approval_id": approval_id, "decision": "approve"}, role)


def no_args(s: Scenario) -> dict[str, Any]:
    """Call the tool without arguments (about the caller's own records)."""
    return {}


def handoff(s: Scenario) -> dict[str, Any]:
    """Ask for a person in HR."""
    return {"summary": "I need to talk to someone about a personal matter", "team": "hr"}


def policy_question(s: Scenario) -> dict[str, Any]:
    """Ask a policy question (the knowledge base is empty: the answer is that policies do not cover it)."""
    return {"query": "How many days of annual leave do I get?"}


def requester_balance_by_name(s: Scenario) -> dict[str, Any]:
    """Ask for the requester's balance by first name: found only among the people the caller may see."""
    with transaction(s.container.session_factory) as session:
        return {"employee_name": get_employee(session, employee_id=s.actor("requester")).name.split()[0]}


def requester_balance(s: Scenario) -> dict[str, Any]:
    """Ask for the requester's balance: `employee_email` names the subject, not the caller."""
    return {"employee_email": s.company.email("requester")}


def new_leave(s: Scenario) -> dict[str, Any]:
    """Ask for one fresh day of leave."""
    day = next(s.leave_days).isoformat()
    return {"start_date": day, "end_date": day}


def requesters_leave(s: Scenario) -> dict[str, Any]:
    """Point at a fresh pending leave request owned by the requester."""
    return {"request_id": leave_request(s)["request_id"]}


def new_expense(s: Scenario) -> dict[str, Any]:
    """Claim a small meal."""
    return dict(SMALL_EXPENSE)


def requesters_claim(s: Scenario) -> dict[str, Any]:
    """Point at a fresh pending expense claim owned by the requester."""
    return {"claim_id": s.run("submit_expense", SMALL_EXPENSE, "requester")["claim_id"]}


def requesters_approved_claim(s: Scenario) -> dict[str, Any]:
    """Point at a requester's claim that the manager approved, so it can be reimbursed."""
    claim = s.run("submit_expense", SMALL_EXPENSE, "requester")
    approve(s, claim["approval_id"], "manager")
    return {"claim_id": claim["claim_id"]}


def new_ticket(s: Scenario) -> dict[str, Any]:
    """Open a plain ticket."""
    return {"summary": "Laptop will not boot"}


def requesters_ticket(s: Scenario) -> dict[str, Any]:
    """Point at a fresh ticket opened by the requester."""
    return {"ticket_id": s.run("create_ticket", new_ticket(s), "requester")["ticket_id"]}


def comment_on_requesters_ticket(s: Scenario) -> dict[str, Any]:
    """Comment on a fresh ticket opened by the requester."""
    return {**requesters_ticket(s), "body": "Any news on this?"}


def hr_queue(s: Scenario) -> dict[str, Any]:
    """Ask for the HR queue of hand-overs (one is in it)."""
    s.run("request_human_handoff", handoff(s), "requester")
    return {"queue": "hr"}


def take_requesters_ticket(s: Scenario) -> dict[str, Any]:
    """Take a fresh ticket of the requester's (become its assignee)."""
    return {**requesters_ticket(s), "take": True}


def close_requesters_ticket(s: Scenario) -> dict[str, Any]:
    """Close a fresh ticket of the requester's."""
    return {**requesters_ticket(s), "status": "closed", "note": "Sorted, thanks."}


def new_access_request(s: Scenario) -> dict[str, Any]:
    """Ask for read access to a system."""
    return dict(ACCESS_REQUEST)


def approve_manager_step(s: Scenario) -> dict[str, Any]:
    """Approve the requester's fresh annual leave, whose only step is the manager."""
    return {"approval_id": leave_request(s)["approval_id"], "decision": "approve"}


def deny_manager_step(s: Scenario) -> dict[str, Any]:
    """Deny the requester's fresh annual leave, whose only step is the manager."""
    return {"approval_id": leave_request(s)["approval_id"], "decision": "deny", "reason": "Release week."}


def approve_hr_step(s: Scenario) -> dict[str, Any]:
    """Approve the HR step of the requester's unpaid leave, once the manager has approved."""
    approval_id = leave_request(s, leave_type="unpaid")["approval_id"]
    approve(s, approval_id, "manager")
    return {"approval_id": approval_id, "decision": "approve"}


def approve_finance_step(s: Scenario) -> dict[str, Any]:
    """Approve the finance step of the requester's large claim, once the manager has approved."""
    approval_id = s.run("submit_expense", LARGE_EXPENSE, "requester")["approval_id"]
    approve(s, approval_id, "manager")
    return {"approval_id": approval_id, "decision": "approve"}


def approve_it_step(s: Scenario) -> dict[str, Any]:
    """Approve the requester's system access request, whose only step is IT (a new system each time: one pending
    request per system and person)."""
    request = {**ACCESS_REQUEST, "system": f"GitHub org {next(SYSTEM_NUMBERS)}"}
    return {"approval_id": s.run("request_system_access", request, "requester")["approval_id"], "decision": "approve"}


@dataclass(frozen=True)
class Row:
    """One row of the matrix: a tool call, the records it needs, and each role's expected outcome."""

    case: str
    tool: str
    prepare: Callable[[Scenario], dict[str, Any]]
    expected: tuple[Outcome, ...]


# OK = allowed; NO = refused with FORBIDDEN.
MATRIX = (
    #                                                                                        requester mgr other_mgr hr finance it admin inactive colleague ceo
    Row("own leave balance", "get_leave_balance", no_args,                                   (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("requester's leave balance", "get_leave_balance", requester_balance,                 (OK, OK, NO, OK, NO, NO, OK, NO, NO, OK)),
    # Someone who may not see it learns nothing from the answer: not even whether such a person exists.
    Row("requester's leave balance by name", "get_leave_balance", requester_balance_by_name, (OK, OK, NF, OK, NO, NO, OK, NO, NO, OK)),
    Row("preview leave", "preview_leave_request", new_leave,                                 (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("request leave", "request_leave", new_leave,                                         (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("list own leave", "list_my_leave", no_args,                                          (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("own country's holidays", "list_holidays", no_args,                                  (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("who is off", "list_team_leave", no_args,                                            (NO, OK, OK, OK, NO, NO, OK, NO, NO, OK)),
    Row("read requester's leave request", "get_leave_request", requesters_leave,             (OK, OK, NO, OK, NO, NO, OK, NO, NO, OK)),
    Row("cancel requester's leave", "cancel_leave", requesters_leave,                        (OK, NO, NO, NO, NO, NO, NO, NO, NO, NO)),
    Row("preview expense", "preview_expense", new_expense,                                   (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("submit expense", "submit_expense", new_expense,                                     (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("list own expenses", "list_my_expenses", no_args,                                    (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("read requester's claim", "get_expense", requesters_claim,                           (OK, OK, NO, NO, OK, NO, OK, NO, NO, OK)),
    Row("reimburse requester's claim", "mark_expense_reimbursed", requesters_approved_claim, (NO, NO, NO, NO, OK, NO, NO, NO, NO, NO)),
    Row("check reimbursing requester's claim", "preview_reimbursement", requesters_approved_claim,
        (NO, NO, NO, NO, OK, NO, NO, NO, NO, NO)),
    Row("open ticket", "create_ticket", new_ticket,                                          (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("list own tickets", "list_my_tickets", no_args,                                      (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("read requester's ticket", "get_ticket", requesters_ticket,                          (OK, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    Row("preview a comment on requester's ticket", "preview_comment", comment_on_requesters_ticket, (OK, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    Row("comment on requester's ticket", "comment_on_ticket", comment_on_requesters_ticket,  (OK, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    Row("IT ticket queue", "list_ticket_queue", no_args,                                    (NO, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    Row("HR hand-over queue", "list_ticket_queue", hr_queue,                                  (NO, NO, NO, OK, NO, NO, OK, NO, NO, NO)),
    Row("check taking requester's ticket", "preview_ticket_update", take_requesters_ticket,   (NO, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    Row("take requester's ticket", "update_ticket", take_requesters_ticket,                   (NO, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    # the requester may close their own ticket (no longer needed); working it is IT's
    Row("close requester's ticket", "update_ticket", close_requesters_ticket,                 (OK, NO, NO, NO, NO, OK, OK, NO, NO, NO)),
    # The only IT person's own access request goes to their manager (nobody else holds the IT role).
    Row("preview system access", "preview_system_access", new_access_request,                (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("request system access", "request_system_access", new_access_request,                (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("hand over to HR", "request_human_handoff", handoff,                                 (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("ask a policy question", "search_policies", policy_question,                         (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("list own pending approvals", "list_pending_approvals", no_args,                     (OK, OK, OK, OK, OK, OK, OK, NO, OK, OK)),
    Row("preview a manager step decision", "preview_decision", approve_manager_step,         (NO, OK, NO, NO, NO, NO, NO, NO, NO, NO)),
    Row("approve manager step", "decide_approval", approve_manager_step,                     (NO, OK, NO, NO, NO, NO, NO, NO, NO, NO)),
    Row("deny manager step", "decide_approval", deny_manager_step,                           (NO, OK, NO, NO, NO, NO, NO, NO, NO, NO)),
    Row("approve hr step", "decide_approval", approve_hr_step,                               (NO, NO, NO, OK, NO, NO, NO, NO, NO, NO)),
    Row("approve finance step", "decide_approval", approve_finance_step,                     (NO, NO, NO, NO, OK, NO, NO, NO, NO, NO)),
    Row("approve it step", "decide_approval", approve_it_step,                               (NO, NO, NO, NO, NO, OK, NO, NO, NO, NO)),
)


def attempt(s: Scenario, row: Row, role: str) -> Outcome:
    """Make the row's call as `role` on fresh records; a refusal must leave the database untouched."""
    args = row.prepare(s)
    before = database_snapshot(s.container)
    try:
        s.run(row.tool, args, role)
    except ToolError as error:
        assert database_snapshot(s.container) == before, f"{row.case}: the refused call by {role} changed the database"
        return error.code
    audit_rows = len(database_snapshot(s.container)["audit_log"]) - len(before["audit_log"])
    assert (audit_rows > 0) == build_registry()[row.tool].writes, f"{row.case} by {role}: {audit_rows} audit rows"
    return OK


def canonical_rows() -> list[Row]:
    """Return the first matrix row of each tool."""
    first: dict[str, Row] = {}
    for row in MATRIX:
        first.setdefault(row.tool, row)
    return list(first.values())


def test_matrix_covers_every_registered_tool_and_role() -> None:
    """Every tool in the registry has a row, and every row has an outcome for every role."""
    assert {row.tool for row in MATRIX} == set(build_registry())
    assert all(len(row.expected) == len(ROLES) for row in MATRIX)


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.case.replace(" ", "_"))
def test_authorization_matrix(container: Container, row: Row) -> None:
    """Each role gets exactly the outcome its matrix cell says."""
    s = new_scenario(container)
    observed = {role: attempt(s, row, role) for role in ROLES}
    assert observed == dict(zip(ROLES, row.expected, strict=True))


def impersonation_value(s: Scenario, key: str) -> object:
    """Return the admin's id or email, whichever the argument's name suggests."""
    return s.actor("admin") if key.endswith("_id") else s.company.email("admin")


IDENTITY_ARGUMENTS = ("actor_id", "actor", "requester", "requester_id", "employee_id", "as_email", "user", "user_id",
                      "approver_id")


@pytest.mark.parametrize("row", canonical_rows(), ids=lambda row: row.tool)
def test_identity_arguments_are_refused_and_write_nothing(container: Container, row: Row) -> None:
    """An identity smuggled into the arguments is refused as INVALID_INPUT before anything is written."""
    s = new_scenario(container)
    role = ROLES[row.expected.index(OK)]
    args = row.prepare(s)
    before = database_snapshot(container)
    for key in IDENTITY_ARGUMENTS:
        with pytest.raises(ToolError) as refused:
            s.run(row.tool, {**args, key: impersonation_value(s, key)}, role)
        assert refused.value.code is ErrorCode.INVALID_INPUT, key
        assert f"'{key}'" in refused.value.message
    assert database_snapshot(container) == before
    s.run(row.tool, args, role)  # the very same call without the extra argument goes through


# Words that would let a caller name who is acting; `employee_email` of get_leave_balance names a subject.
IDENTITY_WORDS = {"actor", "requester", "requestor", "user", "username", "as", "approver", "caller", "author", "sender",
                  "me", "self", "identity", "impersonate", "behalf", "by", "who", "principal", "login", "decider"}
PERSON_WORDS = {"employee", "email", "person", "people", "member", "slack"}
SUBJECT_FIELDS = {("get_leave_balance", "employee_email"), ("get_leave_balance", "employee_name")}


def test_no_tool_schema_names_an_identity() -> None:
    """No argument schema has an identity property or accepts properties it does not declare."""
    offenders = []
    for name, spec in build_registry().items():
        schema = spec.args_model.model_json_schema()
        assert schema.get("additionalProperties") is False, name
        for prop in schema.get("properties", {}):
            words = set(prop.lower().split("_"))
            if words & IDENTITY_WORDS or (words & PERSON_WORDS and (name, prop) not in SUBJECT_FIELDS):
                offenders.append(f"{name}.{prop}")
    assert offenders == []


def annual_available(data: dict[str, Any]) -> int | float | None:
    """Return the annual leave days available in a balance answer."""
    return next(row["available"] for row in data["balances"] if row["leave_type"] == "annual")


def test_leave_balance_email_is_an_authorized_subject_not_the_caller(container: Container) -> None:
    """`employee_email` selects whose balance is read, and only people allowed to see it get it."""
    s = new_scenario(container)
    leave_request(s)  # the requester now has one 2027 day reserved; nobody else does
    email = s.company.email("requester")
    for role in ("requester", "manager", "hr", "admin", "ceo"):
        data = s.run("get_leave_balance", {"employee_email": email, "year": 2027}, role)
        assert (data["employee"], annual_available(data)) == (email, 24), role
    own = s.run("get_leave_balance", {"year": 2027}, "manager")
    assert (own["employee"], annual_available(own)) == (s.company.email("manager"), 25)
    before = database_snapshot(container)
    for role in ("other_manager", "colleague", "finance", "it"):
        for spelling in (email, email.upper(), f"  {email}  "):
            with pytest.raises(ToolError) as refused:
                s.run("get_leave_balance", {"employee_email": spelling, "year": 2027}, role)
            assert refused.value.code is ErrorCode.FORBIDDEN, (role, spelling)
    assert database_snapshot(container) == before


def listed_ids(rows: list[dict[str, Any]], key: str) -> set[int]:
    """Return the ids under `key` of listed records."""
    return {row[key] for row in rows}


def test_list_tools_return_only_the_callers_records(container: Container) -> None:
    """list_* tools show each caller their own records (or the approvals waiting for them), nobody else's."""
    s = new_scenario(container)
    leave = {role: leave_request(s, role) for role in ACTIVE_ROLES}
    claims = {role: s.run("submit_expense", SMALL_EXPENSE, role) for role in ACTIVE_ROLES}
    tickets = {role: s.run("create_ticket", new_ticket(s), role) for role in ACTIVE_ROLES}
    waiting_for: dict[int, set[int]] = {}
    for made in [*leave.values(), *claims.values()]:
        waiting_for.setdefault(made["approvers"][0]["approver_id"], set()).add(made["approval_id"])
    for role in ACTIVE_ROLES:
        assert listed_ids(s.run("list_my_leave", {}, role)["requests"], "request_id") == {leave[role]["request_id"]}, role
        assert listed_ids(s.run("list_my_expenses", {}, role)["claims"], "claim_id") == {claims[role]["claim_id"]}, role
        assert listed_ids(s.run("list_my_tickets", {}, role)["tickets"], "ticket_id") == {tickets[role]["ticket_id"]}, role
        pending = s.run("list_pending_approvals", {}, role)["approvals"]
        assert listed_ids(pending, "approval_id") == waiting_for.get(s.actor(role), set()), role
        assert all(approval["requester"] != s.company.email(role) for approval in pending), role
    assert waiting_for[s.actor("manager")] == {leave["requester"]["approval_id"], claims["requester"]["approval_id"],
                                               leave["colleague"]["approval_id"], claims["colleague"]["approval_id"]}


def test_any_holder_of_a_step_role_may_decide_but_never_their_own_request(container: Container) -> None:
    """HR, finance and IT steps are open to every holder of the role, except the requester."""
    s = new_scenario(container)
    with transaction(container.session_factory) as session:
        second = {role: add_employee(session, f"{role.value}.two@example.com", roles=(role,)).id
                  for role in (Role.HR, Role.FINANCE, Role.IT)}
    for prepare, role in ((approve_hr_step, Role.HR), (approve_finance_step, Role.FINANCE), (approve_it_step, Role.IT)):
        args = prepare(s)
        data = container.pipeline.run("decide_approval", args, actor_id=second[role], now=NOW).data
        assert data["status"] == "approved", role
    # The IT person's own access request goes to the other IT holder; they cannot approve it themselves.
    own = s.run("request_system_access", ACCESS_REQUEST, "it")
    assert own["approvers"][0]["approver_id"] == second[Role.IT]
    before = database_snapshot(container)
    with pytest.raises(ToolError) as refused:
        approve(s, own["approval_id"], "it")
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert database_snapshot(container) == before
