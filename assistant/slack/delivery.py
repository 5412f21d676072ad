"""Getting an answer to one person whichever way Slack lets us: the response_url, an ephemeral message, a DM.

An answer is often sent after the work it reports was done (a leave request filed, an approval decided), so a
failed delivery is never a failure of the work: it is logged and the next way is tried. What still goes wrong
after the work is marked with `after_the_work()`, so the error edge never tells the person that nothing changed.
"""

from __future__ import annotations

import http.client
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
EPHEMERAL = "ephemeral"
# What a failed Web API call or webhook raises: Slack's refusal, or the network (URLError and timeouts are OSErrors).
DELIVERY_ERRORS = (SlackApiError, OSError, http.client.HTTPException)


class SlackErrorCode(StrEnum):
    """Why the Slack adapter failed."""

    AFTER_THE_WORK = "after_the_work"  # the request was carried out; only telling the person about it failed


class SlackError(Exception):
    """A failure of the Slack adapter itself (the cause, when there is one, is chained)."""

    def __init__(self, code: SlackErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@contextmanager
def after_the_work() -> Iterator[None]:
    """Mark what follows as reporting on work already done: an error in it is raised as AFTER_THE_WORK."""
    try:
        yield
    except Exception as error:
        raise SlackError(SlackErrorCode.AFTER_THE_WORK, "failed after the work was done") from error


def after_the_work_text(error: SlackError) -> str:
    """Return what the person reads when something failed after their request was carried out (logged with an id)."""
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s after the request was carried out", error_id, exc_info=error.__cause__ or error)
    return (f"Your request went through, but something went wrong on our side afterwards (error id {error_id}). "
            "Check `/backoffice status` before you try it again.")


def answer_privately(respond: Respond | None, client: WebClient, *, user_id: str, channel: str | None, text: str,
                     blocks: list[dict[str, Any]] | None = None, replace_original: bool = False) -> bool:
    """Answer through the response_url; when Slack does not take it, ephemerally in the channel, then by DM.

    Return whether the answer was delivered (a failure is logged, never raised).
    """
    if respond is not None and respond.response_url and _responded(respond, text, blocks, replace_original):
        return True
    return tell_privately(client, user_id=user_id, channel=channel, text=text, blocks=blocks)


def _responded(respond: Respond, text: str, blocks: list[dict[str, Any]] | None, replace_original: bool) -> bool:
    try:
        sent = respond(text=text, blocks=blocks, response_type=EPHEMERAL, replace_original=replace_original or None)
    except (*DELIVERY_ERRORS, ValueError) as error:  # an unreachable or malformed response_url
        log.warning("the response_url did not take the answer (%s: %s); answering another way", type(error).__name__, error)
        return False
    if not 200 <= sent.status_code < 300:  # e.g. 404 expired_url, 410, 5xx: the webhook client returns, it does not raise
        log.warning("the response_url answered %s (%s); answering another way", sent.status_code, str(sent.body)[:100])
        return False
    return True


def tell_privately(client: WebClient, *, user_id: str, channel: str | None, text: str,
                   blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None) -> bool:
    """Show text to one person: ephemerally in the channel, else (no channel, or Slack refuses) in a DM.

    Return whether it was delivered (a failure is logged, never raised).
    """
    if not user_id:
        return False
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks, thread_ts=thread_ts)
            return True
        except DELIVERY_ERRORS as error:  # e.g. the bot is not in that channel: a DM still reaches the person
            log.warning("could not answer %s ephemerally in %s (%s); sending a DM", user_id, channel, failure_reason(error))
    try:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        return True
    except DELIVERY_ERRORS as error:
        log.error("could not answer %s by DM either: %s", user_id, failure_reason(error))
        return False


def failure_reason(error: BaseException) -> str:
    """Return the short reason of a failed delivery: Slack's error code, or the kind of network failure."""
    return str(error.response.get("error")) if isinstance(error, SlackApiError) else type(error).__name__
