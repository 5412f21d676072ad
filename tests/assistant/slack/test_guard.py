"""Malformed interactive payloads: acknowledged with a 200, nothing decided or written, and nobody told of an error."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from assistant.slack.ids import Action, Callback
from tests.assistant.slack.conftest import RunningApp, leave_card
from tests.assistant.slack.test_approval_flow import approvals, leave_requests
from tests.assistant.slack.test_forms import submission


def approve_click(card: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return the manager's Approve click on a card, with some fields replaced (None removes one)."""
    button = next(element for block in card["blocks"] if block["type"] == "actions" for element in block["elements"]
                  if element["action_id"] == Action.APPROVE)
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": "UMGR"}, "api_app_id": "A111", "token": "verification_token",
        "team": {"id": "T111"}, "trigger_id": "111.222.valid", "channel": {"id": "DUMGR"},
        "container": {"type": "message", "message_ts": "1", "channel_id": "DUMGR"},
        "actions": [{"action_id": Action.APPROVE.value, "block_id": "b", "value": button["value"], "type": "button"}]}
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def no_error_told(app: RunningApp) -> bool:
    texts = [str(call.args.get("text", "")) for call in app.slack.calls]
    return not [text for text in texts if "error id" in text or "Something went wrong" in text]


BROKEN_ACTIONS = {
    "action without action_id": [{"block_id": "b", "value": "{}", "type": "button"}],
    "numeric action_id": [{"action_id": 5, "block_id": "b", "value": "{}", "type": "button"}],
    "action not an object": ["approval_approve"],
    "actions a string": "approval_approve",
    "no actions": [],
}


@pytest.mark.parametrize("name", list(BROKEN_ACTIONS))
def test_a_click_without_a_readable_action_gets_200_and_decides_nothing(slack_app: RunningApp, name: str) -> None:
    card = leave_card(slack_app, "21")
    status, _ = slack_app.interaction(approve_click(card.args, actions=BROKEN_ACTIONS[name]))
    assert status == 200
    time.sleep(0.4)
    assert [a.status for a in approvals(slack_app)] == ["pending"] and no_error_told(slack_app)


@pytest.mark.parametrize(("field", "value"), [("channel", "DUMGR"), ("container", "message"), ("user", "UMGR")])
def test_a_click_with_odd_field_shapes_gets_200_and_no_error_message(slack_app: RunningApp, field: str, value: object) -> None:
    card = leave_card(slack_app, "22")
    assert slack_app.interaction(approve_click(card.args, **{field: value}))[0] == 200
    time.sleep(0.4)
    assert no_error_told(slack_app)


@pytest.mark.parametrize(("field", "value"), [("channel", "DUMGR"), ("container", 5), ("trigger_id", 5), ("user", "UMGR")])
def test_a_deny_click_with_odd_field_shapes_gets_200_and_no_error_message(slack_app: RunningApp, field: str,
                                                                         value: object) -> None:
    card = leave_card(slack_app, "23")
    click = approve_click(card.args, **{field: value})
    click["actions"][0]["action_id"] = Action.DENY.value
    assert slack_app.interaction(click)[0] == 200
    time.sleep(0.4)
    assert [a.status for a in approvals(slack_app)] == ["pending"] and no_error_told(slack_app)


def deny_reason_submission(state: object) -> dict[str, Any]:
    payload = submission(Callback.LEAVE_FORM, {}, user="UMGR")
    metadata = json.dumps({"approval_id": 1, "channel": None})
    payload["view"].update(callback_id=Callback.DENY_REASON.value, private_metadata=metadata, state=state)
    return payload


@pytest.mark.parametrize("state", [{}, {"values": None}, {"values": "reason"}, None, "state"])
def test_a_deny_reason_without_readable_values_asks_for_the_reason_and_denies_nothing(slack_app: RunningApp,
                                                                                   state: object) -> None:
    leave_card(slack_app, "24")
    status, body = slack_app.interaction(deny_reason_submission(state))
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    time.sleep(0.4)
    assert [a.status for a in approvals(slack_app)] == ["pending"] and no_error_told(slack_app)


@pytest.mark.parametrize(("field", "value"), [("user", "UREQ"), ("user", None), ("view", "leave_form"), ("view", None),
                                              ("view", ["leave_form"])])
@pytest.mark.parametrize("callback", [Callback.LEAVE_FORM, Callback.DENY_REASON])
def test_a_submission_with_odd_user_or_view_gets_200_and_writes_nothing(slack_app: RunningApp, callback: Callback, field: str,
                                                                        value: object) -> None:
    payload = submission(callback, {})
    if value is None:
        del payload[field]
    else:
        payload[field] = value
    assert slack_app.interaction(payload)[0] == 200
    time.sleep(0.4)
    assert leave_requests(slack_app) == [] and no_error_told(slack_app)
