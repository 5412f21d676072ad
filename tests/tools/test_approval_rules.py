"""Who approves what: policy chains, two-step approvals, delegation, and the stored call's execution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from tests.builders import Company, add_employee, make_company, run, uploaded_receipt
from tests.conftest import NOW
from tools.approvals.models import Approval
from tools.approvals.policy import parse_policy
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.errors import ErrorCode, ToolError
from tools.leave.models import LeaveRequest
from tools.people.models import Role
from tools.people.service import get_employee



def approver_ids(data: dict) -> list[int]:
    return [step["approver_id"] for step in data["approvers"]]


def test_annual_leave_goes_to_the_manager(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    assert approver_ids(data) == [company.manager]


@pytest.mark.parametrize("leave_type", ["parental", "unpaid"])
def test_parental_and_unpaid_leave_go_to_manager_then_hr(container: Container, leave_type: str) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12", "leave_type": leave_type}, company.requester)
    assert approver_ids(data) == [company.manager, company.hr]


def test_more_than_ten_working_days_adds_hr(container: Container) -> None:
    company = make_company(container)
    eleven = run(container, "request_leave", {"start_date": "2027-02-01", "end_date": "2027-02-15"}, company.requester)
    assert eleven["working_days"] == 10  # 1-12 Feb is 10 days; 15 Feb is Presidents' Day in the US
    assert approver_ids(eleven) == [company.manager]
    longer = run(container, "request_leave", {"start_date": "2027-03-01", "end_date": "2027-03-15"}, company.requester)
    assert longer["working_days"] == 11
    assert approver_ids(longer) == [company.manager, company.hr]


def test_two_step_chain_executes_only_after_the_last_step(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12", "leave_type": "parental"}, company.requester)
    approval_id = data["approval_id"]
    step = container.pipeline.run("decide_approval", {"approval_id": approval_id, "decision": "approve"}, actor_id=company.manager, now=NOW)
    first = step.data
    assert first["status"] == "pending" and first["approver"] == "hr@example.com"
    with transaction(container.session_factory) as session:
        hr_name = get_employee(session, employee_id=company.hr).name
    assert step.message == f"Approved step 1 of 2; now waiting for {hr_name}."  # a name, not an address
    assert run(container, "get_leave_request", {"request_id": data["request_id"]}, company.requester)["status"] == "pending"
    with pytest.raises(ToolError) as refused:
        run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve"}, company.manager)
    assert refused.value.code == ErrorCode.FORBIDDEN
    hr_queue = run(container, "list_pending_approvals", {}, company.hr)["approvals"]
    assert [a["approval_id"] for a in hr_queue] == [approval_id]
    final = run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve"}, company.hr)
    assert final["status"] == "approved"
    assert run(container, "get_leave_request", {"request_id": data["request_id"]}, company.requester)["status"] == "approved"


def test_a_decision_for_a_step_already_decided_is_refused(container: Container) -> None:
    # An old card (step 1) clicked after the approval moved on must not decide step 2, whoever clicks it.
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12", "leave_type": "parental"}, company.requester)
    approval_id = data["approval_id"]
    run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve", "step": 1}, company.manager)
    with pytest.raises(ToolError, match="Step 1 of approval .* has already been decided") as refused:
        run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve", "step": 1}, company.hr)
    assert refused.value.code == ErrorCode.ALREADY_DECIDED
    assert run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve", "step": 2}, company.hr)["status"] == "approved"


def test_expenses_above_threshold_also_go_to_finance(container: Container) -> None:
    company = make_company(container)
    small = {"amount": "120.00", "currency": "USD", "category": "travel", "expense_date": "2026-11-20", "merchant": "Rail", "receipt_path": uploaded_receipt(container)}
    large = {**small, "amount": "900.00", "merchant": "Airline"}
    assert approver_ids(run(container, "submit_expense", small, company.requester)) == [company.manager]
    assert approver_ids(run(container, "submit_expense", large, company.requester)) == [company.manager, company.finance]


def test_system_access_goes_to_it(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_system_access", {"system": "GitHub", "justification": "code review"}, company.requester)
    assert approver_ids(data) == [company.it]
    assert data["status"] == "pending"
    done = run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "approve"}, company.it)
    assert done["outcome"]["status"] == "open"


def test_approver_on_leave_today_is_replaced_by_their_manager(container: Container) -> None:
    company = make_company(container)
    today = NOW.date()
    away = run(container, "request_leave", {"start_date": (today + timedelta(days=3)).isoformat(),
                                            "end_date": (today + timedelta(days=10)).isoformat()}, company.manager)
    run(container, "decide_approval", {"approval_id": away["approval_id"], "decision": "approve"}, company.ceo)
    later = NOW + timedelta(days=4)  # the manager is now away
    data = container.pipeline.run("request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"},
                                  actor_id=company.requester, now=later).data
    assert approver_ids(data) == [company.ceo]
    assert "on leave" in data["approvers"][0]["note"]
    with transaction(container.session_factory) as session:
        assert "on leave" in session.get(Approval, data["approval_id"]).chain[0]["note"]


def test_requester_without_manager_goes_to_hr(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11"}, company.ceo)
    assert approver_ids(data) == [company.hr]
    assert "no active manager" in data["approvers"][0]["note"]


def test_hr_requesting_parental_leave_is_approved_by_another_hr_person(container: Container) -> None:
    company = make_company(container)
    with transaction(container.session_factory) as session:
        second_hr = add_employee(session, "hr2@example.com", roles=(Role.HR,)).id
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12", "leave_type": "parental"}, company.hr)
    assert approver_ids(data) == [company.ceo, second_hr]


def test_approval_of_a_withdrawn_request_is_refused(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    run(container, "cancel_leave", {"request_id": data["request_id"]}, company.requester)
    with pytest.raises(ToolError) as refused:
        run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "approve"}, company.manager)
    assert refused.value.code == ErrorCode.ALREADY_DECIDED


def test_denial_releases_the_reserved_days_and_records_the_reason(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    denied = run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "deny", "reason": "release week"}, company.manager)
    assert denied["status"] == "rejected" and denied["reason"] == "release week"
    balance = run(container, "get_leave_balance", {}, company.requester)["balances"][0]
    assert balance["reserved"] == 0 and balance["available"] == 25
    with transaction(container.session_factory) as session:
        request = session.get(LeaveRequest, data["request_id"])
        assert request.status == "rejected" and request.note == "release week"


def test_stored_call_that_no_longer_passes_is_marked_failed(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    with transaction(container.session_factory) as session:
        session.get(LeaveRequest, data["request_id"]).status = "rejected"  # changed behind the approval's back
    result = run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "approve"}, company.manager)
    assert result["status"] == "failed" and "not pending" in result["outcome"]["error"]
    with transaction(container.session_factory) as session:
        failed = session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "request_leave.failed"))
        assert failed == 1


def test_policy_file_is_validated() -> None:
    with pytest.raises(ToolError) as bad_key:
        parse_policy('[[rules]]\nkind = "leave"\nchain = ["manager"]\nmystery = 1\n')
    assert bad_key.value.code == ErrorCode.CONFIGURATION and "mystery" in bad_key.value.message
    with pytest.raises(ToolError):
        parse_policy('[[rules]]\nkind = "leave"\nchain = ["manager", "hr", "finance"]\n')
    with pytest.raises(ToolError):
        parse_policy('[[rules]]\nkind = "leave"\nchain = ["boss"]\n')
    with pytest.raises(ToolError):
        parse_policy("not = [valid")
    # a mistake under [approvers] is a clear configuration error, never an internal fault
    for approvers, said in (('legal = "ceo@acme.test"', "'legal', which is no role"), ('HR = "hr@acme.test"', "'HR'"),
                            ('it = ["it1@acme.test"]', "must be one email address"), ('it = "not an email"', "one email")):
        with pytest.raises(ToolError) as refused:
            parse_policy(f"[approvers]\n{approvers}\n")
        assert refused.value.code == ErrorCode.CONFIGURATION and said in refused.value.message
    assert parse_policy('[approvers]\nhr = " HR1@Acme.test "\n').approvers == {"hr": "hr1@acme.test"}
    with pytest.raises(ToolError, match="whole number of hours"):
        parse_policy("[sla_hours]\nurgent = \"four\"\n")


def test_missing_rule_for_a_kind_refuses_without_writing(container: Container) -> None:
    company: Company = make_company(container)
    container.pipeline.policy = parse_policy('[[rules]]\nkind = "leave"\nchain = ["manager"]\n')
    with pytest.raises(ToolError) as refused:
        run(container, "request_system_access", {"system": "X", "justification": "y"}, company.requester)
    assert refused.value.code == ErrorCode.CONFIGURATION
    assert run(container, "list_my_tickets", {}, company.requester)["tickets"] == []


def test_sole_role_holder_is_approved_by_their_manager(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_system_access", {"system": "AWS", "justification": "on-call"}, company.it)
    assert approver_ids(data) == [company.ceo]
    assert "Nobody else holds the IT role" in data["approvers"][0]["note"]


def test_finance_cannot_record_the_payout_of_their_own_claim(container: Container) -> None:
    company = make_company(container)
    with transaction(container.session_factory) as session:
        second_finance = add_employee(session, "finance2@example.com", roles=(Role.FINANCE,)).id
    claim = run(container, "submit_expense", {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-20",
                                               "merchant": "Deli"}, company.finance)
    run(container, "decide_approval", {"approval_id": claim["approval_id"], "decision": "approve"}, company.ceo)
    for tool in ("preview_reimbursement", "mark_expense_reimbursed"):  # the check refuses before any read-back, too
        with pytest.raises(ToolError) as refused:
            run(container, tool, {"claim_id": claim["claim_id"]}, company.finance)
        assert refused.value.code == ErrorCode.FORBIDDEN
    preview = run(container, "preview_reimbursement", {"claim_id": claim["claim_id"]}, second_finance)
    assert preview["employee"] and preview["amount"] == "20.00" and preview["status"] == "approved"  # nothing changed yet
    assert run(container, "mark_expense_reimbursed", {"claim_id": claim["claim_id"]}, second_finance)["status"] == "reimbursed"
    with pytest.raises(ToolError):  # once paid out, it cannot be paid out again
        run(container, "preview_reimbursement", {"claim_id": claim["claim_id"]}, second_finance)
