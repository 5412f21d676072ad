"""Policy documents sent to the assistant in a chat: an admin's file is added to (or replaces one in) the knowledge base.

The admin check happens here, on the server, whatever the adapter did before; a file is only fetched once its
sender is known to be an admin who asked for it to be added. Ingestion is the knowledge base's own add-or-replace:
atomic per document, and an unchanged file is skipped.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from assistant.chat import identify
from assistant.container import Container
from assistant.errors import AssistantError
from assistant.forms import AttachedFile, store_uploaded_receipt
from assistant.operations import MAX_CSV_BYTES, RECEIPT_SUFFIXES, import_people_file
from knowledge.errors import KnowledgeError
from knowledge.loaders import check_type
from knowledge.index import AddOutcome, FileResult
from tools.audit.service import record_audit
from tools.db import transaction
from tools.errors import ToolError
from tools.people.models import Role
from tools.people.service import get_employee

INSTRUCTION = re.compile(r"\b(add|adding|replace|replacing|update|updating|ingest|ingesting|import|importing|sync|syncing)\b",
                         re.IGNORECASE)
RECEIPT_WORDS = re.compile(r"receipt|expense|claim|invoice|\bbill\b|reimburs|[$€£]|\d", re.IGNORECASE)
POLICY_WORDS = re.compile(r"polic|handbook|knowledge|guideline|directory|\bpeople\b", re.IGNORECASE)
PEOPLE_SUFFIX = ".csv"  # no policy document is a CSV: a CSV sent with an instruction is the people directory
MAX_NAME_CHARS = 200
NOT_ADMIN = ("Only admins can add or replace policy documents or update the people directory, so I haven't done anything "
             "with {names}. If it belongs there, send it to an admin.")
NO_INSTRUCTION = ("I got {names}, but I'm not sure what to do with it. To add it to the policy documents (or replace the "
                  "version I have), send it again with a message like “add this to the policies”; for a people CSV, "
                  "“update the people directory”; for an expense receipt, the amount and what it was for.")
NO_FILE = "I didn't find a file in your message."


class UploadStatus(StrEnum):
    """What became of an upload as a whole."""

    INGESTED = "ingested"  # the knowledge base took it; see the files for each one's outcome
    PEOPLE = "people"  # a people CSV went to the directory import: see the message
    REFUSED = "refused"  # not an admin, or not someone the assistant knows: nothing was read or ingested
    NEEDS_INSTRUCTION = "needs_instruction"  # an admin sent a file without saying to add it


@dataclass(frozen=True)
class IncomingFile:
    """A file announced by the adapter; `handle` is the adapter's own description, given back to its fetch function."""

    name: str
    handle: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadedFile:
    """One file's outcome, with the reason when it failed."""

    name: str
    outcome: AddOutcome
    doc_id: str | None = None
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class UploadReport:
    """What an upload did: the status, each file's outcome, and the refusal or hint when nothing was ingested."""

    status: UploadStatus
    files: tuple[UploadedFile, ...] = ()
    message: str = ""

    def count(self, outcome: AddOutcome) -> int:
        """Return how many files ended with `outcome`."""
        return sum(1 for item in self.files if item.outcome is outcome)

    @property
    def text(self) -> str:
        """Return the reply for the person who uploaded."""
        if self.status is not UploadStatus.INGESTED:
            return self.message
        if not self.files:
            return self.message
        lines = ["Policy documents, from your upload:", *(f"• {_file_line(item)}" for item in self.files)]
        totals = ", ".join(f"{outcome.value} {self.count(outcome)}" for outcome in AddOutcome
                           if outcome is not AddOutcome.SKIPPED or self.count(outcome))
        return "\n".join([*lines, totals[0].upper() + totals[1:] + "."])


def _file_line(item: UploadedFile) -> str:
    if item.outcome is AddOutcome.FAILED:
        return f"{item.name}: failed. {item.reason}"
    if item.outcome is AddOutcome.UNCHANGED:
        return f"{item.name}: unchanged (the same version is already indexed as `{item.doc_id}`)."
    return f"{item.name}: {item.outcome.value} as `{item.doc_id}` ({item.chunks} passage{'' if item.chunks == 1 else 's'})."


def is_receipt_upload(container: Container, employee_id: int, names: Sequence[str], instruction: str) -> bool:
    """Return True when files sent in a chat are an expense receipt rather than a policy document or a people CSV.

    A photo or PDF is a receipt unless the message is about the policies or the directory, or an admin asks for it
    to be added; an admin's bare PDF is asked about (it may be either).
    """
    if not names or any(Path(safe_file_name(name)).suffix.lower() not in RECEIPT_SUFFIXES for name in names):
        return False
    about_money = RECEIPT_WORDS.search(instruction or "") is not None
    if POLICY_WORDS.search(instruction or "") and not about_money:
        return False
    if _is_admin(container, employee_id) and not about_money and (wants_ingestion(instruction) or not (instruction or "").strip()):
        return False
    return True


def store_chat_receipt(name: str, content: bytes, container: Container) -> str:
    """Store a receipt sent in a chat (its type and size checked) and return the reference the claim cites."""
    return store_uploaded_receipt(container, AttachedFile(file_id="", name=safe_file_name(name)), content)[0]


def wants_ingestion(instruction: str) -> bool:
    """Return True when the message asks for its file to be added, replaced, updated or ingested."""
    return INSTRUCTION.search(instruction or "") is not None


def safe_file_name(name: str) -> str:
    """Return the uploaded name without folders or control characters (it names the document)."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", "", (name or "").replace("\\", "/")).strip()
    base = Path(cleaned).name if cleaned else ""
    if base in {"", ".", ".."}:
        return "upload"
    suffix = Path(base).suffix
    return base if len(base) <= MAX_NAME_CHARS else base[: MAX_NAME_CHARS - len(suffix)] + suffix


def ingest_upload(container: Container, actor_id: int, filename: str, content: bytes, instruction: str) -> UploadReport:
    """Add or replace one uploaded document for an admin who asked for it; refuse anyone else."""
    refusal = _refusal(container, actor_id, [filename], instruction)
    if refusal is not None:
        return refusal
    return UploadReport(UploadStatus.INGESTED, (_ingest(container, actor_id, filename, content),))


def receive_uploads(container: Container, *, chat_user_id: str, lookup_email: Callable[[str], str | None],
                    files: Sequence[IncomingFile], instruction: str,
                    fetch: Callable[[IncomingFile, int], bytes]) -> UploadReport:
    """Ingest the files a chat user sent, fetching each (at most the size limit plus one byte) only once allowed.

    `fetch` raises AssistantError when a file cannot be read; that file fails and the others still go in.
    """
    try:
        user = identify(container, chat_user_id, lookup_email)
    except AssistantError as error:
        return UploadReport(UploadStatus.REFUSED, message=error.message)
    refusal = _refusal(container, user.employee_id, [file.name for file in files], instruction)
    if refusal is not None:
        return refusal
    people = [file for file in files if safe_file_name(file.name).lower().endswith(PEOPLE_SUFFIX)]
    if people:
        return _import_people(container, user.employee_id, people, fetch, others=len(files) - len(people))
    limit = container.knowledge.base.max_file_bytes + 1  # one byte more lets the loader report "too large"
    results: list[UploadedFile] = []
    for file in files:
        try:
            check_type(Path(safe_file_name(file.name)))  # a type we cannot read is refused before anything is downloaded
            content = fetch(file, limit)
        except (KnowledgeError, AssistantError) as error:
            results.append(UploadedFile(safe_file_name(file.name), AddOutcome.FAILED, reason=error.message))
            continue
        results.extend(ingest_upload(container, user.employee_id, file.name, content, instruction).files)
    return UploadReport(UploadStatus.INGESTED, tuple(results))


def _import_people(container: Container, actor_id: int, files: Sequence[IncomingFile],
                   fetch: Callable[[IncomingFile, int], bytes], *, others: int) -> UploadReport:
    """Import an admin's people CSV into the directory, whole or not at all; the reply names every bad row."""
    if len(files) > 1 or others:
        return UploadReport(UploadStatus.NEEDS_INSTRUCTION, message="Send the people CSV on its own, one file per message; "
                                                                      "nothing was imported.")
    name = safe_file_name(files[0].name)
    with tempfile.TemporaryDirectory(prefix="backoffice-people-") as folder:
        path = Path(folder) / name
        try:
            path.write_bytes(fetch(files[0], MAX_CSV_BYTES + 1))
            report = import_people_file(container, path, actor_id=actor_id)
        except (AssistantError, ToolError) as error:
            reason = error.message.replace(str(path), name)
            return UploadReport(UploadStatus.PEOPLE, message=f"People directory: {name} was not imported; nothing changed. {reason}")
    rerouted = (f" Pending approvals re-routed: {len(report.approvals_rerouted)} ({'; '.join(report.approvals_rerouted)})."
                if report.approvals_rerouted else "")
    if report.requests_withdrawn:
        rerouted += (f" Withdrawn, as their requester is no longer active: {len(report.requests_withdrawn)} "
                     f"({'; '.join(report.requests_withdrawn)}).")
    if report.approvals_waiting:
        rerouted += f" Approval steps nobody can take: {len(report.approvals_waiting)} ({'; '.join(report.approvals_waiting)})."
    if report.warnings:
        rerouted += f" Warnings: {'; '.join(report.warnings)}."
    return UploadReport(UploadStatus.PEOPLE, message=f"People directory, from {name}: created {report.created}, "
                                                     f"updated {report.updated}, unchanged {report.unchanged}.{rerouted}")


def _is_admin(container: Container, employee_id: int) -> bool:
    """Return True for an active employee with the admin role."""
    with transaction(container.session_factory) as session:
        actor = get_employee(session, employee_id=employee_id)
        return actor.active and actor.has_role(Role.ADMIN)


def _refusal(container: Container, actor_id: int, names: Sequence[str], instruction: str) -> UploadReport | None:
    """Return why nothing is ingested (not an admin, no file, no instruction), or None when it may go ahead."""
    listed = ", ".join(safe_file_name(name) for name in names) or "your file"
    if not _is_admin(container, actor_id):
        return UploadReport(UploadStatus.REFUSED, message=NOT_ADMIN.format(names=listed))
    if not names:
        return UploadReport(UploadStatus.NEEDS_INSTRUCTION, message=NO_FILE)
    if not wants_ingestion(instruction):
        return UploadReport(UploadStatus.NEEDS_INSTRUCTION, message=NO_INSTRUCTION.format(names=listed))
    return None


def _ingest(container: Container, actor_id: int, filename: str, content: bytes) -> UploadedFile:
    """Write the upload under its own name in a private folder and hand it to the knowledge base."""
    name = safe_file_name(filename)
    with transaction(container.session_factory) as session:
        added_by = get_employee(session, employee_id=actor_id).email
    with tempfile.TemporaryDirectory(prefix="backoffice-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            item = container.knowledge.base.add_file(path, added_by=added_by, source=f"uploaded in chat: {name}")
        except KnowledgeError as error:
            item = FileResult(str(path), AddOutcome.FAILED, reason=error.message)
    result = UploadedFile(name, item.outcome, item.doc_id, item.chunks, item.reason.replace(str(path), name))
    if result.outcome in {AddOutcome.ADDED, AddOutcome.REPLACED}:
        with transaction(container.session_factory) as session:
            record_audit(session, actor=get_employee(session, employee_id=actor_id), action=f"knowledge.{result.outcome.value}",
                         subject=f"document:{result.doc_id}",
                         details={"file": name, "chunks": result.chunks, "by": "chat upload"})
    return result
