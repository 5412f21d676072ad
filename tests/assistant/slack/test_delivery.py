"""Answers that Slack's first way does not take still reach the person, and never say nothing changed after a write."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.assistant.slack.conftest import RunningApp, leave_card, wait_for
from tests.assistant.slack.test_approval_flow import approvals, leave_requests
from tests.assistant.slack.test_commands import answered, command
from tests.assistant.slack.test_forms import working_week

DEAD_RESPONSE_URL = "http://127.0.0.1:1/commands/T111/1/response"  # nothing listens on port 1


def texts(app: RunningApp) -> list[str]:
    return [str(call.args.get("text", "")) for call in app.slack.calls]


def nothing_changed_claimed(app: RunningApp) -> bool:
    return any("Nothing was changed" in text for text in texts(app))


def ask_for_leave(app: RunningApp) -> None:
    """Ask for a working week off with /backoffice and wait for the read-back."""
    start, end = working_week()
    command(app, f"I need {start.isoformat()} to {end.isoformat()} off")
    assert "5 working days" in answered(app)[0]["text"]


def test_a_yes_whose_response_url_is_unreachable_is_answered_ephemerally(slack_app: RunningApp) -> None:
    ask_for_leave(slack_app)
    command(slack_app, "yes", response_url=DEAD_RESPONSE_URL)
    [posted] = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    [request] = leave_requests(slack_app)
    assert (posted.args["channel"], posted.args["user"]) == ("C111", "UREQ")
    assert f"#{request.id}" in posted.args["text"] and request.status == "pending"
    time.sleep(0.3)
    assert not nothing_changed_claimed(slack_app)


def test_a_yes_whose_response_url_answers_404_and_no_ephemeral_is_taken_arrives_by_dm(slack_app: RunningApp) -> None:
    ask_for_leave(slack_app)
    slack_app.slack.missing.add("response")  # an expired response_url: Slack answers 404
    slack_app.slack.failing.add("chat.postEphemeral")  # e.g. the bot is not in that channel
    command(slack_app, "yes")
    [dm] = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"])
    [request] = leave_requests(slack_app)
    assert f"#{request.id}" in dm.args["text"]
    time.sleep(0.3)
    assert not nothing_changed_claimed(slack_app)


def ephemeral_list_click(card: dict[str, Any], response_url: str) -> dict[str, Any]:
    """Return the manager's Approve click in the ephemeral /backoffice approvals list."""
    button = next(element for block in card["blocks"] if block["type"] == "actions" for element in block["elements"]
                  if element["action_id"] == "approval_approve")
    return {"type": "block_actions", "user": {"id": "UMGR"}, "api_app_id": "A111", "team": {"id": "T111"},
            "trigger_id": "t", "channel": {"id": "C1"}, "response_url": response_url,
            "container": {"type": "message", "message_ts": "1", "channel_id": "C1", "is_ephemeral": True},
            "actions": [{"action_id": "approval_approve", "block_id": "b", "value": button["value"], "type": "button"}]}


def test_approving_from_the_ephemeral_list_with_a_dead_response_url_tells_the_approver_another_way(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "31")
    assert slack_app.interaction(ephemeral_list_click(card.args, DEAD_RESPONSE_URL))[0] == 200
    [told] = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    assert (told.args["channel"], told.args["user"]) == ("C1", "UMGR") and "approved" in told.args["text"].lower()
    assert [a.status for a in approvals(slack_app)] == ["approved"]
    time.sleep(0.3)
    assert not nothing_changed_claimed(slack_app)


def test_a_failure_after_an_approval_says_it_went_through_not_that_nothing_changed(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "32")
    slack_app.slack.failing.add("views.publish")  # the Home cannot be refreshed after the decision
    value = next(e["value"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"])
    click = {"type": "block_actions", "user": {"id": "UMGR"}, "api_app_id": "A111", "team": {"id": "T111"},
             "trigger_id": "t", "container": {"type": "view", "view_id": "V1"}, "view": {"id": "V1", "type": "home"},
             "actions": [{"action_id": "approval_approve", "block_id": "b", "value": value, "type": "button"}]}
    assert slack_app.interaction(click)[0] == 200
    [told] = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if "error id" in c.args.get("text", "")])
    assert told.args["channel"] == "UMGR" and "went through" in told.args["text"]
    assert [a.status for a in approvals(slack_app)] == ["approved"] and not nothing_changed_claimed(slack_app)
    assert json.dumps(told.args).count("error id") == 1
