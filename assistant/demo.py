"""The demo company and a scripted walk through a request, its approval and the resulting balance."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from assistant.container import Container
from assistant.operations import import_people_file, run_as
from tools.db import transaction
from tools.leave.models import CompanyHoliday
from tools.people.service import get_employee_by_email
from tools.leave.service import find_overlapping_request
from tools.pipeline import ToolResult

EMPLOYEE = "priya.nair@harborpine.example"
MANAGER = "daniel.reyes@harborpine.example"


@dataclass(frozen=True)
class DemoStep:
    """One step of the walk-through: who did what, and what came back."""

    actor: str
    action: str
    result: ToolResult


def sample_file(name: str) -> Path:
    """Return the path of a bundled sample file."""
    return Path(str(resources.files("assistant.sample").joinpath(name)))


def seed_sample_company(container: Container) -> None:
    """Load the demo company's people and holidays (idempotent)."""
    import_people_file(container, sample_file("people.csv"))
    holidays = tomllib.loads(sample_file("company.toml").read_text(encoding="utf-8"))["holidays"]
    with transaction(container.session_factory) as session:
        existing = set(session.scalars(select(CompanyHoliday.day)))
        for raw in holidays:
            day = date.fromisoformat(raw["day"])
            if day not in existing:
                session.add(CompanyHoliday(day=day, name=raw["name"], country=None))


def load_sample_policies(container: Container) -> int:
    """Index the demo company's policy documents (unchanged files are skipped); return how many failed."""
    report = container.knowledge.base.add_paths([sample_file("policies")], added_by="demo")
    return sum(1 for item in report.files if item.reason)


def _free_week(container: Container, today: date) -> tuple[date, date]:
    """Return the first Monday-to-Friday at least two weeks out with no leave booked yet."""
    start = today + timedelta(days=14 + (7 - today.weekday()) % 7)
    with transaction(container.session_factory) as session:
        employee = get_employee_by_email(session, email=EMPLOYEE)
        while find_overlapping_request(session, employee=employee, start=start, end=start + timedelta(days=4)):
            start += timedelta(days=7)
    return start, start + timedelta(days=4)


def walk_through(container: Container, today: date) -> list[DemoStep]:
    """Run the scripted request -> approval -> balance story through the real pipeline."""
    start, end = _free_week(container, today)
    steps = [DemoStep(EMPLOYEE, "checks her leave balance", run_as(container, EMPLOYEE, "get_leave_balance", {}))]
    request = run_as(container, EMPLOYEE, "request_leave", {"start_date": start.isoformat(), "end_date": end.isoformat()})
    steps.append(DemoStep(EMPLOYEE, f"asks for {start} to {end} off", request))
    steps.append(DemoStep(MANAGER, "opens his approval queue", run_as(container, MANAGER, "list_pending_approvals", {})))
    decision = {"approval_id": request.data["approval_id"], "decision": "approve"}
    steps.append(DemoStep(MANAGER, "approves the request", run_as(container, MANAGER, "decide_approval", decision)))
    steps.append(DemoStep(EMPLOYEE, "checks her balance again", run_as(container, EMPLOYEE, "get_leave_balance", {})))
    question = {"query": "How many unused vacation days can I carry over into next year?"}
    steps.append(DemoStep(EMPLOYEE, "asks a policy question", run_as(container, EMPLOYEE, "search_policies", question)))
    return steps
