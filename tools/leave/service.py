"""Leave rules: balances derived from the ledger, reservations by conditional UPDATE, request lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.numbers import day_count, days_number
from tools.leave.calendar import days_off, working_days_by_year
from tools.leave.models import (
    CompanyHoliday,
    HalfDay,
    LeaveAllocation,
    LeaveLedgerEntry,
    LeaveRequest,
    LeaveStatus,
    LeaveType,
    LedgerKind,
)
from tools.people.models import Employee
from tools.people.service import lock_employee

MAX_REQUEST_SPAN_DAYS = 366
MAX_YEARS_AHEAD = 2  # leave is booked for this year and the next two at most; "9999-12-30" is a typo
SICK_BACKDATE_DAYS = 30
ACTIVE_STATUSES = (LeaveStatus.PENDING.value, LeaveStatus.APPROVED.value)


@dataclass(frozen=True)
class Balance:
    """One leave type's balance for one year."""

    leave_type: str
    year: int
    allowance: Decimal | None
    taken: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal | None:
        """Days still bookable; None when the type has no cap."""
        return None if self.allowance is None else self.allowance - self.taken - self.reserved


def get_leave_type(session: Session, *, code: str) -> LeaveType:
    """Return the leave type with this code or refuse, listing the known ones."""
    leave_type = session.scalar(select(LeaveType).where(LeaveType.code == code.strip().lower()))
    if leave_type is None:
        known = ", ".join(session.scalars(select(LeaveType.code).order_by(LeaveType.id)))
        raise ToolError(ErrorCode.INVALID_INPUT, f"Unknown leave type '{code}'. Known types: {known}.")
    return leave_type


def list_leave_types(session: Session) -> list[LeaveType]:
    """Return every leave type in a stable order."""
    return list(session.scalars(select(LeaveType).order_by(LeaveType.id)))


def _default_allowance(employee: Employee, leave_type: LeaveType) -> Decimal | None:
    return _allowance(leave_type, employee.annual_leave_days if leave_type.code == "annual" else None)


def _allowance(leave_type: LeaveType, annual_leave_days: Decimal | None) -> Decimal | None:
    """The yearly allowance: the directory's annual_leave_days (annual leave only), else the type's default."""
    if annual_leave_days is not None:
        return Decimal(annual_leave_days)
    return None if leave_type.yearly_allowance is None else Decimal(leave_type.yearly_allowance)


def _annual_allocations(session: Session, *, employee_id: int, from_year: int) -> tuple[LeaveType | None, list[LeaveAllocation]]:
    """The annual leave type and the employee's allocations of it from `from_year` on, oldest first."""
    leave_type = session.scalar(select(LeaveType).where(LeaveType.code == "annual"))
    if leave_type is None:
        return None, []
    return leave_type, list(session.scalars(select(LeaveAllocation).where(
        LeaveAllocation.employee_id == employee_id, LeaveAllocation.leave_type_id == leave_type.id,
        LeaveAllocation.year >= from_year).order_by(LeaveAllocation.year)))


def _used(allocation: LeaveAllocation) -> Decimal:
    return Decimal(allocation.taken) + Decimal(allocation.reserved)


def get_or_create_allocation(
    session: Session, *, employee: Employee, leave_type: LeaveType, year: int
) -> LeaveAllocation:
    """Return the employee's allocation for a type and year, creating it from the defaults."""
    query = select(LeaveAllocation).where(
        LeaveAllocation.employee_id == employee.id,
        LeaveAllocation.leave_type_id == leave_type.id,
        LeaveAllocation.year == year,
    )
    allocation = session.scalar(query)
    if allocation is None:
        # Two first reads (or a read and a request) of a year would both insert it: serialize, then look again.
        lock_employee(session, employee_id=employee.id)
        allocation = session.scalar(query)
    if allocation is None:
        allocation = LeaveAllocation(
            employee_id=employee.id,
            leave_type_id=leave_type.id,
            year=year,
            allowance=_default_allowance(employee, leave_type),
            taken=Decimal("0"),
            reserved=Decimal("0"),
        )
        session.add(allocation)
        session.flush()
    return allocation


def apply_annual_allowance(session: Session, *, employee: Employee, from_year: int) -> list[tuple[int, Decimal | None]]:
    """Bring the annual-leave allocations of `from_year` on to the employee's current allowance (the directory's
    annual_leave_days, else the type's default); return (year, new allowance) per changed year. Past years keep theirs.

    Refuses, changing nothing, when a year already has more days taken or booked than the new allowance.
    """
    leave_type, allocations = _annual_allocations(session, employee_id=employee.id, from_year=from_year)
    if leave_type is None:
        return []
    allowance = _default_allowance(employee, leave_type)
    changed: list[tuple[int, Decimal | None]] = []
    for allocation in allocations:
        if allocation.allowance == allowance:
            continue
        used = _used(allocation)
        if allowance is not None and used > allowance:
            raise ToolError(ErrorCode.INVALID_INPUT,
                            f"{employee.email}: annual_leave_days {days_number(allowance)} is less than the "
                            f"{days_number(used)} days already taken or booked in {allocation.year}.")
        allocation.allowance = allowance
        changed.append((allocation.year, allowance))
    session.flush()
    return changed


def apply_type_allowance(session: Session, *, leave_type: LeaveType, from_year: int) -> int:
    """Bring every allocation of a leave type from `from_year` on to its new default (someone's own annual_leave_days
    still wins for annual leave), however the allocation came about (a request, or only a look at the balance);
    return how many changed. Refuses, changing nothing, when someone already has more booked than the new allowance."""
    allocations = list(session.scalars(select(LeaveAllocation).where(
        LeaveAllocation.leave_type_id == leave_type.id, LeaveAllocation.year >= from_year)
        .order_by(LeaveAllocation.employee_id, LeaveAllocation.year)))
    people = {person.id: person for person in session.scalars(
        select(Employee).where(Employee.id.in_({allocation.employee_id for allocation in allocations})))}
    moves, problems = [], []
    for allocation in allocations:
        allowance = _default_allowance(people[allocation.employee_id], leave_type)
        if allocation.allowance == allowance:
            continue
        if allowance is not None and _used(allocation) > allowance:
            problems.append(f"{people[allocation.employee_id].email} already has {days_number(_used(allocation))} days of "
                            f"{leave_type.code} leave taken or booked in {allocation.year}")
        moves.append((allocation, allowance))
    if problems:
        raise ToolError(ErrorCode.INVALID_INPUT, f"The {leave_type.code} allowance of {days_number(leave_type.yearly_allowance)} "
                                                 f"days is less than booked: {'; '.join(problems)}.")
    for allocation, allowance in moves:
        allocation.allowance = allowance
    session.flush()
    return len(moves)


def overbooked_years(session: Session, *, employee_id: int, annual_leave_days: Decimal | None,
                     from_year: int) -> list[tuple[int, Decimal, Decimal]]:
    """Return (year, allowance, used) for each year from `from_year` in which the employee has more annual leave taken
    or booked than `annual_leave_days` (the type's default when None) would allow, so an import can name them all."""
    leave_type, allocations = _annual_allocations(session, employee_id=employee_id, from_year=from_year)
    allowance = None if leave_type is None else _allowance(leave_type, annual_leave_days)
    if allowance is None:
        return []
    return [(allocation.year, allowance, _used(allocation)) for allocation in allocations if _used(allocation) > allowance]


def list_balances(session: Session, *, employee: Employee, year: int) -> list[Balance]:
    """Return the employee's balance for every leave type in `year`."""
    balances = []
    for leave_type in list_leave_types(session):
        allocation = get_or_create_allocation(session, employee=employee, leave_type=leave_type, year=year)
        balances.append(
            Balance(
                leave_type=leave_type.code,
                year=year,
                allowance=allocation.allowance,
                taken=Decimal(allocation.taken),
                reserved=Decimal(allocation.reserved),
            )
        )
    return balances


def count_working_days(
    session: Session, *, employee: Employee, start: date, end: date, half_day: HalfDay | None = None
) -> dict[int, Decimal]:
    """Count the employee's working days per year between two dates inclusive."""
    extra = session.scalars(
        select(CompanyHoliday.day).where(
            CompanyHoliday.day.between(start, end),
            (CompanyHoliday.country.is_(None)) | (CompanyHoliday.country == employee.country),
        )
    )
    return working_days_by_year(employee.country, start, end, half_day=half_day is not None, extra_holidays=list(extra))


def _validate_dates(leave_type: LeaveType, start: date, end: date, half_day: HalfDay | None, today: date) -> None:
    if end < start:
        raise ToolError(ErrorCode.INVALID_INPUT, f"The end date {end} is before the start date {start}.")
    if (end - start).days >= MAX_REQUEST_SPAN_DAYS:
        raise ToolError(ErrorCode.INVALID_INPUT, "A single request cannot span more than a year.")
    if end.year > today.year + MAX_YEARS_AHEAD:
        raise ToolError(ErrorCode.INVALID_INPUT, f"Leave can be booked until the end of {today.year + MAX_YEARS_AHEAD} at the latest; "
                                                 f"{end} is further ahead.")
    if half_day is not None and start != end:
        raise ToolError(ErrorCode.INVALID_INPUT, "A half day is a single date: ask for the whole days as one request and "
                                                 "the half day as another (e.g. \"Feb 15 to 17\", then \"the morning of Feb 18\").")
    earliest = today - timedelta(days=SICK_BACKDATE_DAYS) if leave_type.code == "sick" else today
    if start < earliest:
        if leave_type.code == "sick":
            raise ToolError(ErrorCode.INVALID_INPUT, f"Sick leave can be back-dated by {SICK_BACKDATE_DAYS} days at most.")
        raise ToolError(ErrorCode.INVALID_INPUT, f"The start date {start} is in the past; only sick leave can be back-dated.")


def find_overlapping_request(session: Session, *, employee: Employee, start: date, end: date,
                             half_day: HalfDay | None = None) -> LeaveRequest | None:
    """Return a pending or approved request of the employee that overlaps the range.

    A morning and an afternoon half day of the same date do not overlap: together they make the whole day.
    """
    candidates = session.scalars(
        select(LeaveRequest)
        .where(
            LeaveRequest.employee_id == employee.id,
            LeaveRequest.status.in_(ACTIVE_STATUSES),
            LeaveRequest.start_date <= end,
            LeaveRequest.end_date >= start,
        )
        .order_by(LeaveRequest.id)
    )
    for request in candidates:  # HalfDay is a StrEnum: it compares equal to the stored "am" / "pm"
        other_half = half_day is not None and request.half_day is not None and request.half_day != half_day \
            and request.start_date == request.end_date == start == end
        if not other_half:
            return request
    return None


def _move_days(session: Session, *, allocation_id: int, kind: LedgerKind, days: Decimal, request_id: int) -> bool:
    """Apply one ledger movement with a conditional UPDATE; return False when it would overdraw."""
    table = LeaveAllocation
    statement = update(table).where(table.id == allocation_id)
    if kind is LedgerKind.RESERVE:
        statement = statement.where(
            (table.allowance.is_(None)) | (table.allowance - table.taken - table.reserved >= days)
        ).values(reserved=table.reserved + days)
    elif kind is LedgerKind.RELEASE:
        statement = statement.where(table.reserved >= days).values(reserved=table.reserved - days)
    elif kind is LedgerKind.TAKE:
        statement = statement.where(table.reserved >= days).values(
            reserved=table.reserved - days, taken=table.taken + days
        )
    else:
        statement = statement.where(table.taken >= days).values(taken=table.taken - days)
    if session.execute(statement.execution_options(synchronize_session=False)).rowcount != 1:
        return False
    session.add(LeaveLedgerEntry(allocation_id=allocation_id, request_id=request_id, kind=kind.value, days=days))
    return True


def _request_movements(session: Session, *, request_id: int, kind: LedgerKind) -> list[tuple[int, Decimal]]:
    rows = session.execute(
        select(LeaveLedgerEntry.allocation_id, func.sum(LeaveLedgerEntry.days))
        .where(LeaveLedgerEntry.request_id == request_id, LeaveLedgerEntry.kind == kind.value)
        .group_by(LeaveLedgerEntry.allocation_id)
    )
    return [(allocation_id, Decimal(total)) for allocation_id, total in rows]


def create_leave_request(
    session: Session,
    *,
    employee: Employee,
    leave_type_code: str,
    start: date,
    end: date,
    half_day: HalfDay | None,
    today: date,
) -> LeaveRequest:
    """Create a pending request and reserve its days, or refuse without writing anything."""
    leave_type = get_leave_type(session, code=leave_type_code)
    _validate_dates(leave_type, start, end, half_day, today)
    if employee.start_date is not None and start < employee.start_date:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{employee.name} starts on {employee.start_date}; leave can begin on that "
                                                 f"day at the earliest, not {start}.")
    lock_employee(session, employee_id=employee.id)
    per_year = count_working_days(session, employee=employee, start=start, end=end, half_day=half_day)
    total = sum(per_year.values(), Decimal("0"))
    if total == 0:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{start} to {end} has no working days (weekends and public holidays only).")
    overlapping = find_overlapping_request(session, employee=employee, start=start, end=end, half_day=half_day)
    if overlapping is not None:
        raise ToolError(
            ErrorCode.CONFLICT,
            f"This overlaps your {overlapping.status} leave request #{overlapping.id} "
            f"({overlapping.start_date} to {overlapping.end_date}). To move it, cancel request #{overlapping.id} first "
            "(\"cancel request " + str(overlapping.id) + "\"), then ask for the new dates.",
        )
    request = LeaveRequest(
        employee_id=employee.id,
        leave_type_id=leave_type.id,
        start_date=start,
        end_date=end,
        half_day=half_day.value if half_day else None,
        working_days=total,
        status=LeaveStatus.PENDING.value,
    )
    session.add(request)
    session.flush()
    for year, days in sorted(per_year.items()):
        allocation = get_or_create_allocation(session, employee=employee, leave_type=leave_type, year=year)
        if not _move_days(session, allocation_id=allocation.id, kind=LedgerKind.RESERVE, days=days, request_id=request.id):
            session.refresh(allocation)
            available = allocation.allowance - allocation.taken - allocation.reserved  # type: ignore[operator]
            raise ToolError(
                ErrorCode.INSUFFICIENT_BALANCE,
                f"Not enough {leave_type.code} leave in {year} for {_shown(start)} to {_shown(end)}: "
                f"{day_count(days_number(days), 'working ')} requested in {year}, {days_number(available)} available.",
            )
    session.flush()
    return request


def _shown(day: date) -> str:
    """A day as the person reads it back, whatever their date order: "Mon 7 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def get_leave_request(session: Session, *, request_id: int) -> LeaveRequest:
    """Return a leave request or refuse with NOT_FOUND."""
    request = session.get(LeaveRequest, request_id)
    if request is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No leave request #{request_id}.")
    return request


def record_leave_approved(session: Session, *, request: LeaveRequest) -> LeaveRequest:
    """Turn a pending request's reservation into taken days."""
    if request.status != LeaveStatus.PENDING:
        raise ToolError(ErrorCode.CONFLICT, f"Leave request #{request.id} is {request.status}, not pending.")
    for allocation_id, days in _request_movements(session, request_id=request.id, kind=LedgerKind.RESERVE):
        if not _move_days(session, allocation_id=allocation_id, kind=LedgerKind.TAKE, days=days, request_id=request.id):
            raise ToolError(ErrorCode.CONFLICT, f"Leave request #{request.id}'s reservation is inconsistent.")
    request.status = LeaveStatus.APPROVED.value
    request.decided_at = utcnow()
    session.flush()
    return request


def record_leave_rejected(session: Session, *, request: LeaveRequest, reason: str) -> LeaveRequest:
    """Release a pending request's reservation and mark it rejected."""
    _release(session, request=request)
    request.status = LeaveStatus.REJECTED.value
    request.note = reason[:500]
    request.decided_at = utcnow()
    session.flush()
    return request


def _release(session: Session, *, request: LeaveRequest) -> None:
    if request.status != LeaveStatus.PENDING:
        raise ToolError(ErrorCode.CONFLICT, f"Leave request #{request.id} is {request.status}, not pending.")
    for allocation_id, days in _request_movements(session, request_id=request.id, kind=LedgerKind.RESERVE):
        _move_days(session, allocation_id=allocation_id, kind=LedgerKind.RELEASE, days=days, request_id=request.id)


def cancel_leave_request(session: Session, *, request: LeaveRequest, today: date) -> LeaveRequest:
    """Cancel a pending request, or approved leave that has not started, giving the days back."""
    if request.status == LeaveStatus.PENDING:
        _release(session, request=request)
    elif request.status == LeaveStatus.APPROVED:
        if request.start_date <= today:
            raise ToolError(ErrorCode.CONFLICT, f"Leave request #{request.id} has already started; ask HR to amend it.")
        for allocation_id, days in _request_movements(session, request_id=request.id, kind=LedgerKind.TAKE):
            _move_days(session, allocation_id=allocation_id, kind=LedgerKind.RESTORE, days=days, request_id=request.id)
    else:
        raise ToolError(ErrorCode.CONFLICT, f"Leave request #{request.id} is already {request.status}.")
    request.status = LeaveStatus.CANCELLED.value
    request.decided_at = utcnow()
    session.flush()
    return request


def list_leave_requests(session: Session, *, employee: Employee, limit: int = 50) -> list[LeaveRequest]:
    """Return the employee's requests, newest first."""
    return list(
        session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.employee_id == employee.id)
            .order_by(LeaveRequest.start_date.desc(), LeaveRequest.id.desc())
            .limit(limit)
        )
    )


def is_on_leave(session: Session, *, employee_id: int, day: date) -> LeaveRequest | None:
    """Return the approved leave covering `day`, if the employee is away that day."""
    return session.scalar(
        select(LeaveRequest).where(
            LeaveRequest.employee_id == employee_id,
            LeaveRequest.status == LeaveStatus.APPROVED.value,
            LeaveRequest.start_date <= day,
            LeaveRequest.end_date >= day,
        )
    )


@dataclass(frozen=True)
class Holiday:
    """A day off for everyone in a country: a public holiday, or one the company adds."""

    day: date
    name: str
    kind: str  # "public" or "company"


def list_holidays(session: Session, *, employee: Employee, start: date, end: date) -> list[Holiday]:
    """Return the public holidays of the employee's country and the company's own holidays between two dates."""
    public = days_off(employee.country, start, end)
    company = session.scalars(
        select(CompanyHoliday).where(
            CompanyHoliday.day.between(start, end),
            (CompanyHoliday.country.is_(None)) | (CompanyHoliday.country == employee.country),
        )
    )
    found = [Holiday(day, name, "public") for day, name in public.items()]
    found += [Holiday(row.day, row.name, "company") for row in company if row.day not in public]
    return sorted(found, key=lambda holiday: holiday.day)


def list_leave_between(session: Session, *, employee_ids: set[int], start: date, end: date) -> list[LeaveRequest]:
    """Return the pending or approved leave of these people that overlaps start..end, soonest first."""
    if not employee_ids:
        return []
    return list(
        session.scalars(
            select(LeaveRequest)
            .where(
                LeaveRequest.employee_id.in_(employee_ids),
                LeaveRequest.status.in_(ACTIVE_STATUSES),
                LeaveRequest.start_date <= end,
                LeaveRequest.end_date >= start,
            )
            .order_by(LeaveRequest.start_date, LeaveRequest.id)
        )
    )
