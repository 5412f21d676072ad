"""Exactly-once handling of chat events, and the approval cards' bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tools.approvals.models import Approval, ApprovalStatus
from tools.messaging.models import ApprovalCard, DecisionNotice, HandledEvent, StrandedNotice
from tools.people.models import Employee

FINAL = (ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value, ApprovalStatus.FAILED.value)
Row = TypeVar("Row", HandledEvent, ApprovalCard, DecisionNotice, StrandedNotice)


def _insert_once(session: Session, row: Row) -> Row | None:
    """Insert a row whose key makes it a claim: the row for exactly one caller, None for everyone after (in a savepoint,
    so a lost race leaves the caller's transaction usable)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def record_event(session: Session, *, key: str, now: datetime) -> bool:
    """Take event `key` for handling: True the first time, False for any repeat (a retry, a duplicate)."""
    return _insert_once(session, HandledEvent(key=key[:200], received_at=now)) is not None


def list_approvals_without_card(session: Session, *, limit: int = 50) -> list[Approval]:
    """Return pending approvals whose current step has no card yet, oldest first.

    A step whose requester was told that its approver has no chat account is left out until the approver's account
    is linked, so it is not looked up again every round and never crowds newer steps out of the batch.
    """
    carded = select(ApprovalCard.id).where(ApprovalCard.approval_id == Approval.id, ApprovalCard.step == Approval.step)
    stranded = select(StrandedNotice.approval_id).where(StrandedNotice.approval_id == Approval.id,
                                                         StrandedNotice.step == Approval.step)
    linked = select(Employee.id).where(Employee.id == Approval.approver_id, Employee.slack_user_id.is_not(None),
                                       Employee.slack_user_id != "")
    query = (select(Approval).where(Approval.status == ApprovalStatus.PENDING.value, ~carded.exists(),
                                    or_(~stranded.exists(), linked.exists()))
             .order_by(Approval.id).limit(limit))
    return list(session.scalars(query))


def claim_stranded_notice(session: Session, *, approval_id: int, step: int, now: datetime) -> bool:
    """Claim telling a requester that a step's approver cannot be reached in chat: True for exactly one caller."""
    return _insert_once(session, StrandedNotice(approval_id=approval_id, step=step, sent_at=now)) is not None


def create_approval_card(session: Session, *, approval_id: int, step: int, now: datetime) -> ApprovalCard | None:
    """Claim the card of one approval step (None when another worker already claimed it)."""
    return _insert_once(session, ApprovalCard(approval_id=approval_id, step=step, created_at=now))


def release_approval_card(session: Session, *, card_id: int) -> None:
    """Give up the claim of a card that could not be posted, so the next delivery round sends it again."""
    card = session.get(ApprovalCard, card_id)
    if card is not None and not card.message_ts:
        session.delete(card)
        session.flush()


def forget_approval_card(session: Session, *, approval_id: int, step: int) -> None:
    """Drop the card of a step that went to another approver, so the next delivery round sends them one.

    The old card stays in the previous approver's DM; its buttons are refused, since the step is no longer theirs.
    """
    card = session.scalar(select(ApprovalCard).where(ApprovalCard.approval_id == approval_id, ApprovalCard.step == step))
    if card is not None:
        session.delete(card)
        session.flush()


def record_card_message(session: Session, *, card_id: int, channel: str, message_ts: str) -> None:
    """Remember where a card was posted so a decision can update it in place."""
    card = session.get(ApprovalCard, card_id)
    if card is not None:
        card.channel, card.message_ts = channel, message_ts
        session.flush()


def list_cards_to_close(session: Session, *, limit: int = 100) -> list[tuple[ApprovalCard, Approval]]:
    """Return posted cards still open although their step was decided (or the request withdrawn), oldest first."""
    query = (select(ApprovalCard, Approval).join(Approval, Approval.id == ApprovalCard.approval_id)
             .where(ApprovalCard.closed_at.is_(None), ApprovalCard.message_ts != "",
                    or_(Approval.status != ApprovalStatus.PENDING.value, Approval.step > ApprovalCard.step))
             .order_by(ApprovalCard.id).limit(limit))
    return [(card, approval) for card, approval in session.execute(query)]


def claim_card_closing(session: Session, *, card_id: int, now: datetime) -> bool:
    """Claim closing one card: True for exactly one caller, however many workers try."""
    result = session.execute(update(ApprovalCard).where(ApprovalCard.id == card_id, ApprovalCard.closed_at.is_(None))
                             .values(closed_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def list_untold_decisions(session: Session, *, limit: int = 100) -> list[Approval]:
    """Return approvals decided for good whose requester has not been told yet, oldest first."""
    told = select(DecisionNotice.approval_id).where(DecisionNotice.approval_id == Approval.id)
    return list(session.scalars(select(Approval).where(Approval.status.in_(FINAL), ~told.exists())
                                .order_by(Approval.id).limit(limit)))


def claim_decision_notice(session: Session, *, approval_id: int, now: datetime) -> bool:
    """Claim telling the requester of a decision: True for exactly one caller."""
    return _insert_once(session, DecisionNotice(approval_id=approval_id, sent_at=now)) is not None
