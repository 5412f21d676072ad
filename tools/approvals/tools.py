"""Approval tools: the approver's queue and their decision."""

from __future__ import annotations

from pydantic import Field, model_validator

from tools.approvals import service
from tools.approvals.models import Approval, ApprovalStatus, Decision
from tools.errors import ErrorCode, ToolError
from tools.people.service import get_employee_by_email
from tools.pipeline import ToolArgs, ToolContext, ToolResult, execute_stored_call, validate_args


class ListPendingArgs(ToolArgs):
    limit: int = Field(50, ge=1, le=500)


class DecideApprovalArgs(ToolArgs):
    approval_id: int = Field(ge=1, description="The approval number.")
    decision: Decision = Field(description="approve or deny.")
    reason: str = Field("", max_length=1000, description="Why; required when denying.")
    step: int | None = Field(None, ge=1, description="The step being decided (1-based), as an approval card shows it; "
                                                     "refused once the approval has moved past it.")

    @model_validator(mode="after")
    def _deny_needs_reason(self) -> "DecideApprovalArgs":
        if self.decision is Decision.DENY and not self.reason.strip():
            raise ValueError("a reason is required when denying")
        return self


def approval_subject(approval_id: int) -> str:
    """Return the audit subject of an approval."""
    return f"approval:{approval_id}"


def describe_approval(ctx: ToolContext, approval: Approval) -> dict[str, object]:
    """Return an approval as JSON-able data."""
    return {
        "approval_id": approval.id,
        "kind": approval.kind,
        "tool": approval.tool,
        "subject": approval.subject,
        "summary": approval.summary,
        "facts": approval.facts,
        "requester": service.label(ctx.session, employee_id=approval.requester_id),
        "approver": service.label(ctx.session, employee_id=approval.approver_id),
        "decided_by": service.label(ctx.session, employee_id=approval.decided_by_id) if approval.decided_by_id else None,
        "step": approval.step + 1,
        "steps": len(approval.chain),
        "chain": approval.chain,
        "status": approval.status,
        "reason": approval.reason,
        "created_at": approval.created_at.isoformat(),
    }


def list_pending_approvals(ctx: ToolContext, args: ListPendingArgs) -> ToolResult:
    """List the requests waiting for your decision, oldest first."""
    rows = [describe_approval(ctx, a) for a in service.list_pending_for(ctx.session, actor=ctx.actor)[: args.limit]]
    return ToolResult(data={"approvals": rows}, message=f"{len(rows)} request(s) waiting for your decision.")


def _waiting_for_actor(ctx: ToolContext, approval_id: int, step: int | None = None) -> Approval:
    """Return the approval if it waits for the actor's decision (at `step`, when given); refuse otherwise."""
    approval = service.get_approval(ctx.session, approval_id=approval_id)
    if approval.requester_id == ctx.actor.id:
        raise ToolError(ErrorCode.FORBIDDEN, "You cannot decide your own request.")
    if approval.status != ApprovalStatus.PENDING:
        raise ToolError(ErrorCode.ALREADY_DECIDED, f"Approval #{approval.id} is already {approval.status}.")
    if step is not None and step != approval.step + 1:  # an old card: its step was decided already
        raise ToolError(ErrorCode.ALREADY_DECIDED, f"Step {step} of approval #{approval.id} has already been decided; "
                                                   f"it is now at step {approval.step + 1} of {len(approval.chain)}.")
    if service.decided_by(ctx.session, actor=ctx.actor, approval_ids=[approval.id]):
        raise ToolError(ErrorCode.FORBIDDEN, f"You decided an earlier step of approval #{approval.id}; the next step "
                                             "is for someone else.")
    if not service.can_decide(ctx.session, approval, ctx.actor):
        raise ToolError(ErrorCode.FORBIDDEN, f"Approval #{approval.id} is not waiting for your decision.")
    return approval


def _name_of(ctx: ToolContext, email: str) -> str:
    """Return the name of the person with this email, or the email itself when nobody has it."""
    try:
        return get_employee_by_email(ctx.session, email=email).name
    except ToolError:
        return email


def preview_decision(ctx: ToolContext, args: DecideApprovalArgs) -> ToolResult:
    """Check a decision without recording it: the approval it is about, which must be waiting for you."""
    approval = _waiting_for_actor(ctx, args.approval_id, args.step)
    data = {**describe_approval(ctx, approval), "decision": args.decision.value, "decision_reason": args.reason}
    return ToolResult(data=data, message=f"Approval #{approval.id} is waiting for your decision.")


def decide_approval(ctx: ToolContext, args: DecideApprovalArgs) -> ToolResult:
    """Approve or deny a request that is waiting for you; an approved request then takes effect."""
    approval = _waiting_for_actor(ctx, args.approval_id, args.step)
    complete = service.record_decision(ctx.session, approval=approval, actor=ctx.actor, decision=args.decision, reason=args.reason)
    subject = approval_subject(approval.id)
    if not complete:
        nxt = approval.chain[approval.step]
        data = {**describe_approval(ctx, approval), "decision": args.decision.value, "decided_by": ctx.actor.email}
        waiting_for = _name_of(ctx, str(nxt["approver"]))
        return ToolResult(data=data, subject=subject, message=f"Approved step {approval.step} of {len(approval.chain)}; now waiting for {waiting_for}.")
    spec = ctx.registry[approval.tool]
    if args.decision is Decision.DENY:
        assert spec.hooks is not None
        outcome = spec.hooks.on_rejected(ctx, validate_args(spec, approval.args), approval.subject, args.reason)
        service.record_outcome(ctx.session, approval=approval, outcome=outcome.data)
        data = {**describe_approval(ctx, approval), "decision": args.decision.value, "outcome": outcome.data}
        return ToolResult(data=data, subject=subject, message=f"Denied. {outcome.message}")
    result = execute_stored_call(ctx, approval)
    data = {**describe_approval(ctx, approval), "decision": args.decision.value, "outcome": approval.outcome}
    if result is None:
        return ToolResult(data=data, subject=subject,
                          message=f"Approved, but the request could no longer be carried out: {approval.outcome.get('error')}")
    return ToolResult(data=data, subject=subject, message=f"Approved. {result.message}")
