"""Employees: the people directory every other slice refers to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from tools.db import Base


class Role(StrEnum):
    """What a person may do beyond their own records."""

    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    FINANCE = "finance"
    IT = "it"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as a sentence names it: "HR", "IT", "finance"."""
        return self.value.upper() if self in (Role.HR, Role.IT) else self.value


class Employee(Base):
    """A person in the company directory."""

    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    department: Mapped[str] = mapped_column(String(100), default="")
    roles_text: Mapped[str] = mapped_column("roles", String(200), default=Role.EMPLOYEE.value)
    country: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Overrides the annual leave type's default allowance for this person when set.
    annual_leave_days: Mapped[Decimal | None] = mapped_column(Numeric(6, 1), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def roles(self) -> frozenset[Role]:
        """Return the person's roles; everyone is at least an employee."""
        parsed = {Role(part) for part in self.roles_text.split(";") if part}
        return frozenset(parsed | {Role.EMPLOYEE})

    def has_role(self, *roles: Role) -> bool:
        """Return True when the person holds any of `roles`."""
        return bool(self.roles & set(roles))

    def __repr__(self) -> str:
        return f"Employee({self.email!r})"
