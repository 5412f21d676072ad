"""Serving the App: HTTP mode (waitress, /slack/events and /healthz) or Socket Mode (no public URL)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from assistant.slack.payloads import json_object

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_application(app: App, health: Callable[[], bool]) -> Callable[..., Iterable[bytes]]:
    """Return the WSGI application: Slack's requests to bolt, a health check for load balancers.

    The signature is checked here, before bolt reads the body: a request that is not Slack's gets 401 whatever
    its body or headers hold (bolt would parse a broken body first and answer 500).
    """
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(app._signing_secret)  # noqa: SLF001 - the secret the App was built with

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return _slack_request(environ, start_response)
        if path == HEALTH_PATH:
            healthy = _safe(health)
            return _respond(start_response, "200 OK" if healthy else "503 Service Unavailable", {"ok": healthy})
        return _respond(start_response, "404 Not Found", {"error": "not found"})

    def _slack_request(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _read_body(environ)
        if _is_ssl_check(body):  # Slack checking the certificate: nothing to act on, nothing to verify
            return _respond(start_response, "200 OK", {})
        if environ.get("REQUEST_METHOD") == "POST" and not _signed(verifier, body, environ):
            return _respond(start_response, "401 Unauthorized", {"error": "invalid request"})
        notice = json_object(body)  # an Events API body; {} for forms and slash commands
        if notice.get("type") == "app_rate_limited":  # Slack says it held back events; it only wants a 200
            log.warning("Slack reports app_rate_limited: some events were not delivered")
            return _respond(start_response, "200 OK", {})
        if notice.get("type") == "event_callback" and not isinstance(notice.get("event"), dict):
            log.warning("an event_callback without an event object; acknowledged and ignored")
            return _respond(start_response, "200 OK", {})  # a retry would bring the same: nothing to act on
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        try:
            return slack(environ, start_response)
        except Exception as error:  # noqa: BLE001 - a signed body bolt cannot read: refused, the reason in the log
            log.warning("could not read a signed Slack request (%s: %s)", type(error).__name__, error)
            return _respond(start_response, "400 Bad Request", {"error": "unreadable request"})

    return application


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length else b""


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict[str, Any]) -> bool:
    """Whether the request carries Slack's valid, recent signature; odd headers are simply not valid."""
    try:
        return verifier.is_valid(body=body.decode("utf-8"), timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                                 signature=environ.get("HTTP_X_SLACK_SIGNATURE", ""))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return False


def _is_ssl_check(body: bytes) -> bool:
    return body.startswith(b"ssl_check=1") or b"&ssl_check=1" in body[:200]


def _respond(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


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
