"""A company's catalog file: checked whole, applied on top of the defaults, allowances reaching every allocation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.container import Container
from tests.builders import make_company, run
from tools.catalog import create_default_catalog, read_catalog
from tools.db import transaction
from tools.errors import ToolError
from tools.leave.models import CompanyHoliday, LeaveType

SICK_FIVE = '[[leave_types]]\ncode = "sick"\nname = "Sick leave"\nyearly_allowance = "5"\nrequires_approval = true\n'


def apply(container: Container, tmp_path: Path, text: str):
    path = tmp_path / f"catalog-{len(list(tmp_path.glob('catalog-*')))}.toml"
    path.write_text(text, encoding="utf-8")
    with transaction(container.session_factory) as session:
        return create_default_catalog(session, catalog_file=path, today=date(2026, 11, 27))


def sick_allowance(container: Container, person: int, year: int) -> float:
    rows = run(container, "get_leave_balance", {"year": year}, person)["balances"]
    return next(row["allowance"] for row in rows if row["leave_type"] == "sick")


def test_a_changed_allowance_reaches_everyone_whether_or_not_they_looked(container: Container, tmp_path: Path) -> None:
    company = make_company(container)
    assert sick_allowance(container, company.requester, 2027) == 10  # a look creates the allocation
    apply(container, tmp_path, SICK_FIVE)
    assert sick_allowance(container, company.requester, 2027) == 5 == sick_allowance(container, company.colleague, 2027)
    run(container, "request_leave", {"leave_type": "sick", "start_date": "2027-01-04", "end_date": "2027-01-08"}, company.requester)
    with pytest.raises(ToolError, match="requester@example.com already has 5 days of sick leave"):
        apply(container, tmp_path, SICK_FIVE.replace('"5"', '"4"'))  # below what is booked: refused, nothing changes
    assert sick_allowance(container, company.requester, 2027) == 5


def test_a_catalog_file_adds_to_the_defaults_and_its_holidays_are_the_calendar(container: Container, tmp_path: Path) -> None:
    holidays = '[[holidays]]\nday = "2027-05-10"\nname = "Bridge day"\n'
    apply(container, tmp_path, holidays)
    with transaction(container.session_factory) as session:
        assert {"annual", "sick", "parental", "unpaid"} <= set(session.scalars(select(LeaveType.code)))  # still there
    changes = apply(container, tmp_path, holidays.replace('name = "Bridge day"', 'name = "Bridge day"\ncountry = "de"'))
    assert changes.changed == ["holiday:2027-05-10 removed"] and changes.created == ["holiday:2027-05-10 in DE"]
    with transaction(container.session_factory) as session:
        assert [(row.day, row.country) for row in session.scalars(select(CompanyHoliday))] == [(date(2027, 5, 10), "DE")]
    assert apply(container, tmp_path, holidays.replace('name = "Bridge day"', 'name = "Bridge day"\ncountry = "de"')).changed == []


@pytest.mark.parametrize(("text", "said"), [
    ('[[holidays]]\nday = 2027-12-24T09:00:00\nname = "Xmas eve"\n', "must be a date, YYYY-MM-DD, without a time"),
    ('leave_types = ["annual", "sick"]\n', "must be a [[leave_types]] table"),
    ('[[expense_categories]]\ncode = "phone"\nname = "Phone"\nper_claim_limit = "60.005"\n', "must be in steps of 0.01"),
    ('[[leave_types]]\ncode = "study"\nname = "Study"\nyearly_allowance = "2.3"\n', "in steps of half a day"),
    ('[[holidays]]\nday = "2027-05-10"\nname = "Bank holiday"\ncountry = "UK"\n', "GB, not UK"),
    ('[[leave_types]]\ncode = "x"\nname = ["Weird"]\n', "name is required (up to 100 characters)"),
    ('company_currency = "GBP"\n', "belong in the approval policy file"),
    ('[[expense_categories]]\ncode = "phone"\nname = "Phone"\n', "per_claim_limit is required."),
])
def test_a_bad_catalog_is_refused_with_its_problem_named(text: str, said: str) -> None:
    with pytest.raises(ToolError) as refused:
        read_catalog(text, source="catalog.toml")
    assert said in str(refused.value)
