"""Approval cards in Slack: sent to the approver's DM, decided with Approve / Deny, then closed in place."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.approval_cards import (
    DecisionOutcome, claim_new_cards, claim_settled, decide_from_card, record_card_posted, release_card,
)
from assistant.errors import error_text
from assistant.slack.blocks import card_blocks, card_text, closed_card_blocks, deny_reason_modal, escape
from assistant.slack.deps import SlackDeps
from assistant.slack.home import publish_home
from assistant.slack.ids import Action, Block, Callback
from assistant.slack.payloads import json_object
from assistant.slack.people import chat_id_lookup, employee_of

log = logging.getLogger(__name__)


def deliver_cards(deps: SlackDeps, client: WebClient) -> int:
    """Send a card for every approval step that has none yet; return how many were sent."""
    sent = 0
    for card in claim_new_cards(deps.container, find_chat_id=chat_id_lookup(client), now=deps.clock()):
        try:
            posted = client.chat_postMessage(channel=card.approver_chat_id, text=card_text(card), blocks=card_blocks(card))
        except Exception as error:  # noqa: BLE001 - one card's failure never stops the others
            reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            if is_transient(error):  # rate limited, Slack down, network: the next round sends it again
                release_card(deps.container, card_id=card.card_id)
                log.warning("could not send the card of approval #%s yet (%s); it goes out with the next round",
                            card.approval_id, reason)
            else:
                log.error("could not send the card of approval #%s: %s", card.approval_id, reason)
            continue
        # Without the message's ts the card cannot be closed in place later; its buttons still decide only once.
        record_card_posted(deps.container, card_id=card.card_id, channel=posted.get("channel") or card.approver_chat_id,
                           message_ts=posted.get("ts") or "")
        sent += 1
    return sent


TRANSIENT_ERRORS = frozenset({"ratelimited", "rate_limited", "service_unavailable", "fatal_error", "internal_error",
                              "request_timeout"})


def is_transient(error: BaseException) -> bool:
    """Whether a failed Web API call may well work a little later (a rate limit, an outage, the network)."""
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return error.response.get("error") in TRANSIENT_ERRORS or status == 429 or status >= 500
    return isinstance(error, (OSError, TimeoutError))


def register(app: App, deps: SlackDeps) -> None:
    """Listen to the cards' buttons and the deny-reason modal."""

    @app.action(Action.APPROVE.value)
    def on_approve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        approval_id, user_id = _clicked(body)
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id")
        if approval_id is None or user_id is None:
            _refuse_button(client, channel, user_id)
            return
        outcome = decide(deps, client, user_id=user_id, approval_id=approval_id, decision="approve", channel=channel)
        if outcome is not None and outcome.decided and body.get("container", {}).get("is_ephemeral"):
            respond(replace_original=True, text=escape(outcome.text))  # the /backoffice approvals list: no stale buttons
        if body.get("container", {}).get("type") == "view":  # clicked in the App Home: show the queue without it
            publish_home(deps, client, body["user"]["id"])

    @app.action(Action.DENY.value)
    def on_deny(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        approval_id, user_id = _clicked(body)
        if approval_id is None or user_id is None or not body.get("trigger_id"):
            _refuse_button(client, body.get("channel", {}).get("id"), user_id)
            return
        metadata = json.dumps({"approval_id": approval_id, "channel": body.get("channel", {}).get("id"),
                               "from_home": body.get("container", {}).get("type") == "view"})
        client.views_open(trigger_id=body["trigger_id"], view=deny_reason_modal(approval_id, metadata))

    @app.view(Callback.DENY_REASON.value)
    def on_deny_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        field = view["state"]["values"].get(Block.REASON.value, {}).get(Action.FORM_FIELD.value, {})
        reason = (field.get("value") or "").strip()
        if not reason:
            ack(response_action="errors", errors={Block.REASON.value: "Please say why you deny it; the requester will see it."})
            return
        ack()
        metadata = json_object(view.get("private_metadata"))
        approval_id, user_id = _positive_int(metadata.get("approval_id")), (body.get("user") or {}).get("id")
        if approval_id is None or not user_id:
            _refuse_button(client, metadata.get("channel"), user_id)
            return
        decide(deps, client, user_id=user_id, approval_id=approval_id, decision="deny", reason=reason,
               channel=metadata.get("channel"))
        if metadata.get("from_home"):
            publish_home(deps, client, user_id)


BROKEN_BUTTON = "That button doesn't work any more. `/backoffice approvals` lists what waits for your decision."


def _clicked(body: dict[str, Any]) -> tuple[int | None, str | None]:
    """Return the approval a card button names and who clicked it; None for what a real card never sends."""
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    value = json_object(actions[0].get("value") if actions and isinstance(actions[0], dict) else None)
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    return _positive_int(value.get("approval_id")), user.get("id") or None


def _positive_int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else \
        int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) > 0 else None


def _refuse_button(client: WebClient, channel: str | None, user_id: str | None) -> None:
    log.warning("a card button or deny form without a readable approval (channel %s, user %s)", channel, user_id)
    if user_id:
        _tell(client, channel, user_id, BROKEN_BUTTON)


def decide(deps: SlackDeps, client: WebClient, *, user_id: str, approval_id: int, decision: str, channel: str | None,
           reason: str = "") -> DecisionOutcome | None:
    """Decide as the clicking approver; close the cards, tell the requester, and send the next step's card."""
    try:
        approver = employee_of(deps, client, user_id)
    except Exception as error:  # noqa: BLE001 - unknown clicker: they read why
        _tell(client, channel, user_id, error_text(error))
        return None
    outcome = decide_from_card(deps.container, actor_id=approver.employee_id, approval_id=approval_id, decision=decision,
                               reason=reason, now=deps.clock())
    if not outcome.decided:  # a second click, a racing approver, not theirs: nothing changes, only they are told
        _tell(client, channel, user_id, outcome.text)
        return outcome
    sync_cards(deps, client)
    return outcome


def sync_cards(deps: SlackDeps, client: WebClient) -> None:
    """After a write: show every decision made (cards closed, requesters told), then send the cards of new steps."""
    settle_decisions(deps, client)
    deliver_cards(deps, client)


def settle_decisions(deps: SlackDeps, client: WebClient) -> None:
    """Close the cards of decided steps and tell requesters the final decision, however it was made.

    A click, a decision in the chat, the CLI or the App Home all end here (the card sweep too); each card is
    closed and each requester told exactly once, and one Slack call failing (a deleted card) stops no other.
    """
    settled = claim_settled(deps.container, find_chat_id=chat_id_lookup(client), now=deps.clock())
    for channel, ts, approval_id, outcome in settled.close:
        try:
            client.chat_update(channel=channel, ts=ts, text=f"Approval #{approval_id}: {outcome.status}",
                               blocks=closed_card_blocks(outcome))
        except SlackApiError as error:
            log.warning("could not close a card in %s: %s", channel, error.response.get("error"))
    for outcome in settled.tell:
        if not outcome.requester_chat_id:
            continue
        try:
            client.chat_postMessage(channel=outcome.requester_chat_id, text=escape(_requester_text(outcome)))
        except SlackApiError as error:
            log.error("could not tell %s about a decision: %s", outcome.requester_chat_id, error.response.get("error"))


def _requester_text(outcome: DecisionOutcome) -> str:
    by = f" by {outcome.decided_by}" if outcome.decided_by else ""
    verdict = {"approved": "was approved", "rejected": "was denied", "failed": "was approved but could not be carried out"}
    reason = f" Reason: {outcome.reason}" if outcome.reason else ""
    return f"Your request \"{outcome.summary}\" {verdict.get(outcome.status, outcome.status)}{by}.{reason}"


def _tell(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """Answer only the clicking person (ephemeral), or in a DM when the channel is unknown."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=escape(text))
        else:
            client.chat_postMessage(channel=user_id, text=escape(text))
    except SlackApiError as error:
        log.warning("could not tell %s: %s", user_id, error.response.get("error"))
