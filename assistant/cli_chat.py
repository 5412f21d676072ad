"""`backoffice route` and `backoffice chat`: the offline engine from the terminal."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import date
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assistant.cli_common import JsonFlag, emit, open_container, out, refusals
from assistant.dialogue.reply import Reply
from assistant.errors import error_text
from tools.pipeline import CONTROL_CHARACTERS

if TYPE_CHECKING:
    from assistant.container import Container

log = logging.getLogger(__name__)

TodayOption = Annotated[str | None, typer.Option("--today", help="Resolve relative dates against this day (YYYY-MM-DD).")]


def _today(raw: str | None) -> date:
    if raw is None:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise typer.BadParameter("--today must be YYYY-MM-DD") from error


def _route_line(router: Any, line: str, today: date, currency: str) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return {"text": None, "intent": None, "confidence": 0.0, "slots": {}, "error": f"not JSON: {error.msg}"}
    text = request.get("text") if isinstance(request, dict) else None
    if not isinstance(text, str):
        return {"text": None, "intent": None, "confidence": 0.0, "slots": {}, "error": "each line needs {\"text\": \"...\"}"}
    try:
        return router.route(text, today=today, default_currency=currency).as_json()
    except Exception as error:  # noqa: BLE001 - one line's fault is that line's answer (logged with its id); the batch goes on
        return {"text": text, "intent": None, "confidence": 0.0, "slots": {}, "error": error_text(error)}


def route(text: Annotated[str | None, typer.Argument()] = None, today: TodayOption = None,
          jsonl: Annotated[bool, typer.Option("--jsonl", help="Read {\"text\": ...} lines from stdin.")] = False,
          as_json: JsonFlag = False) -> None:
    """Show the offline intent and slots of a text (no side effects)."""
    from assistant.nlu.router import build_router
    from assistant.settings import load_settings
    from tools.approvals.policy import load_policy

    day = _today(today)
    router = build_router(load_settings().cache_dir)
    currency = load_policy(None).company_currency
    if jsonl:
        for line in sys.stdin:
            if line.strip():
                out.print(json.dumps(_route_line(router, line, day, currency)), markup=False, highlight=False)
        return
    if text is None:
        raise typer.BadParameter("give a TEXT or use --jsonl")
    emit(router.route(text, today=day, default_currency=currency).as_json(), True)


def converse(container: Container, email: str, *, as_json: bool, lines: Iterable[str] | None = None, key: str | None = None) -> None:
    """Answer each line (or, with no lines given, each line typed on stdin) until the end or 'quit'."""
    from assistant.engines import select_engine
    from assistant.operations import actor_id_for

    actor_id = actor_id_for(container, email)
    engine = select_engine(container)  # the LLM agent when an endpoint is configured, else the offline engine
    if engine is not container.offline_engine:  # the offline engine answers when the endpoint fails: ready it meanwhile
        threading.Thread(target=_warm_up, args=(container,), name="offline-warm-up", daemon=True).start()
    interactive = lines is None and sys.stdin.isatty()
    if interactive:
        out.print(f"Chatting as {email}. Type 'quit' to leave.")
    for line in (lines if lines is not None else _typed_lines(interactive)):
        if line.strip().lower() in {"quit", "exit", ":q"}:
            return
        if not interactive and not as_json:
            out.print(f"[bold]you>[/bold] {line.strip()}", highlight=False)
        try:
            reply = engine.handle(key=key or f"cli:{email}", actor_id=actor_id, text=line)
        except Exception as error:  # noqa: BLE001 - one failing turn gets its reason; the conversation goes on
            reply = Reply(error_text(error))
        if as_json:
            out.print(json.dumps({"text": line.rstrip("\n"), "reply": reply.text, "intent": reply.intent, "data": reply.data},
                                 default=str), markup=False, highlight=False)
        else:
            out.print("[bold green]assistant>[/bold green] ", end="")
            # a model's text or a document's words never drive the terminal ("\x1b[2J" would clear the screen)
            out.print(CONTROL_CHARACTERS.sub("", reply.text), markup=False, highlight=False)


def _warm_up(container: Container) -> None:
    try:
        container.offline_engine.router.classifier.prepare()
    except Exception:  # noqa: BLE001 - a fallback that cannot warm up loads on first use and says why then
        log.warning("the offline engine could not be readied in advance", exc_info=True)


def _typed_lines(interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            out.print("[bold]you>[/bold] ", end="")
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def piped_lines(wait_seconds: float = 0.5) -> list[str]:
    """Return the lines piped to stdin; an empty or silent stdin gives none (never blocks on a terminal)."""
    import io
    import select

    if sys.stdin.isatty():
        return []
    try:
        descriptor = sys.stdin.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return [line for line in sys.stdin.read().splitlines() if line.strip()]  # an in-memory stdin (test runners)
    ready, _, _ = select.select([descriptor], [], [], wait_seconds)
    if not ready:
        return []
    return [line for line in sys.stdin.read().splitlines() if line.strip()]


@refusals
def chat(as_email: Annotated[str, typer.Option("--as", help="Chat as this employee (email).")], as_json: JsonFlag = False) -> None:
    """Converse with the assistant on stdin/stdout as an employee."""
    with open_container() as container:
        converse(container, as_email, as_json=as_json)
