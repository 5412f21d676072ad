"""The `backoffice` command. The only module that prints."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from assistant.container import Container

app = typer.Typer(help="backoffice-assistant: leave, expenses, IT tickets and approvals.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
people_app = typer.Typer(help="The people directory.", no_args_is_help=True)
approvals_app = typer.Typer(help="Approve or deny requests waiting for you.", no_args_is_help=True)
leave_app = typer.Typer(help="Time off.", no_args_is_help=True)
expenses_app = typer.Typer(help="Expense claims.", no_args_is_help=True)
tickets_app = typer.Typer(help="IT helpdesk tickets.", no_args_is_help=True)
for sub, name in ((people_app, "people"), (approvals_app, "approvals"), (leave_app, "leave"), (expenses_app, "expenses"), (tickets_app, "tickets")):
    app.add_typer(sub, name=name)

out = Console(soft_wrap=True)  # piped output stays unbroken for scripts
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsEmail = Annotated[str, typer.Option("--as", help="Act as this employee (email).")]


@contextmanager
def _container() -> Iterator[Container]:
    from assistant.container import build_container
    from assistant.settings import load_settings

    container = build_container(load_settings())
    try:
        yield container
    finally:
        container.close()


def refusals(command: F) -> F:
    """Turn refusals and faults into a message on stderr and a non-zero exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from assistant.errors import error_text, is_refusal

        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as error:  # noqa: BLE001 - this is the CLI's one error edge
            # soft_wrap: a script reading stderr gets the message unbroken, not cut at the console width.
            err.print(f"Error: {error_text(error)}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1 if is_refusal(error) else 2) from None

    return wrapper  # type: ignore[return-value]


def emit(data: Any, as_json: bool, message: str | None = None) -> None:
    """Print data as JSON, or the human message."""
    if as_json:
        out.print_json(json.dumps(data, default=str))
    elif message is not None:
        out.print(message, markup=False, highlight=False)


def table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Print rows as a table."""
    if not rows:
        out.print(f"{title}: none.")
        return
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    out.print(grid)


def run_tool(email: str, tool: str, args: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Run a tool as `email` and print the result's message (or JSON)."""
    from assistant.operations import run_as

    with _container() as container:
        result = run_as(container, email, tool, {k: v for k, v in args.items() if v is not None})
    emit(result.data, as_json, result.message)
    return result.data


@app.command()
@refusals
def init(as_json: JsonFlag = False) -> None:
    """Create or upgrade the database schema and the default catalog (idempotent)."""
    from assistant.container import initialize_database

    with _container() as container:
        created = initialize_database(container)
        url = container.engine.url.render_as_string(hide_password=True)
    emit({"database": url, "created": created}, as_json, f"Database ready at {url}; created {len(created)} catalog entries.")


@app.command()
@refusals
def demo(as_email: Annotated[str | None, typer.Option("--as", help="Chat as this employee.")] = None, as_json: JsonFlag = False) -> None:
    """Set up the sample company and walk through a leave request, its approval and the balance."""
    from assistant.container import initialize_database
    from assistant.demo import seed_sample_company, walk_through

    with _container() as container:
        initialize_database(container)
        seed_sample_company(container)
        steps = walk_through(container, date.today())
    if as_json:
        emit([{"actor": s.actor, "action": s.action, "data": s.result.data} for s in steps], True)
        return
    out.print("[bold]Harbor & Pine demo company loaded.[/bold]")
    for number, step in enumerate(steps, 1):
        out.print(f"\n[bold cyan]{number}. {step.actor} {step.action}[/bold cyan]")
        out.print(step.result.message, markup=False, highlight=False)
    out.print("\nTry it yourself: backoffice leave balance --as priya.nair@harborpine.example")


@people_app.command("import")
@refusals
def people_import(file: Path, as_json: JsonFlag = False) -> None:
    """Import or update people from a CSV (upsert by email; the whole file or nothing)."""
    from assistant.operations import import_people_file

    with _container() as container:
        report = import_people_file(container, file)
    data = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    emit(data, as_json, f"Imported {file}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged.")


@people_app.command("list")
@refusals
def people_list(as_json: JsonFlag = False) -> None:
    """List everyone in the directory."""
    from assistant.operations import people_rows

    with _container() as container:
        rows = people_rows(container)
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["email", "name", "department", "roles", "manager_email", "country", "active"], "People")


@approvals_app.command("list")
@refusals
def approvals_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List the requests waiting for your decision."""
    from assistant.operations import run_as

    with _container() as container:
        rows = run_as(container, as_email, "list_pending_approvals", {}).data["approvals"]
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["approval_id", "kind", "requester", "summary", "step", "steps"], "Waiting for you")


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

    with _container() as container:
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

    with _container() as container:
        rows = run_as(container, as_email, "list_my_leave", {}).data["requests"]
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["request_id", "leave_type", "start_date", "end_date", "working_days", "status"], "Leave requests")


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

    with _container() as container:
        rows = run_as(container, as_email, "list_my_expenses", {}).data["claims"]
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["claim_id", "expense_date", "merchant", "category", "amount", "currency", "status"], "Expense claims")


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
    with _container() as container:
        result = submit_expense_as(container, as_email, args, receipt)
    emit(result.data, as_json, result.message)


@tickets_app.command("list")
@refusals
def tickets_list(as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """List the tickets you opened."""
    from assistant.operations import run_as

    with _container() as container:
        rows = run_as(container, as_email, "list_my_tickets", {}).data["tickets"]
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["ticket_id", "summary", "category", "priority", "status", "sla_due_at"], "Tickets")


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
        for comment in data["comments"]:
            out.print(f"- {comment['author']} ({comment['at']}): {comment['body']}", markup=False, highlight=False)


@tickets_app.command("comment")
@refusals
def tickets_comment(ticket_id: int, body: str, as_email: AsEmail, as_json: JsonFlag = False) -> None:
    """Add a comment to a ticket."""
    run_tool(as_email, "comment_on_ticket", {"ticket_id": ticket_id, "body": body}, as_json)


@app.command()
@refusals
def audit(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100, as_json: JsonFlag = False) -> None:
    """Show the append-only audit trail, newest first."""
    from assistant.operations import audit_rows

    with _container() as container:
        rows = audit_rows(container, limit=limit)
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["id", "at", "actor", "action", "subject"], "Audit trail")


def main() -> None:
    """Entry point of the `backoffice` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    app()
