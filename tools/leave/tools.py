"""Leave tools exposed to the pipeline."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field

from tools.access import Domain, can_view_records, require_owner, require_view
from tools.approvals.models import ApprovalKind
from tools.approvals.service import cancel_approvals_for_subject, resolve_chain
from tools.errors import ErrorCode, ToolError
from tools.leave import service
from tools.leave.models import HalfDay, LeaveRequest
from tools.numbers import day_count, days_number
from tools.people.models import Employee, Role
from tools.people.service import get_employee, get_employee_by_email, list_employees
from tools.pipeline import ApprovalHooks, GateRequest, ToolArgs, ToolContext, ToolResult


HOLIDAY_HORIZON_DAYS = 365
MAX_HOLIDAY_SPAN_DAYS = 3 * 366
TEAM_HORIZON_DAYS = 27  # "who is off?": the next four weeks, today included
MAX_TEAM_SPAN_DAYS = 366


class GetLeaveBalanceArgs(ToolArgs):
    employee_email: str | None = Field(None, description="Whose balance; omit for your own.")
    employee_name: str | None = Field(None, max_length=100,
                                      description="Whose balance, by name (\"Priya\", \"Priya Nair\"), among the people you may see.")
    year: int | None = Field(None, ge=2000, le=2100, description="Calendar year; omit for this year.")


class RequestLeaveArgs(ToolArgs):
    start_date: date = Field(description="First day off (ISO date).")
    end_date: date = Field(description="Last day off, inclusive (ISO date).")
    leave_type: str = Field("annual", max_length=32, description="annual, sick, parental or unpaid.")
    half_day: HalfDay | None = Field(None, description="am or pm for a single half day.")


class ListLeaveArgs(ToolArgs):
    limit: int = Field(20, ge=1, le=200)


class ListHolidaysArgs(ToolArgs):
    start_date: date | None = Field(None, description="From this day (ISO date); omit for today.")
    end_date: date | None = Field(None, description="Until this day, inclusive (ISO date); omit for a year after the start.")
    limit: int = Field(10, ge=1, le=100, description="At most this many holidays, soonest first.")


class TeamLeaveArgs(ToolArgs):
    start_date: date | None = Field(None, description="From this day (ISO date); omit for today.")
    end_date: date | None = Field(None, description="Until this day, inclusive (ISO date); omit for four weeks after the start.")


class LeaveRequestIdArgs(ToolArgs):
    request_id: int = Field(ge=1, description="The leave request number.")


def request_subject(request_id: int) -> str:
    """Return the audit/approval subject of a leave request."""
    return f"leave_request:{request_id}"


def _request_id(subject: str) -> int:
    return int(subject.split(":", 1)[1])


def describe_request(request: LeaveRequest, leave_type: str) -> dict[str, object]:
    """Return a leave request as JSON-able data."""
    return {
        "request_id": request.id,
        "leave_type": leave_type,
        "start_date": request.start_date.isoformat(),
        "end_date": request.end_date.isoformat(),
        "half_day": request.half_day,
        "working_days": days_number(request.working_days),
        "status": request.status,
        "note": request.note,
    }


def _type_code(ctx: ToolContext, request: LeaveRequest) -> str:
    return next(t.code for t in service.list_leave_types(ctx.session) if t.id == request.leave_type_id)


def get_leave_balance(ctx: ToolContext, args: GetLeaveBalanceArgs) -> ToolResult:
    """Show leave balances (allowance, taken, reserved by pending requests, available) per leave type."""
    employee = ctx.actor
    other_email = bool(args.employee_email) and str(args.employee_email).strip().lower() != ctx.actor.email
    named_other = bool(args.employee_name) and not _is_called(ctx.actor, str(args.employee_name))
    if other_email or named_other:
        if not ctx.actor.has_role(Role.HR, Role.ADMIN, Role.MANAGER):
            # Refuse before the lookup, so the answer does not reveal who is in the directory.
            raise ToolError(ErrorCode.FORBIDDEN, "You can only see your own leave balance.")
        if other_email:
            employee = get_employee_by_email(ctx.session, email=str(args.employee_email))
        else:
            employee = _visible_by_name(ctx, str(args.employee_name))
        require_view(ctx.session, actor=ctx.actor, owner=employee, domain=Domain.LEAVE, what=f"{employee.name}'s leave")
    year = args.year or ctx.today.year
    rows = [
        {
            "leave_type": balance.leave_type,
            "allowance": days_number(balance.allowance),
            "taken": days_number(balance.taken),
            "reserved": days_number(balance.reserved),
            "available": days_number(balance.available),
        }
        for balance in service.list_balances(ctx.session, employee=employee, year=year)
    ]
    summary = "; ".join(f"{row['leave_type']} {'unlimited' if row['available'] is None else row['available']}" for row in rows)
    return ToolResult(data={"employee": employee.email, "name": employee.name, "year": year, "balances": rows}, message=f"Days available in {year}: {summary}.")


def _is_called(person: Employee, name: str) -> bool:
    """Return True when `name` is the person's full name or first name (any case and spacing)."""
    wanted, full = " ".join(name.casefold().split()), " ".join(person.name.casefold().split())
    return bool(wanted) and wanted in (full, full.split(" ")[0])


def _visible_by_name(ctx: ToolContext, name: str) -> Employee:
    """Return the one person called `name` (full or first name) whose leave the actor may see; nobody else is named."""
    matches = [person for person in list_employees(ctx.session, active_only=True)
               if _is_called(person, name) and can_view_records(ctx.session, actor=ctx.actor, owner=person, domain=Domain.LEAVE)]
    if not matches:
        raise ToolError(ErrorCode.NOT_FOUND, f"I found nobody called {name} among the people whose leave you can see.")
    if len(matches) > 1:
        listed = ", ".join(f"{person.name} ({person.email})" for person in matches)
        raise ToolError(ErrorCode.INVALID_INPUT, f"Several people called {name}: {listed}. Say which one by full name or email.")
    return matches[0]


def request_leave(ctx: ToolContext, args: RequestLeaveArgs) -> ToolResult:
    """Request time off between two dates; days are reserved at once and the request goes for approval."""
    request = service.create_leave_request(
        ctx.session, employee=ctx.actor, leave_type_code=args.leave_type, start=args.start_date, end=args.end_date,
        half_day=args.half_day, today=ctx.today,
    )
    leave_type = service.get_leave_type(ctx.session, code=args.leave_type)
    balance = next(b for b in service.list_balances(ctx.session, employee=ctx.actor, year=args.start_date.year) if b.leave_type == leave_type.code)
    data = describe_request(request, leave_type.code)
    data["balance_after"] = days_number(balance.available)
    text = f"{leave_type.name} {request.start_date} to {request.end_date}: {day_count(data['working_days'], 'working ')} (request #{request.id})."
    subject = request_subject(request.id)
    if not leave_type.requires_approval:
        service.record_leave_approved(ctx.session, request=request)
        data["status"] = request.status
        return ToolResult(data=data, message=f"{text} Approved; no approval is needed for this leave type.", subject=subject)
    facts = {"leave_type": leave_type.code, "working_days": days_number(request.working_days), "start_date": data["start_date"],
             "end_date": data["end_date"], "balance_after": data["balance_after"]}
    return ToolResult(data=data, message=text, subject=subject,
                      gate=GateRequest(kind=ApprovalKind.LEAVE, facts=facts, summary=f"{ctx.actor.name}: {text}"))


def preview_leave_request(ctx: ToolContext, args: RequestLeaveArgs) -> ToolResult:
    """Check a leave request without booking it: working days, balance after, and who would approve it."""
    savepoint = ctx.session.begin_nested()
    try:
        request = service.create_leave_request(
            ctx.session, employee=ctx.actor, leave_type_code=args.leave_type, start=args.start_date, end=args.end_date,
            half_day=args.half_day, today=ctx.today,
        )
        leave_type = service.get_leave_type(ctx.session, code=args.leave_type)
        balance = next(b for b in service.list_balances(ctx.session, employee=ctx.actor, year=args.start_date.year)
                       if b.leave_type == leave_type.code)
        data = {**describe_request(request, leave_type.code), "request_id": None, "balance_after": days_number(balance.available),
                "leave_type_name": leave_type.name, "needs_approval": leave_type.requires_approval}
        facts = {"leave_type": leave_type.code, "working_days": data["working_days"]}
        steps = resolve_chain(ctx.session, policy=ctx.policy, kind=ApprovalKind.LEAVE, facts=facts, requester=ctx.actor,
                              today=ctx.today) if leave_type.requires_approval else []
    finally:
        savepoint.rollback()  # a preview never writes
    data["approvers"] = [step.as_json() | {"name": step.approver.name} for step in steps]
    return ToolResult(data=data, message=f"{day_count(data['working_days'], 'working ')}; {data['balance_after']} left afterwards.")


def list_my_leave(ctx: ToolContext, args: ListLeaveArgs) -> ToolResult:
    """List your own leave requests, newest first."""
    codes = {t.id: t.code for t in service.list_leave_types(ctx.session)}
    rows = [describe_request(r, codes[r.leave_type_id]) for r in service.list_leave_requests(ctx.session, employee=ctx.actor, limit=args.limit)]
    return ToolResult(data={"requests": rows}, message=f"You have {len(rows)} leave requests.")


def _period(ctx: ToolContext, start: date | None, end: date | None, *, horizon_days: int, max_days: int,
            too_long: str) -> tuple[date, date]:
    """Resolve a read's period (from today, `horizon_days` long, by default) and refuse a reversed or too long one."""
    start = start or ctx.today
    end = end or start + timedelta(days=horizon_days)
    if end < start:
        raise ToolError(ErrorCode.INVALID_INPUT, f"The end date {end} is before the start date {start}.")
    if (end - start).days > max_days:
        raise ToolError(ErrorCode.INVALID_INPUT, too_long)
    return start, end


def list_holidays(ctx: ToolContext, args: ListHolidaysArgs) -> ToolResult:
    """List the public holidays of your country and the company's holidays, soonest first, from today or a date."""
    start, end = _period(ctx, args.start_date, args.end_date, horizon_days=HOLIDAY_HORIZON_DAYS,
                         max_days=MAX_HOLIDAY_SPAN_DAYS, too_long="Ask for at most three years of holidays at a time.")
    found = service.list_holidays(ctx.session, employee=ctx.actor, start=start, end=end)
    rows = [{"date": holiday.day.isoformat(), "weekday": f"{holiday.day:%a}", "name": holiday.name, "kind": holiday.kind}
            for holiday in found[: args.limit]]
    listed = "; ".join(f"{row['date']} {row['name']}" for row in rows)
    message = (f"Holidays in {ctx.actor.country} from {start} to {end}: {listed}." if rows
               else f"No public or company holidays in {ctx.actor.country} from {start} to {end}.")
    return ToolResult(data={"country": ctx.actor.country, "start_date": start.isoformat(), "end_date": end.isoformat(),
                            "holidays": rows, "more": len(found) > len(rows)}, message=message)


def list_team_leave(ctx: ToolContext, args: TeamLeaveArgs) -> ToolResult:
    """List who is off (approved or pending leave) in a period among the people whose leave you may see: your reports,
    or everyone for HR and admins."""
    start, end = _period(ctx, args.start_date, args.end_date, horizon_days=TEAM_HORIZON_DAYS,
                         max_days=MAX_TEAM_SPAN_DAYS, too_long="Ask for at most a year of team leave at a time.")
    people = {person.id: person for person in list_employees(ctx.session, active_only=True)
              if person.id != ctx.actor.id and can_view_records(ctx.session, actor=ctx.actor, owner=person, domain=Domain.LEAVE)}
    codes = {leave_type.id: leave_type.code for leave_type in service.list_leave_types(ctx.session)}
    rows = [{**describe_request(request, codes[request.leave_type_id]), "name": people[request.employee_id].name,
             "email": people[request.employee_id].email}
            for request in service.list_leave_between(ctx.session, employee_ids=set(people), start=start, end=end)]
    listed = "; ".join(f"{row['name']} {row['start_date']} to {row['end_date']} ({row['leave_type']}, {row['status']})" for row in rows)
    message = (f"Off between {start} and {end}: {listed}." if rows
               else f"Nobody whose leave you can see is off between {start} and {end}.")
    return ToolResult(data={"start_date": start.isoformat(), "end_date": end.isoformat(), "people": len(people), "leave": rows},
                      message=message)


def get_leave_request(ctx: ToolContext, args: LeaveRequestIdArgs) -> ToolResult:
    """Show one leave request and its status."""
    request = service.get_leave_request(ctx.session, request_id=args.request_id)
    owner = get_employee(ctx.session, employee_id=request.employee_id)
    require_view(ctx.session, actor=ctx.actor, owner=owner, domain=Domain.LEAVE, what=f"leave request #{request.id}")
    data = describe_request(request, _type_code(ctx, request))
    return ToolResult(data=data, message=f"Leave request #{request.id} is {request.status}.")


def cancel_leave(ctx: ToolContext, args: LeaveRequestIdArgs) -> ToolResult:
    """Cancel one of your leave requests; pending or future approved days go back to your balance."""
    request = service.get_leave_request(ctx.session, request_id=args.request_id)
    require_owner(actor=ctx.actor, owner_id=request.employee_id, what=f"leave request #{request.id}")
    was = request.status
    service.cancel_leave_request(ctx.session, request=request, today=ctx.today)
    cancelled = cancel_approvals_for_subject(ctx.session, subject=request_subject(request.id), reason="Withdrawn by the requester.")
    data = {**describe_request(request, _type_code(ctx, request)), "previous_status": was, "cancelled_approvals": cancelled}
    return ToolResult(data=data, message=f"Leave request #{request.id} is cancelled; {day_count(days_number(request.working_days))} back in your balance.",
                      subject=request_subject(request.id))


def on_leave_approved(ctx: ToolContext, args: RequestLeaveArgs, subject: str) -> ToolResult:
    """Turn the approved request's reserved days into taken days."""
    request = service.get_leave_request(ctx.session, request_id=_request_id(subject))
    service.record_leave_approved(ctx.session, request=request)
    return ToolResult(data=describe_request(request, args.leave_type), message=f"Leave request #{request.id} is approved.", subject=subject)


def on_leave_rejected(ctx: ToolContext, args: RequestLeaveArgs, subject: str, reason: str) -> ToolResult:
    """Release the rejected request's reserved days."""
    request = service.get_leave_request(ctx.session, request_id=_request_id(subject))
    service.record_leave_rejected(ctx.session, request=request, reason=reason)
    return ToolResult(data=describe_request(request, args.leave_type), message=f"Leave request #{request.id} was declined.", subject=subject)


LEAVE_HOOKS = ApprovalHooks(on_approved=on_leave_approved, on_rejected=on_leave_rejected)
