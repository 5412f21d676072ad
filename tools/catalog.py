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
from datetime import date, datetime
from functools import cache
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.audit.service import record_audit
from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.expenses.models import ExpenseCategory
from tools.leave.models import CompanyHoliday, LeaveType
from tools.leave.service import apply_type_allowance

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
POLICY_KEYS = {"company_currency", "approvers", "exchange_rates", "sla_hours", "rules"}
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
    problems = [f"unknown section [{name}] (a catalog has {', '.join(_SECTIONS)}"
                + ("; company_currency, approvers and rules belong in the approval policy file" if name in POLICY_KEYS else "")
                + ")" for name in raw if name not in _SECTIONS]
    catalog = Catalog()
    for section, allowed in _SECTIONS.items():
        entries = raw.get(section, [])
        if not isinstance(entries, list):
            problems.append(f"{section} must be a list of [[{section}]] tables")
            continue
        seen: set[str] = set()
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                problems.append(f"{section} entry {number} ({entry!r}) must be a [[{section}]] table with its keys")
                continue
            where = f"[[{section}]] {entry.get('code') or entry.get('day') or f'#{number}'}"
            unknown = sorted(set(entry) - allowed)
            if unknown:
                problems.append(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
            checked, errors = _CHECKS[section](entry)
            problems += [f"{where}: {error}" for error in errors]
            key = str(checked.get("code") or f"{checked.get('day')}{' in ' + checked['country'] if checked.get('country') else ''}")
            if not errors and key in seen:
                problems.append(f"{where}: {key} is listed twice")
            seen.add(key)
            if not errors:
                getattr(catalog, section).append(checked)
    if problems:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{source} has problems, nothing was applied: " + "; ".join(problems) + ".")
    return catalog


def _number(value: Any, name: str, errors: list[str], *, low: Decimal, high: Decimal | None = None,
            step: Decimal = Decimal("0.01")) -> Decimal | None:
    """A number in range and in whole `step`s (cents of money, half days of leave)."""
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        errors.append(f"{name} '{value}' is not a number")
        return None
    if number < low or (high is not None and number > high):
        errors.append(f"{name} {value} is outside {low}-{high}" if high is not None else f"{name} {value} is below {low}")
        return None
    if number % step:
        errors.append(f"{name} {value} must be in steps of {'half a day' if step == Decimal('0.5') else step}")
        return None
    if step == Decimal("0.01"):  # money, in cents
        return number.quantize(step)
    return number.quantize(Decimal(1) if number % 1 == 0 else Decimal("0.1"))  # days: 80, or 2.5


def _code_and_name(entry: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    code = entry.get("code", "").strip() if isinstance(entry.get("code", ""), str) else None
    name = entry.get("name", "").strip() if isinstance(entry.get("name", ""), str) else ""
    code = code if code is not None else ""
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
                                                                         low=Decimal(0), high=Decimal(366), step=Decimal("0.5"))
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
    else:
        checked["per_claim_limit"] = _number(entry["per_claim_limit"], "per_claim_limit", errors, low=Decimal("0.01"))
    checked["receipt_required_over"] = _number(entry.get("receipt_required_over", 0), "receipt_required_over", errors,
                                               low=Decimal(0))
    return checked, errors


def _holiday(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    day = entry.get("day")
    if isinstance(day, datetime) or not isinstance(day, (date, str)):
        errors.append(f"day {day!r} must be a date, YYYY-MM-DD, without a time")
    elif isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            errors.append(f"day '{day}' is not a YYYY-MM-DD date")
    name = entry.get("name", "").strip() if isinstance(entry.get("name", ""), str) else ""
    if not name or len(name) > 100:
        errors.append("name is required (text, up to 100 characters)")
    country = entry.get("country")
    if country is not None and not (isinstance(country, str) and country.upper() in _countries()):
        errors.append(f"country '{country}' is not an ISO 3166 country code (GB, not UK; leave it out for everyone)")
    return {"day": day, "name": name, "country": str(country).upper() if country else None}, errors


@cache
def _countries() -> frozenset[str]:
    import pycountry  # lazy: it loads its ISO 3166 table on first use

    return frozenset(country.alpha_2 for country in pycountry.countries)


_CHECKS = {"leave_types": _leave_type, "expense_categories": _expense_category, "holidays": _holiday}


def default_catalog() -> Catalog:
    """Return the bundled defaults (tools/defaults.toml)."""
    return read_catalog(resources.files("tools").joinpath("defaults.toml").read_text(encoding="utf-8"), source="defaults.toml")


@dataclass(frozen=True)
class CatalogChanges:
    """What applying a catalog did: rows created ("leave_type:annual") and fields changed ("... yearly_allowance -> 20")."""

    created: list[str]
    changed: list[str]


def create_default_catalog(session: Session, *, catalog_file: Path | None = None, today: date | None = None) -> CatalogChanges:
    """Create the default catalog rows that are missing; with a catalog file, then apply the file on top of them."""
    defaults = apply_catalog(session, default_catalog(), update=False)
    if catalog_file is None:
        return defaults
    try:
        text = Path(catalog_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"The catalog file {catalog_file} could not be read: {error}.") from error
    applied = apply_catalog(session, read_catalog(text, source=str(catalog_file)), update=True, today=today)
    return CatalogChanges(defaults.created + applied.created, applied.changed)


def apply_catalog(session: Session, catalog: Catalog, *, update: bool, today: date | None = None) -> CatalogChanges:
    """Create the catalog's missing rows and, with `update` (a company's own file), bring existing ones to its values:
    a changed allowance reaches this year's and later allocations, and the file's holidays become the company calendar
    (a holiday it no longer lists is removed)."""
    changes = CatalogChanges([], [])
    types = {row.code: row for row in session.scalars(select(LeaveType))}
    new_allowance = [types[entry["code"]] for entry in catalog.leave_types if update and entry["code"] in types
                     and types[entry["code"]].yearly_allowance != entry["yearly_allowance"]]
    for entry in catalog.leave_types:
        _upsert(session, types.get(entry["code"]), LeaveType, entry, f"leave_type:{entry['code']}", update, changes)
    categories = {row.code: row for row in session.scalars(select(ExpenseCategory))}
    for entry in catalog.expense_categories:
        _upsert(session, categories.get(entry["code"]), ExpenseCategory, entry, f"expense_category:{entry['code']}", update,
                changes)
    holidays = {(row.day, row.country): row for row in session.scalars(select(CompanyHoliday))}
    for entry in catalog.holidays:
        _upsert(session, holidays.get((entry["day"], entry["country"])), CompanyHoliday, entry,
                f"holiday:{_holiday_label(entry['day'], entry['country'])}", update, changes)
    if update and catalog.holidays:
        listed = {(entry["day"], entry["country"]) for entry in catalog.holidays}
        for key, row in holidays.items():
            if key not in listed:
                session.delete(row)
                changes.changed.append(f"holiday:{_holiday_label(*key)} removed")
    session.flush()
    for leave_type in new_allowance:  # allowances follow, whether an allocation came from a request or a look
        apply_type_allowance(session, leave_type=leave_type, from_year=(today or utcnow().date()).year)
    if changes.created or changes.changed:
        record_audit(session, actor=None, action="catalog.applied", subject="catalog",
                     details={"created": changes.created, "changed": changes.changed})
    return changes


def _holiday_label(day: date, country: str | None) -> str:
    return f"{day}{' in ' + country if country else ''}"


def _upsert(session: Session, row: Any, model: type, entry: dict[str, Any], label: str, update: bool,
            changes: CatalogChanges) -> None:
    """Create the row an entry describes, or (with `update`) bring the existing one to it; note what happened."""
    if row is None:
        session.add(model(**entry))
        changes.created.append(label)
        return
    if not update:
        return
    for name, value in entry.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changes.changed.append(f"{label} {name} -> {value}")
