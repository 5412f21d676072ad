"""Helpdesk tools exposed to the pipeline."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tools.access import Domain, require_view
from tools.approvals.models import ApprovalKind
from tools.approvals.service import resolve_chain
from tools.helpdesk import service
from tools.helpdesk.models import Ticket, TicketCategory, TicketPriority, TicketQueue, TicketStatus
from tools.errors import ErrorCode, ToolError
from tools.people.models import Role
from tools.people.service import get_employee
from tools.pipeline import ApprovalHooks, GateRequest, ToolArgs, ToolContext, ToolResult, employee_zone


class CreateTicketArgs(ToolArgs):
    summary: str = Field(min_length=1, max_length=200, description="One line describing the problem.")
    description: str = Field("", max_length=10_000)
    category: TicketCategory = TicketCategory.OTHER
    priority: TicketPriority = TicketPriority.NORMAL


class ListTicketsArgs(ToolArgs):
    limit: int = Field(20, ge=1, le=200)


class HumanHandoffArgs(ToolArgs):
    summary: str = Field(min_length=1, max_length=2000, description="What the person needs help with, in their words.")
    team: TicketQueue = Field(TicketQueue.HR, description="hr for people questions, it for technical ones.")


class TicketIdArgs(ToolArgs):
    ticket_id: int = Field(ge=1, description="The ticket number.")


class CommentArgs(ToolArgs):
    ticket_id: int = Field(ge=1)
    body: str = Field(min_length=1, max_length=10_000)


class TicketQueueArgs(ToolArgs):
    queue: TicketQueue = Field(TicketQueue.IT, description="it for the IT helpdesk, hr for hand-overs to HR.")
    include_done: bool = Field(False, description="Also list resolved and closed tickets.")
    limit: int = Field(50, ge=1, le=200)


class UpdateTicketArgs(ToolArgs):
    ticket_id: int = Field(ge=1, description="The ticket number.")
    status: TicketStatus | None = Field(None, description="open, pending (waiting on the requester), resolved or closed.")
    take: bool = Field(False, description="Take the ticket: you become its assignee.")
    note: str = Field("", max_length=10_000, description="A comment for the requester, added to the ticket.")


class SystemAccessArgs(ToolArgs):
    system: str = Field(min_length=1, max_length=100, description="The system or application, e.g. GitHub.")
    access_level: str = Field("user", max_length=50, description="The level of access, e.g. read, user, admin.")
    justification: str = Field(min_length=1, max_length=2000, description="Why the access is needed.")


OPEN_VALUES = frozenset(status.value for status in service.OPEN_STATUSES)


def ticket_subject(ticket_id: int) -> str:
    """Return the audit/approval subject of a ticket."""
    return f"ticket:{ticket_id}"


def describe_ticket(ticket: Ticket) -> dict[str, object]:
    """Return a ticket as JSON-able data."""
    return {
        "ticket_id": ticket.id,
        "summary": ticket.summary,
        "description": ticket.description,
        "category": ticket.category,
        "priority": ticket.priority,
        "status": ticket.status,
        "system": ticket.system,
        "queue": ticket.queue,
        "assignee_id": ticket.assignee_id,
        "sla_due_at": ticket.sla_due_at.isoformat(),
        "created_at": ticket.created_at.isoformat(),
    }


def _local(ctx: ToolContext, moment: datetime) -> str:
    """A due time as the person reads it: in their own time zone, named ("2026-11-30 09:00 GMT")."""
    zone = employee_zone(ctx.actor, ctx.default_timezone)
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone.key}"


def _people_of(ctx: ToolContext, ticket: Ticket) -> dict[str, str | None]:
    """The emails of who opened a ticket and who has it (None: nobody yet)."""
    assignee = get_employee(ctx.session, employee_id=ticket.assignee_id).email if ticket.assignee_id else None
    return {"requester": get_employee(ctx.session, employee_id=ticket.requester_id).email, "assignee": assignee}


def _visible_ticket(ctx: ToolContext, ticket_id: int) -> Ticket:
    ticket = service.get_ticket(ctx.session, ticket_id=ticket_id)
    owner = get_employee(ctx.session, employee_id=ticket.requester_id)
    domain = Domain.HR_CASES if ticket.queue == TicketQueue.HR else Domain.HELPDESK
    require_view(ctx.session, actor=ctx.actor, owner=owner, domain=domain, what=f"ticket #{ticket.id}")
    return ticket


def create_ticket(ctx: ToolContext, args: CreateTicketArgs) -> ToolResult:
    """Open an IT helpdesk ticket."""
    ticket = service.create_ticket(ctx.session, requester=ctx.actor, summary=args.summary, description=args.description,
                                   category=args.category, priority=args.priority, sla_hours=ctx.policy.sla_hours)
    return ToolResult(data=describe_ticket(ticket), subject=ticket_subject(ticket.id),
                      message=f"Ticket #{ticket.id} opened ({ticket.priority}); IT will respond by {_local(ctx, ticket.sla_due_at)}.")


def request_human_handoff(ctx: ToolContext, args: HumanHandoffArgs) -> ToolResult:
    """Hand the conversation to a person: open a ticket in the HR or IT queue with what the employee asked."""
    team = "HR" if args.team is TicketQueue.HR else "IT"
    ticket = service.create_ticket(ctx.session, requester=ctx.actor, summary=f"{team} hand-over: {args.summary}",
                                   description=args.summary, category=TicketCategory.OTHER, priority=TicketPriority.NORMAL,
                                   sla_hours=ctx.policy.sla_hours, queue=args.team)
    return ToolResult(data=describe_ticket(ticket), subject=ticket_subject(ticket.id),
                      message=f"I've passed this to {team} as ticket #{ticket.id}; someone will get back to you by "
                              f"{_local(ctx, ticket.sla_due_at)}.")


def list_my_tickets(ctx: ToolContext, args: ListTicketsArgs) -> ToolResult:
    """List the tickets you opened, newest first."""
    rows = [describe_ticket(ticket) for ticket in service.list_tickets(ctx.session, requester=ctx.actor, limit=args.limit)]
    return ToolResult(data={"tickets": rows}, message=f"You have {len(rows)} tickets.")


def get_ticket(ctx: ToolContext, args: TicketIdArgs) -> ToolResult:
    """Show one ticket with its comments."""
    ticket = _visible_ticket(ctx, args.ticket_id)
    comments = [
        {"author": get_employee(ctx.session, employee_id=c.author_id).email, "body": c.body, "at": c.created_at.isoformat()}
        for c in service.list_comments(ctx.session, ticket=ticket)
    ]
    return ToolResult(data={**describe_ticket(ticket), **_people_of(ctx, ticket), "comments": comments},
                      message=f"Ticket #{ticket.id} is {ticket.status}.")


def preview_comment(ctx: ToolContext, args: CommentArgs) -> ToolResult:
    """Check a comment without posting it: the ticket must be one you can see."""
    ticket = _visible_ticket(ctx, args.ticket_id)
    return ToolResult(data=describe_ticket(ticket), message=f"Ticket #{ticket.id} is {ticket.status}.")


def comment_on_ticket(ctx: ToolContext, args: CommentArgs) -> ToolResult:
    """Add a comment to a ticket you can see."""
    ticket = _visible_ticket(ctx, args.ticket_id)
    comment = service.create_comment(ctx.session, ticket=ticket, author=ctx.actor, body=args.body)
    return ToolResult(data={"ticket_id": ticket.id, "comment_id": comment.id, "status": ticket.status},
                      message=f"Comment added to ticket #{ticket.id}.", subject=ticket_subject(ticket.id))


QUEUE_ROLE = {TicketQueue.IT: Role.IT, TicketQueue.HR: Role.HR}


def _works_queue(ctx: ToolContext, queue: TicketQueue) -> bool:
    return ctx.actor.has_role(Role.ADMIN, QUEUE_ROLE[queue])


def list_ticket_queue(ctx: ToolContext, args: TicketQueueArgs) -> ToolResult:
    """List a team's open tickets, the one due first first (for IT, or HR for the HR queue)."""
    if not _works_queue(ctx, args.queue):
        raise ToolError(ErrorCode.FORBIDDEN, f"Only {QUEUE_ROLE[args.queue].label} sees the {args.queue.value} ticket queue.")
    rows = []
    for ticket in service.list_queue(ctx.session, queue=args.queue, include_done=args.include_done, limit=args.limit):
        rows.append({**describe_ticket(ticket), **_people_of(ctx, ticket),
                     "overdue": ticket.status in OPEN_VALUES and ticket.sla_due_at < ctx.now})
    late = sum(1 for row in rows if row["overdue"])
    return ToolResult(data={"tickets": rows}, message=f"{len(rows)} ticket(s) in the {args.queue.value} queue"
                                                      f"{f', {late} past their due time' if late else ''}.")


def preview_ticket_update(ctx: ToolContext, args: UpdateTicketArgs) -> ToolResult:
    """Check a ticket update without making it: the same rules, and what would change."""
    savepoint = ctx.session.begin_nested()
    try:
        result = update_ticket(ctx, args)
    finally:
        savepoint.rollback()  # a preview never writes
    return ToolResult(data=result.data, message=result.message.replace("updated:", "can be updated:"))


def update_ticket(ctx: ToolContext, args: UpdateTicketArgs) -> ToolResult:
    """Work a ticket: take it, set its status (open, pending, resolved, closed), with a note for the requester.
    The team that owns the ticket's queue (IT, or HR for hand-overs) may do all of it; the requester may only close it."""
    ticket = _visible_ticket(ctx, args.ticket_id)
    queue = TicketQueue(ticket.queue)
    note = args.note.strip()
    if args.status is None and not args.take and not note:
        raise ToolError(ErrorCode.INVALID_INPUT, "Say what to change: take the ticket, give it a status (open, pending, "
                                                 "resolved, closed), or add a note.")
    moves = args.status is not None or args.take
    if moves and not _works_queue(ctx, queue):
        if ticket.requester_id != ctx.actor.id or args.take or args.status is not TicketStatus.CLOSED:
            raise ToolError(ErrorCode.FORBIDDEN, f"Only {QUEUE_ROLE[queue].label} works ticket #{ticket.id}; "
                                                 "you can add a note, or close it if you no longer need it.")
    previous = _people_of(ctx, ticket)["assignee"]
    if note:  # before the change: a ticket being closed still takes its closing note
        service.create_comment(ctx.session, ticket=ticket, author=ctx.actor, body=note)
    changes = service.change_ticket(ctx.session, ticket=ticket, status=args.status,
                                    assignee=ctx.actor if args.take else None) if moves else {}
    if "assignee" in changes and previous:
        changes["assignee"] = f"{previous} -> {changes['assignee']}"  # taken over from a colleague: said who had it
    said = [f"{field} {change}" for field, change in changes.items()] + (["note added"] if note else [])
    return ToolResult(data={**describe_ticket(ticket), "changes": changes, "note": note}, subject=ticket_subject(ticket.id),
                      message=f"Ticket #{ticket.id} updated: {', '.join(said)}.")


def preview_system_access(ctx: ToolContext, args: SystemAccessArgs) -> ToolResult:
    """Check an access request without filing it: is it a duplicate, and who would approve it."""
    service.refuse_duplicate_access_request(ctx.session, requester=ctx.actor, system=args.system)
    facts = {"system": args.system, "access_level": args.access_level}
    steps = resolve_chain(ctx.session, policy=ctx.policy, kind=ApprovalKind.SYSTEM_ACCESS, facts=facts, requester=ctx.actor,
                          today=ctx.today)
    data = {**facts, "justification": args.justification,
            "approvers": [step.as_json() | {"name": step.approver.name} for step in steps]}
    return ToolResult(data=data, message=f"Access to {args.system} ({args.access_level}) can be requested.")


def request_system_access(ctx: ToolContext, args: SystemAccessArgs) -> ToolResult:
    """Ask for access to a system; IT approves it before anything is granted."""
    service.refuse_duplicate_access_request(ctx.session, requester=ctx.actor, system=args.system)
    ticket = service.create_ticket(
        ctx.session, requester=ctx.actor, summary=f"Access to {args.system} ({args.access_level})",
        description=args.justification, category=TicketCategory.ACCESS, priority=TicketPriority.NORMAL,
        system=args.system, status=TicketStatus.PENDING, sla_hours=ctx.policy.sla_hours,
    )
    text = f"Access request for {args.system} ({args.access_level}) filed as ticket #{ticket.id}."
    facts = {"system": args.system, "access_level": args.access_level, "justification": args.justification}
    return ToolResult(data=describe_ticket(ticket), message=text, subject=ticket_subject(ticket.id),
                      gate=GateRequest(kind=ApprovalKind.SYSTEM_ACCESS, facts=facts, summary=f"{ctx.actor.name}: {text}"))


def _ticket_from(ctx: ToolContext, subject: str) -> Ticket:
    return service.get_ticket(ctx.session, ticket_id=int(subject.split(":", 1)[1]))


def on_access_approved(ctx: ToolContext, args: SystemAccessArgs, subject: str) -> ToolResult:
    """Open the approved access ticket so IT provisions it."""
    ticket = service.record_ticket_status(ctx.session, ticket=_ticket_from(ctx, subject), status=TicketStatus.OPEN)
    return ToolResult(data=describe_ticket(ticket), message=f"Access request #{ticket.id} is approved; IT will set it up.", subject=subject)


def on_access_rejected(ctx: ToolContext, args: SystemAccessArgs, subject: str, reason: str) -> ToolResult:
    """Close the denied access ticket."""
    ticket = service.record_ticket_status(ctx.session, ticket=_ticket_from(ctx, subject), status=TicketStatus.CLOSED)
    return ToolResult(data=describe_ticket(ticket), message=f"Access request #{ticket.id} was declined: {reason}", subject=subject)


ACCESS_HOOKS = ApprovalHooks(on_approved=on_access_approved, on_rejected=on_access_rejected)
