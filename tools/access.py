"""Who may see whose records: the owner, their reporting line, the domain's role, and admins."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from tools.errors import ErrorCode, ToolError
from tools.people.models import Employee, Role
from tools.people.service import is_in_reporting_line


class Domain(StrEnum):
    """A family of records with its own custodian role."""

    LEAVE = "leave"
    EXPENSES = "expenses"
    HELPDESK = "helpdesk"
    HR_CASES = "hr_cases"


CUSTODIAN = {Domain.LEAVE: Role.HR, Domain.EXPENSES: Role.FINANCE, Domain.HELPDESK: Role.IT, Domain.HR_CASES: Role.HR}
MANAGERS_SEE = {Domain.LEAVE, Domain.EXPENSES}


def can_view_records(session: Session, *, actor: Employee, owner: Employee, domain: Domain) -> bool:
    """Return True when the actor may read the owner's records in this domain."""
    if actor.id == owner.id or actor.has_role(Role.ADMIN, CUSTODIAN[domain]):
        return True
    return domain in MANAGERS_SEE and is_in_reporting_line(session, manager=actor, employee=owner)


def require_view(session: Session, *, actor: Employee, owner: Employee, domain: Domain, what: str) -> None:
    """Refuse with FORBIDDEN unless the actor may read the owner's records."""
    if not can_view_records(session, actor=actor, owner=owner, domain=domain):
        raise ToolError(ErrorCode.FORBIDDEN, f"You are not allowed to see {what}.")


def require_owner(*, actor: Employee, owner_id: int, what: str) -> None:
    """Refuse with FORBIDDEN unless the actor owns the record (for changes only the owner may make)."""
    if actor.id != owner_id:
        raise ToolError(ErrorCode.FORBIDDEN, f"Only the person who made {what} can change it.")
