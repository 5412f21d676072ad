"""Writing and reading the audit trail. There is deliberately no update or delete here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.models import AuditRecord
from tools.people.models import Employee


def record_audit(
    session: Session, *, actor: Employee | None, action: str, subject: str, details: dict[str, Any] | None = None
) -> AuditRecord:
    """Append one audit record for one state change."""
    record = AuditRecord(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        subject=subject,
        details=details or {},
    )
    session.add(record)
    session.flush()
    return record


def list_audit(session: Session, *, limit: int = 200, subject: str | None = None) -> list[AuditRecord]:
    """Return the newest audit records first."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if subject:
        query = query.where(AuditRecord.subject == subject)
    return list(session.scalars(query))
