"""Who is clicking or writing: the Slack user as an employee (the lookup itself is core; this supplies users.info)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.approval_cards import ChatUnavailable
from assistant.chat import UNKNOWN_PERSON, ChatUser, identify
from assistant.errors import AssistantError, AssistantErrorCode
from assistant.slack.deps import SlackDeps

log = logging.getLogger(__name__)

# What users.info and users.lookupByEmail answer when there simply is no (active) such account in the workspace.
NO_ACCOUNT_ERRORS = frozenset({"users_not_found", "user_not_found", "account_inactive"})


# How long a lookup made before Slack's 3-second acknowledgement may take (a form's submission waits for it).
QUICK_LOOKUP_SECONDS = 1.5
SLACK_SLOW = ("Slack did not tell me who you are just now ({why}), so nothing was done. Please try again in a "
              "minute.")


def email_lookup(client: WebClient, *, quick: bool = False):  # type: ignore[no-untyped-def]
    """Return a function reading a Slack user's email with users.info (scope users:read.email).

    It returns None when Slack has no such user, and raises AssistantError (chat unavailable) when Slack could not
    say (a rate limit, an outage, the network), so a real employee is never told they are not in the directory
    because of a hiccup. `quick` bounds the call, for a lookup Slack's acknowledgement waits for.
    """
    if quick:
        client = WebClient(token=client.token, base_url=client.base_url, timeout=QUICK_LOOKUP_SECONDS, retry_handlers=[])

    def unavailable(why: str) -> Exception:
        return AssistantError(AssistantErrorCode.CHAT_UNAVAILABLE, SLACK_SLOW.format(why=why))

    def lookup(user_id: str) -> str | None:
        answer = _ask_slack(lambda: client.users_info(user=user_id), "users.info", user_id, unavailable)
        email = None if answer is None else answer.get("user", {}).get("profile", {}).get("email")
        return email if isinstance(email, str) and email else None
    return lookup


def employee_of(deps: SlackDeps, client: WebClient, user_id: str, *, quick: bool = False) -> ChatUser:
    """Return the employee behind a Slack user, or raise AssistantError with a message for them.

    `quick`: the answer is needed before Slack's 3-second acknowledgement, so an unlinked user's lookup is bounded.
    """
    if not isinstance(user_id, str) or not user_id:  # a payload that names nobody: no users.info with "", no match on ""
        raise AssistantError(AssistantErrorCode.UNKNOWN_USER, UNKNOWN_PERSON)
    return identify(deps.container, user_id, email_lookup(client, quick=quick))


def chat_id_lookup(client: WebClient):  # type: ignore[no-untyped-def]
    """Return a function finding a Slack user id by email with users.lookupByEmail (scope users:read.email).

    It returns None when Slack has no account for the address, and raises ChatUnavailable when Slack could not say
    (a rate limit, an outage, a missing scope), so nobody is told "no Slack account" because of a hiccup.
    """
    def lookup(email: str) -> str | None:
        answer = _ask_slack(lambda: client.users_lookupByEmail(email=email), "users.lookupByEmail", email, ChatUnavailable)
        found = None if answer is None else answer.get("user", {}).get("id")
        return found if isinstance(found, str) and found else None
    return lookup


def _ask_slack(call: Callable[[], Any], method: str, about: str, unavailable: Callable[[str], Exception]) -> Any:
    """Make one users.* call: its answer, None when Slack has no such (active) account, or `unavailable(why)` raised
    when Slack could not say (a rate limit, an outage, a missing scope, the network)."""
    try:
        return call()
    except SlackApiError as error:
        reason = str(error.response.get("error"))
        if reason in NO_ACCOUNT_ERRORS:
            log.info("no Slack account for %s: %s", about, reason)
            return None
        log.warning("%s failed for %s: %s", method, about, reason)
        raise unavailable(reason) from error
    except OSError as error:  # timeouts and refused connections
        log.warning("%s failed for %s: %s", method, about, type(error).__name__)
        raise unavailable("no answer") from error
