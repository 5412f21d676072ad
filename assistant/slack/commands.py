"""The /backoffice slash command: acknowledged at once, then answered only to the caller (ephemeral) or with a modal.

Subcommands: help, leave, leave balance, expense, ticket, access, ask <question>, approvals, status; anything else is a
message to the assistant, answered as a DM would be.
"""

from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from assistant.chat import ChatUser, answer
from assistant.dialogue.holidays import holiday_answer
from assistant.errors import error_text
from assistant.forms import FormKind, look_up
from assistant.home import HomeData, build_home
from assistant.slack.blocks import escape, pending_approvals_blocks, section
from assistant.slack.cards import sync_cards
from assistant.slack.delivery import after_the_work, answer_privately
from assistant.slack.deps import SlackDeps
from assistant.slack.forms import open_form
from assistant.slack.people import employee_of

MAX_APPROVALS = 8  # an ephemeral message holds 50 blocks; a card takes up to six with its divider
MAX_LINES = 10


class Subcommand(StrEnum):
    """The first word of /backoffice's text."""

    HELP = "help"
    LEAVE = "leave"
    BALANCE = "balance"
    EXPENSE = "expense"
    EXPENSES = "expenses"
    TICKET = "ticket"
    ACCESS = "access"
    ASK = "ask"
    APPROVALS = "approvals"
    STATUS = "status"


HELP = "\n".join([
    "*What I can do with `/backoffice`* (only you see the answers):",
    "• `/backoffice leave`: request time off (a form)",
    "• `/backoffice leave balance`: your days left this year",
    "• `/backoffice expense`: file an expense claim with its receipt (a form)",
    "• `/backoffice ticket`: open an IT ticket (a form)",
    "• `/backoffice access`: ask for access to a system; IT approves it (a form)",
    "• `/backoffice ask &lt;question&gt;`: answer from the company policies, with the source",
    "• `/backoffice approvals`: requests waiting for your decision",
    "• `/backoffice status`: your open leave requests, expense claims and tickets",
    "• `/backoffice &lt;anything else&gt;`: just ask, e.g. `/backoffice I need Friday off`",
    "You can also send me a direct message.",
])


Reply = Callable[..., None]  # reply(text, blocks=None): answer the caller only


@dataclass(frozen=True)
class Invocation:
    """One /backoffice call by a known employee: what a subcommand needs to answer it."""

    deps: SlackDeps
    client: WebClient
    command: dict[str, Any]
    person: ChatUser
    reply: Reply


Handler = Callable[[Invocation, str], None]


ANY_COMMAND = re.compile(r"^/.+")


def register(app: App, deps: SlackDeps) -> None:
    """Listen to /backoffice."""

    @app.command(ANY_COMMAND)  # the manifest names it /backoffice; a workspace that renames it keeps working
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()  # at once, with no text: every answer follows through respond(), so Slack's 3 s never matter
        handle_command(deps, client, respond, command)


def handle_command(deps: SlackDeps, client: WebClient, respond: Respond, command: dict[str, Any]) -> None:
    """Route the command's text to its subcommand, as the employee behind the Slack user."""
    reply = _replier(respond, client, command)
    handler, rest = route(str(command.get("text") or ""))
    if handler is None:
        reply(HELP)
        return
    try:
        person = employee_of(deps, client, str(command.get("user_id") or ""))
    except Exception as error:  # noqa: BLE001 - someone the assistant cannot act for reads why
        reply(escape(error_text(error)))
        return
    handler(Invocation(deps, client, command, person, reply), rest)


def route(text: str) -> tuple[Handler | None, str]:
    """Return the handler of a command text (None: help) and the text it works on."""
    words = text.strip().split(maxsplit=1)
    first, rest = (words[0].lower(), words[1].strip() if len(words) > 1 else "") if words else ("", "")
    if not first or (first == Subcommand.HELP and not rest):
        return None, ""
    if first == Subcommand.ASK:
        return ask, rest
    if first == Subcommand.LEAVE and rest.lower() in {"balance", "balances"}:
        return leave_balance, ""
    simple: dict[str, Handler] = {Subcommand.LEAVE: _form(FormKind.LEAVE), Subcommand.BALANCE: leave_balance,
                                  Subcommand.EXPENSE: _form(FormKind.EXPENSE), Subcommand.EXPENSES: _form(FormKind.EXPENSE),
                                  Subcommand.TICKET: _form(FormKind.TICKET), Subcommand.ACCESS: _form(FormKind.ACCESS),
                                  Subcommand.APPROVALS: approvals,
                                  Subcommand.STATUS: status}
    if first in simple and not rest:
        return simple[first], ""
    return converse, text.strip()


def _form(kind: FormKind) -> Handler:
    def open_modal(call: Invocation, _: str) -> None:
        problem = open_form(call.deps, call.client, kind, str(call.command.get("trigger_id") or ""))
        if problem:
            call.reply(problem)
    return open_modal


def leave_balance(call: Invocation, _: str) -> None:
    """Answer with the caller's leave balance for this year."""
    look = look_up(call.deps.container, "get_leave_balance", employee_id=call.person.employee_id, now=call.deps.clock())
    if not look.ok:
        call.reply(escape(look.text))
        return
    lines = [f"• *{escape(str(row['leave_type']).capitalize())}*: {_days(row['available'])} available"
             + (f" ({row['reserved']:g} reserved by pending requests)" if row.get("reserved") else "")
             for row in look.data.get("balances", [])]
    call.reply("\n".join([f"*Your leave in {look.data.get('year')}*", *lines]))


def ask(call: Invocation, question: str) -> None:
    """Answer a policy question from the policy documents, with the passages it quotes (holiday dates from the calendar)."""
    if not question:
        call.reply("Put your question after `ask`, e.g. `/backoffice ask how many days can I carry over?`")
        return
    try:  # "when is the next public holiday?": the person's holiday calendar answers, not the policy text
        dates = holiday_answer(call.deps.container.pipeline, call.person.employee_id, question[:2000], call.deps.clock())
    except Exception as error:  # noqa: BLE001 - the caller reads why
        dates = error_text(error)
    if dates is not None:
        call.reply(f"*{escape(question[:300])}*\n{escape(dates)}")
        return
    look = look_up(call.deps.container, "search_policies", {"query": question[:2000]}, employee_id=call.person.employee_id,
                   now=call.deps.clock())
    call.reply(f"*{escape(question[:300])}*\n{escape(look.text)}")


def approvals(call: Invocation, _: str) -> None:
    """List the requests waiting for the caller's decision, each with Approve / Deny."""
    look = look_up(call.deps.container, "list_pending_approvals", {"limit": MAX_APPROVALS + 1},
                   employee_id=call.person.employee_id, now=call.deps.clock())
    rows = look.data.get("approvals", []) if look.ok else []
    if not look.ok or not rows:
        call.reply(escape(look.text) if not look.ok else "Nothing is waiting for your decision.")
        return
    text = f"{len(rows[:MAX_APPROVALS])} request(s) waiting for your decision"
    call.reply(text, [section(f"*{text}*"), *pending_approvals_blocks(rows[:MAX_APPROVALS], more=max(0, len(rows) - MAX_APPROVALS))])


def status(call: Invocation, _: str) -> None:
    """List the caller's open leave requests, expense claims and tickets."""
    try:
        data = build_home(call.deps.container, employee_id=call.person.employee_id, now=call.deps.clock())
    except Exception as error:  # noqa: BLE001 - the caller reads why
        call.reply(escape(error_text(error)))
        return
    call.reply(status_text(data))


def converse(call: Invocation, text: str) -> None:
    """Pass free text to the conversation engine, in a conversation of its own per channel and person."""
    key = f"slack:{call.command.get('channel_id')}:{call.command.get('user_id')}:cmd"
    reply = answer(call.deps.engine, key=key, employee_id=call.person.employee_id, text=text, now=call.deps.clock())
    call.reply(escape(reply.text) + "\n_To answer me here, use `/backoffice &lt;your reply&gt;`._")
    if reply.wrote:
        with after_the_work():
            sync_cards(call.deps, call.client)


def status_text(data: HomeData) -> str:
    """Return the open items of a Home as one message."""
    if not data.known:
        return escape(data.message)
    leave = [f"#{r.request_id} {escape(r.leave_type)} {r.start_date} to {r.end_date} ({r.working_days:g} working days): {r.status}"
             for r in data.leave]
    claims = [f"#{c.claim_id} {c.amount} {c.currency} {escape(c.category)} at {escape(c.merchant)}: {c.status.replace('_', ' ')}"
              for c in data.expenses]
    tickets = [f"#{t.ticket_id} {escape(t.summary)} ({t.priority}): {t.status}" for t in data.tickets]
    parts = [_listed("Leave requests", leave, "No pending or upcoming leave."),
             _listed("Expense claims", claims, "No open expense claims."), _listed("Tickets", tickets, "No open tickets.")]
    if data.approvals:
        parts.append(f"{len(data.approvals) + data.more_approvals} request(s) wait for your decision: `/backoffice approvals`.")
    return "\n\n".join(parts)


def _listed(title: str, lines: list[str], empty: str) -> str:
    shown = [f"• {line}" for line in lines[:MAX_LINES]] or [f"_{empty}_"]
    if len(lines) > MAX_LINES:
        shown.append(f"_and {len(lines) - MAX_LINES} more_")
    return "\n".join([f"*{title}*", *shown])


def _days(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:g}"


def _replier(respond: Respond, client: WebClient, command: dict[str, Any]) -> Reply:
    """Return a function answering the caller only: through response_url, else ephemerally, else by DM.

    An answer often reports work already done ("yes" filed the request), so a response_url Slack does not take
    (unreachable, expired, 404) must not lose it: the same text goes the next way.
    """
    user = str(command.get("user_id") or "")

    def reply(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        answer_privately(respond, client, user_id=user, channel=str(command.get("channel_id") or "") or None, text=text,
                         blocks=blocks)
    return reply
