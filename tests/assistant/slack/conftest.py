"""The Slack App over real HTTP: waitress on 127.0.0.1, signed requests, a fake Slack Web API."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from assistant.container import Container, build_container
from assistant.slack.app import build_app
from assistant.slack.server import wsgi_application
from tests.assistant.slack.fake_slack import FakeSlack
from tests.builders import Company, make_company
from tests.conftest import make_settings

SECRET = "secret"
SLACK_IDS = {"requester": "UREQ", "manager": "UMGR", "colleague": "UCOL", "hr": "UHR", "admin": "UADM", "other_manager": "UOMG",
             "ceo": "UCEO", "finance": "UFIN", "it": "UIT"}


@dataclass
class RunningApp:
    """The App served over HTTP, the fake Web API it calls, and the company in its database."""

    url: str
    slack: FakeSlack
    container: Container
    company: Company

    def post(self, body: bytes, content_type: str, *, retry: int | None = None, timestamp: int | None = None,
             signature: str | None = None, sign: bool = True) -> tuple[int, bytes]:
        """POST a request signed like Slack signs it; return status and body."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {"Content-Type": content_type}
        if sign:
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = signature or SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        request = urllib.request.Request(f"{self.url}/slack/events", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def event(self, payload: dict[str, Any], **options: Any) -> tuple[int, bytes]:
        """Send an Events API payload."""
        return self.post(json.dumps(payload).encode(), "application/json", **options)

    def interaction(self, payload: dict[str, Any], **options: Any) -> tuple[int, bytes]:
        """Send an interactive payload (button click, view submission) form-encoded, as Slack does."""
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded", **options)

    def command(self, fields: dict[str, str], **options: Any) -> tuple[int, bytes]:
        """Send a slash command."""
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **options)


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll until `condition()` is truthy (listeners run after the ack) and return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the App")


def card_for(app: RunningApp, slack_id: str) -> Any:
    """Wait for the approval card posted to this Slack user and return the call."""
    return wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == slack_id])[0]


def confirmed_request(app: RunningApp, text: str, ts: str, *, user: str = "UREQ") -> None:
    """DM a request, wait for its read-back, and answer yes."""
    app.event(dm_event(user, text, f"Ev{ts}a", ts=f"{ts}.1"))
    wait_for(lambda: [c for c in app.slack.of("chat.update") if "Shall I submit" in c.args.get("text", "")])
    app.event(dm_event(user, "yes", f"Ev{ts}b", ts=f"{ts}.2"))


def leave_card(app: RunningApp, ts: str) -> Any:
    """Have the requester book Dec 14-18 and return the approval card their manager gets."""
    confirmed_request(app, "I need Dec 14 to Dec 18 off", ts)
    return card_for(app, "UMGR")


def dm_event(user: str, text: str, event_id: str, *, channel: str | None = None, ts: str = "1726133700.000100") -> dict[str, Any]:
    """Return a message.im event in Slack's shape (see ../shared/data/slack_payloads)."""
    return {"token": "verification_token", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
            "event_id": event_id, "event_time": 1726133700,
            "authorizations": [{"team_id": "T111", "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
            "event": {"type": "message", "user": user, "text": text, "ts": ts, "event_ts": ts, "team": "T111",
                      "channel": channel or f"D{user}", "channel_type": "im"}}


def run_until_closed(server: Any) -> None:
    """Run a waitress server in a thread; closing it while it polls is the normal end, not an error."""
    try:
        server.run()
    except OSError:
        pass


@pytest.fixture
def slack_app(database_url: str, tmp_path: Any) -> Iterator[RunningApp]:
    from waitress.server import create_server

    slack = FakeSlack()
    settings = make_settings(database_url, tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                             SLACK_API_URL=slack.base_url)
    container = build_container(settings)
    from tools.catalog import create_default_catalog
    from tools.db import transaction

    with transaction(container.session_factory) as session:
        create_default_catalog(session)
    company = make_company(container)
    slack.emails.update({slack_id: company.email(role) for role, slack_id in SLACK_IDS.items()})
    app = build_app(container, engine=container.offline_engine)
    server = create_server(wsgi_application(app, lambda: True), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=run_until_closed, args=(server,), daemon=True)
    thread.start()
    try:
        yield RunningApp(f"http://127.0.0.1:{server.effective_port}", slack, container, company)
    finally:
        server.close()
        slack.close()
        container.close()
