"""Approvals: a stored tool call waiting for named humans, and each step's decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow


class ApprovalStatus(StrEnum):
    """Where an approval stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"  # approved, but the stored call no longer passed its checks


class ApprovalKind(StrEnum):
    """What is being approved; the approval policy file has rules per kind."""

    LEAVE = "leave"
    EXPENSE = "expense"
    SYSTEM_ACCESS = "system_access"


class Decision(StrEnum):
    """An approver's answer."""

    APPROVE = "approve"
    DENY = "deny"


class Approval(Base):
    """A sensitive tool call stored for approval instead of running."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tool: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(100), index=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requester_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    chain: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.PENDING.value, index=True)
    reason: Mapped[str] = mapped_column(String(1000), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApprovalDecision(Base):
    """One step's decision; unique per step so a step is never decided twice."""

    __tablename__ = "approval_decisions"
    __table_args__ = (UniqueConstraint("approval_id", "step", name="uq_approval_decision_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
