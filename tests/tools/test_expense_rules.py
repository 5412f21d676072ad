"""Expense rules: currency conversion against limits, numeric amounts, the claim lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.container import Container
from tests.builders import make_company, run, uploaded_receipt
from tools.errors import ToolError
from tools.expenses.service import parse_amount


def test_claim_in_foreign_currency_is_converted_for_limits(container: Container) -> None:
    company = make_company(container)
    data = run(container, "submit_expense", {"amount": "45.20", "currency": "eur", "category": "meals", "expense_date": "2026-11-26",
                                              "merchant": "Brasserie", "receipt_path": uploaded_receipt(container)}, company.requester)
    assert data["currency"] == "EUR" and data["amount"] == "45.20"
    assert data["amount_company"] == "48.82"  # 45.20 x 1.08, rounded half up
    assert data["status"] == "pending_approval"


def test_numeric_amount_from_a_model_is_accepted(container: Container) -> None:
    company = make_company(container)
    data = run(container, "submit_expense", {"amount": 12.5, "currency": "USD", "category": "meals", "expense_date": "2026-11-26",
                                              "merchant": "Deli"}, company.requester)
    assert data["amount"] == "12.50"


def test_claim_lifecycle_to_reimbursed(container: Container) -> None:
    company = make_company(container)
    claim = run(container, "submit_expense", {"amount": "20", "currency": "USD", "category": "meals", "expense_date": "2026-11-26",
                                               "merchant": "Deli"}, company.requester)
    run(container, "decide_approval", {"approval_id": claim["approval_id"], "decision": "approve"}, company.manager)
    assert run(container, "get_expense", {"claim_id": claim["claim_id"]}, company.requester)["status"] == "approved"
    assert run(container, "mark_expense_reimbursed", {"claim_id": claim["claim_id"]}, company.finance)["status"] == "reimbursed"


@pytest.mark.parametrize(("text", "amount"), [("1,234.50", "1234.50"), ("45.2", "45.20"), ("12", "12.00"), (".50", "0.50")])
def test_an_amount_grouped_by_thousands_with_a_decimal_point_is_read(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(("category", "amount", "says"), [
    ("lodging", "20", "A receipt is required for every Lodging claim."),  # a threshold of 0: every claim, never "over 0.00"
    ("meals", "40", "A receipt is required for Meals claims over 25.00 USD."),
])
def test_a_missing_receipt_is_asked_for_in_the_categorys_own_terms(container: Container, category: str, amount: str, says: str) -> None:
    company = make_company(container)
    with pytest.raises(ToolError) as refused:
        run(container, "submit_expense", {"amount": amount, "currency": "USD", "category": category, "expense_date": "2026-11-26",
                                          "merchant": "Inn"}, company.requester)
    assert str(refused.value) == says


def _claim(container: Container, actor: int, **overrides: str) -> dict:
    args = {"amount": "60", "currency": "USD", "category": "meals", "expense_date": "2026-11-26", "merchant": "Brasserie",
            "receipt_path": uploaded_receipt(container)} | overrides
    return run(container, "submit_expense", args, actor)


def _check(container: Container, claim: dict, approver: int) -> str | None:
    pending = run(container, "list_pending_approvals", {}, approver)["approvals"]
    return next(row for row in pending if row["approval_id"] == claim["approval_id"])["facts"].get("check")


def test_a_receipt_already_on_a_live_claim_is_pointed_out_to_the_approver(container: Container) -> None:
    company = make_company(container)
    first = _claim(container, company.requester)
    assert _check(container, first, company.manager) is None
    again = _claim(container, company.requester, amount="61", merchant="Brasserie Lipp")  # other details, same file
    assert _check(container, again, company.manager) == f"Same receipt file as claim #{first['claim_id']} (the requester's, pending approval)"
    colleague = _claim(container, company.colleague, amount="30", merchant="Lipp")
    check = _check(container, colleague, company.manager)
    assert check is not None and check.startswith(f"Same receipt file as claim #{first['claim_id']} (another employee's")
    assert "requester's" not in check  # the colleague's approver learns there is a twin, not whose


def test_a_receipt_on_a_declined_claim_may_be_used_again(container: Container) -> None:
    company = make_company(container)
    first = _claim(container, company.requester)
    run(container, "decide_approval", {"approval_id": first["approval_id"], "decision": "deny", "reason": "wrong category"}, company.manager)
    again = _claim(container, company.requester, category="travel")
    assert _check(container, again, company.manager) is None


def test_the_same_details_twice_are_pointed_out_even_without_a_receipt(container: Container) -> None:
    company = make_company(container)
    first = run(container, "submit_expense", {"amount": "20", "currency": "USD", "category": "meals", "expense_date": "2026-11-26",
                                              "merchant": "Deli"}, company.requester)
    again = run(container, "submit_expense", {"amount": "20.00", "currency": "usd", "category": "meals", "expense_date": "2026-11-26",
                                              "merchant": " deli "}, company.requester)
    assert _check(container, again, company.manager) == (f"Same amount, date and merchant as the requester's claim "
                                                         f"#{first['claim_id']} (pending approval)")


def test_a_claim_over_the_limit_in_another_currency_says_what_it_comes_to(container: Container) -> None:
    company = make_company(container)
    with pytest.raises(ToolError) as refused:
        _claim(container, company.requester, amount="150", currency="EUR")
    assert str(refused.value).startswith("150.00 EUR (= 162.00 USD) is over the Meals limit of")
