"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base, UTCDateTime, utcnow


class AuditRecord(Base):
    """One state change: who did what to which record, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(100), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit record."""


@event.listens_for(AuditRecord, "before_update")
def _refuse_update(_mapper: object, _connection: object, target: AuditRecord) -> None:
    raise AuditTrailIsAppendOnly(f"audit record {target.id} cannot be changed")


@event.listens_for(AuditRecord, "before_delete")
def _refuse_delete(_mapper: object, _connection: object, target: AuditRecord) -> None:
    raise AuditTrailIsAppendOnly(f"audit record {target.id} cannot be deleted")
