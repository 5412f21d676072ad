"""Expenses: categories with limits, and claims."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow

MONEY = Numeric(14, 2)


class ClaimStatus(StrEnum):
    """Where an expense claim stands."""

    SUBMITTED = "submitted"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    REIMBURSED = "reimbursed"


class ExpenseCategory(Base):
    """A kind of spending with a per-claim limit and a receipt threshold, both in the company currency."""

    __tablename__ = "expense_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    per_claim_limit: Mapped[Decimal] = mapped_column(MONEY)
    receipt_required_over: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ExpenseClaim(Base):
    """A request to be reimbursed for one expense."""

    __tablename__ = "expense_claims"
    __table_args__ = (CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("expense_categories.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    amount_company: Mapped[Decimal] = mapped_column(MONEY)
    expense_date: Mapped[date] = mapped_column(Date)
    merchant: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    receipt_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.SUBMITTED.value, index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
