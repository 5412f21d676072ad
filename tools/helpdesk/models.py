"""Helpdesk: tickets and their comments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    """How urgent a ticket is; drives its SLA."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketCategory(StrEnum):
    """What a ticket is about."""

    HARDWARE = "hardware"
    SOFTWARE = "software"
    ACCESS = "access"
    NETWORK = "network"
    ACCOUNT = "account"
    OTHER = "other"


class TicketQueue(StrEnum):
    """Which team works a ticket."""

    IT = "it"
    HR = "hr"


class Ticket(Base):
    """An IT helpdesk ticket."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default=TicketCategory.OTHER.value)
    priority: Mapped[str] = mapped_column(String(16), default=TicketPriority.NORMAL.value)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.NEW.value, index=True)
    system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    queue: Mapped[str] = mapped_column(String(16), default=TicketQueue.IT.value, server_default=TicketQueue.IT.value)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketComment(Base):
    """A comment on a ticket."""

    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
