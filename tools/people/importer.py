"""People CSV import: validate every row first, then upsert the whole file in one transaction."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.leave.calendar import is_supported_country
from tools.leave.service import apply_annual_allowance, overbooked_years
from tools.numbers import days_number
from tools.people.models import Employee, Role

REQUIRED_COLUMNS = ("email", "name", "slack_user_id", "manager_email", "department", "roles", "country", "start_date", "annual_leave_days")
OPTIONAL_COLUMNS = ("timezone", "active")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ROWS = 100_000
ACTIVE_WORDS = frozenset({"true", "yes", "y", "1", "active"})
INACTIVE_WORDS = frozenset({"false", "no", "n", "0", "inactive"})
DELIMITERS = ",;\t"  # a spreadsheet saved in a comma-decimal locale separates with semicolons


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
    allowances_changed: int = 0  # people whose annual-leave allocations (this year and later) follow a new annual_leave_days
    approvals_rerouted: tuple[str, ...] = ()  # "approval #12 step 1: a@x -> b@x (why)", filled in by the caller
    approvals_waiting: tuple[str, ...] = ()  # "approval #12 step 2 (a@x): why nobody can take it", filled in by the caller
    requests_withdrawn: tuple[str, ...] = ()  # "approval #7 (leave) of a@x: ...": pending requests of people who left
    warnings: tuple[str, ...] = ()  # what keeps the approval policy from working as written, filled in by the caller


def two_letter_country(raw: str) -> str:
    """Return the ISO 3166 alpha-2 code of a country written as one ("us"), as three letters ("USA", "DEU") or as the
    UK; other text is returned upper-cased, for the caller to refuse. The holidays follow the two-letter code."""
    code = raw.strip().upper()
    if code == "UK":
        return "GB"
    if len(code) == 3 and code.isalpha():
        found = pycountry.countries.get(alpha_3=code)
        return found.alpha_2 if found is not None else code
    return code


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
    country = two_letter_country(value["country"]) or "US"
    if len(country) != 2 or not is_supported_country(country):
        errors.append(f"unknown country '{value['country']}' (use an ISO 3166 code such as US, GB, DE)")
    start = None
    if value["start_date"]:
        try:
            start = date.fromisoformat(value["start_date"])
        except ValueError:
            errors.append(f"start_date '{value['start_date']}' is not a YYYY-MM-DD date")
    days = None
    if value["annual_leave_days"]:
        try:  # "12,5" as a spreadsheet in a decimal-comma locale writes it (its cells are then ;-separated)
            days = Decimal(value["annual_leave_days"].replace(",", ".") if value["annual_leave_days"].count(",") == 1
                           and "." not in value["annual_leave_days"] else value["annual_leave_days"])
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
    active_text = value["active"].lower()
    active = active_text not in INACTIVE_WORDS
    if active_text and active_text not in INACTIVE_WORDS | ACTIVE_WORDS:
        errors.append(f"active '{value['active']}' is neither true nor false")
    if None in raw:  # DictReader keeps the cells past the header's last column under None
        errors.append("the row has more cells than the header has columns")
    short = [key for key, cell in raw.items() if key is not None and cell is None]  # DictReader's filler for absent cells
    if short:
        columns = len(raw) - (None in raw)
        errors.append(f"the row has {columns - len(short)} cells but the header has {columns} columns "
                      f"(missing: {', '.join(short)}); leave a cell empty with a separator")
    if errors:
        return None, errors
    row = PersonRow(line, email, value["name"], value["slack_user_id"] or None, value["manager_email"].lower() or None,
                    value["department"], tuple(roles), country, start, days, zone, active)
    return row, []


@dataclass(frozen=True)
class _ReadFile:
    rows: list[PersonRow]
    problems: list[tuple[int, str]]
    emails: set[str]  # every email in the file, bad rows included, so a manager on a bad row is not "unknown"
    notes: tuple[str, ...] = ()  # columns that were not read: unknown ("actve"), or given twice


# Other names spreadsheets give the columns ("E-mail", "Slack ID", "Role"), read as the column they name
HEADER_ALIASES = {"e_mail": "email", "email_address": "email", "work_email": "email", "full_name": "name",
                  "slack_id": "slack_user_id", "slack_user": "slack_user_id", "slack_member_id": "slack_user_id",
                  "manager_e_mail": "manager_email", "line_manager_email": "manager_email",
                  "role": "roles", "time_zone": "timezone", "tz": "timezone",
                  "annual_leave": "annual_leave_days", "leave_days": "annual_leave_days", "hire_date": "start_date"}


def _header_name(cell: str) -> str:
    """Return a header cell as the column it names: "Manager Email", " email ", "SLACK_USER_ID" and "E-mail" all count."""
    name = "_".join(cell.strip().lower().replace("-", " ").split())
    return HEADER_ALIASES.get(name, name)


def _read_people_csv(text: str) -> _ReadFile:
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if reader.fieldnames is not None:
        reader.fieldnames = [_header_name(cell) for cell in reader.fieldnames]
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        found = ", ".join(reader.fieldnames or []) or "nothing"
        raise ToolError(ErrorCode.INVALID_INPUT, f"The CSV is missing columns: {', '.join(missing)} (its header has {found}).")
    rows: list[PersonRow] = []
    problems: list[tuple[int, str]] = []
    emails: set[str] = set()
    seen: dict[str, int] = {}
    slack_ids: dict[str, int] = {}
    for index, raw in enumerate(reader):
        line = index + 2  # the header is line 1
        if index >= MAX_ROWS:
            raise ToolError(ErrorCode.INVALID_INPUT, f"The CSV has more than {MAX_ROWS} rows.")
        if not any((cell or "").strip() for key, cell in raw.items() if key is not None):
            continue  # a spreadsheet's trailing row of bare separators holds nobody
        emails.add((raw.get("email") or "").strip().lower())
        row, errors = _parse_row(line, raw)
        if row is not None:
            if row.email in seen:
                errors.append(f"{row.email} already appears on line {seen[row.email]}")
            if row.slack_user_id and row.slack_user_id in slack_ids:
                errors.append(f"Slack id {row.slack_user_id} already appears on line {slack_ids[row.slack_user_id]}")
            if row.manager_email == row.email:
                errors.append("an employee cannot be their own manager")
        if errors:
            problems.append((line, "; ".join(errors)))
            continue
        assert row is not None
        seen[row.email] = line
        if row.slack_user_id:
            slack_ids[row.slack_user_id] = line
        rows.append(row)
    return _ReadFile(rows, problems, emails, _column_notes(reader.fieldnames or []))


def _column_notes(header: list[str]) -> tuple[str, ...]:
    """Say which columns of the header were not read, so a typo ("actve") is not taken for a choice."""
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    notes = [f"column '{name}' is not one we read, so it was ignored (known: {', '.join(known)})"
             for name in dict.fromkeys(header) if name and name not in known]
    notes += [f"column '{name}' appears {header.count(name)} times; only the last one was read"
              for name in dict.fromkeys(header) if name in known and header.count(name) > 1]
    return tuple(notes)


def _refuse(problems: list[tuple[int, str]]) -> None:
    if problems:
        lines = [f"line {line}: {text}" for line, text in sorted(problems)]
        raise ToolError(ErrorCode.INVALID_INPUT, "Nothing was imported. Fix these rows:\n" + "\n".join(lines),
                        details={"problems": lines})


def parse_people_csv(text: str) -> list[PersonRow]:
    """Parse and validate a people CSV on its own; refuse the whole file, naming every bad row, if any row is bad.

    Managers and Slack ids are checked against the directory by `import_people`; `import_people_csv` does both in one pass.
    """
    read = _read_people_csv(text)
    _refuse(read.problems)
    if not read.rows:
        raise ToolError(ErrorCode.INVALID_INPUT, "The CSV has no rows.")
    return read.rows


def import_people_csv(session: Session, *, text: str, actor: Employee | None = None, today: date | None = None) -> ImportReport:
    """Validate a people CSV against itself and the directory, naming every bad row at once; upsert it or refuse it whole."""
    read = _read_people_csv(text)
    year = (today or utcnow().date()).year
    _refuse(read.problems + _directory_problems(session, read.rows, in_file=read.emails)
            + _allowance_problems(session, read.rows, from_year=year))
    if not read.rows:
        raise ToolError(ErrorCode.INVALID_INPUT, "The CSV has no rows.")
    report = import_people(session, rows=read.rows, actor=actor, today=today)
    return replace(report, warnings=read.notes + report.warnings)


def _directory_problems(session: Session, rows: list[PersonRow], *, in_file: set[str]) -> list[tuple[int, str]]:
    """Return what only the directory reveals: unknown managers, manager cycles, Slack ids held by someone else."""
    directory = session.execute(select(Employee.id, Employee.email, Employee.manager_id, Employee.slack_user_id)).all()
    email_of = {person_id: email for person_id, email, _, _ in directory}
    slack_holder = {slack_id: email for _, email, _, slack_id in directory if slack_id}
    manager_of = {email: email_of.get(manager_id) for _, email, manager_id, _ in directory}
    manager_of.update({row.email: row.manager_email for row in rows})
    problems = [
        (row.line, f"manager {row.manager_email} is neither in the file nor in the directory")
        for row in rows
        if row.manager_email and row.manager_email not in in_file and row.manager_email not in manager_of
    ]
    problems += [
        (row.line, f"Slack id {row.slack_user_id} already belongs to {slack_holder[row.slack_user_id]} in the directory")
        for row in rows
        if row.slack_user_id in slack_holder and slack_holder[row.slack_user_id] != row.email
    ]
    loops = _reporting_loops(manager_of)
    problems += [(row.line, f"the reporting line loops back on itself ({loops[row.email]})") for row in rows if row.email in loops]
    return problems


def _allowance_problems(session: Session, rows: list[PersonRow], *, from_year: int) -> list[tuple[int, str]]:
    """Return the rows whose annual_leave_days would leave a year (this one or later) with more days booked than allowed."""
    ids = dict(session.execute(select(Employee.email, Employee.id)).tuples().all())
    problems: list[tuple[int, str]] = []
    for row in rows:
        if row.email not in ids:
            continue  # someone new has nothing booked yet
        for year, allowance, used in overbooked_years(session, employee_id=ids[row.email], annual_leave_days=row.annual_leave_days,
                                                      from_year=from_year):
            problems.append((row.line, f"annual_leave_days {days_number(allowance)} is less than the {days_number(used)} days "
                                       f"{row.email} already has taken or booked in {year}"))
    return problems


def _reporting_loops(manager_of: dict[str, str | None]) -> dict[str, str]:
    """Return, for everyone inside a manager cycle, the cycle written out (each person has at most one manager)."""
    done: set[str] = set()
    loops: dict[str, str] = {}
    for start in manager_of:
        path: dict[str, int] = {}  # person -> position on this walk
        current: str | None = start
        while current is not None and current not in done and current not in path:
            path[current] = len(path)
            current = manager_of.get(current)
        if current is not None and current in path:
            cycle = [person for person, position in path.items() if position >= path[current]]
            loops.update(dict.fromkeys(cycle, " -> ".join([*cycle, current])))
        done.update(path)
    return loops


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


def import_people(session: Session, *, rows: list[PersonRow], actor: Employee | None = None, today: date | None = None) -> ImportReport:
    """Upsert people by email and link managers; one audit record per created or changed person (by `actor`, if any).

    A changed annual_leave_days applies to this year's allocation (the year of `today`, UTC's by default) and later ones.
    """
    _refuse(_directory_problems(session, rows, in_file={row.email for row in rows}))
    by_email = {person.email: person for person in session.scalars(select(Employee))}
    created = updated = unchanged = 0
    touched: dict[str, str] = {}
    new_allowance: list[Employee] = []
    for row in rows:
        person = by_email.get(row.email)
        if person is not None and person.annual_leave_days != row.annual_leave_days:
            new_allowance.append(person)
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
    session.flush()
    updated = sum(1 for action in touched.values() if action == "updated")
    unchanged = len(rows) - created - updated
    allowances = 0
    for person in new_allowance:  # this year and later follow the new figure; a year already over it refuses the file
        changes = apply_annual_allowance(session, employee=person, from_year=(today or utcnow().date()).year)
        allowances += bool(changes)  # people, however many of their years moved
        for year, allowance in changes:
            record_audit(session, actor=actor, action="leave.allowance_changed", subject=f"employee:{person.id}",
                         details={"year": year, "leave_type": "annual", "allowance": days_number(allowance)})
    for email, action in touched.items():
        person = by_email[email]
        record_audit(session, actor=actor, action=f"people.{action}", subject=f"employee:{person.id}",
                     details={"email": email, "roles": person.roles_text, "manager_id": person.manager_id, "active": person.active})
    return ImportReport(created=created, updated=updated, unchanged=unchanged, allowances_changed=allowances)
