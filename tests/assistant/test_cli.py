"""The `backoffice` command against the DESIGN.md contract: JSON keys, exit codes, refusals on stderr.

Every test drives the real typer app in-process on its own database (SQLite, or PostgreSQL with
BACKOFFICE_TEST_DB=postgres); one test runs the installed console script as a separate process.
The CLI uses the real clock, so leave dates are weekdays a few weeks ahead and expense dates a few days back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app

CONSOLE_SCRIPT = Path(sys.executable).parent / "backoffice"

CEO = "cora.chief@acme.example"
MANAGER = "mark.manager@acme.example"
EMPLOYEE = "erin.employee@acme.example"
COLLEAGUE = "carl.colleague@acme.example"
FINANCE = "fay.finance@acme.example"
IT = "ivan.it@acme.example"
HR = "hana.hr@acme.example"

PEOPLE_HEADER = "email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days"
# Erin comes before her manager on purpose: managers may be defined later in the same file.
PEOPLE_ROWS = [
    f"{EMPLOYEE},Erin Employee,U0TEST003,{MANAGER},Engineering,employee,US,2021-03-01,20",
    f"{CEO},Cora Chief,U0TEST001,,Leadership,manager;admin,US,2018-01-02,30",
    f"{MANAGER},Mark Manager,U0TEST002,{CEO},Engineering,manager,US,2019-02-01,25",
    f"{COLLEAGUE},Carl Colleague,,{MANAGER},Engineering,,US,2022-04-01,",
    f"{FINANCE},Fay Finance,U0TEST005,{CEO},Finance,finance,US,2020-05-01,25",
    f"{IT},Ivan It,U0TEST006,{CEO},IT,it,US,2020-06-01,25",
    f"{HR},Hana Hr,U0TEST007,{CEO},People,hr,US,2020-07-01,25",
]
BALANCE_KEYS = {"leave_type", "allowance", "taken", "reserved", "available"}
APPROVAL_KEYS = {"approval_id", "kind", "requester", "approver", "status"}


def write_people_csv(folder: Path, rows: Sequence[str] = PEOPLE_ROWS, name: str = "people.csv") -> Path:
    """Write a people CSV with the contract's columns and return its path."""
    path = folder / name
    path.write_text("\n".join([PEOPLE_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def free_mondays(count: int, *, weeks_ahead: int = 3) -> list[date]:
    """Return Mondays at least `weeks_ahead` weeks out whose Monday-Friday holds no US public holiday."""
    today = date.today()
    monday = today + timedelta(days=7 * weeks_ahead - today.weekday())
    calendar = holidays.country_holidays("US", years=range(today.year, today.year + 3))
    found: list[date] = []
    while len(found) < count:
        week = [monday + timedelta(days=offset) for offset in range(5)]
        if week[0].year == week[-1].year and not any(day in calendar for day in week):
            found.append(monday)
        monday += timedelta(weeks=1)
    return found


def flat(text: str) -> str:
    """Collapse whitespace so assertions do not depend on the console's line wrapping."""
    return " ".join(text.split())


@dataclass
class Cli:
    """Runs `backoffice` in-process against one test's home folder and database."""

    home: Path
    env: dict[str, str | None]

    def run(self, *args: object, input: str | None = None) -> Result:
        """Invoke the command and return the raw result."""
        return CliRunner().invoke(app, [str(arg) for arg in args], env=self.env, input=input)

    def ok(self, *args: object, input: str | None = None) -> Result:
        """Invoke the command and insist that it succeeded."""
        result = self.run(*args, input=input)
        command = " ".join(map(str, args))
        assert result.exit_code == 0, f"backoffice {command} exited {result.exit_code}: {result.stderr}{result.exception!r}"
        return result

    def json(self, *args: object) -> Any:
        """Invoke the command with --json and return the parsed output."""
        return json.loads(self.ok(*args, "--json").stdout)

    def refused(self, *args: object) -> str:
        """Invoke a command that must be refused; return its stderr with whitespace collapsed."""
        result = self.run(*args)
        assert result.exit_code == 1, f"expected a refusal (exit 1), got {result.exit_code}: {result.stdout}{result.stderr}"
        assert result.stdout == ""
        assert "Something went wrong" not in result.stderr and "Traceback" not in result.stderr
        return flat(result.stderr)

    def setup_company(self) -> None:
        """Create the schema and catalog, then import the test company."""
        self.ok("init")
        self.ok("people", "import", write_people_csv(self.home))


def fail_on_boom(monkeypatch: pytest.MonkeyPatch, owner: type, method: str) -> None:
    """Make owner.method raise an unexpected error (a bug) when its text argument holds 'boom', and work otherwise."""
    real = getattr(owner, method)

    def failing(self: Any, text: str, **options: Any) -> Any:
        if "boom" in text:
            raise RuntimeError("a bug")
        return real(self, text, **options)

    monkeypatch.setattr(owner, method, failing)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Return a CLI bound to this test's database, with the test folder as BACKOFFICE_HOME."""
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the settings
    env: dict[str, str | None] = {
        "BACKOFFICE_HOME": str(tmp_path), "DATABASE_URL": database_url,
        "BACKOFFICE_POLICY_FILE": None, "BACKOFFICE_TIMEZONE": None, "BACKOFFICE_CATALOG_FILE": None,
    }
    return Cli(home=tmp_path, env=env)


@pytest.fixture
def company(cli: Cli) -> Cli:
    """Return the CLI after `init` and the test company's import."""
    cli.setup_company()
    return cli


def request_leave(cli: Cli, email: str, start: date, end: date, *extra: object) -> dict[str, Any]:
    """Request leave through the CLI and return its JSON."""
    return cli.json("leave", "request", "--as", email, "--start", start.isoformat(), "--end", end.isoformat(), *extra)


def balance(cli: Cli, email: str, year: int, leave_type: str = "annual") -> dict[str, Any]:
    """Return one leave type's balance row for the year."""
    rows = cli.json("leave", "balance", "--as", email, "--year", year)
    return next(row for row in rows if row["leave_type"] == leave_type)


# --- init and the people directory -------------------------------------------------------------


CATALOG = """
[[leave_types]]
code = "parental"
name = "Parental leave"
yearly_allowance = "80"
requires_approval = true

[[leave_types]]
code = "bereavement"
name = "Bereavement leave"
yearly_allowance = "5"
requires_approval = true

[[expense_categories]]
code = "meals"
name = "Meals"
per_claim_limit = "60.00"
receipt_required_over = "20.00"

[[holidays]]
day = "2027-03-03"
name = "Founders' day"
"""


def test_a_companys_catalog_file_sets_its_leave_types_limits_and_holidays(company: Cli) -> None:
    catalog = company.home / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    company.env["BACKOFFICE_CATALOG_FILE"] = str(catalog)
    applied = company.json("init")
    assert applied["created"] == ["leave_type:bereavement", "holiday:2027-03-03"]
    assert applied["changed"] == ["leave_type:parental yearly_allowance -> 80", "expense_category:meals per_claim_limit -> 60.00",
                                  "expense_category:meals receipt_required_over -> 20.00"]
    assert company.json("init") == {**applied, "created": [], "changed": []}  # applied once
    types = {row["leave_type"]: row for row in company.json("leave", "balance", "--as", EMPLOYEE)}
    assert types["bereavement"]["allowance"] == 5
    booked = company.json("leave", "request", "--as", EMPLOYEE, "--start", "2027-03-01", "--end", "2027-03-05")
    assert booked["working_days"] == 4  # the company's own holiday is no working day
    assert "over the Meals limit of 60.00 USD" in company.refused(
        "expenses", "submit", "--as", EMPLOYEE, "--amount", "75", "--currency", "USD", "--category", "meals",
        "--date", date.today().isoformat(), "--merchant", "Cafe Uno")
    catalog.write_text(CATALOG.replace('"5"', '"lots"').replace("[[holidays]]", "[[holiday]]"), encoding="utf-8")
    refused = company.refused("init")
    assert "yearly_allowance 'lots' is not a number" in refused and "unknown section [holiday]" in refused
    assert {row["leave_type"]: row for row in company.json("leave", "balance", "--as", EMPLOYEE)}["bereavement"]["allowance"] == 5


def test_init_is_idempotent(cli: Cli) -> None:
    first = cli.json("init")
    assert "leave_type:annual" in first["created"] and "expense_category:meals" in first["created"]
    second = cli.json("init")
    assert second["created"] == []
    assert second["database"] == first["database"]
    assert "Database ready" in cli.ok("init").stdout


def test_init_defaults_to_a_sqlite_file_in_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "fresh-home"
    result = CliRunner().invoke(app, ["init", "--json"], env={"BACKOFFICE_HOME": str(home), "DATABASE_URL": None})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["database"].startswith("sqlite:///")
    assert (home / "backoffice.db").is_file()


def test_people_import_list_and_reimport(cli: Cli) -> None:
    cli.ok("init")
    path = write_people_csv(cli.home)
    assert cli.json("people", "import", path) == {"created": 7, "updated": 0, "unchanged": 0, "allowances_changed": 0, "approvals_rerouted": [],
                                                     "approvals_waiting": [], "requests_withdrawn": [], "warnings": []}
    people = {row["email"]: row for row in cli.json("people", "list")}
    assert set(people) == {CEO, MANAGER, EMPLOYEE, COLLEAGUE, FINANCE, IT, HR}
    erin = people[EMPLOYEE]
    assert erin["name"] == "Erin Employee"
    assert erin["manager_email"] == MANAGER
    assert erin["slack_user_id"] == "U0TEST003"
    assert erin["annual_leave_days"] == 20
    assert erin["start_date"] == "2021-03-01"
    assert people[CEO]["roles"] == ["admin", "employee", "manager"]
    assert people[COLLEAGUE]["roles"] == ["employee"] and people[COLLEAGUE]["annual_leave_days"] is None

    assert cli.json("people", "import", path) == {"created": 0, "updated": 0, "unchanged": 7, "allowances_changed": 0, "approvals_rerouted": [],
                                                     "approvals_waiting": [], "requests_withdrawn": [], "warnings": []}
    moved = [row.replace(",Engineering,employee,", ",Platform,employee,") for row in PEOPLE_ROWS]
    changed = write_people_csv(cli.home, moved, name="people-v2.csv")
    assert "1 updated" in flat(cli.ok("people", "import", changed).stdout)
    people = {row["email"]: row for row in cli.json("people", "list")}
    assert people[EMPLOYEE]["department"] == "Platform"
    assert len(people) == 7
    assert "People" in cli.ok("people", "list").stdout


def test_people_list_piped_shows_whole_emails_and_plain_roles(company: Cli) -> None:
    listing = company.ok("people", "list").stdout
    assert CEO in listing and "admin, employee, manager" in listing and "['" not in listing


def test_bad_csv_names_the_rows_and_imports_nothing(cli: Cli) -> None:
    cli.ok("init")
    rows = [
        PEOPLE_ROWS[1],
        "not-an-email,Bad Email,,,Sales,employee,US,2020-01-01,25",
        f"wizard@acme.example,Wizard,,{CEO},Magic,sorcerer,US,2020-01-01,25",
        f"late@acme.example,Late Start,,{CEO},Sales,employee,US,someday,25",
    ]
    stderr = cli.refused("people", "import", write_people_csv(cli.home, rows, name="bad.csv"))
    assert "Nothing was imported" in stderr
    assert "line 3:" in stderr and "not-an-email" in stderr
    assert "line 4:" in stderr and "sorcerer" in stderr
    assert "line 5:" in stderr and "someday" in stderr
    assert "line 2:" not in stderr
    assert cli.json("people", "list") == []


def test_people_import_refuses_unknown_managers_missing_columns_and_missing_files(cli: Cli) -> None:
    cli.ok("init")
    orphan = write_people_csv(cli.home, ["solo@acme.example,Solo,,ghost@acme.example,Sales,employee,US,2020-01-01,25"], name="orphan.csv")
    assert "ghost@acme.example" in cli.refused("people", "import", orphan)
    short = cli.home / "short.csv"
    short.write_text("email,name\nx@acme.example,X\n", encoding="utf-8")
    assert "missing columns" in cli.refused("people", "import", short)
    assert "does not exist" in cli.refused("people", "import", cli.home / "nowhere.csv")
    assert cli.json("people", "list") == []


# --- leave and approvals ---------------------------------------------------------------------------


def test_leave_request_approval_and_balance(company: Cli) -> None:
    monday = free_mondays(1)[0]
    before = company.json("leave", "balance", "--as", EMPLOYEE, "--year", monday.year)
    assert {row["leave_type"] for row in before} >= {"annual", "sick", "parental", "unpaid"}
    assert all(BALANCE_KEYS <= set(row) for row in before)
    assert balance(company, EMPLOYEE, monday.year) == {"leave_type": "annual", "allowance": 20, "taken": 0, "reserved": 0, "available": 20}

    request = request_leave(company, EMPLOYEE, monday, monday + timedelta(days=1))
    assert request["status"] == "pending"
    assert request["working_days"] == 2
    assert isinstance(request["request_id"], int) and isinstance(request["approval_id"], int)
    assert balance(company, EMPLOYEE, monday.year) == {"leave_type": "annual", "allowance": 20, "taken": 0, "reserved": 2, "available": 18}

    queue = company.json("approvals", "list", "--as", MANAGER)
    assert len(queue) == 1 and APPROVAL_KEYS <= set(queue[0])
    assert {key: queue[0][key] for key in APPROVAL_KEYS} == {
        "approval_id": request["approval_id"], "kind": "leave", "requester": EMPLOYEE, "approver": MANAGER, "status": "pending",
    }
    assert company.json("approvals", "list", "--as", COLLEAGUE) == []
    assert "Waiting for you" in company.ok("approvals", "list", "--as", MANAGER).stdout

    decision = company.json("approvals", "approve", request["approval_id"], "--as", MANAGER)
    assert decision["approval_id"] == request["approval_id"] and decision["status"] == "approved"
    assert balance(company, EMPLOYEE, monday.year) == {"leave_type": "annual", "allowance": 20, "taken": 2, "reserved": 0, "available": 18}
    [listed] = company.json("leave", "list", "--as", EMPLOYEE)
    assert listed["request_id"] == request["request_id"] and listed["status"] == "approved"
    assert "Leave requests" in company.ok("leave", "list", "--as", EMPLOYEE).stdout
    assert company.json("approvals", "list", "--as", MANAGER) == []


def test_deny_with_reason_releases_the_days(company: Cli) -> None:
    monday = free_mondays(1)[0]
    request = request_leave(company, EMPLOYEE, monday, monday + timedelta(days=4))
    assert request["working_days"] == 5
    assert "A reason is required" in company.refused("approvals", "deny", request["approval_id"], "--as", MANAGER)
    decision = company.json("approvals", "deny", request["approval_id"], "--as", MANAGER, "--reason", "Release week")
    assert decision["approval_id"] == request["approval_id"] and decision["status"] == "rejected"
    assert decision["decided_by"] == MANAGER
    assert company.json("leave", "list", "--as", EMPLOYEE)[0]["status"] == "rejected"
    assert balance(company, EMPLOYEE, monday.year)["available"] == 20
    stderr = company.refused("approvals", "approve", request["approval_id"], "--as", MANAGER)
    assert "already rejected" in stderr


def test_leave_cancel_and_half_day(company: Cli) -> None:
    first, second = free_mondays(2)
    pending = request_leave(company, EMPLOYEE, first, first + timedelta(days=2))
    half = request_leave(company, EMPLOYEE, second, second, "--half-day", "am")
    assert half["working_days"] == 0.5 and half["half_day"] == "am"
    assert "cancelled" in company.ok("leave", "cancel", pending["request_id"], "--as", EMPLOYEE).stdout
    statuses = {row["request_id"]: row["status"] for row in company.json("leave", "list", "--as", EMPLOYEE)}
    assert statuses == {pending["request_id"]: "cancelled", half["request_id"]: "pending"}
    queue = company.json("approvals", "list", "--as", MANAGER)
    assert [row["approval_id"] for row in queue] == [half["approval_id"]]
    assert "already cancelled" in company.refused("leave", "cancel", pending["request_id"], "--as", EMPLOYEE)
    cancelled = company.json("leave", "cancel", half["request_id"], "--as", EMPLOYEE)
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_approvals"] == [half["approval_id"]]
    assert balance(company, EMPLOYEE, second.year)["reserved"] == 0


def test_leave_refusals(company: Cli) -> None:
    monday = free_mondays(1)[0]
    start, end = monday.isoformat(), (monday + timedelta(days=1)).isoformat()
    unknown = company.refused("leave", "request", "--as", "nobody@acme.example", "--start", start, "--end", end)
    assert "nobody@acme.example" in unknown
    backwards = company.refused("leave", "request", "--as", EMPLOYEE, "--start", end, "--end", start)
    assert "before the start date" in backwards
    past = (date.today() - timedelta(days=10)).isoformat()
    assert "in the past" in company.refused("leave", "request", "--as", EMPLOYEE, "--start", past, "--end", past)
    sabbatical = company.refused("leave", "request", "--as", EMPLOYEE, "--start", start, "--end", end, "--type", "sabbatical")
    assert "Unknown leave type" in sabbatical
    assert "nobody@acme.example" in company.refused("leave", "balance", "--as", "nobody@acme.example")
    assert company.json("leave", "list", "--as", EMPLOYEE) == []

    request = request_leave(company, EMPLOYEE, monday, monday + timedelta(days=1))
    assert "overlaps" in company.refused("leave", "request", "--as", EMPLOYEE, "--start", start, "--end", start)
    assert "own request" in company.refused("approvals", "approve", request["approval_id"], "--as", EMPLOYEE)
    assert "not waiting for your decision" in company.refused("approvals", "approve", request["approval_id"], "--as", COLLEAGUE)
    assert "No approval #999" in company.refused("approvals", "approve", 999, "--as", MANAGER)
    assert company.refused("leave", "cancel", request["request_id"], "--as", COLLEAGUE)
    assert company.json("approvals", "list", "--as", MANAGER)[0]["status"] == "pending"


def test_refusals_read_as_sentences_not_validator_output(company: Cli) -> None:
    request = request_leave(company, EMPLOYEE, *[free_mondays(1)[0]] * 2)
    assert company.refused("approvals", "deny", request["approval_id"], "--as", MANAGER) == \
        "Error: Invalid input: A reason is required when denying."
    slashed = company.refused("leave", "request", "--as", EMPLOYEE, "--start", "12/14/2026", "--end", "2026-12-15")
    assert "start_date: '12/14/2026' is not a date (write it as YYYY-MM-DD)" in slashed
    far = company.refused("leave", "request", "--as", EMPLOYEE, "--start", "9999-12-30", "--end", "9999-12-31")
    assert f"until the end of {date.today().year + 2} at the latest" in far


def test_commands_before_init_say_to_run_init_and_create_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "never-initialised"
    cli = Cli(home=home, env={"BACKOFFICE_HOME": str(home), "DATABASE_URL": None, "BACKOFFICE_POLICY_FILE": None})
    for command in (("people", "list"), ("leave", "balance", "--as", EMPLOYEE), ("audit",)):
        assert "run `backoffice init` first" in cli.refused(*command)
    assert not (home / "backoffice.db").exists()


def test_usage_errors_exit_non_zero(company: Cli) -> None:
    missing_as = company.run("leave", "balance")
    assert missing_as.exit_code == 2 and "--as" in missing_as.stderr
    bad_id = company.run("approvals", "approve", "abc", "--as", MANAGER)
    assert bad_id.exit_code == 2 and bad_id.stderr


# --- expenses ------------------------------------------------------------------------------------


def test_expense_submit_with_receipt_and_approval(company: Cli) -> None:
    spent = (date.today() - timedelta(days=3)).isoformat()
    receipt = company.home / "lunch.pdf"
    receipt.write_bytes(b"%PDF-1.4 lunch receipt\n")
    submit = ("expenses", "submit", "--as", EMPLOYEE, "--amount", "42.50", "--currency", "USD", "--category", "meals",
              "--date", spent, "--merchant", "Cafe Uno")
    assert "receipt is required" in company.refused(*submit)
    assert company.json("expenses", "list", "--as", EMPLOYEE) == []

    claim = company.json(*submit, "--receipt", receipt)
    assert claim["status"] == "pending_approval"
    assert isinstance(claim["claim_id"], int) and isinstance(claim["approval_id"], int)
    stored = company.home / claim["receipt"]
    assert claim["receipt"].startswith("uploads/") and stored.read_bytes() == receipt.read_bytes()

    queue = company.json("approvals", "list", "--as", MANAGER)
    assert [(row["approval_id"], row["kind"], row["requester"]) for row in queue] == [(claim["approval_id"], "expense", EMPLOYEE)]
    assert company.json("approvals", "approve", claim["approval_id"], "--as", MANAGER)["status"] == "approved"
    [listed] = company.json("expenses", "list", "--as", EMPLOYEE)
    assert listed["claim_id"] == claim["claim_id"] and listed["status"] == "approved" and listed["amount"] == "42.50"
    assert "Expense claims" in company.ok("expenses", "list", "--as", EMPLOYEE).stdout


def test_refused_claim_leaves_no_receipt_behind(company: Cli) -> None:
    receipt = company.home / "dinner.pdf"
    receipt.write_bytes(b"%PDF-1.4 dinner receipt\n")
    over_limit = company.refused("expenses", "submit", "--as", EMPLOYEE, "--amount", "900", "--currency", "USD", "--category", "meals",
                                 "--date", (date.today() - timedelta(days=1)).isoformat(), "--merchant", "Steakhouse", "--receipt", receipt)
    assert "limit" in over_limit
    uploads = company.home / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_large_expense_needs_manager_then_finance(company: Cli) -> None:
    spent = (date.today() - timedelta(days=3)).isoformat()
    receipt = company.home / "flight.png"
    receipt.write_bytes(b"\x89PNG\r\n\x1a\n flight")
    claim = company.json("expenses", "submit", "--as", EMPLOYEE, "--amount", "800", "--currency", "USD", "--category", "travel",
                         "--date", spent, "--merchant", "Air Test", "--receipt", receipt)
    first = company.json("approvals", "approve", claim["approval_id"], "--as", MANAGER)
    assert first["approval_id"] == claim["approval_id"] and first["status"] == "pending"
    assert company.json("approvals", "list", "--as", MANAGER) == []
    [waiting] = company.json("approvals", "list", "--as", FINANCE)
    assert waiting["approver"] == FINANCE and waiting["approval_id"] == claim["approval_id"]
    assert company.json("approvals", "approve", claim["approval_id"], "--as", FINANCE)["status"] == "approved"
    assert company.json("expenses", "list", "--as", EMPLOYEE)[0]["status"] == "approved"


def test_expense_refusals(company: Cli) -> None:
    spent = (date.today() - timedelta(days=3)).isoformat()
    base = ["expenses", "submit", "--as", EMPLOYEE, "--currency", "USD", "--category", "meals", "--date", spent, "--merchant", "Cafe Uno"]
    receipt = company.home / "r.jpg"
    receipt.write_bytes(b"\xff\xd8\xff jpeg")
    assert "over the Meals limit" in company.refused(*base, "--amount", "400", "--receipt", receipt)
    renamed = company.home / "notes.pdf"
    renamed.write_text("lunch with the team, about 40 dollars", encoding="utf-8")  # a text file named .pdf is no receipt
    assert "notes.pdf is not a PDF file inside" in company.refused(*base, "--amount", "40", "--receipt", renamed)
    photo = company.home / "photo.jpg"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n a photo")
    assert "it is a PNG file, so name it photo.png" in company.refused(*base, "--amount", "40", "--receipt", photo)
    (company.home / "empty.pdf").write_bytes(b"")
    assert "empty.pdf is empty" in company.refused(*base, "--amount", "40", "--receipt", company.home / "empty.pdf")
    assert "is a folder" in company.refused(*base, "--amount", "40", "--receipt", company.home)
    assert "not an amount" in company.refused(*base, "--amount", "lots")
    future = (date.today() + timedelta(days=5)).isoformat()
    assert "in the future" in company.refused(*base[:-4], "--date", future, "--merchant", "Cafe Uno", "--amount", "10")
    text_receipt = company.home / "receipt.txt"
    text_receipt.write_text("not an image", encoding="utf-8")
    assert "Receipts must be one of" in company.refused(*base, "--amount", "40", "--receipt", text_receipt)
    assert "does not exist" in company.refused(*base, "--amount", "40", "--receipt", company.home / "gone.pdf")
    claim = company.json(*base, "--amount", "12")  # under the receipt threshold
    assert "Denied" in company.ok("approvals", "deny", claim["approval_id"], "--as", MANAGER, "--reason", "Personal").stdout
    assert company.json("expenses", "list", "--as", EMPLOYEE)[0]["status"] == "rejected"


# --- tickets ---------------------------------------------------------------------------------------


def test_tickets_create_list_show_comment(company: Cli) -> None:
    ticket = company.json("tickets", "create", "--as", EMPLOYEE, "--summary", "Laptop fan is loud", "--category", "Hardware",
                          "--priority", "HIGH")  # a choice's case carries no meaning
    assert isinstance(ticket["ticket_id"], int) and ticket["status"] == "new"
    [listed] = company.json("tickets", "list", "--as", EMPLOYEE)
    assert listed["ticket_id"] == ticket["ticket_id"] and listed["category"] == "hardware" and listed["priority"] == "high"
    assert company.json("tickets", "list", "--as", COLLEAGUE) == []

    comment = company.json("tickets", "comment", ticket["ticket_id"], "Swapping it tomorrow", "--as", IT)
    assert comment["ticket_id"] == ticket["ticket_id"]
    company.ok("tickets", "comment", ticket["ticket_id"], "Thanks!", "--as", EMPLOYEE)
    shown = company.json("tickets", "show", ticket["ticket_id"], "--as", EMPLOYEE)
    assert shown["summary"] == "Laptop fan is loud"
    assert [(c["author"], c["body"]) for c in shown["comments"]] == [(IT, "Swapping it tomorrow"), (EMPLOYEE, "Thanks!")]
    human = company.ok("tickets", "show", ticket["ticket_id"], "--as", EMPLOYEE).stdout
    assert "Swapping it tomorrow" in human and IT in human
    assert "Summary: Laptop fan is loud" in human and "Priority: high" in human and "SLA due:" in human
    assert f"Requester: {EMPLOYEE}" in human

    assert company.refused("tickets", "show", ticket["ticket_id"], "--as", COLLEAGUE)
    assert company.refused("tickets", "comment", ticket["ticket_id"], "Me too", "--as", COLLEAGUE)
    assert company.refused("tickets", "create", "--as", EMPLOYEE, "--summary", "x", "--priority", "whenever")
    assert len(company.json("tickets", "list", "--as", EMPLOYEE)) == 1


def test_it_works_the_ticket_queue_from_the_command_line(company: Cli) -> None:
    ticket = company.json("tickets", "create", "--as", EMPLOYEE, "--summary", "Monitor flickers")["ticket_id"]
    [queued] = company.json("tickets", "queue", "--as", IT)
    assert (queued["ticket_id"], queued["requester"], queued["overdue"]) == (ticket, EMPLOYEE, False)
    assert "Monitor flickers" in company.ok("tickets", "queue", "--as", IT).stdout
    assert "sees the it ticket queue" in company.refused("tickets", "queue", "--as", EMPLOYEE)
    taken = company.json("tickets", "update", ticket, "--as", IT, "--take", "--status", "resolved", "--note", "New cable.")
    assert taken["status"] == "resolved" and taken["changes"]["assignee"] == IT
    assert company.json("tickets", "queue", "--as", IT) == []
    assert company.json("tickets", "show", ticket, "--as", EMPLOYEE)["comments"][-1]["body"] == "New cable."
    assert "Only IT works ticket" in company.refused("tickets", "update", ticket, "--as", EMPLOYEE, "--status", "open")


# --- audit and demo --------------------------------------------------------------------------------


def test_audit_records_every_write_newest_first(company: Cli) -> None:
    monday = free_mondays(1)[0]
    request = request_leave(company, EMPLOYEE, monday, monday)
    company.ok("approvals", "approve", request["approval_id"], "--as", MANAGER)
    company.ok("tickets", "create", "--as", EMPLOYEE, "--summary", "VPN drops")
    trail = company.json("audit")
    ids = [row["id"] for row in trail]
    assert ids == sorted(ids, reverse=True)
    assert {"id", "at", "actor", "action", "subject", "details"} <= set(trail[0])
    actions = [(row["actor"], row["action"]) for row in trail]
    assert actions[0] == (EMPLOYEE, "create_ticket")
    assert (MANAGER, "decide_approval") in actions and (EMPLOYEE, "request_leave.executed") in actions
    assert (EMPLOYEE, "request_leave") in actions
    assert sum(1 for _, action in actions if action == "people.created") == 7
    assert len(company.json("audit", "--limit", 2)) == 2
    assert "Audit trail" in company.ok("audit").stdout


def test_demo_runs_twice_in_the_same_home(cli: Cli) -> None:
    first = cli.ok("demo", input="")
    assert "demo company and policies loaded" in first.stdout and "Shall I submit it?" in first.stdout
    assert "Approved" in first.stdout and "Your turn" in first.stdout
    lines = json.loads(cli.ok("demo", "--json", input="").stdout)
    said = [line["said"] for line in lines]
    assert said[3] == "yes" and said[4].startswith("approve ") and said[5] == "yes"  # the manager decides in his chat
    assert lines[4]["speaker"] == "daniel.reyes@harborpine.example" and lines[5]["reply"].startswith("Approved")
    assert "carry" in lines[-2]["reply"].lower() or "5" in lines[-2]["reply"]  # answered from the sample policies
    booked = cli.json("leave", "list", "--as", "priya.nair@harborpine.example")
    # The second run books the next free week instead of colliding with the first.
    assert [row["status"] for row in booked] == ["approved", "approved"]
    assert len({row["start_date"] for row in booked}) == 2
    people = cli.json("people", "list")
    assert len(people) == len({row["email"] for row in people}) > 1  # the sample company was imported once


def test_demo_refuses_a_database_that_holds_a_real_directory(company: Cli) -> None:
    before = company.json("people", "list")
    message = company.refused("demo")
    assert "already holds your own directory" in message and "BACKOFFICE_HOME=./demo-data backoffice demo" in message
    assert company.json("people", "list") == before  # no sample person was added


def test_demo_refuses_a_data_folder_with_its_own_policies_even_before_any_people(cli: Cli) -> None:
    cli.ok("init")
    docs = cli.home / "docs"
    docs.mkdir()
    (docs / "time-off.md").write_text("# Time Off\n\nWe get 30 days of annual leave a year.\n", encoding="utf-8")
    cli.ok("kb", "add", str(docs))
    assert "already holds your own policy documents (1 not added by the demo, e.g. time-off)" in cli.refused("demo")
    assert [row["source"] for row in cli.json("kb", "list")] == [str(docs / "time-off.md")]  # not replaced
    assert cli.json("people", "list") == []


def test_demo_converses_over_piped_lines(cli: Cli) -> None:
    result = cli.ok("demo", "--json", input="how many vacation days do I have left?\nwhat's the weather in Oslo?\n")
    replies = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["intent"] for r in replies] == ["leave_balance", "out_of_scope"]
    assert "days available" in replies[0]["reply"]


# --- the installed console script ------------------------------------------------------------------


def test_console_script_entry_point(database_url: str, tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing; run `pip install -e .`"
    env = {key: value for key, value in os.environ.items() if key not in {"FORCE_COLOR", "DATABASE_URL", "BACKOFFICE_POLICY_FILE"}}
    env.update(BACKOFFICE_HOME=str(tmp_path), DATABASE_URL=database_url)

    def backoffice(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CONSOLE_SCRIPT), *map(str, args)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert backoffice("init").returncode == 0
    imported = backoffice("people", "import", write_people_csv(tmp_path), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 7
    monday = free_mondays(1)[0]
    requested = backoffice("leave", "request", "--as", EMPLOYEE, "--start", monday, "--end", monday + timedelta(days=1), "--json")
    assert requested.returncode == 0, requested.stderr
    data = json.loads(requested.stdout)
    assert data["status"] == "pending" and data["working_days"] == 2 and {"request_id", "approval_id"} <= set(data)
    refused = backoffice("leave", "balance", "--as", "nobody@acme.example", "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "nobody@acme.example" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # not hard-wrapped at the console width
