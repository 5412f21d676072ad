"""Approval cards in Slack: sent to the approver's DM, decided with Approve / Deny, then closed in place."""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.approval_cards import (
    DecisionOutcome, claim_new_cards, claim_settled, decide_from_card, record_card_posted, release_card, why_not_decidable,
)
from assistant.chat import ChatUser
from assistant.errors import error_text
from assistant.slack.blocks import card_blocks, card_text, closed_card_blocks, closed_card_text, deny_reason_modal, escape
from assistant.slack.delivery import DELIVERY_ERRORS, after_the_work, answer_privately, failure_reason, tell_privately
from assistant.slack.deps import SlackDeps
from assistant.slack.home import publish_home
from assistant.slack.ids import Action, Block, Callback
from assistant.slack.payloads import as_object, as_text, json_object
from assistant.slack.people import chat_id_lookup, employee_of

log = logging.getLogger(__name__)


def deliver_cards(deps: SlackDeps, client: WebClient) -> int:
    """Send a card for every approval step that has none yet; return how many were sent."""
    sent = 0
    claimed = claim_new_cards(deps.container, find_chat_id=chat_id_lookup(client), now=deps.clock())
    for stranded in claimed.stranded:  # the approver has no Slack account: the requester learns who must decide
        if stranded.requester_chat_id:
            try:
                client.chat_postMessage(channel=stranded.requester_chat_id, text=escape(stranded.text))
            except DELIVERY_ERRORS as error:
                log.error("could not tell the requester of approval #%s that its approver has no Slack account: %s",
                          stranded.approval_id, failure_reason(error))
    for card in claimed.cards:
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
        click = clicked(body)
        if click.approval_id is None or click.user_id is None:
            _refuse_button(client, click.channel, click.user_id)
            return
        outcome = decide(deps, client, user_id=click.user_id, approval_id=click.approval_id, decision="approve",
                         channel=click.channel, step=click.step)
        if outcome is None or not outcome.decided:
            if click.from_home:
                publish_home(deps, client, click.user_id)
            return
        with after_the_work():
            if click.ephemeral:  # the /backoffice approvals list: no stale buttons (or, failing that, a new message)
                answer_privately(respond, client, user_id=click.user_id, channel=click.channel, text=escape(outcome.text),
                                 replace_original=True)
            if click.from_home:  # clicked in the App Home: show the queue without it
                publish_home(deps, client, click.user_id)

    @app.action(Action.DENY.value)
    def on_deny(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = clicked(body)
        if click.approval_id is None or click.user_id is None or not click.trigger_id:
            _refuse_button(client, click.channel, click.user_id)
            return
        approver = _clicker(deps, client, click.user_id, click.channel)
        if approver is None:
            return
        refusal = why_not_decidable(deps.container, actor_id=approver.employee_id, approval_id=click.approval_id,
                                    step=click.step, now=deps.clock())
        if refusal is not None:  # decided already, or not theirs: no form to fill in for nothing
            _tell(client, click.channel, click.user_id, refusal)
            if click.from_home:
                publish_home(deps, client, click.user_id)
            return
        metadata = json.dumps({"approval_id": click.approval_id, "step": click.step, "channel": click.channel,
                               "from_home": click.from_home})
        try:
            client.views_open(trigger_id=click.trigger_id, view=deny_reason_modal(click.approval_id, metadata))
        except DELIVERY_ERRORS as error:  # an expired trigger: nothing was decided, the approver may click again
            log.warning("could not open the deny form of approval #%s: %s", click.approval_id, failure_reason(error))
            _tell(client, click.channel, click.user_id, DENY_FORM_FAILED)

    @app.view(Callback.DENY_REASON.value)
    def on_deny_reason(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        reason = deny_reason(body.get("view"))
        if not reason:
            ack(response_action="errors", errors={Block.REASON.value: "Please say why you deny it; the requester will see it."})
            return
        ack()
        metadata = json_object(as_object(body.get("view")).get("private_metadata"))
        approval_id, user_id = _positive_int(metadata.get("approval_id")), as_text(as_object(body.get("user")).get("id"))
        channel = as_text(metadata.get("channel"))
        if approval_id is None or user_id is None:
            _refuse_button(client, channel, user_id)
            return
        outcome = decide(deps, client, user_id=user_id, approval_id=approval_id, decision="deny", reason=reason, channel=channel,
                         step=_positive_int(metadata.get("step")))
        if metadata.get("from_home") is True:
            with after_the_work() if outcome is not None and outcome.decided else nullcontext():
                publish_home(deps, client, user_id)


BROKEN_BUTTON = "That button doesn't work any more. `/backoffice approvals` lists what waits for your decision."
DENY_FORM_FAILED = "I couldn't open the form for the reason (Slack said no); please click Deny again."


@dataclass(frozen=True)
class Click:
    """A card button click as far as its payload can be read: None for what a real card never sends."""

    approval_id: int | None
    user_id: str | None
    channel: str | None
    trigger_id: str | None
    ephemeral: bool  # in the /backoffice approvals list, which only the response_url can replace
    from_home: bool  # in the App Home
    step: int | None = None  # the step the card was sent for (1-based); an old card cannot decide a later step


def clicked(body: dict[str, Any]) -> Click:
    """Return the approval a card button names, who clicked it and where."""
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    value = json_object(as_object(actions[0] if actions else None).get("value"))
    container = as_object(body.get("container"))
    return Click(approval_id=_positive_int(value.get("approval_id")), step=_positive_int(value.get("step")),
                 user_id=as_text(as_object(body.get("user")).get("id")),
                 channel=as_text(as_object(body.get("channel")).get("id")) or as_text(container.get("channel_id")),
                 trigger_id=as_text(body.get("trigger_id")), ephemeral=container.get("is_ephemeral") is True,
                 from_home=container.get("type") == "view")


def deny_reason(view: object) -> str:
    """Return the reason typed in the deny modal; empty when there is none, or the view cannot be read."""
    values = as_object(as_object(as_object(view).get("state")).get("values"))
    typed = as_object(as_object(values.get(Block.REASON.value)).get(Action.FORM_FIELD.value)).get("value")
    return typed.strip() if isinstance(typed, str) else ""


def _positive_int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else \
        int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) > 0 else None


def _refuse_button(client: WebClient, channel: str | None, user_id: str | None) -> None:
    log.warning("a card button or deny form without a readable approval (channel %s, user %s)", channel, user_id)
    if user_id:
        _tell(client, channel, user_id, BROKEN_BUTTON)


def _clicker(deps: SlackDeps, client: WebClient, user_id: str, channel: str | None) -> ChatUser | None:
    """Return the employee who clicked; None when they are not one, after telling them why."""
    try:
        return employee_of(deps, client, user_id)
    except Exception as error:  # noqa: BLE001 - unknown clicker: they read why
        _tell(client, channel, user_id, error_text(error))
        return None


def decide(deps: SlackDeps, client: WebClient, *, user_id: str, approval_id: int, decision: str, channel: str | None,
           reason: str = "", step: int | None = None) -> DecisionOutcome | None:
    """Decide as the clicking approver; close the cards, tell the requester, and send the next step's card."""
    approver = _clicker(deps, client, user_id, channel)
    if approver is None:
        return None
    outcome = decide_from_card(deps.container, actor_id=approver.employee_id, approval_id=approval_id, decision=decision,
                               reason=reason, step=step, now=deps.clock())
    if not outcome.decided:  # a second click, a racing approver, not theirs: nothing changes, only they are told
        _tell(client, channel, user_id, outcome.text)
        return outcome
    with after_the_work():
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
            client.chat_update(channel=channel, ts=ts, text=closed_card_text(approval_id, outcome),
                               blocks=closed_card_blocks(outcome))
        except DELIVERY_ERRORS as error:
            log.warning("could not close a card in %s: %s", channel, failure_reason(error))
    for outcome in settled.tell:
        if not outcome.requester_chat_id:
            continue
        try:
            client.chat_postMessage(channel=outcome.requester_chat_id, text=escape(_requester_text(outcome)))
        except DELIVERY_ERRORS as error:
            log.error("could not tell %s about a decision: %s", outcome.requester_chat_id, failure_reason(error))


def _requester_text(outcome: DecisionOutcome) -> str:
    by = f" by {outcome.decided_by}" if outcome.decided_by else ""
    verdict = {"approved": "was approved", "rejected": "was denied", "failed": "was approved but could not be carried out"}
    reason = f" Reason: {outcome.reason}" if outcome.reason else ""
    return f"Your request \"{outcome.summary}\" {verdict.get(outcome.status, outcome.status)}{by}.{reason}"


def _tell(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """Answer only the clicking person (ephemeral), or in a DM when the channel is unknown or Slack refuses it."""
    tell_privately(client, user_id=user_id, channel=channel, text=escape(text))
