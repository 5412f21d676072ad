"""Serving the App: HTTP mode (waitress, /slack/events and /healthz) or Socket Mode (no public URL)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_application(app: App, health: Callable[[], bool]) -> Callable[..., Iterable[bytes]]:
    """Return the WSGI application: Slack's requests to bolt, a health check for load balancers."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        if path == HEALTH_PATH:
            healthy = _safe(health)
            body = json.dumps({"ok": healthy}).encode()
            start_response("200 OK" if healthy else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        body = b'{"error": "not found"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return application


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - unhealthy is the answer, the reason goes to the log
        log.exception("health check failed")
        return False


def serve_http(app: App, health: Callable[[], bool], *, host: str, port: int, threads: int = 16) -> None:
    """Serve HTTP mode with waitress until interrupted."""
    from waitress import serve

    serve(wsgi_application(app, health), host=host, port=port, threads=threads, ident="backoffice-assistant")


def socket_mode_handler(app: App, app_token: str) -> Any:
    """Return the Socket Mode handler (it connects only when started)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)


def serve_socket(app: App, app_token: str) -> None:
    """Connect over Socket Mode (outbound WebSocket; no public URL) until interrupted."""
    socket_mode_handler(app, app_token).start()
