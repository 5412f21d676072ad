"""When Slack's Web API fails or answers tersely, the person who wrote still gets their answer."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk import WebClient

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


def test_a_rate_limited_card_still_reaches_the_approver(slack_app: RunningApp) -> None:
    slack_app.slack.rate_limited["chat.postMessage:UMGR"] = 1  # Slack says "slow down" once, then takes it
    leave_card(slack_app, "8")
    wait_for(lambda: len([c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"]) == 2)
    time.sleep(0.3)
    assert not slack_app.slack.rate_limited["chat.postMessage:UMGR"]  # the second try, by the client itself, went out
    assert len([c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"]) == 2


def test_a_card_slack_keeps_refusing_for_now_goes_out_with_the_next_round(slack_app: RunningApp) -> None:
    from assistant.slack.cards import deliver_cards
    from assistant.slack.deps import SlackDeps

    slack_app.slack.rate_limited["chat.postMessage:UMGR"] = 3  # more than the client's two retries
    slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvRl1", ts="8.1"))
    wait_for(lambda: [c for c in slack_app.slack.of("chat.update") if "working days" in c.args.get("text", "")])
    slack_app.event(dm_event("UREQ", "yes", "EvRl2", ts="8.2"))
    wait_for(lambda: approvals(slack_app) and len(slack_app.slack.of("chat.postMessage")) >= 3 and
             not slack_app.slack.rate_limited["chat.postMessage:UMGR"])
    time.sleep(0.3)
    deps = SlackDeps(container=slack_app.container, engine=slack_app.container.offline_engine)
    client = WebClient(token="xoxb-test", base_url=slack_app.slack.base_url)
    assert deliver_cards(deps, client) == 1  # released after the failed round, so claimed and sent now
    assert deliver_cards(deps, client) == 0  # and only once


def test_an_answer_slack_will_not_take_never_says_nothing_changed(slack_app: RunningApp) -> None:
    slack_app.slack.failing.update({"chat.update"})
    slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvNc1", ts="9.1"))
    wait_for(lambda: answers_to(slack_app, "DUREQ"))
    slack_app.slack.failing.add("chat.postMessage")  # neither the placeholder nor the answer gets through
    slack_app.event(dm_event("UREQ", "yes", "EvNc2", ts="9.2"))
    wait_for(lambda: approvals(slack_app))
    time.sleep(0.5)
    assert not [c for c in slack_app.slack.calls if "Nothing was changed" in str(c.args.get("text", ""))]


def click_payload(value: object, *, actions: bool = True, user: bool = True) -> dict:
    payload = {"type": "block_actions", "api_app_id": "A111", "token": "verification_token", "team": {"id": "T111"},
               "trigger_id": "111.222.valid", "channel": {"id": "DUMGR"},
               "container": {"type": "message", "message_ts": "1", "channel_id": "DUMGR"},
               "actions": [{"action_id": "approval_approve", "block_id": "b", "value": value, "type": "button"}] if actions else []}
    if user:
        payload["user"] = {"id": "UMGR"}
    return payload


@pytest.mark.parametrize("payload", [
    click_payload("not json"), click_payload('["a list"]'), click_payload('{"approval_id": "2; drop"}'),
    click_payload('{"approval_id": 1}', user=False), click_payload('{"approval_id": 1}', actions=False),
], ids=["not-json", "a-list", "odd-id", "no-user", "no-actions"])
def test_a_signed_but_broken_click_is_acknowledged_at_once_and_explained(slack_app: RunningApp, payload: dict) -> None:
    started = time.perf_counter()
    assert slack_app.interaction(payload)[0] == 200  # no actions: nothing to route, acknowledged all the same
    assert time.perf_counter() - started < 2.0
    if payload.get("user") and payload["actions"]:
        told = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
        assert "doesn't work any more" in told[0].args["text"]
    time.sleep(0.3)
    assert not approvals(slack_app) and not [c for c in slack_app.slack.calls if "error id" in str(c.args.get("text", ""))]


def test_odd_events_are_acknowledged_and_left_alone(slack_app: RunningApp) -> None:
    as_string = dm_event("UREQ", "x", "EvStr")
    as_string["event"] = "not an object"
    assert slack_app.event(as_string)[0] == 200
    slackbot = dm_event("USLACKBOT", "You have a reminder", "EvSlackbot")
    userless = dm_event("UREQ", "system notice", "EvNoUser")
    del userless["event"]["user"]
    replied = dm_event("UREQ", "I need Friday off", "EvReplied")
    replied["event"]["subtype"] = "message_replied"
    for payload in (slackbot, userless, replied):
        assert slack_app.event(payload)[0] == 200
    time.sleep(0.5)
    assert slack_app.slack.of("chat.postMessage") == []


def test_a_number_as_the_text_is_still_answered(slack_app: RunningApp) -> None:
    numeric = dm_event("UREQ", "x", "EvNum")
    numeric["event"]["text"] = 42
    slack_app.event(numeric)
    assert wait_for(lambda: answers_to(slack_app, "DUREQ"))


def test_a_home_tab_slack_refuses_is_logged_not_sent_as_an_error(slack_app: RunningApp) -> None:
    slack_app.slack.failing.add("views.publish")
    opened = {"token": "verification_token", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
              "event_id": "EvHome", "event_time": 1, "event": {"type": "app_home_opened", "user": "UREQ", "channel": "DUREQ",
                                                                "tab": "home", "event_ts": "1.1"}}
    assert slack_app.event(opened)[0] == 200
    wait_for(lambda: slack_app.slack.of("views.publish"))
    time.sleep(0.4)
    assert slack_app.slack.of("chat.postMessage") == []


def test_a_slow_auth_test_at_start_up_does_not_hold_up_the_first_request(slack_app: RunningApp) -> None:
    from waitress.server import create_server

    from assistant.slack.app import build_app
    from assistant.slack.server import wsgi_application
    from tests.assistant.slack.conftest import run_until_closed

    slack_app.slack.slow["auth.test"] = 5.0
    app = build_app(slack_app.container, engine=slack_app.container.offline_engine)  # a fresh start: asks auth.test
    server = create_server(wsgi_application(app, lambda: True), host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=run_until_closed, args=(server,), daemon=True).start()
    try:
        restarted = RunningApp(f"http://127.0.0.1:{server.effective_port}", slack_app.slack, slack_app.container,
                               slack_app.company)
        started = time.monotonic()
        status, _ = restarted.command({"command": "/backoffice", "text": "help", "user_id": "UREQ", "channel_id": "DUREQ",
                                       "response_url": slack_app.slack.response_url, "trigger_id": "T1"})
        assert status == 200 and time.monotonic() - started < 2.0
    finally:
        server.close()
