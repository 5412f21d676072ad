"""Events over HTTP: signatures, Slack's retries, double clicks, unknown people, threads, bots and Slack's own payloads."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.assistant.slack.conftest import RunningApp, dm_event, leave_card, wait_for
from tests.assistant.slack.test_approval_flow import approvals, click, leave_requests
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.messaging.models import HandledEvent
from tools.people.models import Employee

PAYLOADS = Path(__file__).parent / "payloads"  # Slack's own request bodies (see payloads/NOTICE)


def audit_count(app: RunningApp) -> int:
    with transaction(app.container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def handled(app: RunningApp) -> int:
    with transaction(app.container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(HandledEvent)) or 0)


def settle() -> None:
    time.sleep(0.4)  # listeners run after the ack; give a wrong second effect the time to show


@pytest.mark.parametrize("problem", ["bad signature", "missing signature", "old timestamp"])
def test_unsigned_or_stale_requests_get_401_and_change_nothing(slack_app: RunningApp, problem: str) -> None:
    payload = dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvBad")
    options = {"bad signature": {"signature": "v0=" + "0" * 64}, "missing signature": {"sign": False},
               "old timestamp": {"timestamp": int(time.time()) - 6 * 60}}[problem]
    before = audit_count(slack_app)
    status, _ = slack_app.event(payload, **options)
    assert status == 401
    settle()
    assert slack_app.slack.effects() == [] and handled(slack_app) == 0 and audit_count(slack_app) == before


@pytest.mark.parametrize(("body", "headers"), [
    (b"{not json", {}), (b"[1]", {}), (b"payload=%7Bbroken", {}), (b"\xff\xfe", {}),  # bodies bolt cannot even read
    (b'{"type": "event_callback"}', {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}),  # odd headers
    (b'{"type": "event_callback"}', {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=00"}),
    (b'{"type": "event_callback"}', {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}),
], ids=["broken-json", "json-list", "broken-form", "not-utf8", "word-timestamp", "huge-timestamp", "empty-headers"])
def test_requests_not_from_slack_get_401_whatever_they_hold(slack_app: RunningApp, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(f"{slack_app.url}/slack/events", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert slack_app.slack.effects() == [] and handled(slack_app) == 0


def test_a_signed_body_that_cannot_be_read_gets_400_not_500(slack_app: RunningApp) -> None:
    assert slack_app.post(b"{not json", "application/json")[0] == 400
    assert slack_app.post(b"payload=%7Bbroken", "application/x-www-form-urlencoded")[0] == 400


def test_slacks_rate_limit_notice_gets_200(slack_app: RunningApp) -> None:
    notice = {"token": "t", "type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1518467820, "api_app_id": "A1"}
    assert slack_app.event(notice)[0] == 200


def test_a_retried_event_has_exactly_one_effect(slack_app: RunningApp) -> None:
    slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvRetry", ts="2.1"))
    wait_for(lambda: slack_app.slack.of("chat.update"))
    for retry in (1, 2, 3):
        assert slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvRetry", ts="2.1"), retry=retry)[0] == 200
    slack_app.event(dm_event("UREQ", "yes", "EvYes", ts="2.2"))
    wait_for(lambda: leave_requests(slack_app))
    for retry in (1, 2, 3):
        slack_app.event(dm_event("UREQ", "yes", "EvYes", ts="2.2"), retry=retry)
    settle()
    assert len(leave_requests(slack_app)) == 1 and len(approvals(slack_app)) == 1
    placeholders = [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "DUREQ"]
    assert len(placeholders) == 2  # one answer per distinct message, none for the six retries


def test_approve_clicked_twice_decides_once(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "3")
    click(slack_app, card.args, "approval_approve", "UMGR")
    click(slack_app, card.args, "approval_approve", "UMGR")
    wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    wait_for(lambda: [c for c in slack_app.slack.of("chat.update") if c.args.get("text", "").startswith("Approval #")])
    settle()  # then give a wrong second effect the time to show
    assert [a.status for a in approvals(slack_app)] == ["approved"]
    told = [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"]
    assert len(told) == 1 and "already" in slack_app.slack.of("chat.postEphemeral")[0].args["text"]
    assert len([c for c in slack_app.slack.of("chat.update") if c.args.get("text", "").startswith("Approval #")]) == 1


def test_the_requester_cannot_approve_their_own_card(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "4")
    click(slack_app, card.args, "approval_approve", "UREQ")  # a forged click from the requester
    refusal = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    assert "own request" in refusal[0].args["text"] and [a.status for a in approvals(slack_app)] == ["pending"]


def test_deny_asks_for_a_reason_in_a_modal(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "5")
    click(slack_app, card.args, "approval_deny", "UMGR")
    modal = wait_for(lambda: slack_app.slack.of("views.open"))[0].args["view"]
    submission = {"type": "view_submission", "user": {"id": "UMGR"}, "team": {"id": "T111"}, "api_app_id": "A111",
                  "view": {**modal, "id": "V1", "state": {"values": {"reason": {"form_field": {"type": "plain_text_input", "value": ""}}}}}}
    status, body = slack_app.interaction(submission)
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    submission["view"]["state"]["values"]["reason"]["form_field"]["value"] = "Team offsite that week"
    assert slack_app.interaction(submission)[0] == 200
    told = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"])
    assert "was denied" in told[0].args["text"] and "offsite" in told[0].args["text"]
    assert [a.status for a in approvals(slack_app)] == ["rejected"] and leave_requests(slack_app)[0].status == "rejected"


def test_deny_on_a_decided_card_or_by_someone_else_says_why_instead_of_asking_a_reason(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "5b")
    click(slack_app, card.args, "approval_deny", "UREQ")  # the requester's own request
    refusal = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    assert "own request" in refusal[0].args["text"]
    click(slack_app, card.args, "approval_approve", "UMGR")
    wait_for(lambda: [a for a in approvals(slack_app) if a.status == "approved"])
    click(slack_app, card.args, "approval_deny", "UMGR")  # the card clicked again after the decision
    wait_for(lambda: len(slack_app.slack.of("chat.postEphemeral")) == 2)
    assert "already approved" in slack_app.slack.of("chat.postEphemeral")[1].args["text"]
    settle()
    assert slack_app.slack.of("views.open") == [] and [a.status for a in approvals(slack_app)] == ["approved"]


def test_an_unknown_person_gets_a_clear_answer(slack_app: RunningApp) -> None:
    slack_app.event(dm_event("UNOBODY", "I need Friday off", "EvU"))
    update = wait_for(lambda: slack_app.slack.of("chat.update"))
    assert "directory" in update[0].args["text"] and "error id" not in update[0].args["text"]


def test_a_person_is_found_by_email_once_and_remembered(slack_app: RunningApp) -> None:
    slack_app.event(dm_event("UREQ", "help", "EvH1", ts="6.1"))
    wait_for(lambda: slack_app.slack.of("chat.update"))
    slack_app.event(dm_event("UREQ", "help", "EvH2", ts="6.2"))
    wait_for(lambda: len(slack_app.slack.of("chat.update")) == 2)
    assert len(slack_app.slack.of("users.info")) == 1


def test_a_second_account_with_a_linked_persons_email_does_not_take_over(slack_app: RunningApp) -> None:
    slack_app.event(dm_event("UREQ", "help", "EvL1", ts="6.3"))  # the requester's own account, linked by email
    wait_for(lambda: slack_app.slack.of("chat.update"))
    slack_app.slack.emails["UREQ2"] = slack_app.company.email("requester")  # another account, same email
    slack_app.event(dm_event("UREQ2", "how many vacation days do I have left?", "EvL2", ts="6.4"))
    update = wait_for(lambda: [c for c in slack_app.slack.of("chat.update") if c.args.get("channel") == "DUREQ2"])
    assert "another Slack account" in update[0].args["text"] and "days available" not in update[0].args["text"]
    with transaction(slack_app.container.session_factory) as session:
        linked = session.scalar(select(Employee.slack_user_id).where(Employee.email == slack_app.company.email("requester")))
    assert linked == "UREQ"  # cards and notices still go to the account the directory names


def test_bots_and_edits_are_ignored(slack_app: RunningApp) -> None:
    bot = dm_event("UREQ", "I need Friday off", "EvBot")
    bot["event"]["bot_id"] = "BBOT"
    edited = dm_event("UREQ", "I need Friday off", "EvEdit")
    edited["event"]["subtype"] = "message_changed"
    assert slack_app.event(bot)[0] == 200 and slack_app.event(edited)[0] == 200
    settle()
    assert slack_app.slack.of("chat.postMessage") == []


def test_a_mention_is_answered_in_its_thread_and_followed_up(slack_app: RunningApp) -> None:
    mention = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
    mention["event"].update(user="UREQ", text="<@W111> how many vacation days do I have left?")
    slack_app.event(mention)
    update = wait_for(lambda: slack_app.slack.of("chat.update"))
    thread = mention["event"]["ts"]
    # a balance is the person's own business: shown to them alone in the thread, the public placeholder says so
    [private] = slack_app.slack.of("chat.postEphemeral")
    assert "25 days available" in private.args["text"] and private.args["user"] == "UREQ" and private.args["thread_ts"] == thread
    assert "25 days" not in update[0].args["text"] and "privately" in update[0].args["text"]
    assert slack_app.slack.of("chat.postMessage")[0].args["thread_ts"] == thread
    follow = dm_event("UREQ", "help", "EvFollow", channel="C111", ts="1595926240.000100")
    follow["event"].update(channel_type="channel", thread_ts=thread)
    slack_app.event(follow)
    wait_for(lambda: len(slack_app.slack.of("chat.update")) == 2)
    chatter = dm_event("UREQ", "lunch anyone?", "EvChatter", channel="C111", ts="1595926250.000100")
    chatter["event"].update(channel_type="channel")
    slack_app.event(chatter)
    settle()
    assert len(slack_app.slack.of("chat.update")) == 2  # a channel message outside the thread is not for the bot
    assert "25 days" not in slack_app.slack.of("chat.update")[1].args["text"]  # help is for everyone: answered in public


def test_a_bare_mention_is_answered_in_public_with_how_to_ask(slack_app: RunningApp) -> None:
    mention = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
    mention["event"].update(user="UREQ", text="<@W111>")
    slack_app.event(mention)
    [update] = wait_for(lambda: slack_app.slack.of("chat.update"))
    assert "didn't get any text" in update.args["text"] and not slack_app.slack.of("chat.postEphemeral")


def test_people_in_one_thread_each_have_their_own_conversation(slack_app: RunningApp) -> None:
    mention = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
    thread = mention["event"]["ts"]
    mention["event"].update(user="UREQ", text="<@W111> I need Dec 14 to Dec 18 off", channel="C111")
    slack_app.event(mention)
    wait_for(lambda: [c for c in slack_app.slack.of("chat.postEphemeral") if "working days" in c.args.get("text", "")])
    second = json.loads(json.dumps(mention))
    second["event_id"], second["event"]["ts"], second["event"]["thread_ts"] = "EvCol", "1595926300.000100", thread
    second["event"].update(user="UCOL", text="<@W111> what's the hotel budget per night?")
    slack_app.event(second)  # a colleague asks in the same thread ...
    wait_for(lambda: len(slack_app.slack.of("chat.update")) == 2)
    calls = len(slack_app.slack.calls)
    chatter = dm_event("UHR", "yes", "EvHr", channel="C111", ts="1595926320.000100")
    chatter["event"].update(channel_type="channel", thread_ts=thread)
    slack_app.event(chatter)  # ... someone who never spoke to the bot says "yes": not for the bot
    settle()
    assert len(slack_app.slack.calls) == calls
    yes = dm_event("UREQ", "yes", "EvYesReq", channel="C111", ts="1595926340.000100")
    yes["event"].update(channel_type="channel", thread_ts=thread)
    slack_app.event(yes)  # ... and the requester's yes still confirms their own request
    wait_for(lambda: leave_requests(slack_app))
    assert len(leave_requests(slack_app)) == 1


@pytest.mark.parametrize("name", ["event_callback.message_im.bolt_python.json", "event_callback.app_mention.bolt_python.json",
                                  "event_callback.message_channel.bolt_python.json"])
def test_slacks_own_payloads_never_crash(slack_app: RunningApp, name: str) -> None:
    payload = json.loads((PAYLOADS / name).read_text())
    assert slack_app.event(payload)[0] == 200
    settle()
    for call in slack_app.slack.of("chat.update"):
        assert "error id" not in call.args["text"]


def test_approving_from_the_ephemeral_list_replaces_it(slack_app: RunningApp) -> None:
    card = leave_card(slack_app, "9")
    button = next(e for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "approval_approve")
    payload = {"type": "block_actions", "user": {"id": "UMGR"}, "api_app_id": "A111", "team": {"id": "T111"},
               "trigger_id": "t", "channel": {"id": "C1"}, "response_url": slack_app.slack.response_url,
               "container": {"type": "message", "message_ts": "1", "channel_id": "C1", "is_ephemeral": True},
               "actions": [{"action_id": "approval_approve", "block_id": "b", "value": button["value"], "type": "button"}]}
    assert slack_app.interaction(payload)[0] == 200
    replaced = wait_for(lambda: slack_app.slack.responses())
    assert replaced[0].args.get("replace_original") in (True, "true") and "Approved" in replaced[0].args["text"]


@pytest.mark.parametrize("kind", ["app_mention", "app_home_opened"])
def test_every_event_listener_takes_an_event_once(slack_app: RunningApp, kind: str) -> None:
    if kind == "app_mention":
        payload = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
        payload["event"].update(user="UREQ", text="<@W111> help")
        method = "chat.postMessage"
    else:
        payload = dm_event("UREQ", "", "EvHome")
        payload["event"] = {"type": "app_home_opened", "user": "UREQ", "channel": "DUREQ", "tab": "home",
                            "event_ts": "1726133700.000200"}
        method = "views.publish"
    slack_app.event(payload)
    wait_for(lambda: slack_app.slack.of(method))
    for retry in (1, 2, 3):
        assert slack_app.event(payload, retry=retry)[0] == 200
    settle()
    assert len(slack_app.slack.of(method)) == 1


@pytest.mark.parametrize("name", ["slash_command.bolt_python.form.txt", "block_actions.button.bolt_python.form.txt",
                                  "view_submission.bolt_python.form.txt", "block_actions.button.bolt_python.json",
                                  "view_submission.bolt_python.json", "event_callback.message_file_share.bolt_python.json",
                                  "url_verification.bolt_python.json"])
def test_every_documented_payload_is_acknowledged(slack_app: RunningApp, name: str) -> None:
    raw = (PAYLOADS / name).read_bytes()
    if name.endswith(".form.txt"):
        status, body = slack_app.post(raw.strip(), "application/x-www-form-urlencoded")
    elif name.startswith(("block_actions", "view_submission")):
        from urllib.parse import urlencode

        status, body = slack_app.post(urlencode({"payload": raw.decode()}).encode(), "application/x-www-form-urlencoded")
    else:
        status, body = slack_app.post(raw, "application/json")
    assert status == 200, body
    if name.startswith("url_verification"):
        assert json.loads(raw)["challenge"] in body.decode()
    settle()
    for call in slack_app.slack.calls:
        assert "error id" not in str(call.args.get("text", ""))


def test_two_quick_messages_of_one_person_are_answered_one_after_the_other(slack_app: RunningApp) -> None:
    from assistant.slack.messages import CONVERSATION_TURNS

    with CONVERSATION_TURNS.turn("slack:DUREQ", "7.0"):  # an earlier message's turn is still running ...
        slack_app.event(dm_event("UREQ", "yes", "EvQ2", ts="7.2"))  # ... the "yes" arrives first ...
        slack_app.event(dm_event("UREQ", "I need Dec 14 to Dec 18 off", "EvQ1", ts="7.1"))  # ... then the request
        settle()
        assert not slack_app.slack.of("chat.postMessage")  # both wait their turn
    wait_for(lambda: leave_requests(slack_app))  # in the order sent: the request, then its yes
    wait_for(lambda: CONVERSATION_TURNS._waiting == {})  # noqa: SLF001 - nothing left behind once nobody waits


def test_slacks_ssl_check_gets_200_and_does_nothing(slack_app: RunningApp) -> None:
    request = urllib.request.Request(f"{slack_app.url}/slack/events", data=b"ssl_check=1&token=abc", method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert slack_app.slack.effects() == []


def test_a_private_answer_nobody_can_receive_leaves_no_placeholder_and_no_answer_in_public(slack_app: RunningApp) -> None:
    slack_app.slack.failing.update({"chat.postEphemeral"})
    slack_app.slack.rate_limited["chat.postMessage:UREQ"] = 10  # the DM fallback fails too
    mention = json.loads((PAYLOADS / "event_callback.app_mention.bolt_python.json").read_text())
    mention["event"].update(user="UREQ", text="<@W111> how many vacation days do I have left?")
    slack_app.event(mention)
    update = wait_for(lambda: slack_app.slack.of("chat.update"))
    assert "direct message" in update[0].args["text"] and "days available" not in update[0].args["text"]


OTHER_INTERACTIONS = {
    "view_closed": {"type": "view_closed", "user": {"id": "UREQ", "team_id": "T111"}, "team": {"id": "T111"}, "is_cleared": False,
                    "view": {"id": "V1", "callback_id": "leave_form", "type": "modal", "state": {"values": {}}, "private_metadata": ""}},
    "shortcut": {"type": "shortcut", "callback_id": "some_shortcut", "trigger_id": "1.2.abc", "user": {"id": "UREQ", "team_id": "T111"},
                 "team": {"id": "T111"}, "action_ts": "1726133700.000300"},
    "message_action": {"type": "message_action", "callback_id": "some_action", "trigger_id": "1.2.abc", "user": {"id": "UREQ"},
                       "team": {"id": "T111"}, "channel": {"id": "C1"}, "message_ts": "1726133700.000100",
                       "message": {"type": "message", "text": "hi", "ts": "1726133700.000100"}},
    "block_suggestion": {"type": "block_suggestion", "user": {"id": "UREQ"}, "team": {"id": "T111"}, "action_id": "pick",
                         "block_id": "b", "value": "ab", "view": {"id": "V1", "callback_id": "leave_form"}},
    "block_actions": {"type": "block_actions", "user": {"id": "UREQ", "team_id": "T111"}, "team": {"id": "T111"}, "trigger_id": "1.2.a",
                      "actions": [{"action_id": "not_ours", "block_id": "b", "type": "button", "value": "1", "action_ts": "1.2"}],
                      "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"}, "channel": {"id": "C1"}},
}


@pytest.mark.parametrize("kind", list(OTHER_INTERACTIONS))
def test_interactions_the_app_does_not_use_get_200_and_do_nothing(slack_app: RunningApp, kind: str) -> None:
    before = audit_count(slack_app)
    status, _ = slack_app.interaction(OTHER_INTERACTIONS[kind])
    assert status == 200  # a 404 would show the person an error in Slack
    settle()
    assert audit_count(slack_app) == before
    assert not [call for call in slack_app.slack.calls if call.method.startswith(("chat.", "views."))]


@pytest.mark.parametrize(("kind", "fields"), [
    ("reaction_added", {"user": "UREQ", "reaction": "thumbsup", "item": {"type": "message", "channel": "C1", "ts": "1.2"}}),
    ("member_joined_channel", {"user": "UREQ", "channel": "C1", "channel_type": "C", "team": "T111"}),
    ("app_uninstalled", {}),
    ("tokens_revoked", {"tokens": {"oauth": [], "bot": ["UBOT"]}}),
    ("team_join", {"user": {"id": "UNEW"}}),
])
def test_events_the_app_does_not_use_get_200_and_do_nothing(slack_app: RunningApp, kind: str, fields: dict) -> None:
    payload = dm_event("UREQ", "", f"Ev{kind}")
    payload["event"] = {"type": kind, "event_ts": "1726133700.000400", **fields}
    before = audit_count(slack_app)
    assert slack_app.event(payload)[0] == 200
    settle()
    assert audit_count(slack_app) == before
    assert not [call for call in slack_app.slack.calls if call.method.startswith(("chat.", "views."))]
