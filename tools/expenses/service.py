"""Expense rules: currency and category checks, limits, receipts, claim lifecycle."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.db import utcnow
from tools.errors import ErrorCode, ToolError
from tools.expenses.models import ClaimStatus, ExpenseCategory, ExpenseClaim
from tools.people.models import Employee

ABSURD_AMOUNT = Decimal("1000000")
MAX_CLAIM_AGE_DAYS = 365
CENT = Decimal("0.01")
PLAIN = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$")
# ISO 4217 currencies without minor units: a claim in them is whole
WHOLE_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
                              "XAF", "XOF", "XPF"})


def parse_amount(raw: str | Decimal | float | int) -> Decimal:
    """Parse a positive amount with at most two decimals, refusing zero, negatives and absurd values.

    Text is a plain decimal ("1234.50"), or grouped by thousands with a decimal point ("1,234.50"); "1e2" is no
    amount anyone writes on a claim, and "1,234" alone could be one thousand or one point two.
    """
    text = str(raw).strip()
    if isinstance(raw, str):
        if GROUPED.match(text):
            text = text.replace(",", "")
        elif not PLAIN.match(text):
            hint = " (write it as 1234 or 1234.00)" if "," in text else ""
            raise ToolError(ErrorCode.INVALID_INPUT, f"'{raw}' is not an amount{hint}.")
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ToolError(ErrorCode.INVALID_INPUT, f"'{raw}' is not an amount.") from error
    if not amount.is_finite():
        raise ToolError(ErrorCode.INVALID_INPUT, f"'{raw}' is not an amount.")
    if amount <= 0:
        raise ToolError(ErrorCode.INVALID_INPUT, "The amount must be greater than zero.")
    if amount >= ABSURD_AMOUNT:
        raise ToolError(ErrorCode.INVALID_INPUT, f"{amount} is too large for an expense claim; talk to finance.")
    if amount != amount.quantize(CENT):
        raise ToolError(ErrorCode.INVALID_INPUT, "An amount has at most two decimal places.")
    return amount.quantize(CENT)


def validate_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code or refuse an unknown currency."""
    normalized = code.strip().upper()
    if len(normalized) != 3 or pycountry.currencies.get(alpha_3=normalized) is None:
        raise ToolError(ErrorCode.INVALID_INPUT, f"Unknown currency '{code}'; use an ISO 4217 code such as USD or EUR.")
    return normalized


def to_company_currency(amount: Decimal, currency: str, *, company_currency: str, rates: dict[str, Decimal]) -> Decimal:
    """Convert with the configured rate (company currency units per one unit of `currency`)."""
    if currency == company_currency:
        return amount
    rate = rates.get(currency)
    if rate is None:
        raise ToolError(
            ErrorCode.INVALID_INPUT,
            f"No exchange rate for {currency} is configured; claims are accepted in {company_currency}"
            + (f" or {', '.join(sorted(rates))}." if rates else "."),
        )
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def get_category(session: Session, *, code: str) -> ExpenseCategory:
    """Return an active category or refuse, listing the known ones."""
    category = session.scalar(
        select(ExpenseCategory).where(ExpenseCategory.code == code.strip().lower(), ExpenseCategory.active.is_(True))
    )
    if category is None:
        known = ", ".join(session.scalars(select(ExpenseCategory.code).where(ExpenseCategory.active.is_(True))))
        raise ToolError(ErrorCode.INVALID_INPUT, f"Unknown expense category '{code}'. Known categories: {known}.")
    return category


def create_expense_claim(
    session: Session,
    *,
    employee: Employee,
    amount: Decimal,
    currency: str,
    category_code: str,
    expense_date: date,
    merchant: str,
    description: str,
    receipt_path: str | None,
    today: date,
    company_currency: str,
    rates: dict[str, Decimal],
) -> ExpenseClaim:
    """Check a claim against the rules and store it, or refuse without writing anything."""
    amount = parse_amount(amount)
    currency = validate_currency(currency)
    if currency in WHOLE_CURRENCIES and amount != amount.to_integral_value():
        raise ToolError(ErrorCode.INVALID_INPUT, f"{currency} has no minor unit; the amount must be a whole number.")
    category = get_category(session, code=category_code)
    if not merchant.strip():
        raise ToolError(ErrorCode.INVALID_INPUT, "Say where the money was spent (the merchant).")
    if expense_date > today:
        raise ToolError(ErrorCode.INVALID_INPUT, f"The expense date {expense_date} is in the future.")
    if expense_date < today - timedelta(days=MAX_CLAIM_AGE_DAYS):
        raise ToolError(ErrorCode.INVALID_INPUT, f"Expenses older than {MAX_CLAIM_AGE_DAYS} days cannot be claimed.")
    converted = to_company_currency(amount, currency, company_currency=company_currency, rates=rates)
    if converted > category.per_claim_limit:
        raise ToolError(
            ErrorCode.LIMIT_EXCEEDED,
            f"{amount} {currency}{'' if currency == company_currency else f' (= {converted} {company_currency})'} is over the "
            f"{category.name} limit of {category.per_claim_limit} {company_currency} per claim.",
        )
    if converted > category.receipt_required_over and not receipt_path:
        raise ToolError(
            ErrorCode.INVALID_INPUT,
            f"A receipt is required for every {category.name} claim." if category.receipt_required_over <= 0 else
            f"A receipt is required for {category.name} claims over {category.receipt_required_over} {company_currency}.",
            details={"needs": "receipt"},
        )
    claim = ExpenseClaim(
        employee_id=employee.id,
        category_id=category.id,
        amount=amount,
        currency=currency,
        amount_company=converted,
        expense_date=expense_date,
        merchant=merchant.strip()[:200],
        description=description.strip()[:1000],
        receipt_path=receipt_path,
        status=ClaimStatus.SUBMITTED.value,
    )
    session.add(claim)
    session.flush()
    return claim


def get_expense_claim(session: Session, *, claim_id: int) -> ExpenseClaim:
    """Return a claim or refuse with NOT_FOUND."""
    claim = session.get(ExpenseClaim, claim_id)
    if claim is None:
        raise ToolError(ErrorCode.NOT_FOUND, f"No expense claim #{claim_id}.")
    return claim


def record_claim_status(session: Session, *, claim: ExpenseClaim, status: ClaimStatus, note: str = "") -> ExpenseClaim:
    """Move a claim along its lifecycle, refusing moves that skip a step."""
    allowed = {
        ClaimStatus.SUBMITTED: {ClaimStatus.PENDING_APPROVAL, ClaimStatus.APPROVED},
        ClaimStatus.PENDING_APPROVAL: {ClaimStatus.APPROVED, ClaimStatus.REJECTED},
        ClaimStatus.APPROVED: {ClaimStatus.REIMBURSED},
    }
    if status not in allowed.get(ClaimStatus(claim.status), set()):
        raise ToolError(ErrorCode.CONFLICT, f"Expense claim #{claim.id} is {claim.status}; it cannot become {status}.")
    claim.status = status.value
    if note:
        claim.note = note[:500]
    if status in {ClaimStatus.APPROVED, ClaimStatus.REJECTED}:
        claim.decided_at = utcnow()
    session.flush()
    return claim


def find_same_claim(session: Session, *, employee: Employee, amount: Decimal, currency: str, expense_date: date,
                    merchant: str) -> ExpenseClaim | None:
    """Return an earlier claim of the employee for the same amount, currency, date and merchant that was not declined:
    likely the same expense filed twice."""
    candidates = session.scalars(select(ExpenseClaim).where(
        ExpenseClaim.employee_id == employee.id, ExpenseClaim.amount == amount, ExpenseClaim.currency == currency,
        ExpenseClaim.expense_date == expense_date, ExpenseClaim.status != ClaimStatus.REJECTED.value).order_by(ExpenseClaim.id))
    wanted = " ".join(merchant.casefold().split())
    return next((claim for claim in candidates if " ".join(claim.merchant.casefold().split()) == wanted), None)


def claims_with_receipt(session: Session, *, receipt_path: str | None) -> list[ExpenseClaim]:
    """Return the claims, anyone's, that were not declined and cite this receipt. Receipts are stored under their
    content hash, so the same file sent twice has the same reference."""
    if not receipt_path:
        return []
    return list(session.scalars(select(ExpenseClaim).where(
        ExpenseClaim.receipt_path == receipt_path, ExpenseClaim.status != ClaimStatus.REJECTED.value).order_by(ExpenseClaim.id)))


def list_expense_claims(session: Session, *, employee: Employee, limit: int = 50) -> list[ExpenseClaim]:
    """Return the employee's claims, newest first."""
    return list(
        session.scalars(
            select(ExpenseClaim)
            .where(ExpenseClaim.employee_id == employee.id)
            .order_by(ExpenseClaim.id.desc())
            .limit(limit)
        )
    )


def list_categories(session: Session) -> list[ExpenseCategory]:
    """Return the active categories."""
    return list(session.scalars(select(ExpenseCategory).where(ExpenseCategory.active.is_(True)).order_by(ExpenseCategory.id)))
