"""Exactly-once handling of Slack events, claimed after the ack so that the ack never waits for the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from assistant.chat import first_delivery
from assistant.slack.deps import SlackDeps

EventListener = Callable[..., None]


def event_key(body: dict[str, Any]) -> str:
    """Return the key of an Events API delivery; Slack's retries of it carry the same event id."""
    event = body.get("event") or {}
    return f"slack:{body.get('event_id')}:{event.get('type')}:{event.get('event_ts') or event.get('ts')}"


def once_per_event(deps: SlackDeps, listener: EventListener) -> EventListener:
    """Run `listener` for the first delivery of an event only (Slack retries with X-Slack-Retry-Num).

    Bolt acks an event before its listener runs in bolt's thread pool, so the claim written here costs the ack
    nothing; it is still written before any effect, so a retry, even one racing the first delivery, does nothing.
    """
    def run_once(body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if body.get("event_id") and not first_delivery(deps.container, event_key(body), deps.clock()):
            return
        listener(body=body, event=event, client=client, context=context)
    return run_once
