"""Judging a scenario by the final database state: the rows it created, the records it changed, balances, writes.

A scenario's `expect` names, per table, the rows the conversation must have created (in creation order; only the
listed fields are compared, a field ending in `_contains` is a case-insensitive substring). A table it does not
name must have no new rows. `records` checks existing rows by id, `balances` checks leave balances, and
`nothing_written` insists that no tool wrote anything at all (the audit trail, which every write extends, did not grow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.container import Container
from tools.approvals.models import Approval
from tools.audit.models import AuditRecord
from tools.expenses.models import ExpenseCategory, ExpenseClaim
from tools.helpdesk.models import Ticket, TicketComment
from tools.leave.models import LeaveRequest, LeaveType
from tools.leave.service import list_balances
from tools.people.models import Employee

CONTAINS = "_contains"
TABLES: dict[str, type[Any]] = {
    "leave_requests": LeaveRequest,
    "expense_claims": ExpenseClaim,
    "tickets": Ticket,
    "ticket_comments": TicketComment,
    "approvals": Approval,
}
FIELDS: dict[str, frozenset[str]] = {
    "leave_requests": frozenset({"id", "requester", "leave_type", "start_date", "end_date", "half_day", "working_days", "status",
                                 "note"}),
    "expense_claims": frozenset({"id", "requester", "amount", "currency", "amount_company", "category", "expense_date", "merchant",
                                 "description", "receipt", "status", "note"}),
    "tickets": frozenset({"id", "requester", "assignee", "summary", "description", "category", "priority", "status", "system",
                          "queue"}),
    "ticket_comments": frozenset({"id", "ticket", "author", "body"}),
    "approvals": frozenset({"id", "kind", "tool", "subject", "requester", "approver", "chain", "step", "steps", "status",
                            "reason", "decided_by"}),
}
BALANCE_KEYS = frozenset({"employee", "leave_type", "year"})
BALANCE_FIELDS = frozenset({"allowance", "taken", "reserved", "available"})
# The fields that identify a row in a message about an unexpected one.
LABEL_FIELDS = {
    "leave_requests": ("requester", "leave_type", "start_date", "end_date", "status"),
    "expense_claims": ("requester", "amount", "currency", "category", "merchant", "status"),
    "tickets": ("requester", "queue", "summary", "status"),
    "ticket_comments": ("ticket", "author", "body"),
    "approvals": ("kind", "requester", "approver", "status"),
}


def field_problem(table: str, field: str) -> str | None:
    """Return why `field` cannot be expected of a row of `table`, or None when it can."""
    name = field.removesuffix(CONTAINS)
    if name not in FIELDS[table]:
        return f"{table} rows have no field '{field}' (fields: {', '.join(sorted(FIELDS[table]))}; add {CONTAINS} for a substring)"
    return None


@dataclass(frozen=True)
class Snapshot:
    """Where the database stood when the conversation began."""

    last_ids: dict[str, int]
    audit_records: int


def take_snapshot(container: Container) -> Snapshot:
    """Record the last id of every tracked table and the length of the audit trail."""
    with container.session_factory() as session:
        last_ids = {name: int(session.scalar(select(func.max(model.id))) or 0) for name, model in TABLES.items()}
        audit = int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)
    return Snapshot(last_ids=last_ids, audit_records=audit)


@dataclass(frozen=True)
class _Names:
    """Ids turned into the names scenarios use: emails, leave type codes, expense category codes."""

    emails: dict[int, str]
    leave_types: dict[int, str]
    categories: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> _Names:
        return cls(emails=dict(session.execute(select(Employee.id, Employee.email)).all()),
                   leave_types=dict(session.execute(select(LeaveType.id, LeaveType.code)).all()),
                   categories=dict(session.execute(select(ExpenseCategory.id, ExpenseCategory.code)).all()))

    def email(self, employee_id: int | None) -> str | None:
        return None if employee_id is None else self.emails.get(employee_id)


def _leave_view(row: LeaveRequest, names: _Names) -> dict[str, Any]:
    return {"id": row.id, "requester": names.email(row.employee_id), "leave_type": names.leave_types.get(row.leave_type_id),
            "start_date": row.start_date, "end_date": row.end_date, "half_day": row.half_day, "working_days": row.working_days,
            "status": row.status, "note": row.note}


def _claim_view(row: ExpenseClaim, names: _Names) -> dict[str, Any]:
    return {"id": row.id, "requester": names.email(row.employee_id), "amount": row.amount, "currency": row.currency,
            "amount_company": row.amount_company, "category": names.categories.get(row.category_id),
            "expense_date": row.expense_date, "merchant": row.merchant, "description": row.description,
            "receipt": row.receipt_path, "status": row.status, "note": row.note}


def _ticket_view(row: Ticket, names: _Names) -> dict[str, Any]:
    return {"id": row.id, "requester": names.email(row.requester_id), "assignee": names.email(row.assignee_id),
            "summary": row.summary, "description": row.description, "category": row.category, "priority": row.priority,
            "status": row.status, "system": row.system, "queue": row.queue}


def _comment_view(row: TicketComment, names: _Names) -> dict[str, Any]:
    return {"id": row.id, "ticket": row.ticket_id, "author": names.email(row.author_id), "body": row.body}


def _approval_view(row: Approval, names: _Names) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "tool": row.tool, "subject": row.subject, "requester": names.email(row.requester_id),
            "approver": names.email(row.approver_id), "chain": [step.get("approver") for step in row.chain], "step": row.step + 1, "steps": len(row.chain), "status": row.status,
            "reason": row.reason, "decided_by": names.email(row.decided_by_id)}


VIEWS: dict[str, Callable[[Any, _Names], dict[str, Any]]] = {
    "leave_requests": _leave_view, "expense_claims": _claim_view, "tickets": _ticket_view,
    "ticket_comments": _comment_view, "approvals": _approval_view,
}


def _same(actual: Any, expected: Any) -> bool:
    """Compare a stored value with a scenario's JSON value: numbers as decimals, dates as ISO text."""
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual == expected
    if isinstance(actual, list) or isinstance(expected, list):
        return isinstance(actual, list) and isinstance(expected, list) and [str(a) for a in actual] == [str(e) for e in expected]
    if isinstance(actual, (Decimal, int)):
        try:
            return Decimal(str(expected)) == Decimal(actual)
        except InvalidOperation:
            return False
    if isinstance(actual, date):
        return actual.isoformat() == str(expected)
    return str(actual) == str(expected)


def _shown(value: Any) -> str:
    if isinstance(value, (Decimal, date)):
        return str(value)
    return repr(value)


def compare_fields(view: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Return one line per expected field the row does not match."""
    problems = []
    for field, wanted in expected.items():
        if field.endswith(CONTAINS):
            name = field.removesuffix(CONTAINS)
            actual = view[name]
            if not isinstance(actual, str) or str(wanted).lower() not in actual.lower():
                problems.append(f"{name} is {_shown(actual)}, expected it to contain {wanted!r}")
        elif not _same(view[field], wanted):
            problems.append(f"{field} is {_shown(view[field])}, expected {_shown(wanted)}")
    return problems


def _label(table: str, view: dict[str, Any]) -> str:
    return f"#{view['id']} " + " ".join(_shown(view[field]) for field in LABEL_FIELDS[table])


def _new_rows(session: Session, names: _Names, before: Snapshot, expect: dict[str, Any]) -> list[str]:
    problems = []
    for table, model in TABLES.items():
        wanted: list[dict[str, Any]] = expect.get(table) or []
        rows = session.scalars(select(model).where(model.id > before.last_ids[table]).order_by(model.id)).all()
        views = [VIEWS[table](row, names) for row in rows]
        if len(views) != len(wanted):
            found = "; ".join(_label(table, view) for view in views[:5]) or "none"
            problems.append(f"{table}: expected {len(wanted)} new row(s), found {len(views)} ({found})")
            continue
        for number, (view, fields) in enumerate(zip(views, wanted), start=1):
            problems.extend(f"{table} new row {number} (#{view['id']}): {line}" for line in compare_fields(view, fields))
    return problems


def _records(session: Session, names: _Names, expect: dict[str, Any]) -> list[str]:
    problems = []
    for record in expect.get("records") or []:
        table, record_id = record["table"], record["id"]
        row = session.get(TABLES[table], int(record_id))
        if row is None:
            problems.append(f"{table} #{record_id} does not exist")
            continue
        fields = {key: value for key, value in record.items() if key not in ("table", "id")}
        problems.extend(f"{table} #{record_id}: {line}" for line in compare_fields(VIEWS[table](row, names), fields))
    return problems


def _balances(session: Session, expect: dict[str, Any]) -> list[str]:
    problems = []
    for wanted in expect.get("balances") or []:
        employee = session.scalar(select(Employee).where(Employee.email == wanted["employee"]))
        if employee is None:
            problems.append(f"balance: nobody has the email {wanted['employee']}")
            continue
        leave_type, year = wanted.get("leave_type", "annual"), int(wanted["year"])
        balance = next((b for b in list_balances(session, employee=employee, year=year) if b.leave_type == leave_type), None)
        if balance is None:
            problems.append(f"balance: there is no leave type '{leave_type}'")
            continue
        view = {"allowance": balance.allowance, "taken": balance.taken, "reserved": balance.reserved, "available": balance.available}
        fields = {key: value for key, value in wanted.items() if key in BALANCE_FIELDS}
        problems.extend(f"{wanted['employee']} {leave_type} {year} balance: {line}" for line in compare_fields(view, fields))
    return problems


def _audit(session: Session, before: Snapshot, expect: dict[str, Any]) -> list[str]:
    if not expect.get("nothing_written"):
        return []
    actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.id).offset(before.audit_records)).all()
    return [f"expected nothing written, but the audit trail grew by {', '.join(actions)}"] if actions else []


def check_expectations(container: Container, expect: dict[str, Any], before: Snapshot) -> str | None:
    """Return why the database does not hold what `expect` describes, or None when it does."""
    with container.session_factory() as session:
        try:
            names = _Names.load(session)
            problems = [*_new_rows(session, names, before, expect), *_records(session, names, expect),
                        *_balances(session, expect), *_audit(session, before, expect)]
        finally:
            session.rollback()  # reading a balance may create this year's allocation row: keep the check read-only
    return "; ".join(problems) or None
