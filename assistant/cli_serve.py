"""`backoffice serve`: the Slack App in HTTP mode (waitress) or Socket Mode."""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assistant.cli_common import open_container, out

if TYPE_CHECKING:
    from assistant.slack.deps import SlackDeps

log = logging.getLogger(__name__)
CARD_SWEEP_SECONDS = 30.0  # approvals created outside Slack (CLI, forms elsewhere) get their card within this time


class Mode(StrEnum):
    """How Slack reaches the App."""

    HTTP = "http"
    SOCKET = "socket"


def serve(mode: Annotated[Mode, typer.Option("--mode", help="http (needs a public URL) or socket (Socket Mode).")] = Mode.HTTP,
          host: Annotated[str, typer.Option("--host")] = "0.0.0.0",
          port: Annotated[int, typer.Option("--port", envvar="PORT")] = 3000) -> None:
    """Run the Slack App until interrupted: /slack/events and /healthz in HTTP mode, or over Socket Mode."""
    from assistant.chat import database_ok
    from assistant.container import initialize_database
    from assistant.engines import select_engine
    from assistant.errors import AssistantError, AssistantErrorCode
    from assistant.slack.app import build_app
    from assistant.slack.deps import SlackDeps
    from assistant.slack.server import serve_http, serve_socket

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open_container() as container:
        settings = container.settings
        if mode is Mode.HTTP and not settings.slack_signing_secret:
            raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, "HTTP mode needs SLACK_SIGNING_SECRET (and SLACK_BOT_TOKEN).")
        if mode is Mode.SOCKET and not settings.slack_app_token:
            raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, "Socket Mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN.")
        initialize_database(container)  # idempotent: a fresh deployment serves without a separate `init`
        deps = SlackDeps(container=container, engine=select_engine(container))
        app = build_app(container, deps=deps)
        container.offline_engine.router.classifier.prepare()  # load the model now, not on the first message
        stop = threading.Event()
        threading.Thread(target=_sweep_cards, args=(deps, app.client, stop), daemon=True).start()
        out.print(f"Serving Slack in {mode.value} mode" + (f" on http://{host}:{port}/slack/events" if mode is Mode.HTTP else ""))
        try:
            if mode is Mode.HTTP:
                serve_http(app, lambda: database_ok(container), host=host, port=port)
            else:
                serve_socket(app, settings.slack_app_token or "")
        finally:
            stop.set()


def _sweep_cards(deps: SlackDeps, client: Any, stop: threading.Event) -> None:  # client: the App's slack_sdk WebClient
    """Now and then, send cards for approvals that have none yet and settle decisions made elsewhere (the CLI)."""
    from assistant.slack.cards import sync_cards

    while not stop.is_set():
        try:
            sync_cards(deps, client)
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next one; the reason is logged
            log.exception("approval card sweep failed")
        stop.wait(CARD_SWEEP_SECONDS)
