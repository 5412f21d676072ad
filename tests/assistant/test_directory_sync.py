"""A re-imported people CSV carries through: new allowances reach this year's balance, and pending approvals follow
approvers who left, lost their role or stopped managing the requester."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.container import Container
from assistant.operations import import_people_file
from tests.builders import run
from tests.conftest import NOW
from tools.approvals.models import Approval
from tools.leave.models import LeaveRequest
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.errors import ToolError
from tools.messaging.service import create_approval_card, list_approvals_without_card
from tools.people.service import get_employee_by_email

HEADER = "email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days,timezone,active"
# The newer HR person is listed first: the longest-standing holder of a role, not the first row, is its approver.
PEOPLE = {
    "boss": "boss@example.com,Boss,,,Board,manager;admin,US,2010-01-04,30,,true",
    "hr.new": "hr.new@example.com,Hr New,,boss@example.com,People,hr,US,2022-05-02,25,,true",
    "hr.old": "hr.old@example.com,Hr Old,,boss@example.com,People,hr,US,2012-03-05,25,,true",
    "mgr": "mgr@example.com,Mgr,,boss@example.com,Sales,manager,US,2015-06-01,25,,true",
    "mgr2": "mgr2@example.com,Mgr Two,,boss@example.com,Sales,manager,US,2016-06-01,25,,true",
    "emp": "emp@example.com,Emp,,mgr@example.com,Sales,,US,2020-01-06,20,,true",
}
UNPAID = {"leave_type": "unpaid", "start_date": "2026-12-14", "end_date": "2026-12-14"}


def load(container: Container, tmp_path: Path, *, now: datetime = NOW, **changes: str):
    """Import the directory with some rows replaced (key -> whole row), as `backoffice people import` does."""
    rows = {**PEOPLE, **changes}
    path = tmp_path / f"people-{len(list(tmp_path.glob('people-*.csv')))}.csv"
    path.write_text("\n".join([HEADER, *rows.values()]) + "\n", encoding="utf-8")
    return import_people_file(container, path, now=now)


def person(container: Container, key: str) -> int:
    with transaction(container.session_factory) as session:
        return get_employee_by_email(session, email=f"{key}@example.com").id


def chain(container: Container, approval_id: int) -> list[str]:
    """Return the approvers of an approval's steps, as emails."""
    with transaction(container.session_factory) as session:
        return [step["approver"] for step in session.get(Approval, approval_id).chain]


def audit_actions(container: Container, action: str) -> list[dict]:
    with transaction(container.session_factory) as session:
        return [record.details for record in session.scalars(select(AuditRecord).where(AuditRecord.action == action))]


def decide(container: Container, approval_id: int, key: str) -> dict:
    return run(container, "decide_approval", {"approval_id": approval_id, "decision": "approve"}, person(container, key))


def test_an_hr_step_goes_to_the_longest_standing_holder_not_the_first_row(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    assert chain(container, approval) == ["mgr@example.com", "hr.old@example.com"]


def test_a_new_annual_leave_figure_reaches_this_years_balance(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    emp = person(container, "emp")
    run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-15"}, emp)  # reserves 2 days of 20
    run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-11"}, emp)  # and 2027's allocation
    report = load(container, tmp_path, emp=PEOPLE["emp"].replace(",20,", ",25,"))
    assert (report.updated, report.allowances_changed) == (1, 1)  # one person, however many years follow
    annual = run(container, "get_leave_balance", {}, emp)["balances"][0]
    assert (annual["allowance"], annual["reserved"], annual["available"]) == (25, 2, 23)
    assert audit_actions(container, "leave.allowance_changed") == [{"year": 2026, "leave_type": "annual", "allowance": 25},
                                                                   {"year": 2027, "leave_type": "annual", "allowance": 25}]


def test_an_allowance_below_the_days_already_booked_refuses_the_whole_file(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    emp = person(container, "emp")
    run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-16"}, emp)  # 3 days
    with pytest.raises(ToolError, match="line 7: annual_leave_days 2 is less than the 3 days emp@example.com already has taken or booked in 2026"):
        load(container, tmp_path, emp=PEOPLE["emp"].replace(",20,", ",2,"), mgr2=PEOPLE["mgr2"].replace("Mgr Two", "Renamed"))
    annual = run(container, "get_leave_balance", {}, emp)["balances"][0]
    assert annual["allowance"] == 20
    with transaction(container.session_factory) as session:
        assert get_employee_by_email(session, email="mgr2@example.com").name == "Mgr Two"  # the file is refused whole


def test_pending_steps_follow_a_new_manager_and_a_role_taken_away(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    report = load(container, tmp_path, emp=PEOPLE["emp"].replace("mgr@", "mgr2@"), **{"hr.old": PEOPLE["hr.old"].replace(",hr,", ",,")})
    assert chain(container, approval) == ["mgr2@example.com", "hr.new@example.com"]
    assert len(report.approvals_rerouted) == 2 and "is no longer Emp's manager" in report.approvals_rerouted[0]
    assert [(move["from"], move["to"]) for move in audit_actions(container, "approval.rerouted")] == [
        ("mgr@example.com", "mgr2@example.com"), ("hr.old@example.com", "hr.new@example.com")]
    with pytest.raises(ToolError, match="not waiting for your decision"):
        decide(container, approval, "mgr")
    decide(container, approval, "mgr2")
    with pytest.raises(ToolError, match="not waiting for your decision"):
        decide(container, approval, "hr.old")  # no longer HR: the step is not theirs, nor any HR holder's
    assert decide(container, approval, "hr.new")["status"] == "approved"


def test_a_manager_who_left_hands_the_step_to_hr_once_and_the_new_approver_gets_a_card(container: Container,
                                                                                      tmp_path: Path) -> None:
    load(container, tmp_path)
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    with transaction(container.session_factory) as session:
        assert create_approval_card(session, approval_id=approval, step=0, now=NOW) is not None  # mgr's card is out
        assert list_approvals_without_card(session) == []
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",true", ",false"))
    # no active manager: HR decides, and the HR step after it goes to another HR holder, so two people still decide
    assert chain(container, approval) == ["hr.old@example.com", "hr.new@example.com"]
    with transaction(container.session_factory) as session:
        assert [waiting.id for waiting in list_approvals_without_card(session)] == [approval]
    assert decide(container, approval, "hr.old")["status"] == "pending"
    assert decide(container, approval, "hr.new")["status"] == "approved"


def test_an_unchanged_directory_reroutes_nothing(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    report = load(container, tmp_path)
    assert (report.unchanged, report.allowances_changed, report.approvals_rerouted) == (len(PEOPLE), 0, ())
    assert chain(container, approval) == ["mgr@example.com", "hr.old@example.com"]


def test_a_stand_in_hr_step_follows_the_directory_too(container: Container, tmp_path: Path) -> None:
    # The boss has no manager: their leave goes to HR as a stand-in for the manager.
    load(container, tmp_path)
    approval = run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-14"},
                   person(container, "boss"))["approval_id"]
    assert chain(container, approval) == ["hr.old@example.com"]
    report = load(container, tmp_path, **{"hr.old": PEOPLE["hr.old"].replace(",hr,", ",,")})  # hr.old leaves HR
    assert chain(container, approval) == ["hr.new@example.com"] and len(report.approvals_rerouted) == 1
    with pytest.raises(ToolError, match="not waiting for your decision"):
        decide(container, approval, "hr.old")


def test_a_request_routed_to_hr_for_want_of_a_manager_goes_to_the_new_manager(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",true", ",false"))  # emp's manager is inactive: HR decides
    approval = run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-14"},
                   person(container, "emp"))["approval_id"]
    assert chain(container, approval) == ["hr.old@example.com"]
    load(container, tmp_path, emp=PEOPLE["emp"].replace("mgr@example.com", "mgr2@example.com"))  # a manager again
    assert chain(container, approval) == ["mgr2@example.com"]
    with pytest.raises(ToolError, match="not waiting for your decision"):
        decide(container, approval, "hr.old")


def test_a_manager_who_holds_the_second_steps_role_is_not_both_approvers(container: Container, tmp_path: Path) -> None:
    # mgr also holds HR: the HR step of emp's unpaid leave goes to another HR holder, so two people decide.
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",manager,", ",manager;hr,"))
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    assert chain(container, approval) == ["mgr@example.com", "hr.old@example.com"]


def test_one_person_deciding_two_roles_is_split_when_they_lose_one(container: Container, tmp_path: Path) -> None:
    # Only mgr holds HR (besides the requester's own chain): mgr decides both roles in one step.
    people = {key: row.replace(",hr,", ",,") for key, row in PEOPLE.items() if key.startswith("hr")}
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",manager,", ",manager;hr,"), **people)
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    assert chain(container, approval) == ["mgr@example.com"]
    # mgr loses HR and hr.new gains it: mgr keeps the manager's step, hr.new gets an HR step of its own
    load(container, tmp_path, **{**people, "hr.new": PEOPLE["hr.new"]})
    assert chain(container, approval) == ["mgr@example.com", "hr.new@example.com"]
    assert decide(container, approval, "mgr")["status"] == "pending"
    assert decide(container, approval, "hr.new")["status"] == "approved"


def test_someone_who_left_has_their_pending_leave_withdrawn_but_not_their_expenses(container: Container,
                                                                                  tmp_path: Path) -> None:
    load(container, tmp_path)
    emp = person(container, "emp")
    leave = run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-15"}, emp)
    claim = run(container, "submit_expense", {"amount": "20.00", "currency": "USD", "category": "meals",
                                              "expense_date": "2026-11-26", "merchant": "Cafe"}, emp)
    assert claim["status"] == "pending_approval"
    report = load(container, tmp_path, emp=PEOPLE["emp"].replace(",true", ",false"))
    assert len(report.requests_withdrawn) == 1 and f"approval #{leave['approval_id']}" in report.requests_withdrawn[0]
    with transaction(container.session_factory) as session:
        assert session.get(Approval, leave["approval_id"]).status == "cancelled"
        assert session.get(Approval, claim["approval_id"]).status == "pending"  # money they spent is still owed
        request = session.scalar(select(LeaveRequest).where(LeaveRequest.id == leave["request_id"]))
        assert request.status == "cancelled"
    assert [details["requester"] for details in audit_actions(container, "approval.withdrawn")] == ["emp@example.com"]
    with pytest.raises(ToolError, match="already cancelled"):
        decide(container, leave["approval_id"], "mgr")
    assert load(container, tmp_path, emp=PEOPLE["emp"].replace(",true", ",false")).requests_withdrawn == ()


def test_every_allowance_cut_below_booked_days_is_named_with_its_line_alongside_other_bad_rows(container: Container,
                                                                                            tmp_path: Path) -> None:
    load(container, tmp_path)
    for key in ("emp", "mgr2"):
        run(container, "request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}, person(container, key))
    with pytest.raises(ToolError) as refused:
        load(container, tmp_path, emp=PEOPLE["emp"].replace(",20,", ",3,"), mgr2=PEOPLE["mgr2"].replace(",25,", ",4,"),
             mgr=PEOPLE["mgr"].replace(",US,", ",ZZ,"))
    message = refused.value.message
    assert "line 7: annual_leave_days 3 is less than the 5 days emp@example.com" in message
    assert "line 6: annual_leave_days 4 is less than the 5 days mgr2@example.com" in message
    assert "line 5: unknown country" in message


def test_whoever_decided_an_earlier_step_cannot_decide_a_later_one(container: Container, tmp_path: Path) -> None:
    # mgr also holds HR; after mgr approves as manager, the HR step is hr.old's, and mgr's HR role does not reach it
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",manager,", ",manager;hr,"))
    approval = run(container, "request_leave", UNPAID, person(container, "emp"))["approval_id"]
    assert decide(container, approval, "mgr")["status"] == "pending"
    with pytest.raises(ToolError, match="You decided an earlier step"):
        decide(container, approval, "mgr")
    assert run(container, "list_pending_approvals", {}, person(container, "mgr"))["approvals"] == []
    # the HR step's approver leaves and the only other HR holder is mgr: the step is not handed to mgr
    report = load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",manager,", ",manager;hr,"),
                  **{"hr.old": PEOPLE["hr.old"].replace(",true", ",false"), "hr.new": PEOPLE["hr.new"].replace(",hr,", ",,")})
    assert chain(container, approval)[1] == "hr.old@example.com"
    stuck = [line for line in report.approvals_waiting if f"approval #{approval} step 2" in line]
    assert stuck and "Mgr decided an earlier step and nobody else holds the HR role" in stuck[0]
    assert not [line for line in report.approvals_rerouted if f"approval #{approval}" in line]


def test_a_step_whose_role_nobody_holds_is_refused_or_reported_never_skipped(container: Container, tmp_path: Path) -> None:
    load(container, tmp_path)
    emp = person(container, "emp")
    approval = run(container, "request_leave", UNPAID, emp)["approval_id"]  # manager, then HR
    assert chain(container, approval) == ["mgr@example.com", "hr.old@example.com"]
    nobody_in_hr = {key: PEOPLE[key].replace(",hr,", ",,") for key in ("hr.new", "hr.old")}
    report = load(container, tmp_path, **nobody_in_hr)
    # the pending HR step stays where it is, and the report says nobody can take it and why
    assert chain(container, approval) == ["mgr@example.com", "hr.old@example.com"]
    stuck = [line for line in report.approvals_waiting if f"approval #{approval} step 2" in line]
    assert stuck and "(with hr.old@example.com)" in stuck[0] and "Nobody holds the HR role" in stuck[0]
    assert report.approvals_rerouted == ()
    assert audit_actions(container, "approval.rerouted") == []  # nothing moved
    # a new request that needs HR is refused with the reason, and writes nothing
    with transaction(container.session_factory) as session:
        before = len(list(session.scalars(select(Approval))))
    with pytest.raises(ToolError, match="Nobody holds the HR role"):
        run(container, "request_leave", {**UNPAID, "start_date": "2026-12-15", "end_date": "2026-12-15"}, emp)
    with transaction(container.session_factory) as session:
        assert len(list(session.scalars(select(Approval)))) == before


def test_one_person_deciding_two_roles_is_told_on_the_step(container: Container, tmp_path: Path) -> None:
    people = {key: row.replace(",hr,", ",,") for key, row in PEOPLE.items() if key.startswith("hr")}
    load(container, tmp_path, mgr=PEOPLE["mgr"].replace(",manager,", ",manager;hr,"), **people)
    data = run(container, "request_leave", UNPAID, person(container, "emp"))
    assert [step["note"] for step in data["approvers"]] == ["Mgr also decides for HR: nobody else holds the role."]


def test_the_import_warns_of_what_keeps_the_approval_policy_from_working(container: Container, tmp_path: Path) -> None:
    from dataclasses import replace as replaced

    from tools.approvals.policy import load_policy

    policy = replaced(load_policy(None), approvers={"hr": "hr.old@example.com", "finance": "contoller@example.com",
                                                    "it": "mgr@example.com"})
    container.policy = policy
    report = load(container, tmp_path, **{"hr.old": PEOPLE["hr.old"].replace(",true", ",false")},
                  mgr=PEOPLE["mgr"].replace(",true", ",false"))
    warnings = "\n".join(report.warnings)
    assert "names hr.old@example.com as the HR approver, who is no longer active" in warnings
    assert "names contoller@example.com as the finance approver, but nobody has that email" in warnings  # a typo
    assert "names mgr@example.com as the IT approver, who is no longer active" in warnings
    assert "nobody active holds the finance role" in warnings and "nobody active holds the IT role" in warnings
    assert "1 active person reports to someone who has left" in warnings and "emp@example.com" in warnings
    container.policy = load_policy(None)  # nobody named; every role held; every manager active: nothing to warn of
    assert load(container, tmp_path, **{"fin": "fin@example.com,Fin,,boss@example.com,Finance,finance,US,2020-01-01,25,,true",
                                        "it": "it@example.com,It,,boss@example.com,IT,it,US,2020-01-01,25,,true"}).warnings == ()
