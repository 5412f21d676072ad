"""People CSV import: validate every row first, then upsert the whole file in one transaction."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.errors import ErrorCode, ToolError
from tools.leave.calendar import is_supported_country
from tools.people.models import Employee, Role

REQUIRED_COLUMNS = ("email", "name", "slack_user_id", "manager_email", "department", "roles", "country", "start_date", "annual_leave_days")
OPTIONAL_COLUMNS = ("timezone", "active")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class PersonRow:
    """One validated CSV row."""

    line: int
    email: str
    name: str
    slack_user_id: str | None
    manager_email: str | None
    department: str
    roles: tuple[Role, ...]
    country: str
    start_date: date | None
    annual_leave_days: Decimal | None
    timezone: str | None
    active: bool


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


def _parse_row(line: int, raw: dict[str, str | None]) -> tuple[PersonRow | None, list[str]]:
    errors: list[str] = []
    value = {key: (raw.get(key) or "").strip() for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    email = value["email"].lower()
    if not EMAIL_PATTERN.match(email):
        errors.append(f"'{value['email']}' is not an email address")
    if not value["name"]:
        errors.append("name is empty")
    roles: list[Role] = []
    for part in filter(None, (p.strip().lower() for p in value["roles"].split(";"))):
        try:
            roles.append(Role(part))
        except ValueError:
            errors.append(f"unknown role '{part}' (use {', '.join(r.value for r in Role)})")
    country = value["country"].upper() or "US"
    if not is_supported_country(country):
        errors.append(f"unknown country '{value['country']}' (use an ISO 3166 code such as US, GB, DE)")
    start = None
    if value["start_date"]:
        try:
            start = date.fromisoformat(value["start_date"])
        except ValueError:
            errors.append(f"start_date '{value['start_date']}' is not a YYYY-MM-DD date")
    days = None
    if value["annual_leave_days"]:
        try:
            days = Decimal(value["annual_leave_days"])
            if not Decimal("0") <= days <= Decimal("366"):
                errors.append(f"annual_leave_days {days} is outside 0-366")
        except InvalidOperation:
            errors.append(f"annual_leave_days '{value['annual_leave_days']}' is not a number")
    zone = value["timezone"] or None
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(f"unknown time zone '{zone}'")
    active = value["active"].lower() not in {"false", "no", "0", "inactive"}
    if errors:
        return None, errors
    row = PersonRow(line, email, value["name"], value["slack_user_id"] or None, value["manager_email"].lower() or None,
                    value["department"], tuple(roles), country, start, days, zone, active)
    return row, []


def parse_people_csv(text: str) -> list[PersonRow]:
    """Parse and validate a people CSV; refuse the whole file, naming every bad row, if any row is bad."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ToolError(ErrorCode.INVALID_INPUT, f"The CSV is missing columns: {', '.join(missing)}.")
    rows: list[PersonRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    slack_ids: dict[str, int] = {}
    for index, raw in enumerate(reader):
        line = index + 2  # the header is line 1
        if index >= MAX_ROWS:
            raise ToolError(ErrorCode.INVALID_INPUT, f"The CSV has more than {MAX_ROWS} rows.")
        row, errors = _parse_row(line, raw)
        if row is not None:
            if row.email in seen:
                errors.append(f"{row.email} already appears on line {seen[row.email]}")
            if row.slack_user_id and row.slack_user_id in slack_ids:
                errors.append(f"Slack id {row.slack_user_id} already appears on line {slack_ids[row.slack_user_id]}")
            if row.manager_email == row.email:
                errors.append("an employee cannot be their own manager")
        if errors:
            problems.append(f"line {line}: " + "; ".join(errors))
            continue
        assert row is not None
        seen[row.email] = line
        if row.slack_user_id:
            slack_ids[row.slack_user_id] = line
        rows.append(row)
    if problems:
        raise ToolError(ErrorCode.INVALID_INPUT, "Nothing was imported. Fix these rows:\n" + "\n".join(problems),
                        details={"problems": problems})
    if not rows:
        raise ToolError(ErrorCode.INVALID_INPUT, "The CSV has no rows.")
    return rows


def _check_managers(session: Session, rows: list[PersonRow]) -> None:
    in_file = {row.email for row in rows}
    known = set(session.scalars(select(Employee.email)))
    problems = [
        f"line {row.line}: manager {row.manager_email} is neither in the file nor in the directory"
        for row in rows
        if row.manager_email and row.manager_email not in in_file | known
    ]
    if problems:
        raise ToolError(ErrorCode.INVALID_INPUT, "Nothing was imported. Fix these rows:\n" + "\n".join(problems),
                        details={"problems": problems})


def _apply(person: Employee, row: PersonRow) -> bool:
    fields = {
        "name": row.name, "slack_user_id": row.slack_user_id, "department": row.department,
        "roles_text": ";".join(sorted({r.value for r in row.roles} | {Role.EMPLOYEE.value})), "country": row.country,
        "timezone": row.timezone, "start_date": row.start_date, "annual_leave_days": row.annual_leave_days, "active": row.active,
    }
    changed = False
    for key, new in fields.items():
        if key == "slack_user_id" and new is None:
            continue  # keep a Slack id learned from Slack when the file has none
        if getattr(person, key) != new:
            setattr(person, key, new)
            changed = True
    return changed


def import_people(session: Session, *, rows: list[PersonRow]) -> ImportReport:
    """Upsert people by email and link managers; one audit record per created or changed person."""
    _check_managers(session, rows)
    by_email = {person.email: person for person in session.scalars(select(Employee))}
    created = updated = unchanged = 0
    touched: dict[str, str] = {}
    for row in rows:
        person = by_email.get(row.email)
        if person is None:
            person = Employee(email=row.email, name=row.name, roles_text=Role.EMPLOYEE.value)
            session.add(person)
            by_email[row.email] = person
            _apply(person, row)
            touched[row.email] = "created"
            created += 1
        elif _apply(person, row):
            touched[row.email] = "updated"
    session.flush()
    for row in rows:
        manager_id = by_email[row.manager_email].id if row.manager_email else None
        person = by_email[row.email]
        if person.manager_id != manager_id:
            person.manager_id = manager_id
            touched.setdefault(row.email, "updated")
    _refuse_cycles(by_email)
    session.flush()
    updated = sum(1 for action in touched.values() if action == "updated")
    unchanged = len(rows) - created - updated
    for email, action in touched.items():
        person = by_email[email]
        record_audit(session, actor=None, action=f"people.{action}", subject=f"employee:{person.id}",
                     details={"email": email, "roles": person.roles_text, "manager_id": person.manager_id, "active": person.active})
    return ImportReport(created=created, updated=updated, unchanged=unchanged)


def _refuse_cycles(by_email: dict[str, Employee]) -> None:
    by_id = {person.id: person for person in by_email.values()}
    for person in by_email.values():
        seen = {person.id}
        current = person.manager_id
        while current is not None:
            if current in seen:
                raise ToolError(ErrorCode.INVALID_INPUT, f"Nothing was imported: the reporting line of {person.email} loops back on itself.")
            seen.add(current)
            current = by_id[current].manager_id if current in by_id else None
