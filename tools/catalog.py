"""Leave types, expense categories and company holidays: the bundled defaults, or the company's own catalog file.

Without a catalog file, `init` creates the default leave types and expense categories that are missing and never
changes existing rows. With one (BACKOFFICE_CATALOG_FILE), the file is the source of truth for what it names: rows it
lists are created or brought to its values (a change is audited), rows it does not list are left alone (nothing is
deleted: old requests and claims still point at them), and its holidays are added to the company calendar.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.errors import ErrorCode, ToolError
from tools.expenses.models import ExpenseCategory
from tools.leave.models import CompanyHoliday, LeaveType

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SECTIONS = {"leave_types": {"code", "name", "yearly_allowance", "requires_approval"},
             "expense_categories": {"code", "name", "per_claim_limit", "receipt_required_over"},
             "holidays": {"day", "name", "country"}}


@dataclass
class Catalog:
    """What a catalog file (or the defaults) holds, checked."""

    leave_types: list[dict[str, Any]] = field(default_factory=list)
    expense_categories: list[dict[str, Any]] = field(default_factory=list)
    holidays: list[dict[str, Any]] = field(default_factory=list)


def read_catalog(text: str, *, source: str) -> Catalog:
    """Parse and check a catalog; refuse with every problem named (the file is applied whole or not at all)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{source} is not valid TOML: {error}.") from error
    problems = [f"unknown section [{name}] (use {', '.join(_SECTIONS)})" for name in raw if name not in _SECTIONS]
    catalog = Catalog()
    for section, allowed in _SECTIONS.items():
        entries = raw.get(section, [])
        if not isinstance(entries, list):
            problems.append(f"{section} must be a list of [[{section}]] tables")
            continue
        seen: set[str] = set()
        for number, entry in enumerate(entries, 1):
            where = f"[[{section}]] #{number}"
            unknown = sorted(set(entry) - allowed)
            if unknown:
                problems.append(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
            checked, errors = _CHECKS[section](entry)
            problems += [f"{where}: {error}" for error in errors]
            key = str(checked.get("code") or f"{checked.get('day')}/{checked.get('country')}")
            if not errors and key in seen:
                problems.append(f"{where}: {key} is listed twice")
            seen.add(key)
            if not errors:
                getattr(catalog, section).append(checked)
    if problems:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{source} has problems, nothing was applied: " + "; ".join(problems) + ".")
    return catalog


def _number(value: Any, name: str, errors: list[str], *, low: Decimal, high: Decimal | None = None) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.append(f"{name} '{value}' is not a number")
        return None
    if not number.is_finite() or number < low or (high is not None and number > high):
        errors.append(f"{name} {value} is outside {low}-{high}" if high is not None else f"{name} {value} is below {low}")
        return None
    return number


def _code_and_name(entry: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    code, name = str(entry.get("code", "")).strip(), str(entry.get("name", "")).strip()
    if not _CODE.match(code):
        errors.append(f"code '{code}' must be lower-case letters, digits or _ (up to 32), starting with a letter")
    if not name or len(name) > 100:
        errors.append("name is required (up to 100 characters)")
    return {"code": code, "name": name}


def _leave_type(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    checked = _code_and_name(entry, errors)
    allowance = entry.get("yearly_allowance")
    checked["yearly_allowance"] = None if allowance is None else _number(allowance, "yearly_allowance", errors,
                                                                         low=Decimal(0), high=Decimal(366))
    approval = entry.get("requires_approval", True)
    if not isinstance(approval, bool):
        errors.append("requires_approval must be true or false")
    checked["requires_approval"] = approval
    return checked, errors


def _expense_category(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    checked = _code_and_name(entry, errors)
    if "per_claim_limit" not in entry:
        errors.append("per_claim_limit is required")
    checked["per_claim_limit"] = _number(entry.get("per_claim_limit", 0), "per_claim_limit", errors, low=Decimal("0.01"))
    checked["receipt_required_over"] = _number(entry.get("receipt_required_over", 0), "receipt_required_over", errors,
                                               low=Decimal(0))
    return checked, errors


def _holiday(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    day = entry.get("day")
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            errors.append(f"day '{day}' is not a YYYY-MM-DD date")
    name = str(entry.get("name", "")).strip()
    if not name or len(name) > 100:
        errors.append("name is required (up to 100 characters)")
    country = entry.get("country")
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", str(country)):
        errors.append(f"country '{country}' must be a two-letter ISO 3166 code (leave it out for everyone)")
    return {"day": day, "name": name, "country": str(country).upper() if country else None}, errors


_CHECKS = {"leave_types": _leave_type, "expense_categories": _expense_category, "holidays": _holiday}


def default_catalog() -> Catalog:
    """Return the bundled defaults (tools/defaults.toml)."""
    return read_catalog(resources.files("tools").joinpath("defaults.toml").read_text(encoding="utf-8"), source="defaults.toml")


@dataclass(frozen=True)
class CatalogChanges:
    """What applying a catalog did: rows created ("leave_type:annual") and fields changed ("... yearly_allowance -> 20")."""

    created: list[str]
    changed: list[str]


def create_default_catalog(session: Session, *, catalog_file: Path | None = None) -> CatalogChanges:
    """Create the default catalog rows that are missing or, with a catalog file, apply the file."""
    if catalog_file is None:
        return apply_catalog(session, default_catalog(), update=False)
    try:
        text = Path(catalog_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"The catalog file {catalog_file} could not be read: {error}.") from error
    return apply_catalog(session, read_catalog(text, source=str(catalog_file)), update=True)


def apply_catalog(session: Session, catalog: Catalog, *, update: bool) -> CatalogChanges:
    """Create the catalog's missing rows and, with `update`, bring existing ones to its values."""
    changed: list[str] = []
    types = {row.code: row for row in session.scalars(select(LeaveType))}
    for entry in catalog.leave_types:
        changed += _upsert(session, types.get(entry["code"]), LeaveType, entry, f"leave_type:{entry['code']}", update)
    categories = {row.code: row for row in session.scalars(select(ExpenseCategory))}
    for entry in catalog.expense_categories:
        changed += _upsert(session, categories.get(entry["code"]), ExpenseCategory, entry,
                           f"expense_category:{entry['code']}", update)
    holidays = {(row.day, row.country): row for row in session.scalars(select(CompanyHoliday))}
    for entry in catalog.holidays:
        changed += _upsert(session, holidays.get((entry["day"], entry["country"])), CompanyHoliday, entry,
                           f"holiday:{entry['day']}{'/' + entry['country'] if entry['country'] else ''}", update)
    session.flush()
    created = [line.removesuffix(" created") for line in changed if line.endswith(" created")]
    updated = [line for line in changed if not line.endswith(" created")]
    if changed:
        record_audit(session, actor=None, action="catalog.applied", subject="catalog",
                     details={"created": created, "changed": updated})
    return CatalogChanges(created, updated)


def _upsert(session: Session, row: Any, model: type, entry: dict[str, Any], label: str, update: bool) -> list[str]:
    if row is None:
        session.add(model(**entry))
        return [f"{label} created"]
    if not update:
        return []
    differences = [name for name, value in entry.items() if getattr(row, name) != value]
    for name in differences:
        setattr(row, name, entry[name])
    return [f"{label} {name} -> {entry[name]}" for name in differences]
