"""Default leave types and expense categories, created once so a new install is usable at once."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.expenses.models import ExpenseCategory
from tools.leave.models import LeaveType


def create_default_catalog(session: Session) -> list[str]:
    """Create the default leave types and expense categories that are missing; return what was created."""
    defaults = tomllib.loads(resources.files("tools").joinpath("defaults.toml").read_text(encoding="utf-8"))
    existing_types = set(session.scalars(select(LeaveType.code)))
    existing_categories = set(session.scalars(select(ExpenseCategory.code)))
    created: list[str] = []
    for raw in defaults["leave_types"]:
        if raw["code"] not in existing_types:
            allowance = raw.get("yearly_allowance")
            session.add(LeaveType(code=raw["code"], name=raw["name"], requires_approval=raw["requires_approval"],
                                  yearly_allowance=Decimal(allowance) if allowance is not None else None))
            created.append(f"leave_type:{raw['code']}")
    for raw in defaults["expense_categories"]:
        if raw["code"] not in existing_categories:
            session.add(ExpenseCategory(code=raw["code"], name=raw["name"], per_claim_limit=Decimal(raw["per_claim_limit"]),
                                        receipt_required_over=Decimal(raw["receipt_required_over"])))
            created.append(f"expense_category:{raw['code']}")
    session.flush()
    if created:
        record_audit(session, actor=None, action="catalog.created", subject="catalog", details={"created": created})
    return created
