"""Expense tools exposed to the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import Field, field_validator

from tools.access import Domain, require_view
from tools.approvals.models import ApprovalKind
from tools.approvals.service import resolve_chain
from tools.errors import ErrorCode, ToolError
from tools.expenses import service
from tools.expenses.models import ClaimStatus, ExpenseClaim
from tools.people.service import get_employee
from tools.pipeline import ApprovalHooks, GateRequest, ToolArgs, ToolContext, ToolResult


class SubmitExpenseArgs(ToolArgs):
    amount: str = Field(max_length=32, description="Amount as a decimal string, e.g. 45.20.")

    @field_validator("amount", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # Callers (an LLM in particular) often send 45.2 rather than "45.20"; str() keeps the digits as written.
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    currency: str = Field(max_length=8, description="ISO 4217 code, e.g. USD.")
    category: str = Field(max_length=32, description="Expense category code, e.g. meals, travel.")
    expense_date: date = Field(description="When the money was spent (ISO date).")
    merchant: str = Field(max_length=200, description="Where the money was spent.")
    description: str = Field("", max_length=1000)
    receipt_path: str | None = Field(None, max_length=500, pattern=r"^[\w./-]+$", description="Stored receipt reference.")


class ListExpensesArgs(ToolArgs):
    limit: int = Field(20, ge=1, le=200)


class ClaimIdArgs(ToolArgs):
    claim_id: int = Field(ge=1, description="The expense claim number.")


def claim_subject(claim_id: int) -> str:
    """Return the audit/approval subject of an expense claim."""
    return f"expense_claim:{claim_id}"


def describe_claim(ctx: ToolContext, claim: ExpenseClaim) -> dict[str, object]:
    """Return a claim as JSON-able data."""
    category = next(c for c in service.list_categories(ctx.session) if c.id == claim.category_id)
    return {
        "claim_id": claim.id,
        "amount": str(claim.amount),
        "currency": claim.currency,
        "amount_company": str(claim.amount_company),
        "company_currency": ctx.policy.company_currency,
        "category": category.code,
        "category_limit": str(category.per_claim_limit),
        "expense_date": claim.expense_date.isoformat(),
        "merchant": claim.merchant,
        "description": claim.description,
        "receipt": claim.receipt_path,
        "status": claim.status,
        "note": claim.note,
    }


def check_receipt_reference(reference: str | None, exists: Callable[[str], bool] | None) -> None:
    """A reference is only a claim that a receipt exists: whoever filled it in (a model, a payload), check it."""
    if ".." in (reference or ""):
        raise ToolError(ErrorCode.INVALID_INPUT, "The receipt reference is not valid.")
    if reference and exists is not None and not exists(reference):
        raise ToolError(ErrorCode.INVALID_INPUT, "There is no uploaded receipt with that reference; attach the receipt file itself.")


def _earlier_claims(ctx: ToolContext, args: SubmitExpenseArgs) -> tuple[ExpenseClaim | None, list[ExpenseClaim]]:
    """Return the requester's earlier claim with the same details (if any) and every live claim citing the same receipt."""
    same = service.find_same_claim(ctx.session, employee=ctx.actor, amount=service.parse_amount(args.amount),
                                   currency=args.currency.strip().upper(), expense_date=args.expense_date, merchant=args.merchant)
    return same, service.claims_with_receipt(ctx.session, receipt_path=args.receipt_path)


def duplicate_check(ctx: ToolContext, same: ExpenseClaim | None, twins: list[ExpenseClaim]) -> str:
    """Say, for the approver, which earlier claims this one may repeat; another employee's claim is not named."""
    notes = []
    for twin in twins[:3]:
        whose = "the requester's" if twin.employee_id == ctx.actor.id else "another employee's"
        notes.append(f"same receipt file as claim #{twin.id} ({whose}, {twin.status.replace('_', ' ')})")
    if same is not None and same.id not in {twin.id for twin in twins}:
        notes.append(f"same amount, date and merchant as the requester's claim #{same.id} ({same.status.replace('_', ' ')})")
    return "; ".join(notes).capitalize()


def submit_expense(ctx: ToolContext, args: SubmitExpenseArgs) -> ToolResult:
    """File an expense claim for reimbursement; it goes to your manager (and finance above the threshold)."""
    check_receipt_reference(args.receipt_path, ctx.receipt_exists)
    same, twins = _earlier_claims(ctx, args)
    claim = service.create_expense_claim(
        ctx.session, employee=ctx.actor, amount=service.parse_amount(args.amount), currency=args.currency,
        category_code=args.category, expense_date=args.expense_date, merchant=args.merchant,
        description=args.description, receipt_path=args.receipt_path, today=ctx.today,
        company_currency=ctx.policy.company_currency, rates=ctx.policy.exchange_rates,
    )
    service.record_claim_status(ctx.session, claim=claim, status=ClaimStatus.PENDING_APPROVAL)
    data = describe_claim(ctx, claim)
    text = f"Expense claim #{claim.id}: {claim.amount} {claim.currency} at {claim.merchant} ({data['category']})."
    facts = {key: data[key] for key in ("amount", "currency", "amount_company", "category", "category_limit", "merchant")}
    if check := duplicate_check(ctx, same, twins):
        facts["check"] = check  # the approver sees a possible double claim, whatever the chat said
    return ToolResult(data=data, message=text, subject=claim_subject(claim.id),
                      gate=GateRequest(kind=ApprovalKind.EXPENSE, facts=facts, summary=f"{ctx.actor.name}: {text}"))


def preview_expense(ctx: ToolContext, args: SubmitExpenseArgs) -> ToolResult:
    """Check an expense claim without filing it: the rules it meets, the converted amount and who would approve it."""
    amount = service.parse_amount(args.amount)
    same, twins = _earlier_claims(ctx, args)
    savepoint = ctx.session.begin_nested()
    try:
        claim = service.create_expense_claim(
            ctx.session, employee=ctx.actor, amount=amount, currency=args.currency,
            category_code=args.category, expense_date=args.expense_date, merchant=args.merchant,
            description=args.description, receipt_path=args.receipt_path, today=ctx.today,
            company_currency=ctx.policy.company_currency, rates=ctx.policy.exchange_rates,
        )
        data = {**describe_claim(ctx, claim), "claim_id": None}
        steps = resolve_chain(ctx.session, policy=ctx.policy, kind=ApprovalKind.EXPENSE, facts=data, requester=ctx.actor, today=ctx.today)
    finally:
        savepoint.rollback()  # a preview never writes
    data["approvers"] = [step.as_json() | {"name": step.approver.name} for step in steps]
    data["same_as_claim"] = same.id if same is not None else None  # filed already? the read-back asks
    data["receipt_on_claims"] = [twin.id for twin in twins if twin.employee_id == ctx.actor.id]
    data["receipt_on_others_claims"] = sum(twin.employee_id != ctx.actor.id for twin in twins)
    return ToolResult(data=data, message=f"{data['amount']} {data['currency']} ({data['category']}) meets the rules.")


def list_my_expenses(ctx: ToolContext, args: ListExpensesArgs) -> ToolResult:
    """List your own expense claims, newest first."""
    rows = [describe_claim(ctx, claim) for claim in service.list_expense_claims(ctx.session, employee=ctx.actor, limit=args.limit)]
    return ToolResult(data={"claims": rows}, message=f"You have {len(rows)} expense claims.")


def get_expense(ctx: ToolContext, args: ClaimIdArgs) -> ToolResult:
    """Show one expense claim and its status."""
    claim = service.get_expense_claim(ctx.session, claim_id=args.claim_id)
    owner = get_employee(ctx.session, employee_id=claim.employee_id)
    require_view(ctx.session, actor=ctx.actor, owner=owner, domain=Domain.EXPENSES, what=f"expense claim #{claim.id}")
    return ToolResult(data=describe_claim(ctx, claim), message=f"Expense claim #{claim.id} is {claim.status}.")


def mark_expense_reimbursed(ctx: ToolContext, args: ClaimIdArgs) -> ToolResult:
    """Record that an approved claim has been paid out (finance only)."""
    claim = _reimbursed(ctx, args)
    return ToolResult(data=describe_claim(ctx, claim), message=f"Expense claim #{claim.id} is reimbursed.",
                      subject=claim_subject(claim.id))


def preview_reimbursement(ctx: ToolContext, args: ClaimIdArgs) -> ToolResult:
    """Check that a claim can be marked reimbursed by this person, without marking it; name whose claim it is."""
    savepoint = ctx.session.begin_nested()
    try:
        claim = _reimbursed(ctx, args)
        owner = get_employee(ctx.session, employee_id=claim.employee_id)
        data = {**describe_claim(ctx, claim), "employee": owner.name, "status": ClaimStatus.APPROVED.value}
    finally:
        savepoint.rollback()  # a preview never writes
    return ToolResult(data=data, message=f"Expense claim #{args.claim_id} can be marked reimbursed.")


def _reimbursed(ctx: ToolContext, args: ClaimIdArgs) -> ExpenseClaim:
    claim = service.get_expense_claim(ctx.session, claim_id=args.claim_id)
    if claim.employee_id == ctx.actor.id:
        raise ToolError(ErrorCode.FORBIDDEN, "Another finance person must record the payout of your own claim.")
    return service.record_claim_status(ctx.session, claim=claim, status=ClaimStatus.REIMBURSED)


def _claim_from(ctx: ToolContext, subject: str) -> ExpenseClaim:
    return service.get_expense_claim(ctx.session, claim_id=int(subject.split(":", 1)[1]))


def on_expense_approved(ctx: ToolContext, args: SubmitExpenseArgs, subject: str) -> ToolResult:
    """Mark the approved claim ready for reimbursement."""
    claim = service.record_claim_status(ctx.session, claim=_claim_from(ctx, subject), status=ClaimStatus.APPROVED)
    return ToolResult(data=describe_claim(ctx, claim), message=f"Expense claim #{claim.id} is approved.", subject=subject)


def on_expense_rejected(ctx: ToolContext, args: SubmitExpenseArgs, subject: str, reason: str) -> ToolResult:
    """Mark the claim rejected with the approver's reason."""
    claim = service.record_claim_status(ctx.session, claim=_claim_from(ctx, subject), status=ClaimStatus.REJECTED, note=reason)
    return ToolResult(data=describe_claim(ctx, claim), message=f"Expense claim #{claim.id} was declined.", subject=subject)


EXPENSE_HOOKS = ApprovalHooks(on_approved=on_expense_approved, on_rejected=on_expense_rejected)
