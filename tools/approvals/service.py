"""Approval rules: resolving named approvers (with delegation), storing calls, deciding exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tools.approvals.models import Approval, ApprovalDecision, ApprovalKind, ApprovalStatus, Decision
from tools.approvals.policy import ApprovalPolicy
from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.leave.models import LeaveStatus
from tools.leave.service import cancel_leave_request, get_leave_request, is_on_leave
from tools.people.models import Employee, Role
from tools.people.service import get_employee, list_role_holders

MAX_DELEGATION_HOPS = 5
ROLE_STEPS = {Role.HR, Role.FINANCE, Role.IT, Role.ADMIN}


@dataclass(frozen=True)
class Step:
    """One resolved step of an approval chain."""

    role: Role
    approver: Employee
    note: str = ""
    also: tuple[str, ...] = ()  # roles of later steps this approver decides too (nobody else holds them)

    def as_json(self) -> dict[str, Any]:
        """Return the step as stored on the approval row."""
        stored = {"role": self.role.value, "approver_id": self.approver.id, "approver": self.approver.email, "note": self.note}
        return {**stored, "also": list(self.also)} if self.also else stored


def _role_holder(session: Session, *, policy: ApprovalPolicy, role: Role, exclude: set[int]) -> Employee | None:
    named = policy.approvers.get(role.value)
    holders = list_role_holders(session, role=role)
    if named:
        holders.sort(key=lambda person: person.email != named)
    return next((person for person in holders if person.id not in exclude), None)


def _first_choice(session: Session, *, policy: ApprovalPolicy, role: Role, requester: Employee) -> tuple[Employee, str]:
    if role is Role.MANAGER:
        manager = session.get(Employee, requester.manager_id) if requester.manager_id else None
        if manager is not None and manager.active:
            return manager, ""
        hr = _role_holder(session, policy=policy, role=Role.HR, exclude={requester.id})
        if hr is None:
            raise ToolError(ErrorCode.CONFIGURATION, f"{requester.name} has no active manager and nobody else holds the HR role "
                                                     "to approve it; ask an admin.")
        return hr, f"{requester.name} has no active manager; routed to HR ({hr.name})."
    holder = _role_holder(session, policy=policy, role=role, exclude={requester.id})
    if holder is not None:
        return holder, ""
    if requester.id not in {person.id for person in list_role_holders(session, role=role)}:
        # nobody at all holds the role: its sign-off is never skipped or quietly given to someone without the role
        raise ToolError(ErrorCode.CONFIGURATION, f"Nobody holds the {_label(role)} role, which this request needs for its "
                                                 f"{_label(role)} approval; ask whoever keeps the people directory to give "
                                                 "someone the role.")
    # The only holder of the role is asking: their own manager decides instead, and the approval says so.
    manager = session.get(Employee, requester.manager_id) if requester.manager_id else None
    if manager is None or not manager.active:
        raise ToolError(ErrorCode.CONFIGURATION, f"Nobody else holds the {_label(role)} role to approve this; ask an admin.")
    return manager, f"Nobody else holds the {_label(role)} role; routed to {requester.name}'s manager ({manager.name})."


def _delegate_if_away(
    session: Session, *, policy: ApprovalPolicy, approver: Employee, requester: Employee, today: date
) -> tuple[Employee, str]:
    notes: list[str] = []
    seen = {requester.id}
    for _ in range(MAX_DELEGATION_HOPS):
        leave = is_on_leave(session, employee_id=approver.id, day=today)
        if leave is None:
            break
        seen.add(approver.id)
        boss = session.get(Employee, approver.manager_id) if approver.manager_id else None
        delegate = boss if boss is not None and boss.active and boss.id not in seen else None
        delegate = delegate or _role_holder(session, policy=policy, role=Role.HR, exclude=seen)
        if delegate is None:
            break
        notes.append(f"{approver.name} is on leave until {leave.end_date}; routed to {delegate.name}.")
        approver = delegate
    return approver, " ".join(notes)


def resolve_chain(
    session: Session, *, policy: ApprovalPolicy, kind: ApprovalKind, facts: dict[str, Any], requester: Employee, today: date
) -> list[Step]:
    """Turn the policy's chain of roles into named approvers, never the requester.

    Two steps are two people: when the next step's choice already decided the previous one (a manager who also holds
    the finance role), another holder of the role takes it. Only when nobody else holds it does the one person
    decide both, in one step that remembers the role it also covers (`also`), so a directory change re-checks it.
    """
    steps: list[Step] = []
    also: dict[int, list[str]] = {}
    for role in policy.chain_for(kind, facts):
        approver, note = _resolve_step(session, policy=policy, role=role, requester=requester, today=today)
        if approver.id == requester.id:
            raise ToolError(ErrorCode.CONFIGURATION, "No approver other than the requester could be found.")
        if steps and steps[-1].approver.id == approver.id:
            other = _another_holder(session, policy=policy, role=role, requester=requester, taken=approver)
            if other is None:  # the same person decides for both roles, and the step says so
                also.setdefault(len(steps) - 1, []).append(role.value)
                previous = steps[-1]
                steps[-1] = Step(previous.role, previous.approver, _joined(previous.note, _one_for_both(approver, role, note)))
            else:
                steps.append(other)
            continue
        steps.append(Step(role=role, approver=approver, note=note))
    return [Step(step.role, step.approver, step.note, tuple(also.get(index, ()))) for index, step in enumerate(steps)]


def _one_for_both(approver: Employee, role: Role | str, note: str = "") -> str:
    """The note of a step whose approver also decides the next step's role, as nobody else can."""
    return note or f"{approver.name} also decides for {_label(role)}: nobody else holds the role."


def _label(role: Role | str) -> str:
    return Role(role).label


def _joined(*notes: str) -> str:
    return " ".join(note for note in notes if note)


def _another_holder(session: Session, *, policy: ApprovalPolicy, role: Role, requester: Employee, taken: Employee,
                    besides: frozenset[int] = frozenset(), why: str = "decides the previous step") -> Step | None:
    """The step of `role` for a holder other than `taken` (who decides the step before it, or decided an earlier one),
    the people `besides` and the requester, so two steps are two people; None when the role is a manager's or nobody
    else holds it."""
    excluded = {requester.id, taken.id, *besides}
    other = _role_holder(session, policy=policy, role=role, exclude=excluded) if role in ROLE_STEPS else None
    if other is None:
        return None
    return Step(role, other, f"{taken.name} {why}; another {_label(role)} holder decides this one.")


def _resolve_step(session: Session, *, policy: ApprovalPolicy, role: Role, requester: Employee,
                  today: date) -> tuple[Employee, str]:
    """Return who decides one step of `role` today, and the note saying why it is not the first choice ("" if it is)."""
    approver, note = _first_choice(session, policy=policy, role=role, requester=requester)
    approver, away_note = _delegate_if_away(session, policy=policy, approver=approver, requester=requester, today=today)
    return approver, " ".join(filter(None, [note, away_note]))


@dataclass(frozen=True)
class Reroute:
    """One pending step handed to a new approver after a directory change."""

    approval_id: int
    step: int
    current: bool  # the step waiting for a decision now (its approver needs to hear of it)
    previous: str
    approver: str  # "" when nobody can take the step (stuck: the reason says what an admin has to do)
    reason: str

    @property
    def stuck(self) -> bool:
        return not self.approver


def _why_reroute(session: Session, *, policy: ApprovalPolicy, step: dict[str, Any], approver: Employee, requester: Employee,
                 today: date) -> str:
    """Return why a stored step's approver can no longer decide it ("" when they still can).

    The step's own approver is still right when they hold its role (HR, finance, IT, admin) or manage the requester,
    or when the policy would pick them again today (a stand-in: HR for someone with no manager, a manager on leave's
    delegate, the manager when nobody else holds the role). A stand-in whom the policy no longer picks (the requester
    has a manager again, the stand-in lost the HR role) is rerouted like anyone else.
    """
    if not approver.active:
        return f"{approver.name} is no longer active"
    role = Role(step["role"])
    if role in ROLE_STEPS and role in approver.roles:
        return ""
    if role is Role.MANAGER and approver.id == requester.manager_id:
        return ""
    try:
        chosen, _ = _resolve_step(session, policy=policy, role=role, requester=requester, today=today)
    except ToolError:
        chosen = None
    if chosen is not None and chosen.id == approver.id:
        return ""
    if role in ROLE_STEPS:
        return f"{approver.name} no longer holds the {_label(role)} role" if not step.get("note") else \
            f"{approver.name} was a stand-in for the {_label(role)} role, which someone else now takes"
    if step.get("note") and requester.manager_id is None:
        return f"{approver.name} no longer holds the HR role that routed {requester.name}'s request to them"
    return f"{approver.name} is no longer {requester.name}'s manager"


def reroute_pending(session: Session, *, policy: ApprovalPolicy, today: date) -> list[Reroute]:
    """Hand every pending step whose approver left, lost the role or stopped managing the requester to whoever the
    policy picks now (a directory import calls this); a step that nobody else can take stays where it is.

    A step that also covered a later role (`also`) whose holder lost it is split: the approver keeps their own role's
    step, and the lost role becomes a step of its own for whoever holds it now.
    """
    rerouted: list[Reroute] = []
    pending = session.scalars(select(Approval).where(Approval.status == ApprovalStatus.PENDING.value).order_by(Approval.id))
    for approval in list(pending):
        requester = get_employee(session, employee_id=approval.requester_id)
        chain = _split_lost_roles(session, policy=policy, chain=[dict(step) for step in approval.chain],
                                  first=approval.step, requester=requester, today=today)
        moves: list[Reroute] = []
        deciders = {decision.decided_by_id for decision in list_decisions(session, approval_id=approval.id)}
        stuck: list[Reroute] = []
        for index in range(approval.step, len(chain)):
            approver = get_employee(session, employee_id=chain[index]["approver_id"])
            reason = _why_reroute(session, policy=policy, step=chain[index], approver=approver, requester=requester, today=today)
            if not reason:
                continue
            role = Role(chain[index]["role"])
            try:
                chosen, note = _resolve_step(session, policy=policy, role=role, requester=requester, today=today)
            except ToolError as error:  # nobody can take it: the step waits, and the import's report says why
                stuck.append(Reroute(approval.id, index, index == approval.step, approver.email, "", f"{reason}; {error}"))
                continue
            if chosen.id in deciders:  # who decided an earlier step never takes a later one: another holder, if any
                other = _another_holder(session, policy=policy, role=role, requester=requester, taken=chosen,
                                        besides=frozenset(deciders), why="decided an earlier step")
                if other is None:
                    stuck.append(Reroute(approval.id, index, index == approval.step, approver.email, "",
                                         f"{reason}; {chosen.name} decided an earlier step and nobody else holds the "
                                         f"{_label(role)} role"))
                    continue
                chosen, note = other.approver, other.note
            if chosen.id in (approver.id, requester.id):
                continue
            chain[index] = Step(role=role, approver=chosen,
                                note=" ".join(filter(None, [f"{reason}; routed to {chosen.name}.", note]))).as_json()
            moves.append(Reroute(approval.id, index, index == approval.step, approver.email, chosen.email, reason))
        rerouted += stuck
        if not moves and len(chain) == len(approval.chain):
            continue
        chain = _two_people(session, policy=policy, chain=chain, first=approval.step, requester=requester)
        guard = update(Approval).where(Approval.id == approval.id, Approval.status == ApprovalStatus.PENDING.value,
                                       Approval.step == approval.step)
        statement = guard.values(chain=chain, approver_id=chain[approval.step]["approver_id"])
        if session.execute(statement.execution_options(synchronize_session=False)).rowcount == 1:
            rerouted += moves  # else a decision got there first; that step is no longer pending
        session.refresh(approval)
    return rerouted


def _two_people(session: Session, *, policy: ApprovalPolicy, chain: list[dict[str, Any]], first: int,
                requester: Employee) -> list[dict[str, Any]]:
    """Where a reroute left one person on two steps in a row, give the later step to another holder of its role, or
    else let the one person decide both in one step that remembers the role it also covers."""
    result = chain[:first + 1]
    for step in chain[first + 1:]:
        previous = result[-1]
        if step["approver_id"] != previous["approver_id"]:
            result.append(step)
            continue
        taken = get_employee(session, employee_id=step["approver_id"])
        other = _another_holder(session, policy=policy, role=Role(step["role"]), requester=requester, taken=taken)
        if other is not None:
            result.append(other.as_json())
        else:
            result[-1] = {**previous, "also": [*previous.get("also", ()), step["role"], *step.get("also", ())],
                          "note": _joined(previous.get("note", ""), _one_for_both(taken, step["role"]))}
    return result


def _split_lost_roles(session: Session, *, policy: ApprovalPolicy, chain: list[dict[str, Any]], first: int,
                      requester: Employee, today: date) -> list[dict[str, Any]]:
    """Give each role a step of its own again where a step's approver no longer holds a role it also covered (so a
    step's `also` lists only roles its approver still holds when _why_reroute looks at it)."""
    result = chain[:first]
    for step in chain[first:]:
        approver = get_employee(session, employee_id=step["approver_id"])
        lost = [role for role in step.get("also", ()) if Role(role) not in approver.roles]
        kept = [role for role in step.get("also", ()) if role not in lost]
        result.append({key: value for key, value in step.items() if key != "also"} | ({"also": kept} if kept else {}))
        for role in lost:
            try:
                chosen, note = _resolve_step(session, policy=policy, role=Role(role), requester=requester, today=today)
            except ToolError:
                chosen, note = approver, ""
            reason = f"{approver.name} no longer holds the {_label(role)} role; routed to {chosen.name}."
            result.append(Step(Role(role), chosen, " ".join(filter(None, [reason, note]))).as_json())
    return result


def create_approval(
    session: Session,
    *,
    kind: ApprovalKind,
    tool: str,
    args: dict[str, Any],
    subject: str,
    summary: str,
    facts: dict[str, Any],
    requester: Employee,
    steps: list[Step],
) -> Approval:
    """Store a tool call for approval, addressed to the first step's approver."""
    approval = Approval(
        kind=kind.value,
        tool=tool,
        args=args,
        subject=subject,
        summary=summary[:500],
        facts=facts,
        requester_id=requester.id,
        approver_id=steps[0].approver.id,
        step=0,
        chain=[step.as_json() for step in steps],
        status=ApprovalStatus.PENDING.value,
    )
    session.add(approval)
    session.flush()
    return approval


def get_approval(session: Session, *, approval_id: int) -> Approval:
    """Return an approval or refuse with NOT_FOUND."""
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No approval #{approval_id}.")
    return approval


def can_decide(session: Session, approval: Approval, actor: Employee, *, decided: set[int] | None = None) -> bool:
    """Return True when the actor may decide the approval's current step.

    Two steps are two people: whoever decided an earlier step of this request never decides a later one, even when
    they hold the later step's role. `decided` (the approvals the actor has decided a step of) saves a query per approval.
    """
    if actor.id == approval.requester_id or not actor.active:
        return False
    if approval.id in (decided if decided is not None else decided_by(session, actor=actor, approval_ids=[approval.id])):
        return False
    if actor.id == approval.approver_id:
        return True
    role = Role(approval.chain[approval.step]["role"])
    return role in ROLE_STEPS and role in actor.roles


def record_decision(
    session: Session, *, approval: Approval, actor: Employee, decision: Decision, reason: str
) -> bool:
    """Record one step's decision with a conditional UPDATE; return True when the chain is complete.

    Raises ALREADY_DECIDED when another decision on this step got there first.
    """
    step = approval.step
    last_step = step == len(approval.chain) - 1
    table = Approval
    guard = update(table).where(table.id == approval.id, table.status == ApprovalStatus.PENDING.value, table.step == step)
    if decision is Decision.APPROVE and not last_step:
        next_approver = approval.chain[step + 1]["approver_id"]
        statement = guard.values(step=step + 1, approver_id=next_approver)
    else:
        status = ApprovalStatus.APPROVED if decision is Decision.APPROVE else ApprovalStatus.REJECTED
        statement = guard.values(status=status.value, decided_by_id=actor.id, decided_at=utcnow(), reason=reason[:1000])
    if session.execute(statement.execution_options(synchronize_session=False)).rowcount != 1:
        raise ToolError(ErrorCode.ALREADY_DECIDED, f"Approval #{approval.id} has already been decided.")
    session.add(
        ApprovalDecision(
            approval_id=approval.id,
            step=step,
            role=approval.chain[step]["role"],
            decided_by_id=actor.id,
            decision=decision.value,
            reason=reason[:1000],
        )
    )
    session.flush()
    session.refresh(approval)
    return approval.status != ApprovalStatus.PENDING


def record_outcome(session: Session, *, approval: Approval, outcome: dict[str, Any], failed: bool = False) -> None:
    """Store what executing the approved call produced (or why it could not run)."""
    approval.outcome = outcome
    if failed:
        approval.status = ApprovalStatus.FAILED.value
    session.flush()


def cancel_approvals_for_subject(session: Session, *, subject: str, reason: str) -> list[int]:
    """Cancel pending approvals about a record that was withdrawn; return their ids."""
    ids = list(session.scalars(select(Approval.id).where(Approval.subject == subject, Approval.status == ApprovalStatus.PENDING.value)))
    if ids:
        session.execute(
            update(Approval)
            .where(Approval.id.in_(ids), Approval.status == ApprovalStatus.PENDING.value)
            .values(status=ApprovalStatus.CANCELLED.value, reason=reason[:1000], decided_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return ids


@dataclass(frozen=True)
class Withdrawal:
    """A pending request withdrawn because its requester is no longer an active employee."""

    approval_id: int
    kind: str
    requester: str
    summary: str


def withdraw_for_leavers(session: Session, *, today: date) -> list[Withdrawal]:
    """Withdraw the pending leave and system-access requests of people who are no longer active (a directory import
    calls this): nobody approves time off or access for someone who has left, and reserved days are released.
    Their expense claims stay pending: money they spent for the company is still owed to them."""
    query = (select(Approval).join(Employee, Employee.id == Approval.requester_id)
             .where(Approval.status == ApprovalStatus.PENDING.value, Employee.active.is_(False),
                    Approval.kind.in_([ApprovalKind.LEAVE.value, ApprovalKind.SYSTEM_ACCESS.value]))
             .order_by(Approval.id))
    withdrawn: list[Withdrawal] = []
    for approval in list(session.scalars(query)):
        requester = get_employee(session, employee_id=approval.requester_id)
        if approval.kind == ApprovalKind.LEAVE.value and approval.subject.startswith("leave_request:"):
            request = get_leave_request(session, request_id=int(approval.subject.split(":", 1)[1]))
            if request.status == LeaveStatus.PENDING:
                cancel_leave_request(session, request=request, today=today)
        reason = f"Withdrawn: {requester.name} is no longer an active employee."
        if cancel_approvals_for_subject(session, subject=approval.subject, reason=reason):
            withdrawn.append(Withdrawal(approval.id, approval.kind, requester.email, approval.summary))
    return withdrawn


def list_pending_for(session: Session, *, actor: Employee) -> list[Approval]:
    """Return pending approvals the actor may decide now, oldest first."""
    candidates = session.scalars(
        select(Approval)
        .where(Approval.status == ApprovalStatus.PENDING.value, Approval.requester_id != actor.id)
        .order_by(Approval.id)
    )
    pending = list(candidates)
    decided = decided_by(session, actor=actor, approval_ids=[approval.id for approval in pending])
    return [approval for approval in pending if can_decide(session, approval, actor, decided=decided)]


def decided_by(session: Session, *, actor: Employee, approval_ids: list[int]) -> set[int]:
    """Return which of these approvals the actor has already decided a step of."""
    if not approval_ids:
        return set()
    return set(session.scalars(select(ApprovalDecision.approval_id).where(
        ApprovalDecision.decided_by_id == actor.id, ApprovalDecision.approval_id.in_(approval_ids))))


def list_approvals(session: Session, *, status: ApprovalStatus | None = None, limit: int = 200) -> list[Approval]:
    """Return approvals, newest first (for admins and audits)."""
    query = select(Approval).order_by(Approval.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Approval.status == status.value)
    return list(session.scalars(query))


def label(session: Session, *, employee_id: int) -> str:
    """Return an employee's email for display."""
    return get_employee(session, employee_id=employee_id).email


def list_decisions(session: Session, *, approval_id: int) -> list[ApprovalDecision]:
    """Return the decisions taken on an approval's steps, first step first."""
    return list(session.scalars(select(ApprovalDecision).where(ApprovalDecision.approval_id == approval_id)
                                .order_by(ApprovalDecision.step)))


def directory_warnings(session: Session, *, policy: ApprovalPolicy) -> list[str]:
    """Return what in the directory keeps the approval policy from working as written: a named approver who is not in
    the directory, has left or lacks the role; a role the policy's chains need that nobody active holds; people whose
    manager has left (their requests go to HR)."""
    warnings: list[str] = []
    people = {person.email: person for person in session.scalars(select(Employee))}
    for role_name, email in sorted(policy.approvers.items()):
        role, person = Role(role_name), people.get(email)
        if person is None:
            warnings.append(f"the approval policy names {email} as the {role.label} approver, but nobody has that email; "
                            f"the longest-standing {role.label} holder decides instead")
        elif not person.active:
            warnings.append(f"the approval policy names {email} as the {role.label} approver, who is no longer active")
        elif role not in person.roles:
            warnings.append(f"the approval policy names {email} as the {role.label} approver, who does not hold the "
                            f"{role.label} role")
    needed = sorted({role for rule in policy.rules for role in rule.chain if role in ROLE_STEPS}, key=lambda role: role.value)
    for role in needed:
        if not list_role_holders(session, role=role):
            warnings.append(f"nobody active holds the {role.label} role, which the approval policy's chains need: "
                            f"requests with {'an' if role.label[0] in 'aeiouAEIOU' else 'a'} {role.label} step are refused "
                            "until the people CSV gives someone the role")
    by_id = {person.id: person for person in people.values()}
    orphans = sorted(person.email for person in people.values()
                     if person.active and person.manager_id and not by_id[person.manager_id].active)
    if orphans:
        warnings.append(f"{len(orphans)} active {'person reports' if len(orphans) == 1 else 'people report'} to someone "
                        f"who has left (their requests go to HR until the CSV names a new manager): {', '.join(orphans[:10])}"
                        + (" and more" if len(orphans) > 10 else ""))
    return warnings
