"""Leave: types, yearly allocations, the ledger behind every balance, and requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow

DAYS = Numeric(6, 1)


class LeaveStatus(StrEnum):
    """Where a leave request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class HalfDay(StrEnum):
    """Which half of a single day is taken off."""

    AM = "am"
    PM = "pm"


class LedgerKind(StrEnum):
    """A movement of days on an allocation."""

    RESERVE = "reserve"  # pending request holds days
    RELEASE = "release"  # pending request rejected or cancelled
    TAKE = "take"  # reserved days become taken on approval
    RESTORE = "restore"  # approved future leave cancelled


class LeaveType(Base):
    """A kind of leave with its yearly allowance (None = no cap) and whether it needs approval."""

    __tablename__ = "leave_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    yearly_allowance: Mapped[Decimal | None] = mapped_column(DAYS, nullable=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=True)


class LeaveAllocation(Base):
    """Days one person may take of one type in one year; the counters mirror the ledger."""

    __tablename__ = "leave_allocations"
    __table_args__ = (
        UniqueConstraint("employee_id", "leave_type_id", "year", name="uq_leave_allocation"),
        CheckConstraint("taken >= 0 AND reserved >= 0", name="non_negative"),
        CheckConstraint("allowance IS NULL OR taken + reserved <= allowance", name="within_allowance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    leave_type_id: Mapped[int] = mapped_column(ForeignKey("leave_types.id"))
    year: Mapped[int] = mapped_column(Integer)
    allowance: Mapped[Decimal | None] = mapped_column(DAYS, nullable=True)
    taken: Mapped[Decimal] = mapped_column(DAYS, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(DAYS, default=Decimal("0"))


class LeaveRequest(Base):
    """A request for time off."""

    __tablename__ = "leave_requests"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="ordered_dates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    leave_type_id: Mapped[int] = mapped_column(ForeignKey("leave_types.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    half_day: Mapped[str | None] = mapped_column(String(2), nullable=True)
    working_days: Mapped[Decimal] = mapped_column(DAYS)
    status: Mapped[str] = mapped_column(String(16), default=LeaveStatus.PENDING.value, index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LeaveLedgerEntry(Base):
    """One movement of days; allocations' counters are derived from these."""

    __tablename__ = "leave_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("leave_allocations.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("leave_requests.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    days: Mapped[Decimal] = mapped_column(DAYS)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanyHoliday(Base):
    """A company-wide day off on top of the country's public holidays (country None = everyone)."""

    __tablename__ = "company_holidays"
    __table_args__ = (UniqueConstraint("day", "country", name="uq_company_holiday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
