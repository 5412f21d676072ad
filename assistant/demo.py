"""The demo company and a scripted walk through a request, its approval and the resulting balance."""

from __future__ import annotations

import csv
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from assistant.container import Container
from assistant.errors import AssistantError, AssistantErrorCode
from assistant.operations import actor_id_for, import_people_file
from tools.db import transaction
from tools.leave.models import CompanyHoliday
from tools.people.models import Employee
from tools.people.service import get_employee_by_email
from tools.leave.service import find_overlapping_request

from assistant.dialogue.reply import Reply

EMPLOYEE = "priya.nair@harborpine.example"
MANAGER = "daniel.reyes@harborpine.example"


def sample_file(name: str) -> Path:
    """Return the path of a bundled sample file."""
    return Path(str(resources.files("assistant.sample").joinpath(name)))


def seed_sample_company(container: Container) -> None:
    """Load the demo company's people and holidays (idempotent), unless the data folder holds another company's
    directory: the sample people would become approvers of real requests and its policies replace real ones."""
    sample = sample_file("people.csv")
    theirs = _own_data(container, sample)
    if theirs:
        raise AssistantError(AssistantErrorCode.NOT_CONFIGURED,
                             f"This data folder already holds your own {theirs}; the demo would mix its sample company "
                             "(people, policies, holidays) into it. Run it with a data folder of its own and no "
                             "DATABASE_URL: BACKOFFICE_HOME=./demo-data backoffice demo")
    import_people_file(container, sample)
    holidays = tomllib.loads(sample_file("company.toml").read_text(encoding="utf-8"))["holidays"]
    with transaction(container.session_factory) as session:
        existing = set(session.scalars(select(CompanyHoliday.day)))
        for raw in holidays:
            day = date.fromisoformat(raw["day"])
            if day not in existing:
                session.add(CompanyHoliday(day=day, name=raw["name"], country=None))


def _own_data(container: Container, sample: Path) -> str:
    """Say what in the database or the knowledge base is not the demo's own (people, policies, holidays); "" if nothing."""
    known = {row["email"].strip().lower() for row in csv.DictReader(sample.read_text(encoding="utf-8").splitlines())}
    sample_days = {date.fromisoformat(raw["day"]) for raw in
                   tomllib.loads(sample_file("company.toml").read_text(encoding="utf-8"))["holidays"]}
    with transaction(container.session_factory) as session:
        people = [email for email in session.scalars(select(Employee.email)) if email.lower() not in known]
        days = [day for day in session.scalars(select(CompanyHoliday.day)) if day not in sample_days]
    if people:
        return f"directory ({len(people)} people not in the sample company, e.g. {people[0]})"
    documents = [record.doc_id for record in container.knowledge.base.list_documents() if record.added_by != "demo"]
    if documents:
        return f"policy documents ({len(documents)} not added by the demo, e.g. {documents[0]})"
    if days:
        return f"company holidays ({len(days)} not in the sample calendar, e.g. {days[0]})"
    return ""


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


@dataclass(frozen=True)
class DemoLine:
    """One exchange of the scripted demo conversation."""

    speaker: str
    said: str
    reply: str


def scripted_conversation(container: Container, today: date) -> list[DemoLine]:
    """Run the demo story as a conversation with the offline engine, and the manager's approval."""
    start, end = _free_week(container, today)
    key = f"demo:{uuid.uuid4().hex[:8]}"
    engine = container.offline_engine
    employee = actor_id_for(container, EMPLOYEE)
    lines: list[DemoLine] = []

    def say(text: str, *, who: str = EMPLOYEE) -> Reply:
        actor = employee if who == EMPLOYEE else actor_id_for(container, who)
        reply = engine.handle(key=f"{key}:{who}", actor_id=actor, text=text)
        lines.append(DemoLine(who, text, reply.text))
        return reply

    say("hi, what can you do?")
    say("how many vacation days do I have left?")
    say(f"I need some time off from {start:%b} {start.day} to {end:%b} {end.day}")
    submitted = say("yes")
    approval_id = submitted.data.get("approval_id")
    if approval_id is not None:  # the manager decides in his own conversation (in Slack: a card with buttons)
        say(f"approve {approval_id}", who=MANAGER)
        say("yes", who=MANAGER)
    say("what's the status of my leave request?")
    say("what's the policy on carrying over unused vacation days?")
    say("what's the weather like in Lisbon?")
    return lines
