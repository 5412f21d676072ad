"""Helpdesk rules: SLAs by priority, and hand-overs to HR that only HR (not IT) can read."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.container import Container
from tests.builders import make_company, run
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
