"""The modals over HTTP: errors inside the modal (nothing written), or a closed modal, the result in a DM and the card."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.forms import FORMS, FormField
from assistant.slack.ids import Action, Callback
from tests.assistant.slack.conftest import RunningApp, wait_for
from tools.approvals.models import Approval
from tools.db import transaction
from tools.expenses.models import ExpenseClaim
from tools.helpdesk.models import Ticket
from tools.leave.calendar import working_days_by_year
from tools.leave.models import LeaveRequest

PDF = b"%PDF-1.4 a receipt"


def today() -> date:
    return datetime.now(timezone.utc).date()


def working_week() -> tuple[date, date]:
    """Return a Monday to Friday at least two weeks ahead with five working days (no US public holiday in it)."""
    monday = today() + timedelta(days=14)
    monday += timedelta(days=(7 - monday.weekday()) % 7)
    while sum(working_days_by_year("US", monday, monday + timedelta(days=4)).values()) != 5:
        monday += timedelta(days=7)
    return monday, monday + timedelta(days=4)


def rows(app: RunningApp, model: type) -> list[Any]:
    with transaction(app.container.session_factory) as session:
        return list(session.scalars(select(model)))


def count(app: RunningApp, model: type) -> int:
    with transaction(app.container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def element(value: object) -> dict[str, Any]:
    """Return a submitted element's state as Slack shapes it, from a plain test value."""
    if isinstance(value, date):
        return {"type": "datepicker", "selected_date": value.isoformat()}
    if isinstance(value, list):
        return {"type": "file_input", "files": value}
    if isinstance(value, tuple):  # ("select", value)
        return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value[1]}, "value": value[1]}
                if value[1] is not None else None}
    return {"type": "plain_text_input", "value": value}


def submission(callback: Callback, values: dict[FormField, object], user: str = "UREQ") -> dict[str, Any]:
    """Return a view_submission payload in Slack's shape (see shared/data/slack_payloads/view_submission.*)."""
    state = {block.value: {Action.FORM_FIELD.value: element(value)} for block, value in values.items()}
    return {"type": "view_submission", "team": {"id": "T111", "domain": "example"}, "api_app_id": "A111",
            "user": {"id": user, "username": "someone", "name": "someone", "team_id": "T111"}, "token": "verification_token",
            "trigger_id": "111.222.valid", "response_urls": [],
            "view": {"id": "V111", "team_id": "T111", "type": "modal", "callback_id": callback.value, "private_metadata": "",
                     "blocks": [], "state": {"values": state}, "hash": "1596530361.3wRYuk3R", "app_id": "A111", "bot_id": "B111"}}


def submit(app: RunningApp, callback: Callback, values: dict[FormField, object], user: str = "UREQ") -> tuple[int, dict[str, Any]]:
    status, body = app.interaction(submission(callback, values, user))
    return status, json.loads(body) if body.strip() else {}


def leave_values(start: date, end: date | None, leave_type: str = "annual") -> dict[FormField, object]:
    return {FormField.START_DATE: start, FormField.END_DATE: end, FormField.LEAVE_TYPE: ("select", leave_type), FormField.HALF_DAY: ("select", None)}


def expense_values(amount: str, *, receipt: list[dict[str, Any]] | None = None, category: str = "meals") -> dict[FormField, object]:
    return {FormField.AMOUNT: amount, FormField.CURRENCY: "USD", FormField.CATEGORY: ("select", category),
            FormField.EXPENSE_DATE: today() - timedelta(days=2), FormField.MERCHANT: "Cafe Roma", FormField.DESCRIPTION: None,
            FormField.RECEIPT: receipt or []}


def dms_to(app: RunningApp, channel: str) -> list[str]:
    return [call.args.get("text", "") for call in app.slack.of("chat.postMessage") if call.args.get("channel") == channel]


def test_the_modal_block_ids_are_the_core_field_names() -> None:
    assert {name for spec in FORMS.values() for name in spec.fields} == set(FormField)


def test_a_leave_form_with_the_end_before_the_start_shows_the_error_in_the_modal(slack_app: RunningApp) -> None:
    start, end = working_week()
    status, body = submit(slack_app, Callback.LEAVE_FORM, leave_values(end, start))
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == [FormField.END_DATE.value] and "before the start date" in body["errors"][FormField.END_DATE]
    time.sleep(0.3)
    assert rows(slack_app, LeaveRequest) == [] and slack_app.slack.of("chat.postMessage") == []


@pytest.mark.parametrize(("shift", "block", "words"), [("weekend", FormField.START_DATE, "no working days"),
                                                       ("too long", FormField.LEAVE_TYPE, "Not enough annual leave")])
def test_leave_refusals_from_the_domain_are_shown_in_the_modal(slack_app: RunningApp, shift: str, block: FormField, words: str) -> None:
    start, end = working_week()
    values = leave_values(start - timedelta(days=2), start - timedelta(days=1)) if shift == "weekend" else \
        leave_values(start, start + timedelta(days=120))
    status, body = submit(slack_app, Callback.LEAVE_FORM, values)
    assert status == 200 and words in body["errors"][block.value]
    assert rows(slack_app, LeaveRequest) == []


def test_a_valid_leave_form_closes_writes_the_request_and_sends_the_card(slack_app: RunningApp) -> None:
    start, end = working_week()
    status, body = submit(slack_app, Callback.LEAVE_FORM, leave_values(start, end))
    assert status == 200 and body == {}  # an empty ack closes the modal
    card = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])[0]
    [request] = rows(slack_app, LeaveRequest)
    [approval] = rows(slack_app, Approval)
    assert request.status == "pending" and request.working_days == 5 and approval.status == "pending"
    assert "approval_approve" in json.dumps(card.args["blocks"])
    told = wait_for(lambda: dms_to(slack_app, "UREQ"))
    assert "5 working days" in told[0] and f"approval #{approval.id}" in told[0]


def test_an_expense_over_the_category_limit_shows_the_error_in_the_modal(slack_app: RunningApp) -> None:
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values("400.00"))
    assert status == 200 and body["response_action"] == "errors"
    assert "over the Meals limit" in body["errors"][FormField.AMOUNT.value]
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values("forty"))
    assert "not an amount" in body["errors"][FormField.AMOUNT.value]
    assert rows(slack_app, ExpenseClaim) == []


def test_an_expense_without_the_receipt_it_needs_shows_the_error_on_the_receipt(slack_app: RunningApp) -> None:
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values("40.00"))
    assert "A receipt is required" in body["errors"][FormField.RECEIPT.value] and rows(slack_app, ExpenseClaim) == []


def test_an_expense_with_its_receipt_is_downloaded_stored_filed_and_carded(slack_app: RunningApp) -> None:
    receipt = slack_app.slack.share_file("receipt.pdf", PDF, file_id="FREC", mimetype="application/pdf")
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values("40.00", receipt=[receipt]))
    assert status == 200 and body == {}
    wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])
    [claim] = rows(slack_app, ExpenseClaim)
    assert claim.status == "pending_approval" and claim.receipt_path
    assert (slack_app.container.settings.backoffice_home / claim.receipt_path).read_bytes() == PDF
    assert "Expense claim #" in wait_for(lambda: dms_to(slack_app, "UREQ"))[0]


def test_a_receipt_slack_gives_no_link_for_files_nothing_and_says_why(slack_app: RunningApp) -> None:
    receipt = {"id": "FNOLINK", "name": "receipt.pdf", "size": 100}  # files.info answers without a file on this fake
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values("40.00", receipt=[receipt]))
    assert status == 200 and body == {}
    told = wait_for(lambda: dms_to(slack_app, "UREQ"))
    assert "was not filed" in told[0] and "download link" in told[0] and "error id" not in told[0]
    assert slack_app.slack.of("files.info") and rows(slack_app, ExpenseClaim) == []


def test_the_ticket_modal_creates_a_ticket(slack_app: RunningApp) -> None:
    values = {FormField.SUMMARY: "VPN drops every hour", FormField.DESCRIPTION: "Since Monday", FormField.CATEGORY: ("select", "network"),
              FormField.PRIORITY: ("select", "high")}
    status, body = submit(slack_app, Callback.TICKET_FORM, values)
    assert status == 200 and body == {}
    told = wait_for(lambda: dms_to(slack_app, "UREQ"))
    [ticket] = rows(slack_app, Ticket)
    assert (ticket.summary, ticket.category, ticket.priority, ticket.status) == ("VPN drops every hour", "network", "high", "new")
    assert f"Ticket #{ticket.id}" in told[0]


def test_the_access_modal_sends_the_request_to_it_for_approval(slack_app: RunningApp) -> None:
    values = {FormField.SYSTEM: "GitHub", FormField.ACCESS_LEVEL: ("select", "read"), FormField.JUSTIFICATION: "Code reviews"}
    status, body = submit(slack_app, Callback.ACCESS_FORM, values)
    assert status == 200 and body == {}
    card = wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UIT"])[0]
    [ticket] = rows(slack_app, Ticket)
    [approval] = rows(slack_app, Approval)
    assert (ticket.system, ticket.category, ticket.status) == ("GitHub", "access", "pending")
    assert (approval.kind, approval.status) == ("system_access", "pending") and "GitHub" in card.args["text"]
    status, body = submit(slack_app, Callback.ACCESS_FORM, values)  # the same again while the first waits
    assert status == 200 and "already asked for access to GitHub" in body["errors"][FormField.SYSTEM.value]
    assert len(rows(slack_app, Ticket)) == 1


def test_an_unknown_person_is_told_in_the_modal(slack_app: RunningApp) -> None:
    status, body = submit(slack_app, Callback.TICKET_FORM, {FormField.SUMMARY: "Printer"}, user="UNOBODY")
    assert status == 200 and "company directory" in body["errors"][FormField.SUMMARY.value]
    assert rows(slack_app, Ticket) == []


def test_a_refusal_by_the_pipeline_is_shown_in_the_modal(slack_app: RunningApp) -> None:
    slack_app.slack.emails["UINACT"] = "inactive@example.com"
    status, body = submit(slack_app, Callback.TICKET_FORM, {FormField.SUMMARY: "Printer"}, user="UINACT")
    assert status == 200 and "not an active employee" in body["errors"][FormField.SUMMARY.value]
    assert rows(slack_app, Ticket) == []


@pytest.mark.parametrize("view", [{}, {"state": None}, {"state": {"values": {"summary": "not a dict"}}},
                                  {"state": {"values": {"start_date": {"x": {"type": "datepicker", "selected_date": None}}}}}])
@pytest.mark.parametrize("callback", [Callback.LEAVE_FORM, Callback.EXPENSE_FORM, Callback.TICKET_FORM, Callback.ACCESS_FORM])
def test_unexpected_shapes_get_a_clear_error_in_the_modal(slack_app: RunningApp, view: dict[str, Any], callback: Callback) -> None:
    payload = submission(callback, {})
    payload["view"] = {**{key: value for key, value in payload["view"].items() if key != "state"}, **view}
    status, body = slack_app.interaction(payload)
    errors = json.loads(body)["errors"]
    assert status == 200 and errors and "error id" not in json.dumps(errors)
    assert count(slack_app, LeaveRequest) + count(slack_app, ExpenseClaim) + count(slack_app, Ticket) == 0


@pytest.mark.parametrize("amount", ["1,234.50", "1.234,50", " 1234.5 "])
def test_an_expense_amount_is_read_like_the_chat_reads_it(slack_app: RunningApp, amount: str) -> None:
    receipt = slack_app.slack.share_file("receipt.pdf", PDF, file_id="FBIG", mimetype="application/pdf")
    status, body = submit(slack_app, Callback.EXPENSE_FORM, expense_values(amount, receipt=[receipt], category="travel"))
    assert status == 200 and body == {}
    [claim] = wait_for(lambda: rows(slack_app, ExpenseClaim))
    assert str(claim.amount) == "1234.50"
    wait_for(lambda: [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])


def test_a_slow_slack_cannot_hold_a_submission_past_its_three_seconds(slack_app: RunningApp) -> None:
    slack_app.slack.emails["UNEW"] = slack_app.company.email("colleague")  # in the directory, not linked yet
    slack_app.slack.slow["users.info"] = 5.0
    started = time.monotonic()
    status, body = submit(slack_app, Callback.TICKET_FORM, {FormField.SUMMARY: "Printer"}, user="UNEW")
    assert time.monotonic() - started < 2.5  # answered well inside Slack's 3 s
    assert status == 200 and "try again" in body["errors"][FormField.SUMMARY.value]
    assert rows(slack_app, Ticket) == []  # nothing done, so a second try cannot make a duplicate


def test_a_rate_limited_lookup_is_a_reason_to_retry_not_a_missing_person(slack_app: RunningApp) -> None:
    slack_app.slack.emails["UNEW"] = slack_app.company.email("colleague")
    slack_app.slack.answering["users.info"] = "ratelimited"
    status, body = submit(slack_app, Callback.TICKET_FORM, {FormField.SUMMARY: "Printer"}, user="UNEW")
    error = body["errors"][FormField.SUMMARY.value]
    assert status == 200 and "try again" in error and "directory" not in error
