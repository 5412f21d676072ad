"""The team queue's buttons in the App Home: IT (or HR for hand-overs) takes or resolves a ticket from Slack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.approval_cards import ChatUnavailable
from assistant.errors import error_text
from assistant.operations import ticket_requester_chat_id
from assistant.slack.blocks import escape
from assistant.slack.delivery import DELIVERY_ERRORS, after_the_work, failure_reason, tell_privately
from assistant.slack.deps import SlackDeps
from assistant.slack.home import publish_home
from assistant.slack.ids import Action
from assistant.slack.payloads import as_object, as_text, json_object
from assistant.slack.people import chat_id_lookup, employee_of

log = logging.getLogger(__name__)
BROKEN_BUTTON = "That button doesn't work any more; open the Home tab again for the current queue."


def register(app: App, deps: SlackDeps) -> None:
    """Listen to Take and Resolve in the team queue."""

    @app.action(Action.TICKET_TAKE.value)
    def on_take(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        work(deps, client, body, {"take": True})

    @app.action(Action.TICKET_RESOLVE.value)
    def on_resolve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        work(deps, client, body, {"status": "resolved"})


def work(deps: SlackDeps, client: WebClient, body: dict[str, Any], change: dict[str, Any]) -> None:
    """Apply one button's change as the clicking person, through the same tool (and rules) as the command line."""
    user_id = as_text(as_object(body.get("user")).get("id"))
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    raw = json_object(as_object(actions[0] if actions else None).get("value")).get("ticket_id")
    ticket_id = raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else None
    if user_id is None:
        return
    if ticket_id is None:
        tell_privately(client, user_id=user_id, channel=None, text=BROKEN_BUTTON)
        return
    try:
        person = employee_of(deps, client, user_id)
        result = deps.container.pipeline.run("update_ticket", {"ticket_id": ticket_id, **change},
                                             actor_id=person.employee_id, now=deps.clock())
    except Exception as error:  # noqa: BLE001 - a refusal (not theirs, nothing to change) or a fault: they read why
        tell_privately(client, user_id=user_id, channel=None, text=escape(error_text(error)))
        publish_home(deps, client, user_id)
        return
    with after_the_work():
        publish_home(deps, client, user_id)
        if change.get("status") == "resolved":
            _tell_requester(deps, client, ticket_id,
                            f"Your ticket #{ticket_id} \"{result.data.get('summary', '')}\" was resolved by {person.name}. "
                            "If it still isn't working, tell me what's wrong and I'll open a new ticket.")


def _tell_requester(deps: SlackDeps, client: WebClient, ticket_id: int, text: str) -> None:
    try:
        channel = ticket_requester_chat_id(deps.container, ticket_id, chat_id_lookup(client))
    except ChatUnavailable as error:  # Slack could not say who they are just now
        log.error("could not find the requester of ticket #%s on Slack: %s", ticket_id, error)
        return
    if not channel:
        return
    try:
        client.chat_postMessage(channel=channel, text=escape(text))
    except DELIVERY_ERRORS as error:
        log.error("could not tell the requester of ticket #%s: %s", ticket_id, failure_reason(error))
