"""Exactly-once handling of chat events, and the approval cards' bookkeeping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tools.approvals.models import Approval, ApprovalStatus
from tools.messaging.models import ApprovalCard, HandledEvent


def record_event(session: Session, *, key: str, now: datetime) -> bool:
    """Take event `key` for handling: True the first time, False for any repeat (a retry, a duplicate)."""
    try:
        with session.begin_nested():
            session.add(HandledEvent(key=key[:200], received_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def list_approvals_without_card(session: Session, *, limit: int = 50) -> list[Approval]:
    """Return pending approvals whose current step has no card yet, oldest first."""
    carded = select(ApprovalCard.id).where(ApprovalCard.approval_id == Approval.id, ApprovalCard.step == Approval.step)
    query = (select(Approval).where(Approval.status == ApprovalStatus.PENDING.value, ~carded.exists())
             .order_by(Approval.id).limit(limit))
    return list(session.scalars(query))


def create_approval_card(session: Session, *, approval_id: int, step: int, now: datetime) -> ApprovalCard | None:
    """Claim the card of one approval step (None when another worker already claimed it)."""
    try:
        with session.begin_nested():
            card = ApprovalCard(approval_id=approval_id, step=step, created_at=now)
            session.add(card)
            session.flush()
    except IntegrityError:
        return None
    return card


def record_card_message(session: Session, *, card_id: int, channel: str, message_ts: str) -> None:
    """Remember where a card was posted so a decision can update it in place."""
    card = session.get(ApprovalCard, card_id)
    if card is not None:
        card.channel, card.message_ts = channel, message_ts
        session.flush()


def list_approval_cards(session: Session, *, approval_id: int) -> list[ApprovalCard]:
    """Return the cards posted for an approval, one per step."""
    return list(session.scalars(select(ApprovalCard).where(ApprovalCard.approval_id == approval_id).order_by(ApprovalCard.step)))
