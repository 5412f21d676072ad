"""Forms and quick looks: what a chat adapter's modals and slash commands ask of the core.

A form arrives as raw field values (text, dates as ISO text, chosen option values, uploaded files). They become
tool arguments, are checked by the tool's own preview through the pipeline as the submitting employee, and only
then run. A refusal comes back keyed by the field it is about, so the person reads it next to what they typed,
and nothing is written until every check passes. The submission is the person's confirmation: the form showed
them every value they are sending.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.container import Container
from assistant.errors import AssistantError, AssistantErrorCode, error_text
from assistant.operations import MAX_RECEIPT_BYTES, RECEIPT_SUFFIXES, store_receipt
from tools.db import transaction, utcnow
from tools.errors import ErrorCode, ToolError
from tools.expenses.service import list_categories
from tools.helpdesk.models import TicketCategory, TicketPriority
from tools.leave.models import HalfDay
from tools.leave.service import list_leave_types
from tools.pipeline import ToolResult

ACCESS_LEVELS = (("user", "User"), ("read", "Read only"), ("write", "Write / edit"), ("admin", "Admin"))
RECEIPT_PLACEHOLDER = "uploads/receipt-to-come"  # lets a preview know a receipt is attached before it is stored


class FormKind(StrEnum):
    """The forms an employee can fill in."""

    LEAVE = "leave"
    EXPENSE = "expense"
    TICKET = "ticket"
    ACCESS = "access"


class FormField(StrEnum):
    """Field names: the contract between a form's renderer and this module (errors are keyed by them)."""

    START_DATE = "start_date"
    END_DATE = "end_date"
    LEAVE_TYPE = "leave_type"
    HALF_DAY = "half_day"
    AMOUNT = "amount"
    CURRENCY = "currency"
    CATEGORY = "category"
    EXPENSE_DATE = "expense_date"
    MERCHANT = "merchant"
    DESCRIPTION = "description"
    RECEIPT = "receipt"
    SUMMARY = "summary"
    PRIORITY = "priority"
    SYSTEM = "system"
    ACCESS_LEVEL = "access_level"
    JUSTIFICATION = "justification"


@dataclass(frozen=True)
class AttachedFile:
    """A file attached to a form: the chat platform's id, its name, size and where to download it."""

    file_id: str
    name: str
    size: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value sent back and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class FormOptions:
    """What the forms offer: the catalog's leave types and expense categories, the company currency."""

    leave_types: list[Choice]
    half_days: list[Choice]
    expense_categories: list[Choice]
    currency: str
    ticket_categories: list[Choice]
    ticket_priorities: list[Choice]
    access_levels: list[Choice] = field(default_factory=list)


@dataclass(frozen=True)
class FormOutcome:
    """What a submission did: field errors (nothing written), or the result text to send the person."""

    errors: dict[str, str] = field(default_factory=dict)
    text: str = ""
    wrote: bool = False
    approval_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


Values = Mapping[str, object]
Parsed = tuple[dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class FormSpec:
    """How one form becomes a tool call and where the tool's refusals belong."""

    tool: str
    not_done: str  # said before the reason when the checked form still could not be carried out
    preview: str | None  # a read-only twin of the tool that checks without writing; None: validate and authorize only
    fields: tuple[FormField, ...]  # the first one takes refusals that belong nowhere else
    parse: Callable[[Values, FormOptions], Parsed]
    by_code: Mapping[ErrorCode, FormField] = field(default_factory=dict)
    by_words: tuple[tuple[str, FormField], ...] = ()  # (words in the refusal, field); the first match wins
    args_to_fields: Mapping[str, FormField] = field(default_factory=dict)


def form_options(container: Container) -> FormOptions:
    """Return the choices the forms offer, from the catalog and the approval policy."""
    with transaction(container.session_factory) as session:
        leave_types = [Choice(t.code, t.name) for t in list_leave_types(session)]
        categories = [Choice(c.code, f"{c.name} (up to {c.per_claim_limit} {container.policy.company_currency})")
                      for c in list_categories(session)]
    return FormOptions(
        leave_types=leave_types, half_days=[Choice(HalfDay.AM.value, "Morning only"), Choice(HalfDay.PM.value, "Afternoon only")],
        expense_categories=categories, currency=container.policy.company_currency,
        ticket_categories=[Choice(c.value, c.value.capitalize()) for c in TicketCategory],
        ticket_priorities=[Choice(p.value, p.value.capitalize()) for p in TicketPriority],
        access_levels=[Choice(value, label) for value, label in ACCESS_LEVELS])


def submit_form(container: Container, kind: FormKind, *, employee_id: int, values: Values, now: datetime | None = None,
                on_valid: Callable[[], None] = lambda: None,
                fetch_file: Callable[[AttachedFile], bytes] | None = None) -> FormOutcome:
    """Check a filled-in form as the employee; when it passes, call `on_valid`, then run it and say what happened."""
    spec = FORMS[kind]
    moment = now or utcnow()
    try:
        args, errors = spec.parse(values, form_options(container))
        errors = errors or _check(container, spec, args, employee_id, moment)
    except Exception as error:  # noqa: BLE001 - a fault while checking is shown in the form; nothing was written
        errors = {spec.fields[0].value: error_text(error)}
    if errors:
        return FormOutcome(errors=errors)
    on_valid()
    try:
        result = _run(container, spec, args, employee_id=employee_id, now=moment,
                      receipt=_one_file(values.get(FormField.RECEIPT)), fetch_file=fetch_file)
    except Exception as error:  # noqa: BLE001 - the form is closed: the person is told why in the result text
        return FormOutcome(text=f"{spec.not_done} {error_text(error)}")
    approval = result.data.get("approval_id")
    return FormOutcome(text=result.message, wrote=True, approval_id=int(approval) if approval else None, data=result.data)


def _check(container: Container, spec: FormSpec, args: dict[str, Any], employee_id: int, now: datetime) -> dict[str, str]:
    """Return field errors from the tool's schema, then from its preview (or authorization) through the pipeline."""
    try:
        spec_args = container.pipeline.spec(spec.tool).args_model
        spec_args.model_validate(args)
    except ValidationError as error:
        return _schema_errors(spec, error)
    try:
        if spec.preview is None:
            container.pipeline.check(spec.tool, args, actor_id=employee_id)
        else:
            container.pipeline.run(spec.preview, args, actor_id=employee_id, now=now)
    except ToolError as error:
        return {_field_of(spec, error).value: error.message}
    return {}


def _schema_errors(spec: FormSpec, error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        where = spec.args_to_fields.get(name) or (FormField(name) if name in spec.fields else spec.fields[0])
        errors.setdefault(where.value, str(item["msg"]).replace("String", "The text") + ".")
    return errors


def _field_of(spec: FormSpec, error: ToolError) -> FormField:
    """Return the field a refusal is about: the domain's own word for it, its code, or words in its message."""
    named = error.details.get("field")
    if isinstance(named, str) and named in spec.fields:
        return FormField(named)
    if error.code in spec.by_code:
        return spec.by_code[error.code]
    message = error.message.lower()
    return next((where for words, where in spec.by_words if words in message), spec.fields[0])


def _run(container: Container, spec: FormSpec, args: dict[str, Any], *, employee_id: int, now: datetime,
         receipt: AttachedFile | None, fetch_file: Callable[[AttachedFile], bytes] | None) -> ToolResult:
    if receipt is None:
        return container.pipeline.run(spec.tool, args, actor_id=employee_id, now=now)
    if fetch_file is None:
        raise AssistantError(AssistantErrorCode.BAD_FILE, "I could not fetch the attached receipt; nothing was filed.")
    reference, is_new = store_uploaded_receipt(container, receipt, fetch_file(receipt))
    try:
        return container.pipeline.run(spec.tool, {**args, "receipt_path": reference}, actor_id=employee_id, now=now)
    except Exception:
        if is_new:  # a refused claim leaves no receipt behind
            (container.settings.backoffice_home / reference).unlink(missing_ok=True)
        raise


def store_uploaded_receipt(container: Container, upload: AttachedFile, content: bytes) -> tuple[str, bool]:
    """Store an uploaded receipt the way `expenses submit --receipt` does; return its reference and whether it is new."""
    problem = receipt_problem(upload.name, len(content))
    if problem:
        raise AssistantError(AssistantErrorCode.BAD_FILE, problem)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"receipt{Path(upload.name).suffix.lower()}"
        path.write_bytes(content)
        return store_receipt(container, path)


def receipt_problem(name: str, size: int | None) -> str:
    """Return why a file cannot be a receipt (its type or size), or an empty string."""
    if Path(name or "").suffix.lower() not in RECEIPT_SUFFIXES:
        return f"Receipts must be one of {', '.join(sorted(RECEIPT_SUFFIXES))}."
    if size is not None and size > MAX_RECEIPT_BYTES:
        return f"Receipts are limited to {MAX_RECEIPT_BYTES // 1_048_576} MB."
    return ""


# --- reading raw values ---------------------------------------------------------------------------------


def _text(values: Values, name: FormField) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(values: Values, name: FormField, errors: dict[str, str], missing: str | None) -> date | None:
    raw = _text(values, name)
    if not raw:
        if missing:
            errors[name.value] = missing
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name.value] = f"'{raw}' is not a date."
        return None


def _choice(values: Values, name: FormField, choices: list[Choice], errors: dict[str, str], *, default: str | None = None,
            missing: str | None = None) -> str | None:
    raw = _text(values, name).lower() or default
    if raw is None:
        if missing:
            errors[name.value] = missing
        return None
    if raw not in {choice.value for choice in choices}:
        errors[name.value] = f"Pick one of: {', '.join(choice.label for choice in choices)}."
        return None
    return raw


def _files(value: object) -> list[AttachedFile]:
    return [item for item in value if isinstance(item, AttachedFile)] if isinstance(value, (list, tuple)) else []


def _one_file(value: object) -> AttachedFile | None:
    files = _files(value)
    return files[0] if files else None


def _required(values: Values, name: FormField, errors: dict[str, str], missing: str) -> str:
    text = _text(values, name)
    if not text:
        errors[name.value] = missing
    return text


# --- the forms ------------------------------------------------------------------------------------------


def _leave_args(values: Values, options: FormOptions) -> Parsed:
    errors: dict[str, str] = {}
    start = _date(values, FormField.START_DATE, errors, "Pick the first day off.")
    end = _date(values, FormField.END_DATE, errors, None) or start  # no last day: a single day
    leave_type = _choice(values, FormField.LEAVE_TYPE, options.leave_types, errors, default="annual")
    half_day = _choice(values, FormField.HALF_DAY, options.half_days, errors)
    args: dict[str, Any] = {"start_date": start.isoformat() if start else None, "end_date": end.isoformat() if end else None,
                            "leave_type": leave_type}
    if half_day:
        args["half_day"] = half_day
    return args, errors


def _expense_args(values: Values, options: FormOptions) -> Parsed:
    errors: dict[str, str] = {}
    amount = _required(values, FormField.AMOUNT, errors, "Enter the amount, e.g. 45.20.").replace(" ", "")
    currency = (_text(values, FormField.CURRENCY) or options.currency).upper()
    category = _choice(values, FormField.CATEGORY, options.expense_categories, errors, missing="Pick a category.")
    spent = _date(values, FormField.EXPENSE_DATE, errors, "Pick the day the money was spent.")
    merchant = _required(values, FormField.MERCHANT, errors, "Say where the money was spent.")
    files = _files(values.get(FormField.RECEIPT))
    if len(files) > 1:
        errors[FormField.RECEIPT.value] = "Attach one receipt per claim."
    elif files and receipt_problem(files[0].name, files[0].size):
        errors[FormField.RECEIPT.value] = receipt_problem(files[0].name, files[0].size)
    args = {"amount": amount, "currency": currency, "category": category, "expense_date": spent.isoformat() if spent else None,
            "merchant": merchant, "description": _text(values, FormField.DESCRIPTION)}
    if files:
        args["receipt_path"] = RECEIPT_PLACEHOLDER
    return args, errors


def _ticket_args(values: Values, options: FormOptions) -> Parsed:
    errors: dict[str, str] = {}
    summary = _required(values, FormField.SUMMARY, errors, "Say in one line what is wrong.")
    category = _choice(values, FormField.CATEGORY, options.ticket_categories, errors, default=TicketCategory.OTHER.value)
    priority = _choice(values, FormField.PRIORITY, options.ticket_priorities, errors, default=TicketPriority.NORMAL.value)
    return {"summary": summary, "description": _text(values, FormField.DESCRIPTION), "category": category,
            "priority": priority}, errors


def _access_args(values: Values, options: FormOptions) -> Parsed:
    errors: dict[str, str] = {}
    system = _required(values, FormField.SYSTEM, errors, "Name the system or application, e.g. GitHub.")
    level = _choice(values, FormField.ACCESS_LEVEL, options.access_levels, errors, default="user")
    why = _required(values, FormField.JUSTIFICATION, errors, "Say what you need it for; IT reads this when they decide.")
    return {"system": system, "access_level": level, "justification": why}, errors


FORMS: dict[FormKind, FormSpec] = {
    FormKind.LEAVE: FormSpec(
        tool="request_leave", not_done="Your leave request was not sent.", preview="preview_leave_request", parse=_leave_args,
        fields=(FormField.START_DATE, FormField.END_DATE, FormField.LEAVE_TYPE, FormField.HALF_DAY),
        by_code={ErrorCode.INSUFFICIENT_BALANCE: FormField.LEAVE_TYPE},
        by_words=(("half day", FormField.HALF_DAY), ("end date", FormField.END_DATE), ("more than a year", FormField.END_DATE),
                  ("leave type", FormField.LEAVE_TYPE))),
    FormKind.EXPENSE: FormSpec(
        tool="submit_expense", not_done="Your expense claim was not filed.", preview="preview_expense", parse=_expense_args,
        fields=(FormField.AMOUNT, FormField.CURRENCY, FormField.CATEGORY, FormField.EXPENSE_DATE, FormField.MERCHANT,
                FormField.DESCRIPTION, FormField.RECEIPT),
        by_code={ErrorCode.LIMIT_EXCEEDED: FormField.AMOUNT},
        by_words=(("receipt", FormField.RECEIPT), ("exchange rate", FormField.CURRENCY), ("currency", FormField.CURRENCY),
                  ("expense date", FormField.EXPENSE_DATE), ("older than", FormField.EXPENSE_DATE),
                  ("merchant", FormField.MERCHANT), ("category", FormField.CATEGORY)),
        args_to_fields={"receipt_path": FormField.RECEIPT}),
    FormKind.TICKET: FormSpec(
        tool="create_ticket", not_done="Your ticket was not opened.", preview=None, parse=_ticket_args,
        fields=(FormField.SUMMARY, FormField.DESCRIPTION, FormField.CATEGORY, FormField.PRIORITY)),
    FormKind.ACCESS: FormSpec(
        tool="request_system_access", not_done="Your access request was not sent.", preview="preview_system_access",
        parse=_access_args, fields=(FormField.SYSTEM, FormField.ACCESS_LEVEL, FormField.JUSTIFICATION),
        by_words=(("justification", FormField.JUSTIFICATION), ("access_level", FormField.ACCESS_LEVEL))),
}


# --- quick looks for slash commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """A read-only tool's answer, or the reason there is none (ok=False)."""

    ok: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)


def look_up(container: Container, tool: str, args: Mapping[str, Any] | None = None, *, employee_id: int,
            now: datetime | None = None) -> Look:
    """Run a read-only tool as the employee; a refusal or fault becomes the text they read."""
    try:
        if container.pipeline.spec(tool).writes:
            raise ToolError(ErrorCode.FORBIDDEN, f"'{tool}' changes data; it cannot run as a quick look.")
        result = container.pipeline.run(tool, dict(args or {}), actor_id=employee_id, now=now)
    except Exception as error:  # noqa: BLE001 - the chat edge: whoever asked gets an answer
        return Look(ok=False, text=error_text(error))
    return Look(ok=True, text=result.message, data=result.data)

