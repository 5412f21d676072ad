"""The main story end to end through the pipeline: request, approval, balance."""

from __future__ import annotations

from assistant.container import Container
from tests.builders import make_company
from tests.conftest import NOW


def _available(container: Container, actor_id: int, leave_type: str = "annual") -> float:
    data = container.pipeline.run("get_leave_balance", {}, actor_id=actor_id, now=NOW).data
    return next(row["available"] for row in data["balances"] if row["leave_type"] == leave_type)


def test_leave_request_approval_and_balance(container: Container) -> None:
    company = make_company(container)
    run = container.pipeline.run
    request = run("request_leave", {"start_date": "2026-12-21", "end_date": "2026-12-28"}, actor_id=company.requester, now=NOW)
    # 21-24 and 28 December: the weekend and Christmas Day (a US public holiday) do not count.
    assert request.data["status"] == "pending"
    assert request.data["working_days"] == 5
    assert request.data["approvers"][0]["approver_id"] == company.manager
    assert _available(container, company.requester) == 20  # pending days are reserved
    queue = run("list_pending_approvals", {}, actor_id=company.manager, now=NOW).data["approvals"]
    assert [a["approval_id"] for a in queue] == [request.data["approval_id"]]
    decision = run("decide_approval", {"approval_id": request.data["approval_id"], "decision": "approve"}, actor_id=company.manager, now=NOW)
    assert decision.data["status"] == "approved"
    listed = run("list_my_leave", {}, actor_id=company.requester, now=NOW).data["requests"]
    assert listed[0]["status"] == "approved"
    assert _available(container, company.requester) == 20
