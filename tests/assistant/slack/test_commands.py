"""/backoffice over HTTP: acknowledged at once with an empty body, answered to the caller only, or with a modal."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from assistant.forms import FormField
from assistant.slack.ids import Action, Callback
from tests.assistant.slack.conftest import RunningApp, wait_for
from tests.assistant.slack.test_approval_flow import approvals, click, leave_requests
from tests.assistant.slack.test_forms import rows, working_week
from tools.helpdesk.models import Ticket


def command(app: RunningApp, text: str, user: str = "UREQ", **options: Any) -> tuple[int, bytes]:
    """Send /backoffice as Slack does (see shared/data/slack_payloads/slash_command.*); None drops a field."""
    fields: dict[str, str | None] = {
        "token": "verification_token", "team_id": "T111", "team_domain": "example", "channel_id": "C111",
        "channel_name": "random", "user_id": user, "user_name": "someone", "command": "/backoffice", "text": text,
        "api_app_id": "A111", "response_url": app.slack.response_url, "trigger_id": "111.222.valid"}
    signing = {key: options.pop(key) for key in ("signature", "sign") if key in options}
    fields.update(options)
    return app.command({key: value for key, value in fields.items() if value is not None}, **signing)


def answered(app: RunningApp, count: int = 1) -> list[dict[str, Any]]:
    """Wait for `count` answers on the response_url and return them (each checked to be ephemeral)."""
    answers = [call.args for call in wait_for(lambda: app.slack.responses() if len(app.slack.responses()) >= count else None)]
    assert all(answer["response_type"] == "ephemeral" for answer in answers)
    return answers


def run_as(app: RunningApp, who: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    actor = getattr(app.company, who)
    return app.container.pipeline.run(tool, args, actor_id=actor).data


def settle() -> None:
    time.sleep(0.4)  # listeners run after the ack; give a wrong second effect the time to show


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
def test_help_is_acknowledged_empty_and_answered_ephemerally(slack_app: RunningApp, text: str) -> None:
    status, body = command(slack_app, text)
    assert status == 200 and body == b""
    [answer] = answered(slack_app)
    assert "/backoffice leave" in answer["text"] and "/backoffice ask" in answer["text"]


def test_leave_opens_the_leave_modal(slack_app: RunningApp) -> None:
    assert command(slack_app, "leave")[0] == 200
    [opened] = wait_for(lambda: slack_app.slack.of("views.open"))
    view = opened.args["view"]
    assert opened.args["trigger_id"] == "111.222.valid" and view["callback_id"] == Callback.LEAVE_FORM.value
    blocks = {block.get("block_id"): block for block in view["blocks"] if block["type"] == "input"}
    assert list(blocks) == [FormField.START_DATE, FormField.END_DATE, FormField.LEAVE_TYPE, FormField.HALF_DAY]
    assert blocks[FormField.START_DATE]["element"]["type"] == "datepicker"
    assert [o["value"] for o in blocks[FormField.LEAVE_TYPE]["element"]["options"]] == ["annual", "sick", "parental", "unpaid"]
    assert all(block["element"]["action_id"] == Action.FORM_FIELD for block in blocks.values())
    settle()
    assert slack_app.slack.responses() == []


def test_expense_opens_the_expense_modal_with_the_catalog(slack_app: RunningApp) -> None:
    command(slack_app, "expense")
    view = wait_for(lambda: slack_app.slack.of("views.open"))[0].args["view"]
    blocks = {block.get("block_id"): block for block in view["blocks"] if block["type"] == "input"}
    assert view["callback_id"] == Callback.EXPENSE_FORM.value
    assert blocks[FormField.CURRENCY]["element"]["initial_value"] == "USD"
    assert "Meals (up to 150.00 USD)" in json.dumps(blocks[FormField.CATEGORY]["element"]["options"])
    assert blocks[FormField.RECEIPT]["element"]["type"] == "file_input" and blocks[FormField.RECEIPT]["optional"] is True
    assert blocks[FormField.EXPENSE_DATE]["element"]["type"] == "datepicker"


def test_ticket_opens_the_ticket_modal(slack_app: RunningApp) -> None:
    command(slack_app, "ticket")
    view = wait_for(lambda: slack_app.slack.of("views.open"))[0].args["view"]
    blocks = [block.get("block_id") for block in view["blocks"] if block["type"] == "input"]
    assert view["callback_id"] == Callback.TICKET_FORM.value
    assert blocks == [FormField.SUMMARY, FormField.DESCRIPTION, FormField.CATEGORY, FormField.PRIORITY]


def test_access_opens_the_access_request_modal(slack_app: RunningApp) -> None:
    command(slack_app, "access")
    view = wait_for(lambda: slack_app.slack.of("views.open"))[0].args["view"]
    blocks = [block.get("block_id") for block in view["blocks"] if block["type"] == "input"]
    assert view["callback_id"] == Callback.ACCESS_FORM.value
    assert blocks == [FormField.SYSTEM, FormField.ACCESS_LEVEL, FormField.JUSTIFICATION]


@pytest.mark.parametrize("text", ["leave balance", "balance", "Leave Balances"])
def test_leave_balance_answers_with_the_days_left(slack_app: RunningApp, text: str) -> None:
    command(slack_app, text)
    [answer] = answered(slack_app)
    assert "*Annual*: 25 available" in answer["text"] and "Your leave in" in answer["text"]


def test_ask_answers_from_the_policies_with_the_citation(slack_app: RunningApp, tmp_path: Any) -> None:
    policy = tmp_path / "travel.md"
    policy.write_text("# Travel\n\n## Hotels\n\nHotel stays are capped at USD 250 per night in most cities. "
                      "Book through the travel desk.\n", encoding="utf-8")
    slack_app.container.knowledge.base.add_file(policy, added_by="test")
    command(slack_app, "ask what is the hotel budget per night?")
    [answer] = answered(slack_app)
    assert "USD 250 per night" in answer["text"] and "Travel &gt; Hotels" in answer["text"]


def test_ask_about_holiday_dates_answers_from_the_calendar(slack_app: RunningApp) -> None:
    command(slack_app, "ask is Dec 25 a day off?")
    [answer] = answered(slack_app)
    assert "Yes: Fri 25 Dec 2026 is Christmas Day (a public holiday in US)." in answer["text"]


def test_ask_without_a_question_explains_itself(slack_app: RunningApp) -> None:
    command(slack_app, "ask")
    assert "Put your question after `ask`" in answered(slack_app)[0]["text"]


def test_approvals_lists_the_queue_with_buttons_that_decide(slack_app: RunningApp) -> None:
    start, end = working_week()
    created = run_as(slack_app, "requester", "request_leave", {"start_date": start.isoformat(), "end_date": end.isoformat()})
    command(slack_app, "approvals", user="UMGR")
    [answer] = answered(slack_app)
    buttons = [element for block in answer["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert {button["action_id"] for button in buttons} == {Action.APPROVE, Action.DENY}
    assert json.loads(buttons[0]["value"]) == {"approval_id": created["approval_id"], "step": 1}
    assert "Working days" in json.dumps(answer["blocks"])
    assert click(slack_app, {"blocks": answer["blocks"]}, Action.APPROVE.value, "UMGR")[0] == 200
    wait_for(lambda: approvals(slack_app)[0].status == "approved")
    assert leave_requests(slack_app)[0].status == "approved"


def test_approvals_with_an_empty_queue(slack_app: RunningApp) -> None:
    command(slack_app, "approvals")
    assert answered(slack_app)[0]["text"] == "Nothing is waiting for your decision."


def test_status_lists_open_leave_claims_and_tickets(slack_app: RunningApp) -> None:
    start, end = working_week()
    leave = run_as(slack_app, "requester", "request_leave", {"start_date": start.isoformat(), "end_date": end.isoformat()})
    ticket = run_as(slack_app, "requester", "create_ticket", {"summary": "Laptop fan is loud"})
    command(slack_app, "status")
    text = answered(slack_app)[0]["text"]
    assert f"#{leave['request_id']} annual {start} to {end} (5 working days): pending" in text
    assert f"#{ticket['ticket_id']} Laptop fan is loud (normal): new" in text and "No open expense claims." in text


def test_free_text_goes_to_the_conversation_and_a_yes_books_it(slack_app: RunningApp) -> None:
    start, end = working_week()
    command(slack_app, f"I need {start.isoformat()} to {end.isoformat()} off")
    [question] = answered(slack_app)
    assert "5 working days" in question["text"] and leave_requests(slack_app) == []
    command(slack_app, "yes")
    answered(slack_app, 2)
    wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])
    [request] = leave_requests(slack_app)
    assert request.status == "pending" and approvals(slack_app)[0].status == "pending"


def test_words_after_a_form_subcommand_are_a_message_not_a_form(slack_app: RunningApp) -> None:
    command(slack_app, "ticket my laptop will not start")
    answered(slack_app)
    assert slack_app.slack.of("views.open") == [] and rows(slack_app, Ticket) == []


@pytest.mark.parametrize("text", ["leave", "status", "approvals", "ask what is the hotel budget?", "I need Friday off"])
def test_an_unknown_person_gets_the_reason_and_nothing_happens(slack_app: RunningApp, text: str) -> None:
    assert command(slack_app, text, user="UNOBODY")[0] == 200
    [answer] = answered(slack_app)
    assert "company directory" in answer["text"]
    settle()
    assert slack_app.slack.of("views.open") == [] and leave_requests(slack_app) == []


def test_a_refusal_by_the_pipeline_is_the_answer(slack_app: RunningApp) -> None:
    slack_app.slack.emails["UINACT"] = "inactive@example.com"
    command(slack_app, "leave balance", user="UINACT")
    assert "not an active employee" in answered(slack_app)[0]["text"]


def test_a_bad_signature_on_a_command_gets_401_and_nothing_happens(slack_app: RunningApp) -> None:
    assert command(slack_app, "leave", signature="v0=" + "0" * 64)[0] == 401
    assert command(slack_app, "leave", sign=False)[0] == 401
    settle()
    assert slack_app.slack.effects() == []


def test_without_a_response_url_the_answer_is_posted_ephemerally(slack_app: RunningApp) -> None:
    command(slack_app, "help", response_url=None)
    [posted] = wait_for(lambda: slack_app.slack.of("chat.postEphemeral"))
    assert posted.args["channel"] == "C111" and posted.args["user"] == "UREQ" and "/backoffice leave" in posted.args["text"]


def test_a_form_that_cannot_be_opened_says_so(slack_app: RunningApp) -> None:
    command(slack_app, "leave", trigger_id=None)
    assert "run the command again" in answered(slack_app)[0]["text"]
    slack_app.slack.failing.add("views.open")
    command(slack_app, "ticket")
    assert "couldn't open the form" in answered(slack_app, 2)[1]["text"]
