"""Interactive payloads no real Slack request looks like: acknowledged with an empty 200 and dropped before any listener.

Bolt reads a payload without checking its shape while it picks a listener (`actions[0]["action_id"]`,
`"callback_id" in view`), and again when it hands arguments to a listener or the error handler, so a malformed
click or submission would answer 500 and send the clicker an error message. Nothing can be done for such a
payload, and a 200 keeps Slack from showing an error or retrying: it is logged and acknowledged here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)
INTERACTIVE_TYPES = frozenset({"block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut",
                               "message_action"})
VIEW_TYPES = frozenset({"view_submission", "view_closed"})
OBJECT_FIELDS = ("user", "team", "enterprise", "channel", "container", "view", "message")  # each an object, or null
TEXT_FIELDS = ("trigger_id", "response_url", "callback_id")  # each a string when present


class MalformedPayloadGuard(Middleware):
    """Acknowledge and drop interactive payloads whose shape the listeners (and bolt) cannot read."""

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        problem = interactive_problem(req.body)
        if problem is None:
            return next()
        log.warning("a malformed %s payload (%s); acknowledged and ignored", req.body.get("type"), problem)
        return BoltResponse(status=200, body="")


def interactive_problem(body: Any) -> str | None:
    """Return what is wrong with an interactive payload's shape, or None (also for anything not interactive)."""
    if not isinstance(body, dict) or body.get("type") not in INTERACTIVE_TYPES:
        return None
    for name in OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"{name} is not an object"
    for name in TEXT_FIELDS:
        if name in body and not isinstance(body[name], str):
            return f"{name} is not a string"
    user = body.get("user") or {}
    if not isinstance(user.get("id"), str) or not user["id"]:
        return "no user id"
    if body["type"] == "block_actions" and not _readable_actions(body.get("actions")):
        return "no readable action"
    if body["type"] in VIEW_TYPES and not isinstance((body.get("view") or {}).get("callback_id"), str):
        return "no view callback_id"
    return None


def _readable_actions(actions: object) -> bool:
    return isinstance(actions, list) and bool(actions) and all(
        isinstance(action, dict) and isinstance(action.get("action_id"), str) for action in actions)
