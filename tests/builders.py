"""Small builders for test rows: people and a company with every role the rules care about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from assistant.container import Container
from tests.conftest import NOW
from tools.db import transaction
from tools.people.models import Employee, Role


def add_employee(
    session: Session,
    email: str,
    *,
    roles: tuple[Role, ...] = (),
    manager: Employee | None = None,
    country: str = "US",
    active: bool = True,
    annual_leave_days: Decimal | None = None,
    slack_user_id: str | None = None,
) -> Employee:
    """Add one employee and return it."""
    person = Employee(
        email=email,
        name=email.split("@")[0].replace(".", " ").title(),
        roles_text=";".join(sorted({Role.EMPLOYEE.value, *(r.value for r in roles)})),
        manager_id=manager.id if manager else None,
        country=country,
        active=active,
        annual_leave_days=annual_leave_days,
        slack_user_id=slack_user_id,
        department="Test",
    )
    session.add(person)
    session.flush()
    return person


@dataclass(frozen=True)
class Company:
    """Ids of the people in the test company, by the part they play."""

    ceo: int
    manager: int
    requester: int
    colleague: int
    other_manager: int
    other_report: int
    hr: int
    finance: int
    it: int
    admin: int
    inactive: int

    def email(self, key: str) -> str:
        """Return the email of the person playing `key`."""
        return f"{key.replace('_', '.')}@example.com"


def make_company(container: Container, *, annual_leave_days: Decimal | None = None) -> Company:
    """Create a small company: a CEO, two managers with reports, HR, finance, IT, an admin, an inactive person."""
    with transaction(container.session_factory) as session:
        ceo = add_employee(session, "ceo@example.com", roles=(Role.MANAGER,))
        hr = add_employee(session, "hr@example.com", roles=(Role.HR,), manager=ceo)
        finance = add_employee(session, "finance@example.com", roles=(Role.FINANCE,), manager=ceo)
        it = add_employee(session, "it@example.com", roles=(Role.IT,), manager=ceo)
        admin = add_employee(session, "admin@example.com", roles=(Role.ADMIN,), manager=ceo)
        manager = add_employee(session, "manager@example.com", roles=(Role.MANAGER,), manager=ceo)
        other_manager = add_employee(session, "other.manager@example.com", roles=(Role.MANAGER,), manager=ceo)
        requester = add_employee(session, "requester@example.com", manager=manager, annual_leave_days=annual_leave_days)
        colleague = add_employee(session, "colleague@example.com", manager=manager)
        other_report = add_employee(session, "other.report@example.com", manager=other_manager)
        inactive = add_employee(session, "inactive@example.com", manager=manager, active=False)
        return Company(ceo=ceo.id, manager=manager.id, requester=requester.id, colleague=colleague.id,
                       other_manager=other_manager.id, other_report=other_report.id, hr=hr.id, finance=finance.id,
                       it=it.id, admin=admin.id, inactive=inactive.id)


def run(container: Container, tool: str, args: dict, actor: int, *, now: datetime = NOW) -> dict:
    """Run one tool through the pipeline as `actor` (at the tests' fixed now) and return its data."""
    return container.pipeline.run(tool, args, actor_id=actor, now=now).data


def uploaded_receipt(container: Container, name: str = "receipt.pdf") -> str:
    """Put a receipt file in the uploads folder, as an upload would, and return its reference."""
    container.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    (container.settings.uploads_dir / name).write_bytes(b"%PDF-1.4 test receipt")
    return f"uploads/{name}"
