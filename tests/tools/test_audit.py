"""The audit trail: exactly one record per state change, none for reads, and no way to change or remove a record."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from assistant.container import Container
from tests.builders import Company, make_company
from tests.conftest import NOW, using_postgres
from tools.audit import service as audit_service
from tools.audit.models import AuditRecord, AuditTrailIsAppendOnly
from tools.db import transaction
from tools.pipeline import ToolResult

LEAVE = {"start_date": "2026-12-07", "end_date": "2026-12-09"}
EXPENSE = {"amount": "20.00", "currency": "USD", "category": "meals", "expense_date": "2026-11-25", "merchant": "Cafe Luna"}
ACCESS = {"system": "GitHub", "access_level": "write", "justification": "Release automation"}


@dataclass(frozen=True)
class Entry:
    """The parts of an audit record a test checks."""

    actor_id: int | None
    action: str
    subject: str
    details: dict[str, Any]


def trail(container: Container) -> list[tuple[Any, ...]]:
    """Return every audit record in full, oldest first."""
    with transaction(container.session_factory) as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [(r.id, r.at, r.actor_id, r.actor_label, r.action, r.subject, r.details) for r in records]


def entries_after(container: Container, last_id: int) -> list[Entry]:
    """Return the audit records written after `last_id`, oldest first."""
    with transaction(container.session_factory) as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id))
        return [Entry(r.actor_id, r.action, r.subject, r.details) for r in records]


def last_audit_id(container: Container) -> int:
    """Return the id of the newest audit record (0 when there is none)."""
    with transaction(container.session_factory) as session:
        return session.scalar(select(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(1)) or 0


def run_and_audit(container: Container, tool: str, args: dict[str, Any], actor_id: int) -> tuple[ToolResult, list[Entry]]:
    """Run one tool call; return its result and the audit records it left."""
    before = last_audit_id(container)
    result = container.pipeline.run(tool, args, actor_id=actor_id, now=NOW)
    return result, entries_after(container, before)


@pytest.fixture
def company(container: Container) -> Company:
    """Return the test company."""
    return make_company(container)


def test_request_leave_leaves_one_record(container: Container, company: Company) -> None:
    result, entries = run_and_audit(container, "request_leave", LEAVE, company.requester)
    assert entries == [Entry(company.requester, "request_leave", f"leave_request:{result.data['request_id']}", entries[0].details)]
    assert entries[0].details["args"]["start_date"] == "2026-12-07"
    assert entries[0].details["result"]["approval_id"] == result.data["approval_id"]


def test_approving_a_one_step_chain_leaves_the_decision_and_the_execution(container: Container, company: Company) -> None:
    request = container.pipeline.run("request_leave", LEAVE, actor_id=company.requester, now=NOW)
    approval_id = request.data["approval_id"]
    result, entries = run_and_audit(container, "decide_approval", {"approval_id": approval_id, "decision": "approve"}, company.manager)
    assert result.data["status"] == "approved"
    assert sorted((e.action, e.actor_id, e.subject) for e in entries) == [
        ("decide_approval", company.manager, f"approval:{approval_id}"),
        ("request_leave.executed", company.requester, f"leave_request:{request.data['request_id']}"),
    ]
    executed = next(e for e in entries if e.action == "request_leave.executed")
    assert executed.details["approved_by"] == "manager@example.com"
    assert executed.details["approval_id"] == approval_id


def test_each_step_of_a_two_step_chain_is_recorded_once(container: Container, company: Company) -> None:
    request = container.pipeline.run("request_leave", {**LEAVE, "leave_type": "unpaid"}, actor_id=company.requester, now=NOW)
    decide = {"approval_id": request.data["approval_id"], "decision": "approve"}
    _, first = run_and_audit(container, "decide_approval", decide, company.manager)
    assert [(e.action, e.actor_id) for e in first] == [("decide_approval", company.manager)]
    _, second = run_and_audit(container, "decide_approval", decide, company.hr)
    assert sorted(e.action for e in second) == ["decide_approval", "request_leave.executed"]


def test_deny_leaves_one_record(container: Container, company: Company) -> None:
    request = container.pipeline.run("request_leave", LEAVE, actor_id=company.requester, now=NOW)
    decide = {"approval_id": request.data["approval_id"], "decision": "deny", "reason": "Year-end freeze"}
    result, entries = run_and_audit(container, "decide_approval", decide, company.manager)
    assert result.data["status"] == "rejected"
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [
        ("decide_approval", company.manager, f"approval:{request.data['approval_id']}")
    ]
    assert entries[0].details["args"]["reason"] == "Year-end freeze"


@pytest.mark.parametrize("approve_first", [False, True], ids=["pending", "approved"])
def test_cancel_leave_leaves_one_record(container: Container, company: Company, approve_first: bool) -> None:
    request = container.pipeline.run("request_leave", LEAVE, actor_id=company.requester, now=NOW)
    if approve_first:
        container.pipeline.run("decide_approval", {"approval_id": request.data["approval_id"], "decision": "approve"},
                               actor_id=company.manager, now=NOW)
    result, entries = run_and_audit(container, "cancel_leave", {"request_id": request.data["request_id"]}, company.requester)
    assert result.data["status"] == "cancelled"
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [
        ("cancel_leave", company.requester, f"leave_request:{request.data['request_id']}")
    ]


def test_expense_submission_and_its_lifecycle_leave_one_record_per_change(container: Container, company: Company) -> None:
    claim, entries = run_and_audit(container, "submit_expense", EXPENSE, company.requester)
    subject = f"expense_claim:{claim.data['claim_id']}"
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("submit_expense", company.requester, subject)]
    _, entries = run_and_audit(container, "decide_approval", {"approval_id": claim.data["approval_id"], "decision": "approve"},
                               company.manager)
    assert sorted(e.action for e in entries) == ["decide_approval", "submit_expense.executed"]
    _, entries = run_and_audit(container, "mark_expense_reimbursed", {"claim_id": claim.data["claim_id"]}, company.finance)
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("mark_expense_reimbursed", company.finance, subject)]


def test_tickets_and_comments_leave_one_record_each(container: Container, company: Company) -> None:
    ticket, entries = run_and_audit(container, "create_ticket", {"summary": "Laptop will not boot"}, company.requester)
    subject = f"ticket:{ticket.data['ticket_id']}"
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("create_ticket", company.requester, subject)]
    _, entries = run_and_audit(container, "comment_on_ticket", {"ticket_id": ticket.data["ticket_id"], "body": "Still broken"},
                               company.requester)
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("comment_on_ticket", company.requester, subject)]
    _, entries = run_and_audit(container, "comment_on_ticket", {"ticket_id": ticket.data["ticket_id"], "body": "On it"}, company.it)
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("comment_on_ticket", company.it, subject)]


def test_system_access_request_and_its_approval(container: Container, company: Company) -> None:
    access, entries = run_and_audit(container, "request_system_access", ACCESS, company.requester)
    subject = f"ticket:{access.data['ticket_id']}"
    assert [(e.action, e.actor_id, e.subject) for e in entries] == [("request_system_access", company.requester, subject)]
    _, entries = run_and_audit(container, "decide_approval", {"approval_id": access.data["approval_id"], "decision": "approve"},
                               company.it)
    assert sorted((e.action, e.subject) for e in entries) == [
        ("decide_approval", f"approval:{access.data['approval_id']}"), ("request_system_access.executed", subject),
    ]


def test_reads_leave_no_record(container: Container, company: Company) -> None:
    request = container.pipeline.run("request_leave", LEAVE, actor_id=company.requester, now=NOW)
    claim = container.pipeline.run("submit_expense", EXPENSE, actor_id=company.requester, now=NOW)
    ticket = container.pipeline.run("create_ticket", {"summary": "VPN drops"}, actor_id=company.requester, now=NOW)
    reads = [
        ("get_leave_balance", {}, company.requester),
        ("get_leave_balance", {"employee_email": "requester@example.com", "year": 2027}, company.manager),
        ("list_my_leave", {}, company.requester),
        ("get_leave_request", {"request_id": request.data["request_id"]}, company.hr),
        ("list_my_expenses", {}, company.requester),
        ("get_expense", {"claim_id": claim.data["claim_id"]}, company.finance),
        ("list_my_tickets", {}, company.requester),
        ("get_ticket", {"ticket_id": ticket.data["ticket_id"]}, company.it),
        ("list_pending_approvals", {}, company.manager),
    ]
    before = trail(container)
    for tool, args, actor in reads:
        container.pipeline.run(tool, args, actor_id=actor, now=NOW)
        assert trail(container) == before, f"{tool} wrote to the audit trail"


def test_audit_service_offers_no_way_to_change_or_remove_records() -> None:
    public = {name for name, member in inspect.getmembers(audit_service, inspect.isfunction)
              if member.__module__ == audit_service.__name__ and not name.startswith("_")}
    assert public == {"record_audit", "list_audit"}
    tree = ast.parse(inspect.getsource(audit_service))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert not imported & {"update", "delete", "text", "insert"}
    called = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not called & {"delete", "execute", "merge", "bulk_update_mappings", "query"}


@pytest.fixture
def recorded(container: Container, company: Company) -> Iterator[list[tuple[Any, ...]]]:
    """Leave a few real records in the trail; after the test, check that they are all still there, unchanged."""
    container.pipeline.run("create_ticket", {"summary": "Laptop will not boot"}, actor_id=company.requester, now=NOW)
    container.pipeline.run("request_leave", LEAVE, actor_id=company.requester, now=NOW)
    before = trail(container)
    assert len(before) >= 3
    yield before
    assert trail(container) == before


def test_orm_update_of_a_record_is_refused(container: Container, recorded: list[tuple[Any, ...]]) -> None:
    with pytest.raises(AuditTrailIsAppendOnly):
        with transaction(container.session_factory) as session:
            record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
            assert record is not None
            record.action = "nothing_happened"
            session.flush()


def test_orm_delete_of_a_record_is_refused(container: Container, recorded: list[tuple[Any, ...]]) -> None:
    with pytest.raises(AuditTrailIsAppendOnly):
        with transaction(container.session_factory) as session:
            record = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
            session.delete(record)
            session.flush()


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(update(AuditRecord).values(actor_label="someone else"), id="update-all"),
        pytest.param(update(AuditRecord).where(AuditRecord.action == "request_leave").values(details={}), id="update-one"),
        pytest.param(delete(AuditRecord), id="delete-all"),
        pytest.param(delete(AuditRecord).where(AuditRecord.action == "create_ticket"), id="delete-one"),
    ],
)
def test_bulk_orm_statements_skip_the_mapper_events_but_the_database_refuses_them(
    container: Container, recorded: list[tuple[Any, ...]], statement: Any
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with transaction(container.session_factory) as session:
            session.execute(statement.execution_options(synchronize_session=False))


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("UPDATE audit_log SET action = 'nothing_happened'", id="update-all"),
        pytest.param("UPDATE audit_log SET actor_label = 'x' WHERE id = (SELECT max(id) FROM audit_log)", id="update-newest"),
        pytest.param("DELETE FROM audit_log", id="delete-all"),
        pytest.param("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)", id="delete-oldest"),
    ],
)
def test_raw_sql_update_and_delete_are_refused_by_the_database(
    container: Container, recorded: list[tuple[Any, ...]], sql: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with container.engine.begin() as connection:
            connection.execute(text(sql))


@pytest.mark.skipif(not using_postgres(), reason="TRUNCATE is PostgreSQL only (SQLite's DELETE without WHERE is covered above)")
def test_truncate_is_refused_on_postgresql(container: Container, recorded: list[tuple[Any, ...]]) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with container.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))


def test_new_records_can_still_be_appended_after_refused_changes(container: Container, company: Company) -> None:
    with pytest.raises(DBAPIError):
        with container.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
    _, entries = run_and_audit(container, "create_ticket", {"summary": "Monitor flickers"}, company.requester)
    assert [e.action for e in entries] == ["create_ticket"]
