"""The single tool pipeline: look up, validate, authorize, approval gate, execute in a transaction, audit."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from sqlalchemy.orm import Session, sessionmaker

from tools.approvals.models import Approval, ApprovalKind
from tools.approvals.policy import ApprovalPolicy
from tools.approvals.service import create_approval, record_outcome, resolve_chain
from tools.audit.service import record_audit
from tools.db import run_in_transaction, utcnow
from tools.errors import ErrorCode, ToolError
from tools.people.models import Employee, Role
from tools.people.service import get_employee
from tools.policies.ports import PolicyLookup


# Terminal escape sequences and other control characters (a model's or a payload's) are never stored in a record.
CONTROL_CHARACTERS = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?"
                                r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown fields (an identity, say) are refused, never ignored; text loses any
    control characters (newlines and tabs stay)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        # half an emoji (a lone surrogate from a JSON escape) becomes "?": no database driver can store it
        value = CONTROL_CHARACTERS.sub("", value.encode("utf-8", "replace").decode("utf-8"))
        field = cls.model_fields.get(info.field_name or "")
        choices = field.annotation if field is not None else None
        if isinstance(choices, type) and issubclass(choices, StrEnum):
            value = value.strip().lower()  # "URGENT", "Hardware": a choice's case carries no meaning
        return value


@dataclass
class ToolContext:
    """What a tool may use: the open session, the authenticated actor, the clock and the policy."""

    session: Session
    actor: Employee
    now: datetime
    today: date
    policy: ApprovalPolicy
    registry: Mapping[str, ToolSpec]
    knowledge: PolicyLookup | None = None
    receipt_exists: Callable[[str], bool] | None = None  # whether a receipt reference names an uploaded file
    default_timezone: str = "UTC"  # the company's zone, for people who have none of their own


@dataclass(frozen=True)
class GateRequest:
    """A tool's request that its (already prepared) call be approved before it takes effect."""

    kind: ApprovalKind
    facts: dict[str, Any]
    summary: str


@dataclass
class ToolResult:
    """What a tool returns: JSON-able data, a sentence for people, and what it touched."""

    data: dict[str, Any]
    message: str
    subject: str | None = None
    gate: GateRequest | None = None


ApprovedHook = Callable[[ToolContext, Any, str], ToolResult]
RejectedHook = Callable[[ToolContext, Any, str, str], ToolResult]


@dataclass(frozen=True)
class ApprovalHooks:
    """What happens to a gated tool's prepared record when its approval is decided."""

    on_approved: ApprovedHook
    on_rejected: RejectedHook


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: a typed function, its argument schema, and who may call it."""

    name: str
    function: Callable[[ToolContext, Any], ToolResult]
    args_model: type[BaseModel]
    writes: bool
    roles: frozenset[Role] = field(default_factory=frozenset)
    hooks: ApprovalHooks | None = None
    # A slow read that never writes: its transaction does not take SQLite's write lock (BEGIN, not BEGIN IMMEDIATE).
    read_only: bool = False

    @property
    def description(self) -> str:
        """Return the function's docstring, which doubles as the LLM description."""
        return (self.function.__doc__ or self.name).strip()


def employee_zone(employee: Employee, default_timezone: str) -> ZoneInfo:
    """Return the employee's time zone: their own, else the company's, else UTC when neither names a real zone."""
    try:
        return ZoneInfo(employee.timezone or default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def employee_today(employee: Employee, now: datetime, default_timezone: str) -> date:
    """Return the calendar date in the employee's time zone."""
    return now.astimezone(employee_zone(employee, default_timezone)).date()


def validation_message(error: ValidationError) -> str:
    """Turn pydantic's errors into one readable sentence."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ").rstrip(".")
        if item["type"] == "extra_forbidden":
            parts.append(f"'{where}' is not an argument of this tool")
        elif item["type"].startswith(("date_", "datetime_")):
            parts.append(f"{where}: '{item.get('input')}' is not a date (write it as YYYY-MM-DD)")
        else:
            parts.append(f"{where}: {message}" if where else message[:1].upper() + message[1:])
    return "Invalid input: " + "; ".join(parts) + "."


def validate_args(spec: ToolSpec, raw_args: Mapping[str, Any]) -> BaseModel:
    """Validate raw arguments against the tool's schema."""
    try:
        return spec.args_model.model_validate(dict(raw_args))
    except ValidationError as error:
        raise ToolError(ErrorCode.INVALID_INPUT, validation_message(error)) from error


def authorize(spec: ToolSpec, actor: Employee) -> None:
    """Refuse inactive people and callers without the tool's role."""
    if not actor.active:
        raise ToolError(ErrorCode.FORBIDDEN, f"{actor.email} is not an active employee.")
    if spec.roles and not actor.has_role(*spec.roles):
        needed = " or ".join(sorted(role.value for role in spec.roles))
        raise ToolError(ErrorCode.FORBIDDEN, f"'{spec.name}' needs the {needed} role.")


def execute_stored_call(ctx: ToolContext, approval: Approval) -> ToolResult | None:
    """Re-validate an approved stored call and run it as the requester, in a savepoint.

    Returns None (and marks the approval failed) when the call no longer passes its checks.
    """
    spec = ctx.registry[approval.tool]
    assert spec.hooks is not None, f"{spec.name} has no approval hooks"
    requester = get_employee(ctx.session, employee_id=approval.requester_id)
    as_requester = ToolContext(ctx.session, requester, ctx.now, ctx.today, ctx.policy, ctx.registry, ctx.knowledge,
                               ctx.receipt_exists, ctx.default_timezone)
    try:
        with ctx.session.begin_nested():
            args = validate_args(spec, approval.args)
            result = spec.hooks.on_approved(as_requester, args, approval.subject)
    except ToolError as error:
        record_outcome(ctx.session, approval=approval, outcome={"error": error.message}, failed=True)
        record_audit(ctx.session, actor=ctx.actor, action=f"{spec.name}.failed", subject=approval.subject,
                     details={"approval_id": approval.id, "error": error.message})
        return None
    record_outcome(ctx.session, approval=approval, outcome=result.data)
    record_audit(ctx.session, actor=requester, action=f"{spec.name}.executed", subject=approval.subject,
                 details={"approval_id": approval.id, "approved_by": ctx.actor.email, **result.data})
    return result


class Pipeline:
    """Runs every tool call the same way, whoever the caller is (CLI, Slack, offline engine, LLM)."""

    def __init__(
        self,
        *,
        registry: Mapping[str, ToolSpec],
        session_factory: sessionmaker[Session],
        policy: ApprovalPolicy,
        default_timezone: str = "UTC",
        knowledge: PolicyLookup | None = None,
        receipt_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self.registry = registry
        self.knowledge = knowledge
        self.receipt_exists = receipt_exists
        self.session_factory = session_factory
        self.policy = policy
        self.default_timezone = default_timezone

    def spec(self, name: str) -> ToolSpec:
        """Return the registered tool or refuse with UNKNOWN_TOOL."""
        spec = self.registry.get(name)
        if spec is None:
            raise ToolError(ErrorCode.UNKNOWN_TOOL, f"There is no tool called '{name}'.")
        return spec

    def run(self, name: str, raw_args: Mapping[str, Any], *, actor_id: int, now: datetime | None = None) -> ToolResult:
        """Run one tool call as `actor_id` in one transaction; identity never comes from `raw_args`."""
        spec = self.spec(name)
        args = validate_args(spec, raw_args)
        moment = now or utcnow()
        return run_in_transaction(self.session_factory, lambda session: self._run(session, spec, args, actor_id, moment),
                                  read_only=spec.read_only)

    def check(self, name: str, raw_args: Mapping[str, Any], *, actor_id: int) -> BaseModel:
        """Validate a call and authorize the actor without running it (e.g. before asking for a confirmation)."""
        spec = self.spec(name)
        args = validate_args(spec, raw_args)
        run_in_transaction(self.session_factory, lambda session: authorize(spec, get_employee(session, employee_id=actor_id)))
        return args

    def _run(self, session: Session, spec: ToolSpec, args: BaseModel, actor_id: int, now: datetime) -> ToolResult:
        actor = get_employee(session, employee_id=actor_id)
        authorize(spec, actor)
        ctx = ToolContext(session, actor, now, employee_today(actor, now, self.default_timezone), self.policy, self.registry,
                          self.knowledge, self.receipt_exists, self.default_timezone)
        result = spec.function(ctx, args)
        if result.gate is not None:
            result = self._gate(ctx, spec, args, result)
        if spec.writes:
            record_audit(session, actor=actor, action=spec.name, subject=result.subject or spec.name,
                         details={"args": args.model_dump(mode="json"), "result": result.data})
        return result

    def _gate(self, ctx: ToolContext, spec: ToolSpec, args: BaseModel, result: ToolResult) -> ToolResult:
        gate = result.gate
        assert gate is not None and result.subject is not None and spec.hooks is not None
        steps = resolve_chain(ctx.session, policy=self.policy, kind=gate.kind, facts=gate.facts, requester=ctx.actor, today=ctx.today)
        approval = create_approval(
            ctx.session, kind=gate.kind, tool=spec.name, args=args.model_dump(mode="json"), subject=result.subject,
            summary=gate.summary, facts=gate.facts, requester=ctx.actor, steps=steps,
        )
        approvers = [step.as_json() for step in steps]
        names = " then ".join(step.approver.name for step in steps)
        notes = " ".join(step.note for step in steps if step.note)
        data = {**result.data, "approval_id": approval.id, "approvers": approvers}
        message = f"{result.message} Sent to {names} for approval (approval #{approval.id}). {notes}".strip()
        return ToolResult(data=data, message=message, subject=result.subject)
