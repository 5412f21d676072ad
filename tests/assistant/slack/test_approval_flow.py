"""End to end over HTTP: a leave request from a DM, the approval card, the click, the requester's notification."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.assistant.slack.conftest import RunningApp, dm_event, wait_for
from tools.approvals.models import Approval
from tools.db import transaction
from tools.leave.models import LeaveRequest


def leave_requests(app: RunningApp) -> list[LeaveRequest]:
    with transaction(app.container.session_factory) as session:
        return list(session.scalars(select(LeaveRequest)))


def approvals(app: RunningApp) -> list[Approval]:
    with transaction(app.container.session_factory) as session:
        return list(session.scalars(select(Approval)))


def click(app: RunningApp, card: dict, action: str, user: str) -> tuple[int, bytes]:
    button = next(element for block in card["blocks"] if block["type"] == "actions" for element in block["elements"]
                  if element["action_id"] == action)
    payload = {"type": "block_actions", "user": {"id": user}, "api_app_id": "A111", "token": "verification_token",
               "team": {"id": "T111"}, "trigger_id": "111.222.valid", "channel": {"id": "DUMGR"},
               "container": {"type": "message", "message_ts": "1", "channel_id": "DUMGR"},
               "actions": [{"action_id": action, "block_id": "b", "value": button["value"], "type": "button"}]}
    return app.interaction(payload)


def test_leave_from_a_dm_through_the_card_to_the_requesters_notification(slack_app: RunningApp) -> None:
    app = slack_app
    status, _ = app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "Ev1", ts="1.1"))
    assert status == 200
    confirm = wait_for(lambda: [c for c in app.slack.of("chat.update") if "working days" in c.args.get("text", "")])
    assert "5 working days" in confirm[0].args["text"] and leave_requests(app) == []
    placeholder = app.slack.of("chat.postMessage")[0]
    assert placeholder.args["channel"] == "DUREQ" and confirm[0].args["channel"] == "DUREQ"  # the placeholder, updated

    app.event(dm_event("UREQ", "yes", "Ev2", ts="1.2"))
    card = wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])[0]
    [request] = leave_requests(app)
    [approval] = approvals(app)
    assert request.status == "pending" and approval.status == "pending"
    text = json.dumps(card.args["blocks"])
    assert "Working days" in text and "Approve" in text and "Deny" in text

    assert click(app, card.args, "approval_approve", "UMGR")[0] == 200
    told = wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"])
    assert "was approved" in told[0].args["text"]
    closed = [c for c in app.slack.of("chat.update") if c.args.get("text", "").startswith("Approval #")]
    assert len(closed) == 1 and closed[0].args["channel"] == "DMGR"  # the card, where it was posted to the manager
    assert "approval_approve" not in json.dumps(closed[0].args["blocks"]) and "Approved by Manager" in json.dumps(closed[0].args["blocks"])
    [request] = leave_requests(app)
    assert request.status == "approved" and approvals(app)[0].status == "approved"
