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

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.chat import answer, has_conversation
from assistant.errors import error_text
from assistant.nlu.slot_text import clean_slack_markup
from assistant.receipt_note import note_receipt
from assistant.slack.blocks import escape
from assistant.slack.cards import sync_cards
from assistant.slack.delivery import DELIVERY_ERRORS, after_the_work, failure_reason, tell_privately
from assistant.slack.deps import SlackDeps
from assistant.slack.ids import MessageSubtype
from assistant.slack.once import once_per_event
from assistant.slack.payloads import as_text
from assistant.slack.people import employee_of

log = logging.getLogger(__name__)
PLACEHOLDER = "_Working on it…_"
# In a channel, only these answers are for everyone's eyes; balances, requests, claims and tickets go to the person
# alone (an ephemeral message in the thread, so their "yes" there still continues the conversation).
PUBLIC_INTENTS = frozenset({"policy_question", "help", "out_of_scope"})
ANSWERED_PRIVATELY = "_Answered privately: only the person who asked can see it._"
NOT_ANSWERED_PRIVATELY = "_I couldn't answer privately here; send me a direct message and ask again._"
# Messages people write: plain, with files (the uploads listener takes those), "also send to channel" thread
# replies and /me. Every other subtype is Slack's own doing (joins, edits, deletions, EKM notices, bot posts).
HUMAN_SUBTYPES = frozenset(MessageSubtype)
SLACKBOT = "USLACKBOT"


def register(app: App, deps: SlackDeps) -> None:
    """Listen to direct messages, mentions and follow-ups in threads the assistant takes part in."""

    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("bot_id") or not written_by_a_person(event) or event.get("subtype") == MessageSubtype.FILE_SHARE:
            return  # itself, other bots, edits and system notices; files go to the uploads listener
        user, channel, thread = as_text(event.get("user")), as_text(event.get("channel")), as_text(event.get("thread_ts"))
        if user is None or channel is None or user == SLACKBOT:
            return  # Slackbot's notices, userless or channelless events: nobody to answer, nowhere to answer
        if event.get("channel_type") == "im":
            key = dm_key(channel)  # a reply in a thread under the bot's message continues the DM's conversation
        elif thread and not _mentions_bot(event, body, context.bot_user_id) \
                and has_conversation(deps.container, thread_key(channel, thread, user)):
            key = thread_key(channel, thread, user)  # a follow-up by someone who spoke to the assistant in this thread
        else:
            return
        converse(deps, client, user_id=user, channel=channel, thread_ts=thread, key=key, text=_text(event),
                 in_channel=event.get("channel_type") != "im", sent_at=as_text(event.get("ts")))

    def on_mention(event: dict[str, Any], client: WebClient, **_: Any) -> None:
        user, channel = as_text(event.get("user")), as_text(event.get("channel"))
        if event.get("bot_id") or user is None or channel is None:
            return
        thread = as_text(event.get("thread_ts")) or as_text(event.get("ts")) or ""
        converse(deps, client, user_id=user, channel=channel, thread_ts=thread or None, key=thread_key(channel, thread, user),
                 text=_text(event), in_channel=True, sent_at=as_text(event.get("ts")))

    app.event("message")(once_per_event(deps, on_message))
    app.event("app_mention")(once_per_event(deps, on_mention))


def written_by_a_person(event: dict[str, Any]) -> bool:
    """Whether a message event is something a person wrote (no subtype, or one of HUMAN_SUBTYPES)."""
    subtype = event.get("subtype")
    return subtype is None or (isinstance(subtype, str) and subtype in HUMAN_SUBTYPES)


def _text(event: dict[str, Any]) -> str:
    text = event.get("text")
    return str(text) if isinstance(text, (str, int, float)) else ""  # a number is still text; an object is none


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
    person = None
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
    if (reply is not None and reply.wrote) or (person is not None and person.linked_now):
        # a decision made in the conversation closes its card and tells the requester; an approver writing for the
        # first time gets the cards that waited for their account
        with after_the_work():
            sync_cards(deps, client)


def thread_key(channel: str, thread_ts: str, user_id: str) -> str:
    """Return the conversation key of one person in a channel thread: each person who speaks there has their own."""
    return f"slack:{channel}:{thread_ts}:{user_id}"


def dm_key(channel: str) -> str:
    """Return the conversation key of a direct message: one conversation per DM, whether the person answers in the
    DM itself or in a thread under the assistant's message (the answer still goes where they wrote)."""
    return f"slack:{channel}"


def _post_placeholder(client: WebClient, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
    """Post the 'working on it' message; return its (channel, ts), or None when Slack did not take it."""
    try:
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=PLACEHOLDER)
    except DELIVERY_ERRORS as error:  # the answer is still posted, as a new message
        log.warning("could not post the placeholder in %s: %s", channel, failure_reason(error))
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
    # never the answer itself in public, and no placeholder left behind when the person cannot be reached at all
    told = tell_privately(client, user_id=user_id, channel=channel, text=text, thread_ts=thread_ts)
    _deliver(client, channel, thread_ts, placeholder, ANSWERED_PRIVATELY if told else NOT_ANSWERED_PRIVATELY)


def _mentions_bot(event: dict[str, Any], body: dict[str, Any], bot_user_id: str | None) -> bool:
    """Whether a message mentions the assistant (then its app_mention copy is the one answered).

    The bot's user id comes from the body's authorizations, else from auth.test (the App's context); older payloads
    (and Slack's own app_mention example) carry `authed_users` instead of authorizations.
    """
    authorizations = body.get("authorizations") if isinstance(body.get("authorizations"), list) else []
    bots = {as_text(auth.get("user_id")) for auth in authorizations if isinstance(auth, dict) and auth.get("is_bot")}
    bots = {bot for bot in bots | {bot_user_id} if bot}
    if not bots and isinstance(body.get("authed_users"), list):
        bots = {user for user in body["authed_users"] if isinstance(user, str) and user}
    text = _text(event)
    return any(f"<@{bot}>" in text or f"<@{bot}|" in text for bot in bots)
