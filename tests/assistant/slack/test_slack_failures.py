"""When Slack's Web API fails or answers tersely, the person who wrote still gets their answer."""

from __future__ import annotations

import pytest

from tests.assistant.slack.conftest import RunningApp, dm_event, leave_card, wait_for
from tests.assistant.slack.test_approval_flow import approvals, click

QUESTION = "how many days of annual leave do I have left?"


def answers_to(app: RunningApp, channel: str) -> list[str]:
    """Texts of the messages posted or updated in a channel, other than the placeholder."""
    texts = [c.args.get("text", "") for c in app.slack.calls
             if c.method in ("chat.postMessage", "chat.update") and c.args.get("channel") == channel]
    return [text for text in texts if "Working on it" not in text]


def test_an_answer_whose_placeholder_cannot_be_updated_is_posted_anew(slack_app: RunningApp) -> None:
    slack_app.slack.failing.add("chat.update")
    slack_app.event(dm_event("UREQ", QUESTION, "EvUpd"))
    answer = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if "annual" in c.args.get("text", "").lower()])
    assert answer[0].args["channel"] == "DUREQ"


def test_an_answer_arrives_when_slack_returns_no_message_ts(slack_app: RunningApp) -> None:
    slack_app.slack.bare.add("chat.postMessage")
    slack_app.event(dm_event("UREQ", QUESTION, "EvBare"))
    assert "annual" in wait_for(lambda: answers_to(slack_app, "DUREQ"))[0].lower()
    assert not slack_app.slack.of("chat.update")  # nothing to update without a ts


@pytest.mark.parametrize("how", ["failing", "missing"])
def test_a_failing_auth_test_does_not_silence_the_bot(slack_app: RunningApp, how: str) -> None:
    getattr(slack_app.slack, how).add("auth.test")
    status, _ = slack_app.event(dm_event("UREQ", QUESTION, "EvAuth"))
    assert status == 200
    assert "annual" in wait_for(lambda: answers_to(slack_app, "DUREQ"))[0].lower()


def test_the_requester_is_told_even_when_the_card_cannot_be_closed(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "7")
    slack_app.slack.failing.add("chat.update")  # say the approver deleted the card's message
    click(slack_app, card.args, "approval_approve", "UMGR")
    told = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"])
    assert "was approved" in told[0].args["text"] and [a.status for a in approvals(slack_app)] == ["approved"]
