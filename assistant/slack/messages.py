"""DMs, @mentions and thread follow-ups: acknowledged at once, answered by updating a placeholder."""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.chat import answer, has_conversation
from assistant.errors import error_text
from assistant.nlu.slot_text import clean_slack_markup
from assistant.receipt_note import note_receipt
from assistant.slack.blocks import escape
from assistant.slack.cards import sync_cards
from assistant.slack.deps import SlackDeps
from assistant.slack.once import once_per_event
from assistant.slack.people import employee_of

log = logging.getLogger(__name__)
PLACEHOLDER = "_Working on it…_"
# In a channel, only these answers are for everyone's eyes; balances, requests, claims and tickets go to the person
# alone (an ephemeral message in the thread, so their "yes" there still continues the conversation).
PUBLIC_INTENTS = frozenset({"policy_question", "help", "out_of_scope"})
ANSWERED_PRIVATELY = "_Answered privately: only the person who asked can see it._"
NOT_ANSWERED_PRIVATELY = "_I couldn't answer privately here; send me a direct message and ask again._"
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "message_replied", "channel_join", "channel_leave",
                    "thread_broadcast"}


def register(app: App, deps: SlackDeps) -> None:
    """Listen to direct messages, mentions and follow-ups in threads the assistant takes part in."""

    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES or event.get("subtype") == "file_share":
            return  # itself, other bots, edits; files go to the uploads listener
        user, channel, thread = event.get("user"), event.get("channel", ""), event.get("thread_ts")
        if not user or user == "USLACKBOT":
            return  # Slackbot's notices and userless system messages are nobody to answer
        if event.get("channel_type") == "im":
            key = dm_key(channel, thread)
        elif thread and not _mentions_bot(event, body) and has_conversation(deps.container, thread_key(channel, thread, user)):
            key = thread_key(channel, thread, user)  # a follow-up by someone who spoke to the assistant in this thread
        else:
            return
        converse(deps, client, user_id=user, channel=channel, thread_ts=thread, key=key, text=str(event.get("text") or ""),
                 in_channel=event.get("channel_type") != "im", sent_at=event.get("ts"))

    def on_mention(event: dict[str, Any], client: WebClient, **_: Any) -> None:
        if event.get("bot_id"):
            return
        thread = event.get("thread_ts") or event.get("ts")
        channel = event.get("channel", "")
        converse(deps, client, user_id=event.get("user", ""), channel=channel, thread_ts=thread,
                 key=thread_key(channel, thread or "", event.get("user", "")), text=str(event.get("text") or ""), in_channel=True,
                 sent_at=event.get("ts"))

    app.event("message")(once_per_event(deps, on_message))
    app.event("app_mention")(once_per_event(deps, on_mention))


class _ConversationTurns:
    """Messages of one conversation are answered one at a time, in the order they were sent (their Slack ts), so
    the second of two quick messages sees what the first left ("yes" finds the read-back) and neither overwrites
    the other's state. A message waits at most WAIT_SECONDS for those sent before it."""

    WAIT_SECONDS = 120.0

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[str, list[tuple[float, int]]] = {}  # key -> (sent at, arrival) of each message, in order
        self._arrivals = itertools.count()

    @contextmanager
    def turn(self, key: str, sent_at: str | None) -> Iterator[None]:
        """Wait until every earlier message of the conversation was answered, then answer this one."""
        mine = (_seconds(sent_at), next(self._arrivals))
        with self._changed:
            bisect.insort(self._waiting.setdefault(key, []), mine)
            self._changed.wait_for(lambda: self._waiting[key][0] == mine, timeout=self.WAIT_SECONDS)
        try:
            yield
        finally:
            with self._changed:
                self._waiting[key].remove(mine)
                if not self._waiting[key]:
                    del self._waiting[key]
                self._changed.notify_all()


def _seconds(sent_at: str | None) -> float:
    try:
        return float(sent_at) if sent_at else time.time()
    except ValueError:
        return time.time()


CONVERSATION_TURNS = _ConversationTurns()


def converse(deps: SlackDeps, client: WebClient, *, user_id: str, channel: str, thread_ts: str | None, key: str, text: str,
             attach: Callable[[], str] | None = None, in_channel: bool = False, sent_at: str | None = None) -> None:
    """Post a placeholder, answer the message as the employee, and put the answer in the placeholder's place.

    `attach` stores a receipt sent with the message (only once the sender is known) and returns its reference.
    In a channel (`in_channel`), an answer about the person's own records is shown to them alone. `sent_at` (the
    message's ts) puts it in order among the conversation's other messages.
    """
    with CONVERSATION_TURNS.turn(key, sent_at):
        placeholder = _post_placeholder(client, channel, thread_ts)
        _answer_and_deliver(deps, client, user_id=user_id, channel=channel, thread_ts=thread_ts, key=key, text=text,
                            attach=attach, in_channel=in_channel, placeholder=placeholder)


def _answer_and_deliver(deps: SlackDeps, client: WebClient, *, user_id: str, channel: str, thread_ts: str | None, key: str,
                        text: str, attach: Callable[[], str] | None, in_channel: bool, placeholder: tuple[str, str] | None) -> None:
    try:
        person = employee_of(deps, client, user_id)
        said = clean_slack_markup(text or "").strip()
        if attach is not None:
            said = note_receipt(said, attach())
        reply = answer(deps.engine, key=key, employee_id=person.employee_id, text=said, now=deps.clock())
        reply_text = reply.text
    except Exception as error:  # noqa: BLE001 - the person who wrote always gets an answer or a reason
        reply, reply_text = None, error_text(error)
    try:
        if in_channel and reply is not None and reply.intent not in PUBLIC_INTENTS:
            _deliver_privately(client, channel, thread_ts, placeholder, user_id, escape(reply_text))
        else:
            _deliver(client, channel, thread_ts, placeholder, escape(reply_text))
    except Exception:  # noqa: BLE001 - Slack did not take the answer; what the turn did stands, so no "nothing changed"
        log.exception("could not deliver the answer in %s", channel)
    if reply is not None and reply.wrote:
        sync_cards(deps, client)  # a decision made in the conversation closes its card and tells the requester


def thread_key(channel: str, thread_ts: str, user_id: str) -> str:
    """Return the conversation key of one person in a channel thread: each person who speaks there has their own."""
    return f"slack:{channel}:{thread_ts}:{user_id}"


def dm_key(channel: str, thread_ts: str | None) -> str:
    """Return the conversation key of a direct message: the DM itself, or one thread in it."""
    return f"slack:{channel}:{thread_ts}" if thread_ts else f"slack:{channel}"


def _post_placeholder(client: WebClient, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
    """Post the 'working on it' message; return its (channel, ts), or None when Slack did not take it."""
    try:
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=PLACEHOLDER)
    except SlackApiError as error:
        log.warning("could not post the placeholder in %s: %s", channel, error.response.get("error"))
        return None
    return (posted.get("channel") or channel, posted["ts"]) if posted.get("ts") else None


def _deliver(client: WebClient, channel: str, thread_ts: str | None, placeholder: tuple[str, str] | None, text: str) -> None:
    """Put the answer in the placeholder's place; when that cannot be done, post it as a new message."""
    if placeholder is not None:
        try:
            client.chat_update(channel=placeholder[0], ts=placeholder[1], text=text)
            return
        except SlackApiError as error:  # e.g. the placeholder was deleted meanwhile
            log.warning("could not update the placeholder in %s: %s", placeholder[0], error.response.get("error"))
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)


def _deliver_privately(client: WebClient, channel: str, thread_ts: str | None, placeholder: tuple[str, str] | None,
                       user_id: str, text: str) -> None:
    """Show the answer to the person alone in the thread (by DM when Slack refuses that), and say so in public."""
    public = ANSWERED_PRIVATELY
    try:
        client.chat_postEphemeral(channel=channel, user=user_id, thread_ts=thread_ts, text=text)
    except SlackApiError as error:  # e.g. the bot is not in the channel: a DM still reaches the person
        log.warning("could not answer %s privately in %s (%s); sending a DM", user_id, channel, error.response.get("error"))
        try:
            client.chat_postMessage(channel=user_id, text=text)
        except SlackApiError as dm_error:
            log.error("could not answer %s by DM either: %s", user_id, dm_error.response.get("error"))
            public = NOT_ANSWERED_PRIVATELY  # never the answer itself in public, and no placeholder left behind
    _deliver(client, channel, thread_ts, placeholder, public)


def _mentions_bot(event: dict[str, Any], body: dict[str, Any]) -> bool:
    bots = {auth.get("user_id") for auth in body.get("authorizations") or [] if auth.get("is_bot")}
    return any(f"<@{bot}>" in (event.get("text") or "") for bot in bots if bot)
