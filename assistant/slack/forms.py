"""The leave, expense and IT ticket modals: opened from /backoffice, checked by the core, errors shown in the modal.

A submission is checked before it is acknowledged: refusals come back as `response_action: errors` next to the
field they are about and nothing is written; a passing one closes the modal, runs, and the person gets the result
in a DM (the approver gets their card).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.errors import error_text
from assistant.forms import FORMS, AttachedFile, Choice, FormField, FormKind, FormOptions, form_options, submit_form
from assistant.nlu.slot_money import find_money
from assistant.operations import MAX_RECEIPT_BYTES
from assistant.uploads import IncomingFile
from assistant.slack.blocks import escape
from assistant.slack.cards import deliver_cards
from assistant.slack.delivery import after_the_work, tell_privately
from assistant.slack.deps import SlackDeps
from assistant.slack.ids import Action, Callback
from assistant.slack.payloads import as_object, as_text
from assistant.slack.people import employee_of
from assistant.slack.uploads import slack_file_fetcher

log = logging.getLogger(__name__)
CALLBACKS = {FormKind.LEAVE: Callback.LEAVE_FORM, FormKind.EXPENSE: Callback.EXPENSE_FORM, FormKind.TICKET: Callback.TICKET_FORM,
             FormKind.ACCESS: Callback.ACCESS_FORM}
RECEIPT_TYPES = ["pdf", "png", "jpg", "jpeg", "heic", "webp"]
AMOUNT_ANCHOR = "USD"  # only to read a typed amount: the currency is the form's own field


def register(app: App, deps: SlackDeps) -> None:
    """Listen to the submissions of the three modals."""
    for kind, callback in CALLBACKS.items():
        app.view(callback.value)(_submission_listener(deps, kind))


def _submission_listener(deps: SlackDeps, kind: FormKind) -> Callable[..., None]:
    def on_submission(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = as_text(as_object(body.get("user")).get("id")) or ""
        try:
            person = employee_of(deps, client, user_id, quick=True)  # the modal waits for the answer
        except Exception as error:  # noqa: BLE001 - someone the assistant cannot act for reads why, in the modal
            ack(response_action="errors", errors={FormField(FORMS[kind].fields[0]).value: error_text(error)})
            return
        outcome = submit_form(deps.container, kind, employee_id=person.employee_id, values=submitted_values(body.get("view")),
                              now=deps.clock(), on_valid=ack, fetch_file=receipt_fetcher(client))
        if outcome.errors:
            ack(response_action="errors", errors={FormField(name).value: text for name, text in outcome.errors.items()})
            return
        with after_the_work() if outcome.wrote else nullcontext():  # the modal is closed: the result comes by DM
            if not tell_privately(client, user_id=user_id, channel=None, text=escape(outcome.text)):
                log.error("the result of %s's %s form was not delivered: %s", user_id, kind.value, outcome.text[:200])
            if outcome.wrote:
                deliver_cards(deps, client)
    on_submission.__name__ = f"on_{kind.value}_submission"
    return on_submission


def open_form(deps: SlackDeps, client: WebClient, kind: FormKind, trigger_id: str) -> str:
    """Open a form's modal; return why it could not be opened, or an empty string."""
    if not trigger_id:
        return "Slack did not send what I need to open the form; please run the command again."
    view = MODALS[kind](form_options(deps.container))
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:  # an expired trigger (over 3 s) or a malformed view: say so, never crash
        log.warning("views.open failed for the %s form: %s", kind.value, error.response.get("error"))
        return "I couldn't open the form (Slack said no); please run the command again."
    return ""


# --- Slack's payload to plain values ---------------------------------------------------------------------


def submitted_values(view: object) -> dict[str, object]:
    """Return a submitted modal's values, an amount with thousands separators read the way the chat reads it."""
    values = form_values(view)
    amount = values.get(FormField.AMOUNT.value)
    if isinstance(amount, str):
        values[FormField.AMOUNT.value] = plain_amount(amount)
    return values


def plain_amount(typed: str) -> str:
    """Return "1,234.50" (or "1.234,50") as "1234.50", read the way the chat reads amounts; anything else as typed.

    Only a field that is all amount is rewritten; "$45", "-5" or "forty" stay as typed for the core to judge.
    """
    text = typed.strip()
    anchored = f"{text} {AMOUNT_ANCHOR}"  # a currency after the number makes the chat's reader take it whole
    money = find_money(anchored, default_currency=AMOUNT_ANCHOR, allow_bare=False)
    return money.amount if money is not None and text and money.span == (0, len(anchored)) else typed


def form_values(view: object) -> dict[str, object]:
    """Return a submitted modal's values by block id: text, ISO date, chosen option value, or attached files."""
    state = (view.get("state") or {}) if isinstance(view, dict) else {}
    values: dict[str, object] = {}
    for block_id, elements in (state.get("values") or {}).items():
        if isinstance(elements, dict):
            element = next((item for item in elements.values() if isinstance(item, dict)), None)
            if element is not None:
                values[str(block_id)] = _element_value(element)
    return values


def _element_value(element: dict[str, Any]) -> object:
    if "selected_option" in element:
        return ((element.get("selected_option") or {}).get("value")) if isinstance(element.get("selected_option"), dict) else None
    if "selected_date" in element:
        return element.get("selected_date")
    if "files" in element:
        return [AttachedFile(file_id=str(item.get("id") or ""), name=str(item.get("name") or item.get("title") or ""),
                             size=item.get("size") if isinstance(item.get("size"), int) else None,
                             url=item.get("url_private_download") or item.get("url_private"))
                for item in element.get("files") or [] if isinstance(item, dict)]
    return element.get("value")


def receipt_fetcher(client: WebClient) -> Callable[[AttachedFile], bytes]:
    """Return a function downloading an attached receipt with the bot token (files.info when the link is missing)."""
    fetch = slack_file_fetcher(client)

    def fetch_receipt(attached: AttachedFile) -> bytes:
        handle: dict[str, Any] = {"url_private_download": attached.url}
        if not attached.url and attached.file_id:
            try:
                handle = client.files_info(file=attached.file_id).get("file") or {}
            except SlackApiError as error:
                log.warning("files.info failed for %s: %s", attached.file_id, error.response.get("error"))
        return fetch(IncomingFile(name=attached.name, handle=handle), MAX_RECEIPT_BYTES + 1)

    return fetch_receipt


# --- the modals --------------------------------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _options(choices: list[Choice]) -> list[dict[str, Any]]:
    return [{"text": _plain(choice.label[:75]), "value": choice.value} for choice in choices[:100]]


def _select(choices: list[Choice], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": Action.FORM_FIELD.value, "options": _options(choices)}
    chosen = [option for option in element["options"] if option["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    return element


def _input(field: FormField, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> dict[str, Any]:
    block = {"type": "input", "block_id": field.value, "label": _plain(label), "optional": optional,
             "element": {"action_id": Action.FORM_FIELD.value, **element}}
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(*, multiline: bool = False, max_length: int = 200, placeholder: str = "", initial: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    if initial:
        element["initial_value"] = initial
    return element


def _modal(kind: FormKind, title: str, submit: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": CALLBACKS[kind].value, "title": _plain(title[:24]), "submit": _plain(submit),
            "close": _plain("Cancel"), "blocks": blocks}


def leave_modal(options: FormOptions) -> dict[str, Any]:
    """Return the leave request modal: first and last day, leave type, an optional half day."""
    return _modal(FormKind.LEAVE, "Request time off", "Request", [
        _input(FormField.START_DATE, "First day off", {"type": "datepicker"}),
        _input(FormField.END_DATE, "Last day off", {"type": "datepicker"}, optional=True, hint="Leave it empty for a single day."),
        _input(FormField.LEAVE_TYPE, "Leave type", _select(options.leave_types, "annual")),
        _input(FormField.HALF_DAY, "Half day", _select(options.half_days), optional=True,
               hint="Only for a single day: the first and last day are the same."),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "The days are reserved at once and the request goes to "
                                          "your approver; I'll message you here with the result."}]},
    ])


def expense_modal(options: FormOptions) -> dict[str, Any]:
    """Return the expense claim modal: amount, currency, category, date, merchant, description and the receipt."""
    return _modal(FormKind.EXPENSE, "File an expense", "Submit", [
        _input(FormField.AMOUNT, "Amount", _text_input(max_length=32, placeholder="45.20")),
        _input(FormField.CURRENCY, "Currency", _text_input(max_length=3, initial=options.currency), hint="ISO code, e.g. USD, EUR."),
        _input(FormField.CATEGORY, "Category", _select(options.expense_categories)),
        _input(FormField.EXPENSE_DATE, "Date of the expense", {"type": "datepicker"}),
        _input(FormField.MERCHANT, "Merchant", _text_input(max_length=200, placeholder="Where the money was spent")),
        _input(FormField.DESCRIPTION, "Description", _text_input(multiline=True, max_length=1000), optional=True),
        _input(FormField.RECEIPT, "Receipt", {"type": "file_input", "filetypes": RECEIPT_TYPES, "max_files": 1}, optional=True,
               hint="PDF or a photo, up to 10 MB; most categories need one above a small amount."),
    ])


def ticket_modal(options: FormOptions) -> dict[str, Any]:
    """Return the IT ticket modal: summary, description, category and priority."""
    return _modal(FormKind.TICKET, "Open an IT ticket", "Open ticket", [
        _input(FormField.SUMMARY, "What is wrong?", _text_input(max_length=200, placeholder="One line, e.g. VPN drops every hour")),
        _input(FormField.DESCRIPTION, "Details", _text_input(multiline=True, max_length=3000), optional=True),
        _input(FormField.CATEGORY, "Category", _select(options.ticket_categories)),
        _input(FormField.PRIORITY, "Priority", _select(options.ticket_priorities, "normal")),
    ])


def access_modal(options: FormOptions) -> dict[str, Any]:
    """Return the access request modal: the system, the level of access and why it is needed."""
    return _modal(FormKind.ACCESS, "Request access", "Request", [
        _input(FormField.SYSTEM, "System or application", _text_input(max_length=100, placeholder="e.g. GitHub, the finance shared drive")),
        _input(FormField.ACCESS_LEVEL, "Level of access", _select(options.access_levels, "user")),
        _input(FormField.JUSTIFICATION, "What do you need it for?", _text_input(multiline=True, max_length=2000)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "IT approves access before anything is granted; "
                                          "I'll message you here with the result."}]},
    ])


MODALS: dict[FormKind, Callable[[FormOptions], dict[str, Any]]] = {
    FormKind.LEAVE: leave_modal, FormKind.EXPENSE: expense_modal, FormKind.TICKET: ticket_modal, FormKind.ACCESS: access_modal}
