"""Queries and rules about people: lookup, reporting lines, role holders, directory import."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.errors import ErrorCode, ToolError
from tools.people.models import Employee, Role


def get_employee_by_email(session: Session, *, email: str) -> Employee:
    """Return the employee with this email or refuse with NOT_FOUND."""
    employee = session.scalar(select(Employee).where(Employee.email == email.strip().lower()))
    if employee is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No employee with email {email}.")
    return employee


def get_employee(session: Session, *, employee_id: int) -> Employee:
    """Return the employee with this id or refuse with NOT_FOUND."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No employee with id {employee_id}.")
    return employee


def get_employee_by_slack_id(session: Session, *, slack_user_id: str) -> Employee | None:
    """Return the employee linked to this Slack user, if any."""
    return session.scalar(select(Employee).where(Employee.slack_user_id == slack_user_id))


def lock_employee(session: Session, *, employee_id: int) -> None:
    """Serialize concurrent writers for one employee (row lock on PostgreSQL; SQLite already serializes)."""
    # FOR NO KEY UPDATE, not FOR UPDATE: rows that merely reference the employee (their FK check takes FOR KEY
    # SHARE) must not queue behind it, or approving one request while the person files the next deadlocks.
    session.execute(select(Employee.id).where(Employee.id == employee_id).with_for_update(key_share=True))


def list_employees(session: Session, *, active_only: bool = False) -> list[Employee]:
    """Return everyone in the directory, ordered by email."""
    query = select(Employee).order_by(Employee.email)
    if active_only:
        query = query.where(Employee.active.is_(True))
    return list(session.scalars(query))


def list_role_holders(session: Session, *, role: Role) -> list[Employee]:
    """Return active employees holding `role`, the longest-standing first (earliest start date; unknown ones last)."""
    people = session.scalars(select(Employee).where(Employee.active.is_(True)).order_by(Employee.id))
    holders = [person for person in people if role in person.roles]
    return sorted(holders, key=lambda person: (person.start_date is None, person.start_date or date.min))


def is_in_reporting_line(session: Session, *, manager: Employee, employee: Employee) -> bool:
    """Return True when `manager` is above `employee` in the reporting line (directly or not)."""
    seen: set[int] = set()
    current = employee.manager_id
    while current is not None and current not in seen:
        if current == manager.id:
            return True
        seen.add(current)
        current = session.scalar(select(Employee.manager_id).where(Employee.id == current))
    return False


def record_slack_link(session: Session, *, employee: Employee, slack_user_id: str, found_by: str) -> None:
    """Link an employee to their Slack account (found by email), with the audit record of the change."""
    previous = employee.slack_user_id
    employee.slack_user_id = slack_user_id
    record_audit(session, actor=None, action="link_slack_user", subject=f"employee:{employee.id}",
                 details={"slack_user_id": slack_user_id, "previous": previous, "by": found_by})
