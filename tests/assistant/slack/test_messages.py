"""Which messages are a person talking to the assistant: subtypes, mentions without authorizations, DM threads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.assistant.slack.conftest import RunningApp, card_for, dm_event, wait_for
from tests.assistant.slack.test_approval_flow import leave_requests

PAYLOADS = Path(__file__).parent / "payloads"  # Slack's own request bodies (see payloads/NOTICE)
CHANNEL, ROOT = "C111", "1595926230.009600"


def settle() -> None:
    time.sleep(0.4)  # listeners run after the ack; give a wrong second effect the time to show


def calls_besides_auth(app: RunningApp) -> list[Any]:
    return [call for call in app.slack.calls if call.method != "auth.test"]  # the App learns its own ids once


def read_back(app: RunningApp) -> list[Any]:
    return [call for call in app.slack.calls
            if call.method in ("chat.update", "chat.postEphemeral") and "working days" in call.args.get("text", "")]


def mention_in_channel(app: RunningApp, text: str) -> None:
    """Mention the assistant in a channel as the requester (Slack's own app_mention payload) and wait for the answer."""
    mention = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
    mention["event"].update(user="UREQ", text=f"<@UBOT> {text}", channel=CHANNEL, ts=ROOT, event_ts=ROOT)
    app.event(mention)
    wait_for(lambda: app.slack.of("chat.update"))


def in_thread(text: str, event_id: str, ts: str, **fields: Any) -> dict[str, Any]:
    """Return the requester's message in the mention's thread, as message.channels sends it."""
    message = dm_event("UREQ", text, event_id, channel=CHANNEL, ts=ts)
    message["event"].update(channel_type="channel", thread_ts=ROOT, **fields)
    return message


def test_a_yes_also_sent_to_the_channel_confirms_the_request(slack_app: RunningApp) -> None:
    mention_in_channel(slack_app, "I need Dec 14 to Dec 18 off")
    assert read_back(slack_app) and leave_requests(slack_app) == []
    root = {"type": "message", "text": "<@UBOT> I need Dec 14 to Dec 18 off", "user": "UREQ", "ts": ROOT, "thread_ts": ROOT}
    slack_app.event(in_thread("yes", "EvBroadcast", "1595926240.000100", subtype="thread_broadcast", root=root))
    [request] = wait_for(lambda: leave_requests(slack_app))
    assert request.status == "pending" and card_for(slack_app, "UMGR")


@pytest.mark.parametrize("subtype", ["ekm_access_denied", "channel_join", "channel_topic", "pinned_item", "bot_message",
                                     "message_changed", "reminder_add", "some_future_subtype"])
def test_system_subtypes_are_acknowledged_and_ignored(slack_app: RunningApp, subtype: str) -> None:
    notice = dm_event("UREQ", "I need Friday off", f"Ev{subtype}")
    notice["event"]["subtype"] = subtype
    assert slack_app.event(notice)[0] == 200
    settle()
    assert calls_besides_auth(slack_app) == []


def test_a_me_message_is_answered(slack_app: RunningApp) -> None:
    me = dm_event("UREQ", "needs help", "EvMe")
    me["event"]["subtype"] = "me_message"
    slack_app.event(me)
    assert wait_for(lambda: slack_app.slack.of("chat.update"))


@pytest.mark.parametrize(("kind", "missing"), [("message", "user"), ("message", "channel"), ("app_mention", "user"),
                                               ("app_mention", "channel"), ("file_share", "user")])
def test_an_event_without_a_user_or_channel_calls_nobody(slack_app: RunningApp, kind: str, missing: str) -> None:
    payload = dm_event("UREQ", "<@UBOT> I need Friday off", f"Ev{kind}{missing}")
    if kind == "app_mention":
        payload["event"].update(type="app_mention", channel=CHANNEL)
    if kind == "file_share":
        payload["event"].update(subtype="file_share", files=[slack_app.slack.share_file("policy.md", b"# Policy")])
    del payload["event"][missing]
    assert slack_app.event(payload)[0] == 200
    settle()
    assert calls_besides_auth(slack_app) == []


@pytest.mark.parametrize("authorization", ["authed_users", "none"])
def test_a_mention_inside_a_followed_thread_is_answered_once_without_authorizations(slack_app: RunningApp,
                                                                                    authorization: str) -> None:
    mention_in_channel(slack_app, "help")
    answers = len(slack_app.slack.of("chat.update"))
    ts = "1595926250.000100"
    again = in_thread("<@UBOT> how many vacation days do I have left?", "EvCopyMessage", ts)
    del again["authorizations"]  # Slack's documented app_mention example and older apps carry none
    if authorization == "authed_users":
        again["authed_users"] = ["UBOT"]
    mention = json.loads(json.dumps(again))
    mention["event_id"] = "EvCopyMention"
    mention["event"]["type"] = "app_mention"
    del mention["event"]["channel_type"]
    slack_app.event(again)  # Slack sends both: message.channels ...
    slack_app.event(mention)  # ... and app_mention
    wait_for(lambda: len(slack_app.slack.of("chat.update")) > answers)
    settle()
    assert len(slack_app.slack.of("chat.update")) == answers + 1
    assert len([c for c in slack_app.slack.of("chat.postEphemeral") if "days available" in c.args.get("text", "")]) == 1


def test_a_yes_in_a_thread_under_the_read_back_of_a_dm_confirms_the_request(slack_app: RunningApp) -> None:
    slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvDmAsk", ts="1726133700.000100"))
    [read] = wait_for(lambda: read_back(slack_app))
    yes = dm_event("UREQ", "yes", "EvDmYes", ts="1726133760.000100")
    yes["event"]["thread_ts"] = read.args["ts"]  # "yes" as a reply in the thread under the assistant's read-back
    slack_app.event(yes)
    [request] = wait_for(lambda: leave_requests(slack_app))
    assert request.status == "pending"
    answer = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("thread_ts") == read.args["ts"]])
    assert answer[0].args["channel"] == "DUREQ"  # the answer goes into the thread the person wrote in
    assert card_for(slack_app, "UMGR")
