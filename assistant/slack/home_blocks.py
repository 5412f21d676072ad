"""Block Kit rendering of the App Home: the person's leave, claims and tickets, their approval queue, the policies."""

from __future__ import annotations

import json
from typing import Any

from assistant.home import HomeData, KnowledgeStatus, PendingApproval, TicketLine
from assistant.slack.blocks import escape, section
from assistant.slack.ids import Action, Block

MAX_LINES = 10  # rows listed per section before "and N more"
MAX_DOCUMENTS = 10
STATUS_WORDS = {"pending": "waiting for approval", "pending_approval": "waiting for approval", "submitted": "submitted",
                "approved": "approved", "new": "new", "open": "open"}


def home_view(data: HomeData) -> dict[str, Any]:
    """Return the Home tab view for views.publish."""
    if not data.known:
        blocks = [_header("Back office"), section(escape(data.message))]
    else:
        blocks = [_header(f"Hi {data.name}"), *_leave_blocks(data), *_expense_blocks(data), *_ticket_blocks(data)]
        if data.approvals:
            blocks += _approval_blocks(data.approvals, data.more_approvals)
        if data.team_off is not None:
            off = [f"{escape(line.name)}: {escape(line.leave_type)} {line.start_date} to {line.end_date}"
                   + (" (pending)" if line.status == "pending" else "") for line in data.team_off]
            blocks += _listed("Who is off in the next two weeks", off, "Nobody in your team.")
        for queue, lines in (data.queues or {}).items():
            blocks += _queue_blocks(queue, lines)
        if data.knowledge is not None:
            blocks += _knowledge_blocks(data.knowledge)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       "Send me a message to request time off, file an expense or open a ticket."}]})
    return {"type": "home", "blocks": blocks}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _listed(title: str, lines: list[str], empty: str) -> list[dict[str, Any]]:
    """Return a divider and one section listing at most MAX_LINES lines."""
    shown = [f"• {line}" for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(f"_and {len(lines) - MAX_LINES} more_")
    return [{"type": "divider"}, section(f"*{title}*\n" + ("\n".join(shown) if shown else f"_{empty}_"))]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _days(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:g}"


def _leave_blocks(data: HomeData) -> list[dict[str, Any]]:
    balances = [{"type": "mrkdwn", "text": f"*{escape(b.leave_type.capitalize())}*\n{_days(b.available)} days available"
                 + (f" ({b.reserved:g} reserved)" if b.reserved else "")} for b in data.balances][:10]
    blocks: list[dict[str, Any]] = [section(f"*Leave balance {data.year}*")]
    if balances:
        blocks.append({"type": "section", "fields": balances})
    requests = [f"#{r.request_id} {escape(r.leave_type)} {r.start_date} to {r.end_date}, {r.working_days:g} working days: "
                f"{STATUS_WORDS.get(r.status, r.status)}" for r in data.leave]
    return blocks + _listed("Your leave requests", requests, "No pending or upcoming leave.")


def _expense_blocks(data: HomeData) -> list[dict[str, Any]]:
    claims = [f"#{c.claim_id} {escape(c.amount)} {escape(c.currency)} at {escape(c.merchant)} ({escape(c.category)}, "
              f"{c.expense_date}): {STATUS_WORDS.get(c.status, c.status)}" for c in data.expenses]
    return _listed("Your open expense claims", claims, "No open expense claims.")


def _ticket_blocks(data: HomeData) -> list[dict[str, Any]]:
    tickets = [f"#{t.ticket_id} {escape(t.summary)} ({t.priority}): {STATUS_WORDS.get(t.status, t.status)}" for t in data.tickets]
    return _listed("Your open tickets", tickets, "No open tickets.")


def _approval_blocks(approvals: list[PendingApproval], more: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "divider"}, section(f"*Waiting for your decision ({len(approvals) + more})*")]
    for approval in approvals:
        steps = f" (step {approval.step} of {approval.steps})" if approval.steps > 1 else ""
        check = f"\n:warning: {escape(approval.check)}" if approval.check else ""
        blocks.append(section(f"*#{approval.approval_id}{steps}* from {escape(approval.requester)}\n{escape(approval.summary)}{check}"))
        blocks.append(_decision_buttons(approval))
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more; decide these first."}]})
    return blocks


def _decision_buttons(approval: PendingApproval) -> dict[str, Any]:
    """Return Approve / Deny with the approval cards' action ids, so the cards' listeners decide them."""
    value = json.dumps({"approval_id": approval.approval_id, "step": approval.step})
    return {"type": "actions", "block_id": f"{Block.HOME_APPROVAL.value}_{approval.approval_id}_{approval.step}", "elements": [
        {"type": "button", "action_id": Action.APPROVE.value, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": Action.DENY.value, "style": "danger", "value": value,
         "text": {"type": "plain_text", "text": "Deny"}},
    ]}


def _queue_blocks(queue: str, lines: list[TicketLine]) -> list[dict[str, Any]]:
    """A team's open tickets, due first first, each with Take and Resolve (the update_ticket tool decides who may)."""
    blocks: list[dict[str, Any]] = [{"type": "divider"}, section(f"*{queue.upper()} queue ({len(lines)} open)*"
                                                                 + ("" if lines else "\n_Nothing open._"))]
    for ticket in lines[:MAX_LINES]:
        holder = f"{escape(ticket.assignee)} has it" if ticket.assignee else "nobody has it yet"
        blocks.append(section(f"*#{ticket.ticket_id}* {escape(ticket.summary)} ({ticket.priority}, "
                              f"{STATUS_WORDS.get(ticket.status, ticket.status)}; {holder})" + (" *overdue*" if ticket.overdue else "")))
        value = json.dumps({"ticket_id": ticket.ticket_id})
        buttons = [{"type": "button", "action_id": Action.TICKET_RESOLVE.value, "style": "primary", "value": value,
                    "text": {"type": "plain_text", "text": "Resolve"}}]
        if not ticket.assignee:
            buttons.insert(0, {"type": "button", "action_id": Action.TICKET_TAKE.value, "value": value,
                               "text": {"type": "plain_text", "text": "Take"}})
        blocks.append({"type": "actions", "block_id": f"{Block.HOME_TICKET.value}_{ticket.ticket_id}", "elements": buttons})
    if len(lines) > MAX_LINES:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"and {len(lines) - MAX_LINES} more: `backoffice tickets queue` lists them all."}]})
    return blocks


def _knowledge_blocks(status: KnowledgeStatus) -> list[dict[str, Any]]:
    if status.problem:
        return [{"type": "divider"}, section(f"*Knowledge base*\nThe index could not be read: {escape(status.problem)}")]
    updated = f", last updated {status.last_update:%Y-%m-%d %H:%M} UTC" if status.last_update else ""
    count = len(status.documents)
    summary = f"{_count(count, 'document')}, {_count(status.chunks, 'passage')}{updated}."
    lines = [f"`{escape(d.doc_id)}` {escape(d.title)} ({_count(d.chunks, 'passage')}"
             f"{', for ' + escape(d.audience) if d.audience else ''})" for d in status.documents[:MAX_DOCUMENTS]]
    body = "\n".join(f"• {line}" for line in lines) if lines else "_No policy documents yet._"
    if count > MAX_DOCUMENTS:
        body += f"\n_and {count - MAX_DOCUMENTS} more_"
    hint = "Send me a file in a DM with “add this to the policies” to add or replace a document."
    return [{"type": "divider"}, section(f"*Knowledge base*\n{summary}\n{body}"),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]}]
