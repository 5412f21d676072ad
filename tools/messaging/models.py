"""Tables of the chat adapter's bookkeeping, kept with the rest of the data so restarts and replicas agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow


class HandledEvent(Base):
    """An incoming chat event (Slack event id) that was taken for handling; a retry of it is skipped."""

    __tablename__ = "handled_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApprovalCard(Base):
    """The message that asked an approver to decide one step of an approval, so it can be updated in place."""

    __tablename__ = "approval_cards"
    __table_args__ = (UniqueConstraint("approval_id", "step", name="uq_approval_card_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64), default="")
    message_ts: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # shown as decided, buttons gone


class DecisionNotice(Base):
    """The requester was told the final decision on an approval (claimed once, whichever path decided it)."""

    __tablename__ = "decision_notices"

    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StrandedNotice(Base):
    """One approval step's approver has no chat account, and the requester was told (once), so nobody waits in silence.

    The step is not looked up again until the approver's account is linked (a directory import, their first message).
    """

    __tablename__ = "stranded_notices"

    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
