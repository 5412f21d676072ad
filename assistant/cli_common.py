"""Shared pieces of the `backoffice` command: consoles, the error edge, JSON and table output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from assistant.container import Container

PIPED_WIDTH = 240

# Piped output stays unbroken for scripts: lines are not wrapped, and tables get room for whole emails and paths.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsEmail = Annotated[str, typer.Option("--as", help="Act as this employee (email).")]


@contextmanager
def open_container(*, needs_schema: bool = True) -> Iterator[Container]:
    from assistant.container import build_container, schema_is_missing
    from assistant.errors import AssistantError, AssistantErrorCode
    from assistant.settings import load_settings

    container = build_container(load_settings())
    try:
        if needs_schema and schema_is_missing(container):
            raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, "The database has no tables yet: run `backoffice init` "
                                                                    "first (or `backoffice demo` for the sample company).")
        yield container
    finally:
        container.close()


REFUSED = 1  # a refusal: bad input, a rule, no permission (the reason is on stderr)
INTERNAL_FAULT = 3  # an unexpected fault, with an error id that is also logged (2 is a usage error: a missing option)


def refusals(command: F) -> F:
    """Turn refusals and faults into a message on stderr and a non-zero exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from assistant.errors import error_text, is_refusal

        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # a usage error (a missing or malformed option) is typer's to show, with exit code 2
        except Exception as error:  # noqa: BLE001 - this is the CLI's one error edge
            # soft_wrap: a script reading stderr gets the message unbroken, not cut at the console width.
            err.print(f"Error: {error_text(error)}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(REFUSED if is_refusal(error) else INTERNAL_FAULT) from None

    return wrapper  # type: ignore[return-value]


def emit(data: Any, as_json: bool, message: str | None = None) -> None:
    """Print data as JSON, or the human message."""
    if as_json:
        out.print_json(json.dumps(data, default=str))
    elif message is not None:
        out.print(message, markup=False, highlight=False)


def emit_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str], title: str) -> None:
    """Print a list of records as JSON, or as a table of `columns`."""
    if as_json:
        emit(rows, True)
    else:
        table(rows, columns, title)


def table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Print rows as a table."""
    if not rows:
        out.print(f"{title}: none.")
        return
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column, overflow="fold")  # a narrow or piped terminal wraps a long path, never cuts it
    for row in rows:
        grid.add_row(*(_cell(row.get(column)) for column in columns))
    out.print(grid)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(item) for item in value)
    return str(value)


def run_tool(email: str, tool: str, args: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Run a tool as `email` and print the result's message (or JSON)."""
    from assistant.operations import run_as

    with open_container() as container:
        result = run_as(container, email, tool, {k: v for k, v in args.items() if v is not None})
    emit(result.data, as_json, result.message)
    return result.data
