"""Block Kit rendering: approval cards, their closed form, the deny-reason modal, and plain replies."""

from __future__ import annotations

import json
import re
from typing import Any

from assistant.approval_cards import Card, DecisionOutcome
from assistant.slack.ids import Action, Block, Callback

MAX_SECTION = 2900  # Slack caps a section's text at 3,000 characters
MAX_FIELD = 2000  # and each of a section's fields at 2,000
_CUT_ENTITY = re.compile(r"&[a-z]*$")
FACT_LABELS = {"leave_type": "Leave type", "start_date": "From", "end_date": "To", "working_days": "Working days",
               "balance_after": "Balance after", "amount": "Amount", "currency": "Currency", "amount_company": "In company currency",
               "category": "Category", "category_limit": "Category limit", "merchant": "Merchant", "system": "System",
               "access_level": "Access level", "justification": "Why", "check": "Check"}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fitted(text: str, limit: int) -> str:
    """Cut escaped mrkdwn to Slack's limit, never through an entity ("&amp;"), marking the cut with "…"."""
    return text if len(text) <= limit else _CUT_ENTITY.sub("", text[:limit - 1]) + "…"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fitted(text, MAX_SECTION)}}


def fact_field(name: str, value: object) -> dict[str, Any]:
    """One labelled fact of a card ("*Why*\nneeded for the audit"), within the limit of a field."""
    return {"type": "mrkdwn", "text": fitted(f"*{FACT_LABELS.get(name, name)}*\n{escape(str(value))}", MAX_FIELD)}


def card_text(card: Card) -> str:
    """Return the notification text of a card (shown where blocks are not), escaped like the blocks."""
    return f"Approval needed: {escape(card.summary)}"


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """Return the approval card: the request, its computed facts, the policy clause, and Approve / Deny."""
    steps = f" (step {card.step} of {card.steps})" if card.steps > 1 else ""
    facts = [fact_field(name, value) for name, value in card.facts.items() if value not in (None, "")][:10]
    blocks: list[dict[str, Any]] = [section(f"*Approval #{card.approval_id}{steps}* from {escape(card.requester)}\n{escape(card.summary)}")]
    if facts:
        blocks.append({"type": "section", "fields": facts})
    if card.note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Routed to you: {escape(card.note)}"}]})
    if card.citation is not None:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"Policy: “{escape(card.citation.text)[:500]}” ({escape(card.citation.source)})"}]})
    value = json.dumps({"approval_id": card.approval_id, "step": card.step})
    blocks.append({"type": "actions", "block_id": f"approval_{card.approval_id}_{card.step}", "elements": [
        {"type": "button", "action_id": Action.APPROVE.value, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": Action.DENY.value, "style": "danger", "value": value,
         "text": {"type": "plain_text", "text": "Deny"}},
    ]})
    return blocks


VERDICTS = {"approved": "Approved", "rejected": "Denied", "failed": "Approved, but it could not be carried out",
            "pending": "Approved for this step", "cancelled": "Withdrawn by the requester"}


def _verdict(outcome: DecisionOutcome) -> str:
    by = f" by {escape(outcome.decided_by)}" if outcome.decided_by and outcome.status != "cancelled" else ""
    return VERDICTS.get(outcome.status, outcome.status.capitalize()) + by


def closed_card_text(approval_id: int, outcome: DecisionOutcome) -> str:
    """Return the notification text of a decided card: who decided what, and where a next step went."""
    verdict = _verdict(outcome)
    text = f"Approval #{approval_id}: {verdict[:1].lower()}{verdict[1:]}."  # "Approval #7: approved by Dana Reyes."
    return f"{text} {escape(outcome.text)}" if outcome.status == "pending" and outcome.text else text


def closed_card_blocks(outcome: DecisionOutcome) -> list[dict[str, Any]]:
    """Return a decided card: no buttons left to click, and who decided what."""
    reason = f"\nReason: {escape(outcome.reason)}" if outcome.reason else ""
    return [section(f"{escape(outcome.summary)}"), section(f"*{_verdict(outcome)}.* {escape(outcome.text)}{reason}")]


def deny_reason_modal(approval_id: int, private_metadata: str) -> dict[str, Any]:
    """Return the modal asking an approver why they deny."""
    return {"type": "modal", "callback_id": Callback.DENY_REASON.value, "private_metadata": private_metadata,
            "title": {"type": "plain_text", "text": f"Deny #{approval_id}"[:24]},
            "submit": {"type": "plain_text", "text": "Deny"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": Block.REASON.value, "label": {"type": "plain_text", "text": "Reason"},
                        "element": {"type": "plain_text_input", "action_id": Action.FORM_FIELD.value, "multiline": True, "max_length": 1000}}]}


def pending_approvals_blocks(rows: list[dict[str, Any]], more: int = 0) -> list[dict[str, Any]]:
    """Return an approver's queue (rows of list_pending_approvals) as cards with the same Approve / Deny buttons."""
    blocks: list[dict[str, Any]] = []
    for row in rows:
        chain = row.get("chain") or []
        step = int(row.get("step") or 1)
        note = str((chain[step - 1] if 0 < step <= len(chain) else {}).get("note") or "")
        card = Card(card_id=0, approval_id=int(row["approval_id"]), step=step, steps=int(row.get("steps") or 1),
                    kind=str(row.get("kind") or ""), summary=str(row.get("summary") or ""), facts=dict(row.get("facts") or {}),
                    requester=str(row.get("requester") or ""), approver_chat_id="", note=note)
        blocks += [*card_blocks(card), {"type": "divider"}]
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"_and {more} more waiting; decide these first._"}]})
    return blocks
