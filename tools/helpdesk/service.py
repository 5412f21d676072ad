"""Helpdesk rules: ticket creation with SLA, comments, status changes, access requests."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.helpdesk.models import Ticket, TicketCategory, TicketComment, TicketPriority, TicketQueue, TicketStatus
from tools.people.models import Employee
from tools.people.service import lock_employee

SLA_HOURS = {
    TicketPriority.URGENT: 4,
    TicketPriority.HIGH: 8,
    TicketPriority.NORMAL: 24,
    TicketPriority.LOW: 72,
}
MAX_COMMENT_CHARS = 10_000


def sla_due(priority: TicketPriority, *, opened_at: datetime, sla_hours: dict[str, int] | None = None) -> datetime:
    """Return when a ticket of this priority must be answered."""
    hours = (sla_hours or {}).get(priority.value, SLA_HOURS[priority])
    return opened_at + timedelta(hours=hours)


def create_ticket(
    session: Session,
    *,
    requester: Employee,
    summary: str,
    description: str,
    category: TicketCategory,
    priority: TicketPriority,
    system: str | None = None,
    status: TicketStatus = TicketStatus.NEW,
    sla_hours: dict[str, int] | None = None,
    queue: TicketQueue = TicketQueue.IT,
) -> Ticket:
    """Open a ticket with its SLA due time."""
    summary = " ".join(summary.split())
    if not summary:
        raise ToolError(ErrorCode.INVALID_INPUT, "A ticket needs a short summary of the problem.")
    now = utcnow()
    ticket = Ticket(
        requester_id=requester.id,
        summary=summary[:200],
        description=description.strip()[:MAX_COMMENT_CHARS],
        category=category.value,
        priority=priority.value,
        status=status.value,
        system=system,
        queue=queue.value,
        sla_due_at=sla_due(priority, opened_at=now, sla_hours=sla_hours),
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    return ticket


def get_ticket(session: Session, *, ticket_id: int) -> Ticket:
    """Return a ticket or refuse with NOT_FOUND."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No ticket #{ticket_id}.")
    return ticket


def create_comment(session: Session, *, ticket: Ticket, author: Employee, body: str) -> TicketComment:
    """Add a comment to an open ticket."""
    body = body.strip()
    if not body:
        raise ToolError(ErrorCode.INVALID_INPUT, "A comment cannot be empty.")
    if len(body) > MAX_COMMENT_CHARS:
        raise ToolError(ErrorCode.INVALID_INPUT, f"A comment is limited to {MAX_COMMENT_CHARS} characters.")
    if ticket.status == TicketStatus.CLOSED:
        raise ToolError(ErrorCode.CONFLICT, f"Ticket #{ticket.id} is closed; open a new one.")
    comment = TicketComment(ticket_id=ticket.id, author_id=author.id, body=body)
    session.add(comment)
    ticket.updated_at = utcnow()
    session.flush()
    return comment


def record_ticket_status(
    session: Session, *, ticket: Ticket, status: TicketStatus, assignee: Employee | None = None
) -> Ticket:
    """Change a ticket's status (and assignee)."""
    ticket.status = status.value
    if assignee is not None:
        ticket.assignee_id = assignee.id
    ticket.updated_at = utcnow()
    session.flush()
    return ticket


def refuse_duplicate_access_request(session: Session, *, requester: Employee, system: str) -> None:
    """Refuse a second access request for a system while the first still waits for approval.

    The requester's row lock makes two identical requests sent at once check one after the other.
    """
    lock_employee(session, employee_id=requester.id)
    waiting = session.scalars(
        select(Ticket).where(Ticket.requester_id == requester.id, Ticket.category == TicketCategory.ACCESS,
                             Ticket.status == TicketStatus.PENDING, func.lower(Ticket.system) == system.strip().lower())
    ).first()
    if waiting is not None:
        raise ToolError(ErrorCode.CONFLICT, f"You already asked for access to {waiting.system}: request #{waiting.id} "
                                            "is waiting for approval.")


def list_tickets(session: Session, *, requester: Employee, limit: int = 50) -> list[Ticket]:
    """Return the tickets someone opened, newest first."""
    return list(
        session.scalars(select(Ticket).where(Ticket.requester_id == requester.id).order_by(Ticket.id.desc()).limit(limit))
    )


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


def list_queue(session: Session, *, queue: TicketQueue, include_done: bool = False, limit: int = 100) -> list[Ticket]:
    """Return a team's tickets, the one due first first (resolved and closed ones only when asked for, after them)."""
    query = select(Ticket).where(Ticket.queue == queue.value)
    if not include_done:
        query = query.where(Ticket.status.in_([status.value for status in OPEN_STATUSES]))
    return list(session.scalars(query.order_by(Ticket.status.in_([s.value for s in OPEN_STATUSES]).desc(),
                                               Ticket.sla_due_at, Ticket.id).limit(limit)))


def change_ticket(session: Session, *, ticket: Ticket, status: TicketStatus | None, assignee: Employee | None) -> dict[str, str]:
    """Move a ticket on (a status, an assignee) and return what changed, field by field ("old -> new").

    A closed ticket stays closed (a new one is opened instead), and an access request waiting for its approval moves
    only by that decision.
    """
    if ticket.status == TicketStatus.CLOSED:
        raise ToolError(ErrorCode.CONFLICT, f"Ticket #{ticket.id} is closed; open a new one.")
    if ticket.category == TicketCategory.ACCESS and ticket.status == TicketStatus.PENDING:
        raise ToolError(ErrorCode.CONFLICT, f"Access request #{ticket.id} is waiting for its approval; it moves on when "
                                            "IT approves or denies it.")
    if status is TicketStatus.NEW:
        raise ToolError(ErrorCode.INVALID_INPUT, "A ticket cannot be set back to new; use open.")
    changes: dict[str, str] = {}
    if status is not None and status.value != ticket.status:
        changes["status"] = f"{ticket.status} -> {status.value}"
        ticket.status = status.value
    if assignee is not None and assignee.id != ticket.assignee_id:
        changes["assignee"] = assignee.email
        ticket.assignee_id = assignee.id
        if ticket.status == TicketStatus.NEW:  # someone took it: it is being worked on
            changes["status"] = f"{ticket.status} -> {TicketStatus.OPEN.value}"
            ticket.status = TicketStatus.OPEN.value
    if not changes:
        raise ToolError(ErrorCode.INVALID_INPUT, f"Ticket #{ticket.id} is already {ticket.status}"
                                                 f"{' and assigned to you' if assignee is not None else ''}: nothing to change.")
    ticket.updated_at = utcnow()
    session.flush()
    return changes


def list_comments(session: Session, *, ticket: Ticket) -> list[TicketComment]:
    """Return a ticket's comments, oldest first."""
    return list(session.scalars(select(TicketComment).where(TicketComment.ticket_id == ticket.id).order_by(TicketComment.id)))
