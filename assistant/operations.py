"""Core operations the CLI (and later Slack) call: acting as someone, directory, receipts, audit."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.container import Container
from assistant.errors import AssistantError, AssistantErrorCode
from tools.approvals.service import directory_warnings, list_approvals, reroute_pending, withdraw_for_leavers
from tools.audit.service import list_audit, record_audit
from tools.db import transaction, utcnow
from tools.errors import ToolError
from tools.messaging.service import forget_approval_card
from tools.people.importer import ImportReport, import_people_csv
from tools.people.service import get_employee, get_employee_by_email, list_employees
from tools.pipeline import ToolResult

RECEIPT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".heic", ".webp"}
MAX_RECEIPT_BYTES = 10 * 1024 * 1024
MAX_CSV_BYTES = 20 * 1024 * 1024


def actor_id_for(container: Container, email: str) -> int:
    """Return the employee id behind an email given on the command line."""
    with transaction(container.session_factory) as session:
        try:
            return get_employee_by_email(session, email=email).id
        except ToolError as error:
            raise AssistantError(AssistantErrorCode.UNKNOWN_USER, f"{error.message} Import the people directory first.") from error


def roles_of(container: Container, email: str) -> frozenset[str]:
    """Return the role names of the employee with this email (for audience filtering)."""
    with transaction(container.session_factory) as session:
        try:
            return frozenset(role.value for role in get_employee_by_email(session, email=email).roles)
        except ToolError as error:
            raise AssistantError(AssistantErrorCode.UNKNOWN_USER, error.message) from error


def run_as(container: Container, email: str, tool: str, args: dict[str, Any], *, now: datetime | None = None) -> ToolResult:
    """Run one tool through the pipeline as the employee with this email."""
    return container.pipeline.run(tool, args, actor_id=actor_id_for(container, email), now=now)


def import_people_file(container: Container, path: Path, *, actor_id: int | None = None, now: datetime | None = None) -> ImportReport:
    """Import a people CSV whole, or refuse it whole (`actor_id`: the admin who sent it, for the audit trail)."""
    if not path.is_file():
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{path} is a folder, not a CSV file." if path.is_dir() else f"{path} does not exist.")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{path} is larger than {MAX_CSV_BYTES // 1_048_576} MB.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{path} is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV.") from error
    with transaction(container.session_factory) as session:
        actor = get_employee(session, employee_id=actor_id) if actor_id is not None else None
        today = (now or utcnow()).date()
        report = import_people_csv(session, text=text, actor=actor, today=today)
        # Pending approvals follow the directory: a step whose approver left, lost the role or no longer manages the
        # requester goes to whoever the policy picks now, and that person gets a card.
        moves = reroute_pending(session, policy=container.policy, today=today)
        for move in moves:
            if move.stuck:
                continue  # nothing changed: the report says who has to do what
            record_audit(session, actor=actor, action="approval.rerouted", subject=f"approval:{move.approval_id}",
                         details={"step": move.step, "from": move.previous, "to": move.approver, "reason": move.reason})
            if move.current:
                forget_approval_card(session, approval_id=move.approval_id, step=move.step)
        lines = tuple(f"approval #{move.approval_id} step {move.step + 1}: {move.previous} -> {move.approver} ({move.reason})"
                      for move in moves if not move.stuck)
        waiting = tuple(f"approval #{move.approval_id} step {move.step + 1} (with {move.previous}): {move.reason}"
                        for move in moves if move.stuck)
        # Someone who left has their pending leave and access requests withdrawn (their expense claims stay).
        withdrawn = withdraw_for_leavers(session, today=today)
        for item in withdrawn:
            record_audit(session, actor=actor, action="approval.withdrawn", subject=f"approval:{item.approval_id}",
                         details={"kind": item.kind, "requester": item.requester, "reason": "requester no longer active"})
        gone = tuple(f"approval #{item.approval_id} ({item.kind}) of {item.requester}: {item.summary}" for item in withdrawn)
        warnings = tuple(directory_warnings(session, policy=container.policy))
        return replace(report, approvals_rerouted=lines, approvals_waiting=waiting, requests_withdrawn=gone,
                       warnings=report.warnings + warnings)


def people_rows(container: Container) -> list[dict[str, Any]]:
    """Return the directory as JSON-able rows."""
    with transaction(container.session_factory) as session:
        people = list_employees(session)
        emails = {person.id: person.email for person in people}
        return [
            {
                "email": p.email, "name": p.name, "slack_user_id": p.slack_user_id, "manager_email": emails.get(p.manager_id or 0),
                "department": p.department, "roles": sorted(r.value for r in p.roles), "country": p.country,
                "timezone": p.timezone, "start_date": p.start_date.isoformat() if p.start_date else None,
                "annual_leave_days": None if p.annual_leave_days is None else float(p.annual_leave_days), "active": p.active,
            }
            for p in people
        ]


def _looks_like(suffix: str, content: bytes) -> bool:
    """Whether a receipt's first bytes are those of the format its name says (a text file renamed .pdf is not)."""
    if suffix == ".pdf":
        return b"%PDF-" in content[:1024]
    if suffix == ".png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if suffix == ".webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if suffix == ".heic":
        return content[4:8] == b"ftyp"
    return False


def store_receipt(container: Container, source: Path) -> tuple[str, bool]:
    """Copy a receipt into the uploads folder under its content hash; return the reference and whether it is new."""
    if source.is_dir():
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"Receipt {source} is a folder; name the receipt file in it.")
    if not source.is_file():
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"Receipt {source} does not exist.")
    if source.suffix.lower() not in RECEIPT_SUFFIXES:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"Receipts must be one of {', '.join(sorted(RECEIPT_SUFFIXES))}.")
    if source.stat().st_size > MAX_RECEIPT_BYTES:
        raise AssistantError(AssistantErrorCode.BAD_FILE, "Receipts are limited to 10 MB.")
    content = source.read_bytes()
    if not content.strip():
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{source.name} is empty; send the receipt itself (a photo or PDF).")
    if not _looks_like(source.suffix.lower(), content):
        actual = next((suffix for suffix in (".pdf", ".png", ".jpg", ".webp", ".heic") if _looks_like(suffix, content)), None)
        inside = f"it is a {actual.lstrip('.').upper()} file, so name it {source.stem}{actual}" if actual else \
            "send the receipt itself (a photo or PDF)"
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{source.name} is not a {source.suffix.lower().lstrip('.').upper()} "
                                                          f"file inside; {inside}.")
    digest = hashlib.sha256(content).hexdigest()[:32]
    name = f"{digest}{source.suffix.lower()}"
    container.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    target = container.settings.uploads_dir / name
    if target.exists():
        return f"uploads/{name}", False
    shutil.copyfile(source, target)
    return f"uploads/{name}", True


def submit_expense_as(container: Container, email: str, args: dict[str, Any], receipt: Path | None) -> ToolResult:
    """Store the receipt (if any) and submit the claim; a refused claim leaves no new receipt behind."""
    if receipt is None:
        return run_as(container, email, "submit_expense", args)
    reference, is_new = store_receipt(container, receipt)
    try:
        return run_as(container, email, "submit_expense", {**args, "receipt_path": reference})
    except Exception:
        if is_new:
            (container.settings.backoffice_home / reference).unlink(missing_ok=True)
        raise


def audit_rows(container: Container, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest audit records as JSON-able rows."""
    with transaction(container.session_factory) as session:
        return [
            {"id": r.id, "at": r.at.isoformat(), "actor": r.actor_label, "action": r.action, "subject": r.subject, "details": r.details}
            for r in list_audit(session, limit=limit)
        ]


def all_approvals(container: Container) -> list[dict[str, Any]]:
    """Return every approval (admin view) as JSON-able rows."""
    with transaction(container.session_factory) as session:
        emails = {p.id: p.email for p in list_employees(session)}
        return [
            {"approval_id": a.id, "kind": a.kind, "requester": emails[a.requester_id], "approver": emails[a.approver_id],
             "status": a.status, "summary": a.summary}
            for a in list_approvals(session)
        ]


def ticket_requester_chat_id(container: Container, ticket_id: int, find_chat_id: Callable[[str], str | None]) -> str | None:
    """Return the chat account of the person who opened a ticket, found the way approval cards find people (linked,
    else looked up by email and linked); None when they have none."""
    from assistant.approval_cards import chat_id_of
    from tools.helpdesk.service import get_ticket

    with transaction(container.session_factory) as session:
        requester = get_employee(session, employee_id=get_ticket(session, ticket_id=ticket_id).requester_id)
        return chat_id_of(session, requester, find_chat_id)
