"""Approval cards: which approvers still need a card, what a card says, and what a decision from a card does.

A card is claimed in the database before it is sent (one card per approval step, however many workers run),
and a decision goes through the pipeline's decide_approval, whose conditional UPDATE makes a double click or
two racing approvers produce exactly one decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.container import Container
from assistant.errors import error_text
from tools.approvals.models import Approval, ApprovalKind
from tools.db import transaction, utcnow
from tools.approvals.service import list_decisions
from tools.messaging.service import (
    claim_card_closing,
    claim_stranded_notice,
    claim_decision_notice,
    create_approval_card,
    list_approvals_without_card,
    list_cards_to_close,
    list_untold_decisions,
    record_card_message,
    release_approval_card,
)
from tools.people.service import get_employee, get_employee_by_slack_id, record_slack_link
from tools.policies.tools import cite

log = logging.getLogger(__name__)

# What to look up in the policies for the clause a card cites.
CLAUSE_QUERIES = {ApprovalKind.LEAVE.value: "who approves {leave_type} leave requests and how much notice is needed",
                  ApprovalKind.EXPENSE.value: "expense claim limits and receipts for {category}",
                  ApprovalKind.SYSTEM_ACCESS.value: "requesting access to systems and who approves it"}


@dataclass(frozen=True)
class Citation:
    """A policy sentence that applies to the request, and where it comes from."""

    text: str
    source: str


@dataclass(frozen=True)
class Card:
    """One approval step to put in front of its approver."""

    card_id: int
    approval_id: int
    step: int  # 1-based
    steps: int
    kind: str
    summary: str
    facts: dict[str, Any]
    requester: str
    approver_chat_id: str
    note: str  # e.g. "the manager is on leave today; their manager decides"
    citation: Citation | None = None


@dataclass(frozen=True)
class DecisionOutcome:
    """What a decision did, for the adapter to render: the decider's answer, a closed card, the requester's notice."""

    decided: bool
    text: str
    status: str = ""  # the approval's status afterwards
    summary: str = ""
    decided_by: str = ""
    reason: str = ""
    requester_chat_id: str | None = None


class ChatUnavailable(Exception):
    """The chat service could not say whether someone has an account (a rate limit, an outage): ask next round."""


@dataclass(frozen=True)
class Stranded:
    """An approval step whose approver has no chat account: the requester is told once, so nobody waits unaware."""

    approval_id: int
    requester_chat_id: str | None  # None: the requester has no chat account either (the log says it)
    text: str


@dataclass(frozen=True)
class NewCards:
    """What a delivery round claimed: cards to send, and requesters to tell that their approver is unreachable."""

    cards: list[Card] = field(default_factory=list)
    stranded: list[Stranded] = field(default_factory=list)


def claim_new_cards(container: Container, *, find_chat_id: Callable[[str], str | None] = lambda email: None,
                    now: datetime | None = None) -> NewCards:
    """Claim a card for every pending approval step whose approver can be reached in chat and has none yet.

    An approver whose chat account is not linked yet is looked up by email (`find_chat_id`) and linked. One who has
    no account (the lookup finds none) gets no card: the requester is told once who must decide and how, and the
    step waits for the approver's account to be linked (a directory import, their first message to the bot).
    `find_chat_id` raises ChatUnavailable when it cannot tell; that step is tried again next round.
    """
    moment = now or utcnow()
    claimed_cards: list[Card] = []
    stranded: list[Stranded] = []
    looked_up: dict[str, str | None] = {}  # one lookup per person, however many of their approvals wait
    with transaction(container.session_factory) as session:
        for approval in list_approvals_without_card(session):
            approver = get_employee(session, employee_id=approval.approver_id)
            try:
                chat_id = chat_id_of(session, approver, find_chat_id, looked_up)
                if chat_id is None:
                    notice = _stranded(session, approval, approver, find_chat_id, looked_up, moment)
                    if notice is not None:
                        stranded.append(notice)
                    continue
            except ChatUnavailable:
                continue
            claimed = create_approval_card(session, approval_id=approval.id, step=approval.step, now=moment)
            if claimed is not None:
                claimed_cards.append(_card(session, approval, claimed.id, chat_id))
    return NewCards([_with_citation(container, card) for card in claimed_cards], stranded)


def chat_id_of(session: Any, employee: Any, find_chat_id: Callable[[str], str | None],
               looked_up: dict[str, str | None] | None = None) -> str | None:
    """Return an employee's chat id; one not linked yet is looked up by email once per run and linked."""
    looked_up = {} if looked_up is None else looked_up
    if employee.slack_user_id:
        return str(employee.slack_user_id)
    if employee.email not in looked_up:
        looked_up[employee.email] = find_chat_id(employee.email)
    found = looked_up[employee.email]
    if not found or get_employee_by_slack_id(session, slack_user_id=found) is not None:
        return None  # not in the workspace, or that account belongs to someone else already
    record_slack_link(session, employee=employee, slack_user_id=found, found_by="users.lookupByEmail")
    return found


def _stranded(session: Any, approval: Approval, approver: Any, find_chat_id: Callable[[str], str | None],
              looked_up: dict[str, str | None], moment: datetime) -> Stranded | None:
    """Claim telling the requester that this step's approver has no chat account (None: told already)."""
    requester = get_employee(session, employee_id=approval.requester_id)
    requester_chat_id = chat_id_of(session, requester, find_chat_id, looked_up)  # ChatUnavailable: claimed next round
    if not claim_stranded_notice(session, approval_id=approval.id, step=approval.step, now=moment):
        return None
    log.warning("approval #%s waits for %s <%s>, who has no Slack account the bot can reach: no card was sent. "
                "They can decide with `backoffice approvals approve|deny %s --as %s`, or set their slack_user_id in "
                "the people CSV and import it.", approval.id, approver.name, approver.email, approval.id, approver.email)
    text = (f"Your request \"{approval.summary}\" (approval #{approval.id}) is waiting for {approver.name}, who has no "
            "Slack account I can reach, so I could not send them the approval card. Please let them know: they can "
            "still decide it from the back-office command line, and an admin can link their Slack account in the "
            "people directory, after which the card goes to them.")
    return Stranded(approval.id, requester_chat_id, text)


def _card(session: Any, approval: Approval, card_id: int, approver_chat_id: str) -> Card:
    requester = get_employee(session, employee_id=approval.requester_id)
    step = approval.chain[approval.step]
    return Card(card_id=card_id, approval_id=approval.id, step=approval.step + 1, steps=len(approval.chain), kind=approval.kind,
                summary=approval.summary, facts=dict(approval.facts), requester=requester.name, approver_chat_id=approver_chat_id,
                note=str(step.get("note") or ""))


def _with_citation(container: Container, card: Card) -> Card:
    """Add the policy clause that applies, when the knowledge base has one (a card never fails for lack of it)."""
    template = CLAUSE_QUERIES.get(card.kind)
    if template is None:
        return card
    question = template.format(leave_type=card.facts.get("leave_type", ""), category=card.facts.get("category", ""))
    try:
        found = container.knowledge.lookup(question, roles=frozenset({"manager", "hr", "finance", "it"}), k=3)
    except Exception:  # noqa: BLE001 - no knowledge base (or it is down): the card goes out without a clause
        return card
    if not found.covered or not found.quotes:
        return card
    quote = found.quotes[0]
    return Card(**{**card.__dict__, "citation": Citation(quote.text, cite(quote))})


def release_card(container: Container, *, card_id: int) -> None:
    """A card Slack did not take for now (rate limit, outage) is claimed again by the next delivery round."""
    with transaction(container.session_factory) as session:
        release_approval_card(session, card_id=card_id)


def record_card_posted(container: Container, *, card_id: int, channel: str, message_ts: str) -> None:
    """Remember where a card was posted, so the decision can close it in place."""
    with transaction(container.session_factory) as session:
        record_card_message(session, card_id=card_id, channel=channel, message_ts=message_ts)


@dataclass(frozen=True)
class Settled:
    """Decisions to show in chat, whichever path made them: cards to close and requesters to tell."""

    close: list[tuple[str, str, int, DecisionOutcome]] = field(default_factory=list)  # (channel, message ts, approval id, outcome)
    tell: list[DecisionOutcome] = field(default_factory=list)  # final decisions, each told to its requester once


def claim_settled(container: Container, *, find_chat_id: Callable[[str], str | None] = lambda email: None,
                  now: datetime | None = None) -> Settled:
    """Claim every open card of a decided step and every untold final decision (each claimed by one worker only).

    A requester whose chat account is not linked yet (they filed from the CLI and never wrote to the bot) is looked
    up by email (`find_chat_id`) and linked, so the decision still reaches them.
    """
    moment = now or utcnow()
    settled = Settled()
    looked_up: dict[str, str | None] = {}
    with transaction(container.session_factory) as session:
        for card, approval in list_cards_to_close(session):
            if claim_card_closing(session, card_id=card.id, now=moment):
                settled.close.append((card.channel, card.message_ts, approval.id, _decision_of(session, approval, card.step)))
        for approval in list_untold_decisions(session):
            try:
                chat_id_of(session, get_employee(session, employee_id=approval.requester_id), find_chat_id, looked_up)
            except ChatUnavailable:
                continue  # told next round, when the chat service can say who they are
            if claim_decision_notice(session, approval_id=approval.id, now=moment):
                settled.tell.append(_decision_of(session, approval, approval.step))
    return settled


def _decision_of(session: Any, approval: Approval, step: int) -> DecisionOutcome:
    """Describe what became of one step of an approval: decided later in the chain, or the approval's end."""
    if approval.status == "pending":  # this step was approved; a later one waits
        decision = next((d for d in list_decisions(session, approval_id=approval.id) if d.step == step), None)
        by = get_employee(session, employee_id=decision.decided_by_id).name if decision is not None else ""
        return DecisionOutcome(decided=True, text=f"Step {step + 1} of {len(approval.chain)} approved; the next step is with "
                               f"{approval.chain[approval.step].get('approver', 'the next approver')}.", status="pending",
                               summary=approval.summary, decided_by=by)
    decider = get_employee(session, employee_id=approval.decided_by_id) if approval.decided_by_id else None
    requester = get_employee(session, employee_id=approval.requester_id)
    return DecisionOutcome(decided=True, text="", status=approval.status, summary=approval.summary,
                           decided_by=decider.name if decider else "", reason=approval.reason,
                           requester_chat_id=requester.slack_user_id)


def why_not_decidable(container: Container, *, actor_id: int, approval_id: int, step: int | None = None,
                      now: datetime | None = None) -> str | None:
    """Return why this person cannot decide this approval step now (decided already, not theirs), or None when they
    can: asked before the deny form opens, so nobody types a reason for a decision that cannot be made."""
    args: dict[str, Any] = {"approval_id": approval_id, "decision": "approve"}  # the same checks as a denial, no reason yet
    try:
        container.pipeline.run("preview_decision", {**args, "step": step} if step is not None else args, actor_id=actor_id, now=now)
    except Exception as error:  # noqa: BLE001 - the approver reads why
        return error_text(error)
    return None


def decide_from_card(container: Container, *, actor_id: int, approval_id: int, decision: str, reason: str = "",
                     step: int | None = None, now: datetime | None = None) -> DecisionOutcome:
    """Record an approver's decision through the pipeline; a repeat or a refusal decides nothing.

    What the decision changes in chat (closed cards, the requester's notice) is claimed by claim_settled.
    """
    try:
        args = {"approval_id": approval_id, "decision": decision, "reason": reason}
        result = container.pipeline.run("decide_approval", {**args, "step": step} if step is not None else args,
                                        actor_id=actor_id, now=now)
    except Exception as error:  # noqa: BLE001 - the approver reads why; nothing was decided
        return DecisionOutcome(decided=False, text=error_text(error))
    return DecisionOutcome(decided=True, text=result.message)
