"""The App Home: published when someone opens the Home tab, and again after a decision taken there."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from assistant.home import home_for_chat_user
from assistant.slack.deps import SlackDeps
from assistant.slack.once import once_per_event
from assistant.slack.payloads import as_text
from assistant.slack.home_blocks import home_view
from assistant.slack.people import email_lookup

log = logging.getLogger(__name__)
HOME_TAB = "home"  # Slack's name of the Home tab in app_home_opened (the other tab is "messages")


def register(app: App, deps: SlackDeps) -> None:
    """Publish the Home whenever its tab is opened."""

    def on_home_opened(event: dict[str, Any], client: WebClient, **_: Any) -> None:
        user = as_text(event.get("user"))
        if event.get("tab") != HOME_TAB or user is None:
            return
        try:
            publish_home(deps, client, user)
        except Exception:  # noqa: BLE001 - opening a tab is no message to answer: a failed Home is logged, not DMed
            log.exception("could not publish the Home of %s", user)

    app.event("app_home_opened")(once_per_event(deps, on_home_opened))


def publish_home(deps: SlackDeps, client: WebClient, user_id: str) -> None:
    """Build this Slack user's Home from the core and publish it (also after a decision from its buttons)."""
    data = home_for_chat_user(deps.container, user_id, email_lookup(client), now=deps.clock())
    client.views_publish(user_id=user_id, view=home_view(data))
