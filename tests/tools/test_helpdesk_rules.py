"""Helpdesk rules: SLAs by priority, hand-overs to HR that only HR (not IT) can read, and clean stored text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assistant.container import Container
from tests.builders import make_company, run
from tests.conftest import NOW
from tools.errors import ErrorCode, ToolError



def test_sla_follows_priority(container: Container) -> None:
    company = make_company(container)
    urgent = run(container, "create_ticket", {"summary": "VPN down for everyone", "priority": "urgent"}, company.requester)
    low = run(container, "create_ticket", {"summary": "New mouse please", "priority": "low"}, company.requester)
    for ticket, hours in ((urgent, 4), (low, 72)):
        opened = datetime.fromisoformat(ticket["created_at"])
        assert (datetime.fromisoformat(ticket["sla_due_at"]) - opened).total_seconds() == hours * 3600


def test_hand_over_to_hr_is_visible_to_hr_but_not_it(container: Container) -> None:
    company = make_company(container)
    ticket = run(container, "request_human_handoff", {"summary": "question about my contract", "team": "hr"}, company.requester)
    assert ticket["queue"] == "hr" and ticket["summary"].startswith("HR hand-over")
    assert run(container, "get_ticket", {"ticket_id": ticket["ticket_id"]}, company.hr)["ticket_id"] == ticket["ticket_id"]
    with pytest.raises(ToolError) as refused:
        run(container, "get_ticket", {"ticket_id": ticket["ticket_id"]}, company.it)
    assert refused.value.code == ErrorCode.FORBIDDEN
    it_ticket = run(container, "request_human_handoff", {"summary": "my laptop will not boot", "team": "it"}, company.requester)
    assert run(container, "get_ticket", {"ticket_id": it_ticket["ticket_id"]}, company.it)["queue"] == "it"


def test_one_pending_access_request_per_system_and_person(container: Container) -> None:
    company = make_company(container)
    first = run(container, "request_system_access", {"system": "GitHub", "justification": "code review"}, company.requester)
    preview = run(container, "preview_system_access", {"system": "Jira", "justification": "sprint planning"}, company.requester)
    assert [step["approver_id"] for step in preview["approvers"]] == [company.it]
    for tool in ("preview_system_access", "request_system_access"):
        with pytest.raises(ToolError) as refused:
            run(container, tool, {"system": " github ", "justification": "again"}, company.requester)
        assert refused.value.code is ErrorCode.CONFLICT and f"#{first['ticket_id']}" in refused.value.message
    # Someone else may ask for the same system, and once IT has decided the requester may ask again.
    run(container, "request_system_access", {"system": "GitHub", "justification": "reviews"}, company.colleague)
    run(container, "decide_approval", {"approval_id": first["approval_id"], "decision": "deny", "reason": "use the read-only mirror"},
        company.it)
    assert run(container, "request_system_access", {"system": "GitHub", "justification": "now for real"}, company.requester)["status"] == "pending"


def test_control_characters_never_reach_a_record(container: Container) -> None:
    company = make_company(container)
    data = run(container, "create_ticket", {"summary": "\x1b[2J\x1b[31mPrinter\x07 jams\x1b[0m",
                                            "description": "Line one\r\nline two\twith a tab"}, company.requester)
    shown = run(container, "get_ticket", {"ticket_id": data["ticket_id"]}, company.requester)
    assert shown["summary"] == "Printer jams" and shown["description"] == "Line one\nline two\twith a tab"


def test_it_works_its_queue_due_first_and_the_requester_sees_the_result(container: Container) -> None:
    company = make_company(container)
    low = run(container, "create_ticket", {"summary": "New mouse please", "priority": "low"}, company.requester)
    urgent = run(container, "create_ticket", {"summary": "VPN down for everyone", "priority": "urgent"}, company.colleague)
    run(container, "request_human_handoff", {"summary": "question about my contract", "team": "hr"}, company.requester)
    queue = run(container, "list_ticket_queue", {}, company.it)["tickets"]
    assert [row["ticket_id"] for row in queue] == [urgent["ticket_id"], low["ticket_id"]]  # due first first; no HR case
    assert queue[0]["requester"] == "colleague@example.com" and queue[0]["assignee"] is None
    taken = run(container, "update_ticket", {"ticket_id": urgent["ticket_id"], "take": True}, company.it)
    assert taken["status"] == "open" and taken["changes"] == {"assignee": "it@example.com", "status": "new -> open"}
    done = run(container, "update_ticket", {"ticket_id": urgent["ticket_id"], "status": "resolved",
                                            "note": "Restarted the VPN gateway."}, company.it)
    assert done["changes"] == {"status": "open -> resolved"}
    seen = run(container, "get_ticket", {"ticket_id": urgent["ticket_id"]}, company.colleague)
    assert seen["status"] == "resolved" and seen["comments"][-1]["body"] == "Restarted the VPN gateway."
    assert [row["ticket_id"] for row in run(container, "list_ticket_queue", {}, company.it)["tickets"]] == [low["ticket_id"]]
    assert len(run(container, "list_ticket_queue", {"include_done": True}, company.it)["tickets"]) == 2


def test_a_ticket_moves_only_where_it_can(container: Container) -> None:
    company = make_company(container)
    ticket = run(container, "create_ticket", {"summary": "Printer jammed"}, company.requester)["ticket_id"]
    for args, code in (({}, ErrorCode.INVALID_INPUT), ({"status": "new"}, ErrorCode.INVALID_INPUT)):
        with pytest.raises(ToolError) as refused:  # nothing to change, or back to new
            run(container, "update_ticket", {"ticket_id": ticket, **args}, company.it)
        assert refused.value.code == code
    with pytest.raises(ToolError) as refused:  # the requester may close it, not work it
        run(container, "update_ticket", {"ticket_id": ticket, "status": "resolved"}, company.requester)
    assert refused.value.code == ErrorCode.FORBIDDEN
    assert run(container, "update_ticket", {"ticket_id": ticket, "status": "closed", "note": "Fixed it myself."},
               company.requester)["status"] == "closed"
    with pytest.raises(ToolError, match="closed; open a new one"):  # closed is final
        run(container, "update_ticket", {"ticket_id": ticket, "status": "open"}, company.it)
    access = run(container, "request_system_access", {"system": "GitHub", "justification": "code review"}, company.requester)
    with pytest.raises(ToolError, match="waiting for its approval"):  # an access request moves by its approval only
        run(container, "update_ticket", {"ticket_id": access["ticket_id"], "status": "resolved"}, company.it)


def test_the_due_time_is_told_in_the_requesters_own_time_zone(container: Container) -> None:
    from tests.builders import add_employee
    from tools.db import transaction

    company = make_company(container)
    with transaction(container.session_factory) as session:
        londoner = add_employee(session, "londoner@example.com", country="GB")
        londoner.timezone = "Europe/London"
        delhi = add_employee(session, "delhi@example.com", country="IN")
        delhi.timezone = "Asia/Kolkata"
        ids = londoner.id, delhi.id
    results = [container.pipeline.run("create_ticket", {"summary": "VPN down", "priority": "urgent"}, actor_id=person, now=NOW)
               for person in (*ids, company.requester)]
    told = [result.message for result in results]
    assert told[0].endswith(" GMT.") and told[1].endswith(" IST.") and told[2].endswith(" UTC.")  # no zone set: UTC
    due = datetime.fromisoformat(results[1].data["sla_due_at"])
    assert f"{due.astimezone(ZoneInfo('Asia/Kolkata')):%Y-%m-%d %H:%M} IST" in told[1]


def test_a_note_alone_is_a_comment_and_taking_over_names_who_had_it(container: Container) -> None:
    company = make_company(container)
    ticket = run(container, "create_ticket", {"summary": "Printer jammed"}, company.requester)["ticket_id"]
    noted = run(container, "update_ticket", {"ticket_id": ticket, "note": "It's the one on floor 2."}, company.requester)
    assert noted["changes"] == {} and noted["status"] == "new"
    run(container, "update_ticket", {"ticket_id": ticket, "take": True}, company.it)
    taken = run(container, "update_ticket", {"ticket_id": ticket, "take": True}, company.admin)
    assert taken["changes"] == {"assignee": "it@example.com -> admin@example.com"}
    assert [c["body"] for c in run(container, "get_ticket", {"ticket_id": ticket}, company.it)["comments"]] == \
        ["It's the one on floor 2."]
