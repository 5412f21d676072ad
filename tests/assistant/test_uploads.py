"""Uploaded policy documents: admins only, an instruction needed, add / replace / unchanged / failed per file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.container import Container
from assistant.errors import AssistantError, AssistantErrorCode
from assistant.uploads import (
    IncomingFile,
    UploadStatus,
    ingest_upload,
    receive_uploads,
    safe_file_name,
    wants_ingestion,
)
from knowledge.index import AddOutcome
from tests.builders import make_company
from tools.audit.models import AuditRecord
from tools.db import transaction

POLICY = b"# Bicycle Policy\n\n## Storage\n\nBicycles are stored in the basement bike room.\n"
ADD = "please add this to the policies"


@pytest.mark.parametrize("text", ["please add this to the policies", "Replace the time off policy", "update it", "INGEST",
                                  "adding the new handbook", "can you update this?"])
def test_an_instruction_to_add_is_recognised(text: str) -> None:
    assert wants_ingestion(text)


@pytest.mark.parametrize("text", ["", "here you go", "my address changed", "what does this say?", "additional info"])
def test_other_messages_are_not_instructions(text: str) -> None:
    assert not wants_ingestion(text)


@pytest.mark.parametrize(("name", "safe"), [("Time Off.md", "Time Off.md"), ("../../etc/passwd.md", "passwd.md"),
                                            ("C:\\docs\\policy.txt", "policy.txt"), ("", "upload"), ("..", "upload"),
                                            ("bad\x00name.md", "badname.md"), ("a" * 300 + ".md", "a" * 197 + ".md")])
def test_uploaded_names_lose_folders_and_control_characters(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


def documents(container: Container) -> list[tuple[str, str]]:
    return [(doc.doc_id, doc.added_by) for doc in container.knowledge.base.list_documents()]


def test_an_admin_adds_then_replaces_and_the_same_file_is_unchanged(container: Container) -> None:
    company = make_company(container)
    added = ingest_upload(container, company.admin, "bicycle-policy.md", POLICY, ADD)
    assert added.status is UploadStatus.INGESTED
    [item] = added.files
    assert (item.name, item.outcome, item.doc_id, item.chunks) == ("bicycle-policy.md", AddOutcome.ADDED, "bicycle-policy", 1)
    assert documents(container) == [("bicycle-policy", "admin@example.com")]
    assert "basement" in container.knowledge.base.search("where are bicycles kept?", k=1)[0].text
    assert "bicycle-policy.md: added as `bicycle-policy` (1 passage)." in added.text and added.text.endswith(
        "Added 1, replaced 0, unchanged 0, failed 0.")

    again = ingest_upload(container, company.admin, "bicycle-policy.md", POLICY, "add")
    assert again.files[0].outcome is AddOutcome.UNCHANGED and "unchanged 1" in again.text
    newer = ingest_upload(container, company.admin, "bicycle-policy.md", POLICY.replace(b"basement", b"courtyard"), "replace it")
    assert newer.files[0].outcome is AddOutcome.REPLACED
    assert "courtyard" in container.knowledge.base.search("where are bicycles kept?", k=1)[0].text
    with transaction(container.session_factory) as session:
        actions = [record.action for record in session.scalars(select(AuditRecord))]
    assert actions.count("knowledge.added") == 1 and actions.count("knowledge.replaced") == 1


def test_anyone_but_an_admin_is_refused_and_nothing_is_ingested(container: Container) -> None:
    company = make_company(container)
    for actor in (company.hr, company.manager, company.requester):
        report = ingest_upload(container, actor, "bicycle-policy.md", POLICY, ADD)
        assert report.status is UploadStatus.REFUSED and report.files == ()
        assert report.text.startswith("Only admins can add or replace policy documents") and "bicycle-policy.md" in report.text
    assert documents(container) == []


def test_a_file_without_an_instruction_gets_a_hint(container: Container) -> None:
    company = make_company(container)
    report = ingest_upload(container, company.admin, "bicycle-policy.md", POLICY, "fyi")
    assert report.status is UploadStatus.NEEDS_INSTRUCTION and "add this to the policies" in report.text
    assert documents(container) == []


def test_unsupported_empty_and_too_large_files_fail_with_their_reason(container: Container) -> None:
    company = make_company(container)
    container.knowledge.base.max_file_bytes = 100
    cases = {"logo.png": b"\x89PNG....", "empty.md": b"   \n", "long.md": b"# Long\n\n" + b"word " * 50}
    reasons = {name: ingest_upload(container, company.admin, name, content, ADD).files[0] for name, content in cases.items()}
    assert all(item.outcome is AddOutcome.FAILED for item in reasons.values())
    assert reasons["logo.png"].reason.startswith("logo.png: '.png' files are not supported")
    assert reasons["empty.md"].reason == "empty.md is empty."
    assert reasons["long.md"].reason.startswith("long.md is over the 100-byte limit")
    assert documents(container) == []


def test_received_files_are_fetched_only_for_an_admin_and_a_failed_fetch_fails_that_file_alone(container: Container) -> None:
    company = make_company(container)
    emails = {"UADM": company.email("admin"), "UMGR": company.email("manager")}
    fetched: list[tuple[str, int]] = []

    def fetch(file: IncomingFile, limit: int) -> bytes:
        fetched.append((file.name, limit))
        if file.handle.get("broken"):
            raise AssistantError(AssistantErrorCode.BAD_FILE, "I couldn't download it from Slack; try sending it again.")
        return POLICY

    files = [IncomingFile("lost.md", {"broken": True}), IncomingFile("bicycle-policy.md")]
    refused = receive_uploads(container, chat_user_id="UMGR", lookup_email=emails.get, files=files, instruction=ADD, fetch=fetch)
    assert refused.status is UploadStatus.REFUSED and fetched == []
    unknown = receive_uploads(container, chat_user_id="UX", lookup_email=emails.get, files=files, instruction=ADD, fetch=fetch)
    assert unknown.status is UploadStatus.REFUSED and "company directory" in unknown.text and fetched == []

    report = receive_uploads(container, chat_user_id="UADM", lookup_email=emails.get, files=files, instruction=ADD, fetch=fetch)
    limit = container.knowledge.base.max_file_bytes + 1
    assert fetched == [("lost.md", limit), ("bicycle-policy.md", limit)]
    assert [(item.name, item.outcome) for item in report.files] == [("lost.md", AddOutcome.FAILED),
                                                                    ("bicycle-policy.md", AddOutcome.ADDED)]
    assert "lost.md: failed. I couldn't download it from Slack" in report.text
    assert documents(container) == [("bicycle-policy", "admin@example.com")]


def test_an_uploaded_document_names_the_upload_as_its_source(container, tmp_path) -> None:
    from assistant.uploads import ingest_upload
    from tests.builders import make_company

    company = make_company(container)
    ingest_upload(container, company.admin, "bike.md", b"# Bikes\n\nBike racks are in the basement garage, level -1.\n",
                  "add this to the policies")
    [document] = container.knowledge.base.list_documents()
    assert document.source == "uploaded in chat: bike.md"


# --- the people directory, sent as a CSV ---------------------------------------------------------------------

PEOPLE_CSV = ("email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days\n"
              "new.hire@example.com,New Hire,,manager@example.com,Engineering,employee,US,2026-12-01,25\n")
UPDATE_PEOPLE = "please update the people directory"


def upload_people(container: Container, content: bytes, *, user: str = "UADM", names: tuple[str, ...] = ("people.csv",),
                  instruction: str = UPDATE_PEOPLE) -> tuple[str, list[str]]:
    emails = {"UADM": "admin@example.com", "UMGR": "manager@example.com"}
    fetched: list[str] = []

    def fetch(file: IncomingFile, limit: int) -> bytes:
        fetched.append(file.name)
        return content

    report = receive_uploads(container, chat_user_id=user, lookup_email=emails.get, files=[IncomingFile(n) for n in names],
                             instruction=instruction, fetch=fetch)
    return report.text, fetched


def people_emails(container: Container) -> set[str]:
    from tools.people.models import Employee

    with transaction(container.session_factory) as session:
        return set(session.scalars(select(Employee.email)))


def test_an_admins_people_csv_updates_the_directory_and_the_audit_names_them(container: Container) -> None:
    make_company(container)
    text, fetched = upload_people(container, PEOPLE_CSV.encode())
    assert text == "People directory, from people.csv: created 1, updated 0, unchanged 0." and fetched == ["people.csv"]
    assert "new.hire@example.com" in people_emails(container)
    with transaction(container.session_factory) as session:
        [entry] = session.scalars(select(AuditRecord).where(AuditRecord.action == "people.created"))
        from tools.people.models import Employee
        admin = session.scalar(select(Employee).where(Employee.email == "admin@example.com"))
        assert entry.actor_id == admin.id


@pytest.mark.parametrize(("content", "words"), [
    (PEOPLE_CSV.replace("2026-12-01", "someday").encode(), "line 2"),  # a bad row is named; the file goes in whole or not at all
    ("email,name\n".encode() + "ü".encode("latin-1"), "people.csv is not UTF-8"),
])
def test_a_bad_people_csv_changes_nothing_and_says_why(container: Container, content: bytes, words: str) -> None:
    make_company(container)
    text, _ = upload_people(container, content)
    assert "was not imported; nothing changed" in text and words in text and "/tmp" not in text
    assert "new.hire@example.com" not in people_emails(container)


def test_only_an_admin_updates_the_directory_and_the_csv_comes_alone(container: Container) -> None:
    make_company(container)
    text, fetched = upload_people(container, PEOPLE_CSV.encode(), user="UMGR")
    assert "Only admins" in text and fetched == []
    text, fetched = upload_people(container, PEOPLE_CSV.encode(), names=("people.csv", "policy.md"))
    assert "on its own" in text and fetched == [] and "new.hire@example.com" not in people_emails(container)
