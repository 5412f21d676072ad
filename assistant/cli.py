"""The `backoffice` command. The only module that prints."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli_common import AsEmail, JsonFlag, emit, emit_rows, open_container, out, refusals, run_tool, table
from assistant.cli_chat import chat, route
from assistant.cli_eval import eval_app
from assistant.cli_knowledge import kb_app
from assistant.cli_serve import serve

app = typer.Typer(help="backoffice-assistant: leave, expenses, IT tickets and approvals.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
people_app = typer.Typer(help="The people directory.", no_args_is_help=True)
approvals_app = typer.Typer(help="Approve or deny requests waiting for you.", no_args_is_help=True)
leave_app = typer.Typer(help="Time off.", no_args_is_help=True)
expenses_app = typer.Typer(help="Expense claims.", no_args_is_help=True)
tickets_app = typer.Typer(help="IT helpdesk tickets.", no_args_is_help=True)
for sub, name in ((people_app, "people"), (approvals_app, "approvals"), (leave_app, "leave"), (expenses_app, "expenses"), (tickets_app, "tickets")):
    app.add_typer(sub, name=name)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.command("route")(refusals(route))
app.command("chat")(chat)
app.command("serve")(refusals(serve))

@app.command()
@refusals
def init(as_json: JsonFlag = False) -> None:
    """Create or upgrade the database schema and the catalog (defaults, or BACKOFFICE_CATALOG_FILE); idempotent."""
    from assistant.container import initialize_database

    with open_container(needs_schema=False) as container:
        changes = initialize_database(container)
        url = container.engine.url.render_as_string(hide_password=True)
    emit({"database": url, "created": changes.created, "changed": changes.changed}, as_json,
         f"Database ready at {url}; catalog: {len(changes.created)} created, {len(changes.changed)} changed"
         + "".join(f"\n  {line}" for line in changes.changed))


@app.command()
@refusals
def demo(as_email: Annotated[str | None, typer.Option("--as", help="Chat as this employee.")] = None, as_json: JsonFlag = False) -> None:
    """Set up the sample company and its policies, then chat (stdin lines when not a terminal; a scripted story when empty)."""
    from assistant.cli_chat import converse, piped_lines
    from assistant.container import initialize_database
    from assistant.demo import EMPLOYEE, load_sample_policies, scripted_conversation, seed_sample_company

    with open_container(needs_schema=False) as container:
        initialize_database(container)
        seed_sample_company(container)
        if not as_json:
            out.print("[bold]Harbor & Pine demo company and policies loaded.[/bold] (indexing the policies takes a moment the first time)")
        if load_sample_policies(container):
            raise typer.Exit(1)
        if sys.stdin.isatty():
            converse(container, as_email or EMPLOYEE, as_json=as_json)
            return
        piped = piped_lines()
        if piped:
            converse(container, as_email or EMPLOYEE, as_json=as_json, lines=piped)
            return
        lines = scripted_conversation(container, date.today())
    if as_json:
        emit([line.__dict__ for line in lines], True)
        return
    for line in lines:
        out.print(f"\n[bold]{line.speaker}>[/bold] {line.said}", highlight=False)
        out.print("[bold green]assistant>[/bold green] ", end="")
        out.print(line.reply, markup=False, highlight=False)
    out.print(f"\nYour turn: backoffice chat --as {as_email or EMPLOYEE}")


@people_app.command("import")
@refusals
def people_import(file: Path, as_json: JsonFlag = False) -> None:
    """Import or update people from a CSV (upsert by email; the whole file or nothing)."""
    from assistant.operations import import_people_file

    with open_container() as container:
        report = import_people_file(container, file)
    data = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "allowances_changed": report.allowances_changed, "approvals_rerouted": list(report.approvals_rerouted),
            "approvals_waiting": list(report.approvals_waiting), "requests_withdrawn": list(report.requests_withdrawn),
            "warnings": list(report.warnings)}
    text = f"Imported {file}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged."
    if report.allowances_changed:
        text += f" People with a changed annual leave allowance: {report.allowances_changed}."
    if report.approvals_rerouted:
        text += f" Pending approvals re-routed: {len(report.approvals_rerouted)}:\n  " + "\n  ".join(report.approvals_rerouted)
    if report.approvals_waiting:
        text += (f"\nPending approval steps nobody can take (they wait until the directory changes): "
                 f"{len(report.approvals_waiting)}:\n  " + "\n  ".join(report.approvals_waiting))
    if report.requests_withdrawn:
        text += (f"\nWithdrawn, as their requester is no longer active: {len(report.requests_withdrawn)}:\n  "
                 + "\n  ".join(report.requests_withdrawn))
    if report.warnings:
        text += "\nWarnings:\n  " + "\n  ".join(report.warnings)
    emit(data, as_json, text)


@people_app.command("list")
@refusals
def people_list(as_json: JsonFlag = False) -> None:
    """List everyone in the directory."""
    from assistant.operations import people_rows

    with open_container() as container:
        rows = people_rows(container)
    emit_rows(rows, as_json, ["email", "name", "department", "roles", "manager_email", "country", "active"], "People")


@approvals_app.command("list")
@refusals
def approvals_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List the requests waiting for your decision."""
    from assistant.operations import run_as

    with open_container() as container:
        rows = run_as(container, as_email, "list_pending_approvals", {}).data["approvals"]
    emit_rows(rows, as_json, ["approval_id", "kind", "requester", "summary", "step", "steps"], "Waiting for you")


def _decide(approval_id: int, decision: str, email: str, reason: str | None, as_json: bool) -> None:
    run_tool(email, "decide_approval", {"approval_id": approval_id, "decision": decision, "reason": reason or ""}, as_json)


@approvals_app.command("approve")
@refusals
def approvals_approve(approval_id: int, as_email: AsEmail, reason: Annotated[str | None, typer.Option()] = None, as_json: JsonFlag = False) -> None:
    """Approve a request waiting for you."""
    _decide(approval_id, "approve", as_email, reason, as_json)


@approvals_app.command("deny")
@refusals
def approvals_deny(approval_id: int, as_email: AsEmail, reason: Annotated[str | None, typer.Option()] = None, as_json: JsonFlag = False) -> None:
    """Deny a request waiting for you (a reason is required)."""
    _decide(approval_id, "deny", as_email, reason, as_json)


@leave_app.command("balance")
@refusals
def leave_balance(as_email: AsEmail, year: Annotated[int | None, typer.Option()] = None,
                  employee: Annotated[str | None, typer.Option(help="Someone else's balance (needs the right role).")] = None,
                  as_json: JsonFlag = False) -> None:
    """Show leave balances per type."""
    from assistant.operations import run_as

    with open_container() as container:
        data = run_as(container, as_email, "get_leave_balance", {"year": year, "employee_email": employee} if employee else {"year": year} if year else {}).data
    if as_json:
        emit(data["balances"], True)
    else:
        table(data["balances"], ["leave_type", "allowance", "taken", "reserved", "available"], f"{data['employee']} {data['year']}")


@leave_app.command("list")
@refusals
def leave_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List your leave requests."""
    from assistant.operations import run_as

    with open_container() as container:
        rows = run_as(container, as_email, "list_my_leave", {}).data["requests"]
    emit_rows(rows, as_json, ["request_id", "leave_type", "start_date", "end_date", "working_days", "status"], "Leave requests")


@leave_app.command("request")
@refusals
def leave_request(as_email: AsEmail, start: Annotated[str, typer.Option("--start", help="YYYY-MM-DD")],
                  end: Annotated[str, typer.Option("--end", help="YYYY-MM-DD")],
                  leave_type: Annotated[str, typer.Option("--type")] = "annual",
                  half_day: Annotated[str | None, typer.Option("--half-day", help="am or pm")] = None, as_json: JsonFlag = False) -> None:
    """Request time off."""
    run_tool(as_email, "request_leave", {"start_date": start, "end_date": end, "leave_type": leave_type, "half_day": half_day}, as_json)


@leave_app.command("cancel")
@refusals
def leave_cancel(request_id: int, as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """Cancel a pending request or approved leave that has not started."""
    run_tool(as_email, "cancel_leave", {"request_id": request_id}, as_json)


@expenses_app.command("list")
@refusals
def expenses_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List your expense claims."""
    from assistant.operations import run_as

    with open_container() as container:
        rows = run_as(container, as_email, "list_my_expenses", {}).data["claims"]
    emit_rows(rows, as_json, ["claim_id", "expense_date", "merchant", "category", "amount", "currency", "status"], "Expense claims")


@expenses_app.command("submit")
@refusals
def expenses_submit(as_email: AsEmail, amount: Annotated[str, typer.Option()], currency: Annotated[str, typer.Option()],
                    category: Annotated[str, typer.Option()], expense_date: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
                    merchant: Annotated[str, typer.Option()], description: Annotated[str, typer.Option()] = "",
                    receipt: Annotated[Path | None, typer.Option(help="Receipt file (pdf, png, jpg).")] = None,
                    as_json: JsonFlag = False) -> None:
    """File an expense claim."""
    from assistant.operations import submit_expense_as

    args = {"amount": amount, "currency": currency, "category": category, "expense_date": expense_date,
            "merchant": merchant, "description": description}
    with open_container() as container:
        result = submit_expense_as(container, as_email, args, receipt)
    emit(result.data, as_json, result.message)


@tickets_app.command("list")
@refusals
def tickets_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List the tickets you opened."""
    from assistant.operations import run_as

    with open_container() as container:
        rows = run_as(container, as_email, "list_my_tickets", {}).data["tickets"]
    emit_rows(rows, as_json, ["ticket_id", "summary", "category", "priority", "status", "sla_due_at"], "Tickets")


@tickets_app.command("create")
@refusals
def tickets_create(as_email: AsEmail, summary: Annotated[str, typer.Option()], category: Annotated[str, typer.Option()] = "other",
                   priority: Annotated[str, typer.Option()] = "normal", description: Annotated[str, typer.Option()] = "",
                   as_json: JsonFlag = False) -> None:
    """Open an IT ticket."""
    run_tool(as_email, "create_ticket", {"summary": summary, "category": category, "priority": priority, "description": description}, as_json)


@tickets_app.command("show")
@refusals
def tickets_show(ticket_id: int, as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """Show a ticket and its comments."""
    data = run_tool(as_email, "get_ticket", {"ticket_id": ticket_id}, as_json)
    if not as_json:
        fields = [("Summary", data.get("summary")), ("Category", data.get("category")), ("Priority", data.get("priority")),
                  ("Status", data.get("status")), ("Requester", data.get("requester")), ("Assignee", data.get("assignee")),
                  ("Queue", data.get("queue")), ("System", data.get("system")), ("Created", _minutes(data.get("created_at"))),
                  ("SLA due", _minutes(data.get("sla_due_at"))),
                  ("Description", data.get("description"))]
        for label, value in fields:
            if value:
                out.print(f"{label}: {value}", markup=False, highlight=False)
        if data["comments"]:
            out.print("Comments:", markup=False, highlight=False)
        for comment in data["comments"]:
            out.print(f"- {comment['author']} ({_minutes(comment['at'])}): {comment['body']}", markup=False, highlight=False)


def _minutes(stamp: str | None) -> str | None:
    """An ISO time as a person reads it: "2026-11-28 17:45 UTC" (no seconds, no microseconds)."""
    from datetime import datetime

    if not stamp:
        return stamp
    try:
        return f"{datetime.fromisoformat(stamp):%Y-%m-%d %H:%M %Z}".strip()
    except ValueError:
        return stamp


@tickets_app.command("comment")
@refusals
def tickets_comment(ticket_id: int, body: str, as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """Add a comment to a ticket."""
    run_tool(as_email, "comment_on_ticket", {"ticket_id": ticket_id, "body": body}, as_json)


@tickets_app.command("queue")
@refusals
def tickets_queue(as_email: AsEmail, queue: Annotated[str, typer.Option(help="it, or hr for hand-overs to HR.")] = "it",
                  include_done: Annotated[bool, typer.Option("--all", help="Also resolved and closed tickets.")] = False,
                  as_json: JsonFlag = False) -> None:
    """List a team's open tickets, the one due first first (IT, or HR for the hr queue)."""
    from assistant.operations import run_as

    with open_container() as container:
        rows = run_as(container, as_email, "list_ticket_queue", {"queue": queue, "include_done": include_done}).data["tickets"]
    emit_rows(rows, as_json, ["ticket_id", "summary", "priority", "status", "requester", "assignee", "sla_due_at", "overdue"],
              f"Ticket queue: {queue}")


@tickets_app.command("update")
@refusals
def tickets_update(ticket_id: int, as_email: AsEmail,
                   status: Annotated[str | None, typer.Option(help="open, pending, resolved or closed.")] = None,
                   take: Annotated[bool, typer.Option("--take", help="Become the ticket's assignee.")] = False,
                   note: Annotated[str, typer.Option(help="A comment for the requester.")] = "",
                   as_json: JsonFlag = False) -> None:
    """Work a ticket: take it, change its status, leave a note (IT, or HR for hand-overs; the requester may close it)."""
    run_tool(as_email, "update_ticket", {"ticket_id": ticket_id, "status": status, "take": take, "note": note}, as_json)


@app.command()
@refusals
def audit(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100, as_json: JsonFlag = False) -> None:
    """Show the append-only audit trail, newest first."""
    from assistant.operations import audit_rows

    with open_container() as container:
        rows = audit_rows(container, limit=limit)
    emit_rows(rows, as_json, ["id", "at", "actor", "action", "subject"], "Audit trail")


class _WithoutTraceback(logging.Formatter):
    """One line per record on the terminal; the traceback of an unexpected error goes to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


class _HomeLog(logging.FileHandler):
    """The log file in BACKOFFICE_HOME, opened (and its folder made) when the first record arrives, so an error
    id shown by the very first command in a new home is in the log too."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, delay=True, encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # a read-only home: the terminal line is all there is
        super().emit(record)


def _configure_logging() -> None:
    """Warnings on stderr as one line each; with tracebacks in BACKOFFICE_HOME/backoffice.log."""
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(_WithoutTraceback(line))
    handlers: list[logging.Handler] = [terminal]
    try:
        from assistant.settings import load_settings

        home = load_settings().backoffice_home
        handlers.append(_HomeLog(home / "backoffice.log"))  # the folder is made on the first record, not on every command
        handlers[-1].setFormatter(logging.Formatter(line))
    except Exception:  # noqa: BLE001 - bad settings are reported by the command itself
        pass
    logging.basicConfig(level=logging.WARNING, handlers=handlers)


def main() -> None:
    """Entry point of the `backoffice` console script."""
    _configure_logging()
    app()
