"""Real threads against the real database: balances never overdraw and every approval is decided once.

On SQLite, BEGIN IMMEDIATE serializes whole transactions, so the threads queue on the busy timeout.
On PostgreSQL the threads really interleave; to make sure they all reach the contended statement together,
a third connection holds the contended row lock until every thread is waiting on it (`_race(hold=...)`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session

from assistant.container import Container
from tests.builders import Company, add_employee, make_company
from tests.conftest import NOW, using_postgres
from tools.approvals.models import Approval, ApprovalDecision, ApprovalStatus, Decision
from tools.approvals.service import get_approval, record_decision
from tools.audit.models import AuditRecord
from tools.db import Base, transaction
from tools.errors import ErrorCode, ToolError
from tools.helpdesk.models import Ticket
from tools.leave.calendar import working_days_by_year
from tools.leave.models import LeaveAllocation, LeaveLedgerEntry, LeaveRequest, LeaveType, LedgerKind
from tools.people.models import Employee, Role
from tools.people.service import get_employee
from tools.pipeline import ToolResult

pytestmark = pytest.mark.slow

WAIT_SECONDS = 10.0
Outcome = ToolResult | ToolError

# Every backend transitively waiting on the holder's locks (row-lock queues chain through the first waiter).
BLOCKED_BEHIND = text(
    """
    WITH RECURSIVE blocked(pid) AS (
        SELECT CAST(:holder AS integer)
        UNION
        SELECT activity.pid FROM pg_stat_activity AS activity
        JOIN blocked ON blocked.pid = ANY(pg_blocking_pids(activity.pid))
    )
    SELECT count(*) - 1 FROM blocked
    """
)


@pytest.fixture(autouse=True)
def no_retried_transactions(container: Container) -> Iterator[list[str]]:
    """Fail the test if a deadlock, serialization failure or lock timeout had to be retried.

    The pipeline retries them, so balances stay right, but each PostgreSQL deadlock costs `deadlock_timeout`
    (1 s) before it is even detected: a race that deadlocks is a bug here, not bad luck.
    """
    retried: list[str] = []

    def remember(context: ExceptionContext) -> None:
        error = context.original_exception
        if getattr(error, "sqlstate", None) in {"40001", "40P01"} or "database is locked" in str(error):
            retried.append(str(error).splitlines()[0])

    event.listen(container.engine, "handle_error", remember)
    yield retried
    event.remove(container.engine, "handle_error", remember)
    assert retried == [], f"transactions were retried: {retried}"


@dataclass(frozen=True)
class RowLock:
    """A row that a third connection keeps locked (PostgreSQL only) until every racer waits on it."""

    table: type[Base]
    row_id: int


@contextmanager
def _holding(container: Container, lock: RowLock | None) -> Iterator[Callable[[int], None]]:
    """Hold `lock` and yield a function that waits for N blocked backends, then releases the lock."""
    if lock is None or not using_postgres():
        yield lambda _waiters: None
        return
    with container.engine.connect() as holder, container.engine.connect() as watcher:
        watcher = watcher.execution_options(isolation_level="AUTOCOMMIT")  # pg_stat_activity is cached per transaction
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        table = lock.table.__table__
        holder.execute(select(table.c.id).where(table.c.id == lock.row_id).with_for_update())

        def release_when_waiting(waiters: int) -> None:
            deadline = time.monotonic() + WAIT_SECONDS
            while watcher.execute(BLOCKED_BEHIND, {"holder": holder_pid}).scalar_one() < waiters:
                assert time.monotonic() < deadline, f"fewer than {waiters} threads reached the locked row"
                time.sleep(0.01)
            holder.rollback()

        try:
            yield release_when_waiting
        finally:
            holder.rollback()


def _race(container: Container, calls: list[Callable[[], ToolResult]], *, hold: RowLock | None = None) -> list[Outcome]:
    """Start every call at once on its own thread; return each result or refusal, in call order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome | BaseException | None] = [None] * len(calls)

    def worker(index: int) -> None:
        barrier.wait(timeout=WAIT_SECONDS)
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # handed to the main thread: a ToolError is an outcome, anything else fails
            outcomes[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    with _holding(container, hold) as release_when_waiting:
        for thread in threads:
            thread.start()
        release_when_waiting(len(calls))
        for thread in threads:
            thread.join(timeout=WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racing call did not finish"
    unexpected = [outcome for outcome in outcomes if not isinstance(outcome, ToolResult | ToolError)]
    if unexpected:
        raise AssertionError(f"racing calls failed unexpectedly: {unexpected!r}") from unexpected[0]  # type: ignore[misc]
    return outcomes  # type: ignore[return-value]


def _call(container: Container, tool: str, args: dict[str, object], actor_id: int) -> Callable[[], ToolResult]:
    return lambda: container.pipeline.run(tool, args, actor_id=actor_id, now=NOW)


def _succeeded(outcomes: list[Outcome]) -> list[ToolResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, ToolResult)]


def _refusal_codes(outcomes: list[Outcome]) -> list[ErrorCode]:
    return [outcome.code for outcome in outcomes if isinstance(outcome, ToolError)]


def _working_days_after(today: date, count: int) -> list[date]:
    days: list[date] = []
    day = today
    while len(days) < count:
        day += timedelta(days=1)
        if working_days_by_year("US", day, day):
            days.append(day)
    return days


def _count(session: Session, model: type[Base], *conditions: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions))  # type: ignore[arg-type]


def _allocation(session: Session, *, employee_id: int, leave_type: str, year: int) -> LeaveAllocation:
    return session.scalars(
        select(LeaveAllocation).join(LeaveType, LeaveType.id == LeaveAllocation.leave_type_id).where(
            LeaveAllocation.employee_id == employee_id, LeaveType.code == leave_type, LeaveAllocation.year == year
        )
    ).one()


def _ledger(session: Session, allocation_id: int) -> list[LeaveLedgerEntry]:
    entries = select(LeaveLedgerEntry).where(LeaveLedgerEntry.allocation_id == allocation_id).order_by(LeaveLedgerEntry.id)
    return list(session.scalars(entries))


def _assert_counters_match_ledger(allocation: LeaveAllocation, ledger: list[LeaveLedgerEntry]) -> None:
    totals = {kind: sum((entry.days for entry in ledger if entry.kind == kind), Decimal("0")) for kind in LedgerKind}
    assert allocation.reserved == totals[LedgerKind.RESERVE] - totals[LedgerKind.RELEASE] - totals[LedgerKind.TAKE]
    assert allocation.taken == totals[LedgerKind.TAKE] - totals[LedgerKind.RESTORE]


def test_parallel_leave_requests_never_overdraw_the_balance(container: Container) -> None:
    company = make_company(container, annual_leave_days=Decimal("5"))
    days = _working_days_after(NOW.date(), 20)
    assert len({day.year for day in days}) == 1  # one allocation takes every reservation

    requests = [
        _call(container, "request_leave", {"start_date": day.isoformat(), "end_date": day.isoformat()}, company.requester)
        for day in days
    ]
    outcomes = _race(container, requests, hold=RowLock(Employee, company.requester))

    assert len(_succeeded(outcomes)) == 5
    assert _refusal_codes(outcomes) == [ErrorCode.INSUFFICIENT_BALANCE] * 15
    with transaction(container.session_factory) as session:
        allocation = _allocation(session, employee_id=company.requester, leave_type="annual", year=days[0].year)
        assert (allocation.allowance, allocation.reserved, allocation.taken) == (5, 5, 0)
        ledger = _ledger(session, allocation.id)
        assert [(entry.kind, entry.days) for entry in ledger] == [(LedgerKind.RESERVE, 1)] * 5
        # In commit order the reservations never went past the allowance, not even for a moment.
        running = [sum((entry.days for entry in ledger[: index + 1]), Decimal("0")) for index in range(len(ledger))]
        assert max(running) <= allocation.allowance
        _assert_counters_match_ledger(allocation, ledger)
        # Refused requests left nothing behind: no request rows, no approvals, no audit records.
        requests = list(session.scalars(select(LeaveRequest).where(LeaveRequest.employee_id == company.requester)))
        assert len(requests) == 5
        assert {request.id for request in requests} == {entry.request_id for entry in ledger}
        granted = sorted(success.data["start_date"] for success in _succeeded(outcomes))
        assert sorted(request.start_date.isoformat() for request in requests) == granted
        assert _count(session, Approval, Approval.requester_id == company.requester) == 5
        assert _count(session, AuditRecord, AuditRecord.action == "request_leave") == 5


def _decide(container: Container, approval_id: int, actor_id: int, decision: Decision) -> Callable[[], ToolResult]:
    reason = "" if decision is Decision.APPROVE else "Not now."
    return _call(container, "decide_approval", {"approval_id": approval_id, "decision": decision.value, "reason": reason}, actor_id)


def _only_one_decision_won(outcomes: list[Outcome]) -> bool:
    """Check that one decision succeeded and the other was told ALREADY_DECIDED; return True if it approved."""
    [winner] = _succeeded(outcomes)
    [loser] = [outcome for outcome in outcomes if isinstance(outcome, ToolError)]
    assert loser.code is ErrorCode.ALREADY_DECIDED
    if using_postgres():
        # Both threads passed the status pre-check while the row was held: the conditional UPDATE refused the loser.
        assert "has already been decided" in loser.message
    return winner.data["decision"] == Decision.APPROVE


def _assert_decided_once(container: Container, *, request_id: int, approval_id: int, steps: int, approved: bool) -> None:
    """Check one decision row per step, one audit record per decision, and the stored call run at most once."""
    decided = ApprovalDecision.approval_id == approval_id
    with transaction(container.session_factory) as session:
        status = get_approval(session, approval_id=approval_id).status
        assert status == (ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED)
        assert _count(session, ApprovalDecision, decided) == steps
        assert _count(session, ApprovalDecision, decided, ApprovalDecision.step == steps - 1) == 1
        executed = _count(session, AuditRecord, AuditRecord.action == "request_leave.executed",
                          AuditRecord.subject == f"leave_request:{request_id}")
        assert executed == (1 if approved else 0)
        audited = _count(session, AuditRecord, AuditRecord.action == "decide_approval",
                         AuditRecord.subject == f"approval:{approval_id}")
        assert audited == steps  # the refused decision's audit record was rolled back with it


def _assert_balance_moved_once(container: Container, *, request_id: int, leave_type: str, approved: bool) -> None:
    """Check that the request's reservation was settled exactly once, by a take or by a release."""
    with transaction(container.session_factory) as session:
        request = session.get(LeaveRequest, request_id)
        assert request is not None and request.status == ("approved" if approved else "rejected")
        allocation = _allocation(session, employee_id=request.employee_id, leave_type=leave_type, year=request.start_date.year)
        ledger = _ledger(session, allocation.id)
        days = request.working_days
        settle = LedgerKind.TAKE if approved else LedgerKind.RELEASE
        assert [(entry.kind, entry.days) for entry in ledger] == [(LedgerKind.RESERVE, days), (settle, days)]
        assert (allocation.taken, allocation.reserved) == ((days, 0) if approved else (0, 0))
        _assert_counters_match_ledger(allocation, ledger)


def _add_deputy_hr(container: Container, company: Company) -> int:
    with transaction(container.session_factory) as session:
        ceo = get_employee(session, employee_id=company.ceo)
        return add_employee(session, "hr.deputy@example.com", roles=(Role.HR,), manager=ceo).id


@pytest.mark.parametrize("deputy_decision", [Decision.APPROVE, Decision.DENY])
def test_two_hr_people_racing_on_the_hr_step_decide_it_once(container: Container, deputy_decision: Decision) -> None:
    company = make_company(container)
    deputy = _add_deputy_hr(container, company)
    args = {"start_date": "2026-12-07", "end_date": "2026-12-11", "leave_type": "parental"}
    request = container.pipeline.run("request_leave", args, actor_id=company.requester, now=NOW).data
    approval_id = request["approval_id"]
    assert _decide(container, approval_id, company.manager, Decision.APPROVE)().data["status"] == "pending"

    outcomes = _race(
        container,
        [_decide(container, approval_id, company.hr, Decision.APPROVE), _decide(container, approval_id, deputy, deputy_decision)],
        hold=RowLock(Approval, approval_id),
    )

    approved = _only_one_decision_won(outcomes)
    _assert_decided_once(container, request_id=request["request_id"], approval_id=approval_id, steps=2, approved=approved)
    _assert_balance_moved_once(container, request_id=request["request_id"], leave_type="parental", approved=approved)


def test_an_approver_clicking_twice_at_once_decides_once(container: Container) -> None:
    company = make_company(container)
    args = {"start_date": "2026-12-14", "end_date": "2026-12-16"}
    request = container.pipeline.run("request_leave", args, actor_id=company.requester, now=NOW).data
    approval_id = request["approval_id"]

    click = _decide(container, approval_id, company.manager, Decision.APPROVE)
    outcomes = _race(container, [click, click], hold=RowLock(Approval, approval_id))

    assert _only_one_decision_won(outcomes)
    _assert_decided_once(container, request_id=request["request_id"], approval_id=approval_id, steps=1, approved=True)
    _assert_balance_moved_once(container, request_id=request["request_id"], leave_type="annual", approved=True)


def test_a_decision_made_on_a_stale_pending_read_is_refused(container: Container) -> None:
    """The interleaving a real race produces, made deterministic: read pending, someone else decides, then write."""
    company = make_company(container)
    args = {"start_date": "2026-12-14", "end_date": "2026-12-14"}
    approval_id = container.pipeline.run("request_leave", args, actor_id=company.requester, now=NOW).data["approval_id"]
    late = container.session_factory()
    try:
        stale = get_approval(late, approval_id=approval_id)
        manager = get_employee(late, employee_id=company.manager)
        late.commit()  # ends the read; the objects keep their loaded (soon stale) state
        _decide(container, approval_id, company.manager, Decision.APPROVE)()
        assert stale.status == ApprovalStatus.PENDING
        with pytest.raises(ToolError) as refused:
            record_decision(late, approval=stale, actor=manager, decision=Decision.DENY, reason="Too late.")
        assert refused.value.code is ErrorCode.ALREADY_DECIDED
        late.rollback()
    finally:
        late.close()
    with transaction(container.session_factory) as session:
        assert get_approval(session, approval_id=approval_id).status == ApprovalStatus.APPROVED
        assert _count(session, ApprovalDecision, ApprovalDecision.approval_id == approval_id) == 1


def test_a_new_hires_first_balance_reads_and_request_do_not_collide(container: Container) -> None:
    """The first balance read (or request) of a year creates the allocations; simultaneous firsts must not collide."""
    company = make_company(container)
    for round_number in range(5):
        with transaction(container.session_factory) as session:
            manager = get_employee(session, employee_id=company.manager)
            hire = add_employee(session, f"new.hire{round_number}@example.com", manager=manager).id
        read = _call(container, "get_leave_balance", {}, hire)
        request = _call(container, "request_leave", {"start_date": "2026-12-15", "end_date": "2026-12-15"}, hire)

        outcomes = _race(container, [read] * 6 + [request])

        assert len(_succeeded(outcomes)) == 7
        with transaction(container.session_factory) as session:
            assert _count(session, LeaveAllocation, LeaveAllocation.employee_id == hire) == 4  # one per leave type
            allocation = _allocation(session, employee_id=hire, leave_type="annual", year=2026)
            assert (allocation.reserved, allocation.taken) == (1, 0)


def test_an_approval_and_a_new_request_of_the_same_person_both_land(container: Container) -> None:
    """The manager approves one request while the employee files the next: both move the same allocation."""
    company = make_company(container)
    days = _working_days_after(NOW.date(), 20)
    for first, second in zip(days[::2], days[1::2]):
        one_day = {"start_date": first.isoformat(), "end_date": first.isoformat()}
        approval_id = _call(container, "request_leave", one_day, company.requester)().data["approval_id"]
        next_day = {"start_date": second.isoformat(), "end_date": second.isoformat()}

        outcomes = _race(container, [_decide(container, approval_id, company.manager, Decision.APPROVE),
                                     _call(container, "request_leave", next_day, company.requester)])

        assert len(_succeeded(outcomes)) == 2
    with transaction(container.session_factory) as session:
        allocation = _allocation(session, employee_id=company.requester, leave_type="annual", year=days[0].year)
        assert (allocation.taken, allocation.reserved) == (10, 10)
        _assert_counters_match_ledger(allocation, _ledger(session, allocation.id))
        assert _count(session, AuditRecord, AuditRecord.action == "request_leave.executed") == 10


def test_identical_access_requests_sent_at_once_open_one_ticket(container: Container) -> None:
    company = make_company(container)
    args = {"system": "GitHub", "access_level": "read", "justification": "Code reviews for the billing team."}
    outcomes = _race(container, [_call(container, "request_system_access", args, company.requester) for _ in range(4)],
                     hold=RowLock(Employee, company.requester))
    assert len(_succeeded(outcomes)) == 1
    assert _refusal_codes(outcomes) == [ErrorCode.CONFLICT] * 3
    with transaction(container.session_factory) as session:
        assert _count(session, Ticket, Ticket.requester_id == company.requester) == 1
        assert _count(session, Approval) == 1
