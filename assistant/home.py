"""The App Home's content for one employee: balances, open requests, the approval queue and, for admins, the policies.

Everything is read through the pipeline's read tools as the employee, so the Home shows exactly what they may
see in a chat; the adapter only renders the HomeData.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assistant.chat import identify
from assistant.container import Container
from assistant.errors import AssistantError, AssistantErrorCode
from tools.db import transaction, utcnow
from tools.expenses.models import ClaimStatus
from tools.helpdesk.models import TicketStatus
from tools.leave.models import LeaveStatus
from tools.people.models import Role
from tools.people.service import get_employee
from tools.pipeline import employee_today

OPEN_CLAIMS = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.PENDING_APPROVAL, ClaimStatus.APPROVED})  # approved: not paid yet
OPEN_TICKETS = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING})
READ_LIMIT = 50  # newest rows read per list; the open ones are among the recent
MAX_APPROVALS = 15  # a Home view holds at most 100 blocks; each approval takes two
TEAM_DAYS = timedelta(days=13)  # "who is off": today and the next 13 days
INACTIVE = "Your entry in the company directory is not active, so I can't show your requests. Ask HR if this is a mistake."


@dataclass(frozen=True)
class BalanceLine:
    """Days of one leave type this year; `available` None means no cap."""

    leave_type: str
    allowance: float | None
    taken: float
    reserved: float
    available: float | None


@dataclass(frozen=True)
class LeaveLine:
    """A pending or upcoming leave request."""

    request_id: int
    leave_type: str
    start_date: str
    end_date: str
    working_days: float
    status: str


@dataclass(frozen=True)
class TeamLeaveLine:
    """Someone the viewer may see who is off in the next two weeks (approved or pending)."""

    name: str
    leave_type: str
    start_date: str
    end_date: str
    status: str


@dataclass(frozen=True)
class ExpenseLine:
    """An expense claim not paid out yet."""

    claim_id: int
    amount: str
    currency: str
    category: str
    merchant: str
    expense_date: str
    status: str


@dataclass(frozen=True)
class TicketLine:
    """A ticket that is not resolved or closed."""

    ticket_id: int
    summary: str
    priority: str
    status: str
    overdue: bool = False  # past its due time (shown in a team's queue)
    assignee: str | None = None


@dataclass(frozen=True)
class PendingApproval:
    """A request waiting for this employee's decision; `step` is 1-based, as on the approval cards."""

    approval_id: int
    step: int
    steps: int
    kind: str
    summary: str
    requester: str
    check: str = ""  # a possible double claim, from the request's facts


@dataclass(frozen=True)
class DocumentLine:
    """One indexed policy document."""

    doc_id: str
    title: str
    audience: str
    chunks: int
    added_at: str


@dataclass(frozen=True)
class KnowledgeStatus:
    """What the knowledge base holds; `problem` says why it could not be read."""

    documents: list[DocumentLine] = field(default_factory=list)
    last_update: datetime | None = None
    problem: str = ""

    @property
    def chunks(self) -> int:
        """Return the number of indexed chunks over all documents."""
        return sum(document.chunks for document in self.documents)


@dataclass(frozen=True)
class HomeData:
    """Everything the App Home shows one person; `known` False means only `message` applies."""

    known: bool
    name: str = ""
    message: str = ""
    year: int = 0
    balances: list[BalanceLine] = field(default_factory=list)
    leave: list[LeaveLine] = field(default_factory=list)
    expenses: list[ExpenseLine] = field(default_factory=list)
    tickets: list[TicketLine] = field(default_factory=list)
    approvals: list[PendingApproval] = field(default_factory=list)
    more_approvals: int = 0  # waiting beyond the ones listed
    team_off: list[TeamLeaveLine] | None = None  # managers, HR and admins: who is off in the next TEAM_DAYS days
    queues: dict[str, list[TicketLine]] | None = None  # IT, HR and admins: their team's open tickets, due first first
    knowledge: KnowledgeStatus | None = None  # admins only

    @classmethod
    def unknown(cls, message: str) -> HomeData:
        """Return the Home of someone the assistant cannot act for."""
        return cls(known=False, message=message)


def home_for_chat_user(container: Container, chat_user_id: str, lookup_email: Callable[[str], str | None],
                       *, now: datetime | None = None) -> HomeData:
    """Return the Home of a chat account; someone not in the directory gets a Home that says so."""
    try:
        user = identify(container, chat_user_id, lookup_email)
    except AssistantError as error:
        if error.code is not AssistantErrorCode.UNKNOWN_USER:
            raise
        return HomeData.unknown(error.message)
    return build_home(container, employee_id=user.employee_id, now=now)


def build_home(container: Container, *, employee_id: int, now: datetime | None = None) -> HomeData:
    """Return the Home of an employee, read through the pipeline's read tools as that employee."""
    moment = now or utcnow()
    with transaction(container.session_factory) as session:
        employee = get_employee(session, employee_id=employee_id)
        name, active, is_admin = employee.name, employee.active, employee.has_role(Role.ADMIN)
        sees_team = employee.has_role(Role.MANAGER, Role.HR, Role.ADMIN)
        queues = [queue for queue, role in (("it", Role.IT), ("hr", Role.HR)) if employee.has_role(role, Role.ADMIN)]
        today = employee_today(employee, moment, container.settings.timezone)
    if not active:
        return HomeData.unknown(INACTIVE)

    def read(tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return container.pipeline.run(tool, args or {}, actor_id=employee_id, now=moment).data

    pending = read("list_pending_approvals", {"limit": MAX_APPROVALS + 1})["approvals"]
    claims = read("list_my_expenses", {"limit": READ_LIMIT})["claims"]
    tickets = read("list_my_tickets", {"limit": READ_LIMIT})["tickets"]
    return HomeData(
        known=True, name=name, year=today.year,
        balances=[_balance(row) for row in read("get_leave_balance")["balances"]],
        leave=[_leave(row) for row in read("list_my_leave", {"limit": READ_LIMIT})["requests"] if _leave_is_open(row, today)],
        expenses=[_expense(row) for row in claims if row["status"] in OPEN_CLAIMS],
        tickets=[_ticket(row) for row in tickets if row["status"] in OPEN_TICKETS],
        approvals=[_approval(row) for row in pending[:MAX_APPROVALS]], more_approvals=max(0, len(pending) - MAX_APPROVALS),
        knowledge=knowledge_status(container) if is_admin else None,
        queues={queue: [_ticket(row) for row in read("list_ticket_queue", {"queue": queue, "limit": READ_LIMIT})["tickets"]]
                for queue in queues} or None,
        team_off=[_team_leave(row) for row in read("list_team_leave", {"start_date": today.isoformat(),
                                                                          "end_date": (today + TEAM_DAYS).isoformat()})["leave"]]
        if sees_team else None,
    )


def knowledge_status(container: Container) -> KnowledgeStatus:
    """Return the documents in the knowledge base (no model is loaded); a broken index becomes a `problem`."""
    from knowledge.errors import KnowledgeError

    try:
        records = container.knowledge.base.list_documents()
    except KnowledgeError as error:
        return KnowledgeStatus(problem=error.message)
    documents = [DocumentLine(r.doc_id, r.title, r.audience, r.chunk_count, r.added_at) for r in records]
    stamps = [_parse_stamp(document.added_at) for document in documents]
    return KnowledgeStatus(documents=documents, last_update=max((s for s in stamps if s is not None), default=None))


def _parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _leave_is_open(row: dict[str, Any], today: date) -> bool:
    """Pending requests, and approved leave that has not ended yet."""
    if row["status"] == LeaveStatus.PENDING:
        return True
    return row["status"] == LeaveStatus.APPROVED and date.fromisoformat(row["end_date"]) >= today


def _balance(row: dict[str, Any]) -> BalanceLine:
    return BalanceLine(row["leave_type"], row["allowance"], row["taken"], row["reserved"], row["available"])


def _leave(row: dict[str, Any]) -> LeaveLine:
    return LeaveLine(row["request_id"], row["leave_type"], row["start_date"], row["end_date"], row["working_days"], row["status"])


def _team_leave(row: dict[str, Any]) -> TeamLeaveLine:
    return TeamLeaveLine(row["name"], row["leave_type"], row["start_date"], row["end_date"], row["status"])


def _expense(row: dict[str, Any]) -> ExpenseLine:
    return ExpenseLine(row["claim_id"], row["amount"], row["currency"], row["category"], row["merchant"], row["expense_date"],
                       row["status"])


def _ticket(row: dict[str, Any]) -> TicketLine:
    return TicketLine(row["ticket_id"], row["summary"], row["priority"], row["status"], bool(row.get("overdue")),
                      row.get("assignee"))


def _approval(row: dict[str, Any]) -> PendingApproval:
    return PendingApproval(row["approval_id"], row["step"], row["steps"], row["kind"], row["summary"], row["requester"],
                           str((row.get("facts") or {}).get("check", "")))
