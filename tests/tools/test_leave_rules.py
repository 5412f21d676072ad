"""Leave rules: working days, half days, holidays by country, cancellation and the ledger."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from assistant.container import Container
from tests.builders import add_employee, make_company, run
from tests.conftest import NOW
from tools.db import transaction
from tools.errors import ErrorCode, ToolError
from tools.leave.models import CompanyHoliday, LeaveAllocation, LeaveLedgerEntry, LeaveType
from tools.leave.service import cancel_leave_request, get_leave_request
from tools.people.models import Employee



def annual(container: Container, actor: int, year: int = 2027) -> dict:
    rows = run(container, "get_leave_balance", {"year": year}, actor)["balances"]
    return next(row for row in rows if row["leave_type"] == "annual")


def test_half_day_counts_half(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11", "half_day": "pm"}, company.requester)
    assert data["working_days"] == 0.5 and data["half_day"] == "pm"
    assert annual(container, company.requester)["reserved"] == 0.5


def test_country_public_holidays_are_not_working_days(container: Container) -> None:
    make_company(container)
    with transaction(container.session_factory) as session:
        german = add_employee(session, "de@example.com", country="DE").id
        american = add_employee(session, "us@example.com", country="US").id
    # 2027-10-03 is a Sunday; use 2026-12-25/26 week: 24-31 Dec 2026.
    de = run(container, "request_leave", {"start_date": "2026-12-21", "end_date": "2026-12-28"}, german)
    us = run(container, "request_leave", {"start_date": "2026-12-21", "end_date": "2026-12-28"}, american)
    assert us["working_days"] == 5  # Christmas Day is off in the US
    assert de["working_days"] == 5  # 25 Dec is off in Germany (26 Dec falls on a Saturday)
    easter = run(container, "request_leave", {"start_date": "2027-03-29", "end_date": "2027-04-02"}, german)
    assert easter["working_days"] == 4  # Good Friday (2 April 2027) is a German public holiday


def test_a_manager_reads_a_reports_balance_by_name_and_a_shared_first_name_is_asked_about(container: Container) -> None:
    company = make_company(container)
    with transaction(container.session_factory) as session:
        manager = session.get(Employee, company.manager)
        add_employee(session, "sam.lee@example.com", manager=manager)
        add_employee(session, "sam.ortiz@example.com", manager=manager)
    assert run(container, "get_leave_balance", {"employee_name": "sam  LEE"}, company.manager)["employee"] == "sam.lee@example.com"
    with pytest.raises(ToolError, match=r"Several people called Sam: Sam Lee \(sam.lee@example.com\), Sam Ortiz") as refused:
        run(container, "get_leave_balance", {"employee_name": "Sam"}, company.manager)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    with pytest.raises(ToolError, match="nobody called Sam among the people whose leave you can see") as refused:
        run(container, "get_leave_balance", {"employee_name": "Sam"}, company.other_manager)  # not their reports
    own = run(container, "get_leave_balance", {"employee_name": "requester"}, company.requester)  # one's own name is fine
    assert own["employee"] == "requester@example.com"


def test_who_is_off_shows_a_manager_their_reports_and_hr_everyone(container: Container) -> None:
    company = make_company(container)
    for actor in (company.requester, company.other_report):
        run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, actor)
    run(container, "request_leave", {"start_date": "2027-02-01", "end_date": "2027-02-02"}, company.colleague)
    december = {"start_date": "2026-12-01", "end_date": "2026-12-31"}
    seen = lambda actor, args=december: [(row["email"], row["start_date"], row["status"])  # noqa: E731
                                         for row in run(container, "list_team_leave", args, actor)["leave"]]
    assert seen(company.manager) == [("requester@example.com", "2026-12-14", "pending")]  # not the other team's
    assert seen(company.other_manager) == [("other.report@example.com", "2026-12-14", "pending")]
    assert {email for email, _, _ in seen(company.hr)} == {"requester@example.com", "other.report@example.com"}
    assert seen(company.manager, {"start_date": "2027-02-02", "end_date": "2027-02-02"}) == [
        ("colleague@example.com", "2027-02-01", "pending")]  # any overlap with the period counts
    with pytest.raises(ToolError, match="at most a year"):
        run(container, "list_team_leave", {"start_date": "2027-01-01", "end_date": "2028-06-01"}, company.manager)


def test_holidays_are_the_own_countrys_and_the_companys(container: Container) -> None:
    make_company(container)
    with transaction(container.session_factory) as session:
        german = add_employee(session, "de@example.com", country="DE").id
        american = add_employee(session, "us@example.com", country="US").id
        session.add(CompanyHoliday(day=date(2026, 12, 24), name="Winter break", country=None))
        session.add(CompanyHoliday(day=date(2026, 12, 28), name="Berlin office day", country="DE"))
    december = {"start_date": "2026-12-01", "end_date": "2026-12-31"}
    de = [(row["date"], row["name"], row["kind"]) for row in run(container, "list_holidays", december, german)["holidays"]]
    us = [(row["date"], row["kind"]) for row in run(container, "list_holidays", december, american)["holidays"]]
    assert ("2026-12-24", "Winter break", "company") in de and ("2026-12-28", "Berlin office day", "company") in de
    assert ("2026-12-26", "Second Day of Christmas", "public") in de
    assert us == [("2026-12-24", "company"), ("2026-12-25", "public")]  # neither Germany's days nor its office's
    soonest = run(container, "list_holidays", {"limit": 1}, american)  # from today (NOW), soonest first
    assert [row["date"] for row in soonest["holidays"]] == ["2026-12-24"] and soonest["more"]


@pytest.mark.parametrize(("args", "problem"), [
    ({"start_date": "2027-02-01", "end_date": "2027-01-01"}, "before the start date"),
    ({"start_date": "2027-01-01", "end_date": "2031-01-01"}, "at most three years"),
])
def test_holiday_list_refuses_a_bad_range(container: Container, args: dict, problem: str) -> None:
    company = make_company(container)
    with pytest.raises(ToolError, match=problem) as refused:
        run(container, "list_holidays", args, company.requester)
    assert refused.value.code is ErrorCode.INVALID_INPUT


def test_request_across_new_year_reserves_from_both_years(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2026-12-28", "end_date": "2027-01-05"}, company.requester)
    assert data["working_days"] == 6  # 28-31 Dec (4) + 4-5 Jan (2); 1 Jan is a holiday
    assert annual(container, company.requester, 2026)["reserved"] == 4
    assert annual(container, company.requester, 2027)["reserved"] == 2


def test_cancelling_approved_future_leave_restores_the_balance(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "approve"}, company.manager)
    assert annual(container, company.requester)["taken"] == 5
    cancelled = run(container, "cancel_leave", {"request_id": data["request_id"]}, company.requester)
    assert cancelled["status"] == "cancelled" and cancelled["previous_status"] == "approved"
    assert annual(container, company.requester) == {"leave_type": "annual", "allowance": 25, "taken": 0, "reserved": 0, "available": 25}


def test_leave_that_has_started_cannot_be_cancelled(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "approve"}, company.manager)
    with pytest.raises(ToolError) as refused:
        run(container, "cancel_leave", {"request_id": data["request_id"]}, company.requester, now=NOW + timedelta(days=46))
    assert refused.value.code == ErrorCode.CONFLICT and "already started" in refused.value.message


def test_cancelling_twice_is_refused(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11"}, company.requester)
    run(container, "cancel_leave", {"request_id": data["request_id"]}, company.requester)
    with pytest.raises(ToolError) as refused:
        run(container, "cancel_leave", {"request_id": data["request_id"]}, company.requester)
    assert refused.value.code == ErrorCode.CONFLICT


def test_pending_requests_reserve_days_so_nobody_overbooks(container: Container) -> None:
    company = make_company(container, annual_leave_days=Decimal("3"))
    run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    with pytest.raises(ToolError) as refused:
        run(container, "request_leave", {"start_date": "2027-01-20", "end_date": "2027-01-21"}, company.requester)
    assert refused.value.code == ErrorCode.INSUFFICIENT_BALANCE and "1 available" in refused.value.message


def test_leave_type_without_approval_is_approved_at_once(container: Container) -> None:
    company = make_company(container)
    with transaction(container.session_factory) as session:
        session.scalar(select(LeaveType).where(LeaveType.code == "sick")).requires_approval = False
    data = run(container, "request_leave", {"start_date": "2026-11-25", "end_date": "2026-11-26", "leave_type": "sick"}, company.requester)
    assert data["status"] == "approved" and "approval_id" not in data


def test_sick_leave_can_be_back_dated_but_annual_cannot(container: Container) -> None:
    company = make_company(container)
    sick = run(container, "request_leave", {"start_date": "2026-11-23", "end_date": "2026-11-24", "leave_type": "sick"}, company.requester)
    assert sick["working_days"] == 2
    with pytest.raises(ToolError):
        run(container, "request_leave", {"start_date": "2026-11-23", "end_date": "2026-11-24"}, company.colleague)


def test_ledger_explains_every_counter(container: Container) -> None:
    company = make_company(container)
    first = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    second = run(container, "request_leave", {"start_date": "2027-02-01", "end_date": "2027-02-02"}, company.requester)
    run(container, "decide_approval", {"approval_id": first["approval_id"], "decision": "approve"}, company.manager)
    run(container, "cancel_leave", {"request_id": second["request_id"]}, company.requester)
    with transaction(container.session_factory) as session:
        for allocation in session.scalars(select(LeaveAllocation)):
            entries = list(session.scalars(select(LeaveLedgerEntry).where(LeaveLedgerEntry.allocation_id == allocation.id)))
            total = {kind: sum((e.days for e in entries if e.kind == kind), Decimal(0)) for kind in ("reserve", "release", "take", "restore")}
            assert allocation.reserved == total["reserve"] - total["release"] - total["take"]
            assert allocation.taken == total["take"] - total["restore"]


def test_service_refuses_to_cancel_a_rejected_request(container: Container) -> None:
    company = make_company(container)
    data = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11"}, company.requester)
    run(container, "decide_approval", {"approval_id": data["approval_id"], "decision": "deny", "reason": "no"}, company.manager)
    with transaction(container.session_factory) as session, pytest.raises(ToolError):
        cancel_leave_request(session, request=get_leave_request(session, request_id=data["request_id"]), today=NOW.date())


def test_preview_computes_the_facts_and_writes_nothing(container: Container) -> None:
    company = make_company(container)
    preview = run(container, "preview_leave_request", {"start_date": "2027-01-11", "end_date": "2027-01-15"}, company.requester)
    assert preview["working_days"] == 5 and preview["balance_after"] == 20 and preview["request_id"] is None
    assert [step["approver_id"] for step in preview["approvers"]] == [company.manager]
    assert run(container, "list_my_leave", {}, company.requester)["requests"] == []
    assert annual(container, company.requester)["reserved"] == 0
    with pytest.raises(ToolError) as refused:
        run(container, "preview_leave_request", {"start_date": "2027-01-11", "end_date": "2027-03-31"}, company.requester)
    assert refused.value.code == ErrorCode.INSUFFICIENT_BALANCE


def test_a_new_hire_cannot_book_leave_before_their_first_day(container: Container) -> None:
    company = make_company(container)
    with transaction(container.session_factory) as session:
        session.get(Employee, company.requester).start_date = date(2027, 2, 1)
    with pytest.raises(ToolError, match="starts on 2027-02-01") as refused:
        run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert run(container, "request_leave", {"start_date": "2027-02-01", "end_date": "2027-02-02"}, company.requester)["working_days"] == 2


def test_a_morning_and_an_afternoon_off_on_the_same_day_do_not_overlap(container: Container) -> None:
    company = make_company(container)
    day = {"start_date": "2027-01-11", "end_date": "2027-01-11"}
    run(container, "request_leave", {**day, "half_day": "am"}, company.requester)
    assert run(container, "request_leave", {**day, "half_day": "pm"}, company.requester)["working_days"] == 0.5
    for clash in ({**day, "half_day": "am"}, day):  # the same half again, or the whole day, still overlaps
        with pytest.raises(ToolError, match="overlaps") as refused:
            run(container, "request_leave", clash, company.requester)
        assert "To move it, cancel request #" in str(refused.value)  # and says how to move it
    assert annual(container, company.requester)["reserved"] == 1
