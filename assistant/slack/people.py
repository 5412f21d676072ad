"""Who is clicking or writing: the Slack user as an employee (the lookup itself is core; this supplies users.info)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.approval_cards import ChatUnavailable
from assistant.chat import UNKNOWN_PERSON, ChatUser, identify
from assistant.errors import AssistantError, AssistantErrorCode
from assistant.slack.deps import SlackDeps

log = logging.getLogger(__name__)


def email_lookup(client: WebClient):  # type: ignore[no-untyped-def]
    """Return a function reading a Slack user's email with users.info (scope users:read.email)."""
    def lookup(user_id: str) -> str | None:
        try:
            profile = client.users_info(user=user_id).get("user", {}).get("profile", {})
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        email = profile.get("email")
        return email if isinstance(email, str) and email else None
    return lookup


def employee_of(deps: SlackDeps, client: WebClient, user_id: str) -> ChatUser:
    """Return the employee behind a Slack user, or raise AssistantError with a message for them."""
    if not isinstance(user_id, str) or not user_id:  # a payload that names nobody: no users.info with "", no match on ""
        raise AssistantError(AssistantErrorCode.UNKNOWN_USER, UNKNOWN_PERSON)
    return identify(deps.container, user_id, email_lookup(client))


# What users.lookupByEmail answers when the address simply has no (active) account in the workspace.
NO_ACCOUNT_ERRORS = frozenset({"users_not_found", "user_not_found", "account_inactive"})


def chat_id_lookup(client: WebClient):  # type: ignore[no-untyped-def]
    """Return a function finding a Slack user id by email with users.lookupByEmail (scope users:read.email).

    It returns None when Slack has no account for the address, and raises ChatUnavailable when Slack could not say
    (a rate limit, an outage, a missing scope), so nobody is told "no Slack account" because of a hiccup.
    """
    def lookup(email: str) -> str | None:
        try:
            found = client.users_lookupByEmail(email=email).get("user", {}).get("id")
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in NO_ACCOUNT_ERRORS:
                log.info("no Slack account for %s: %s", email, reason)
                return None
            log.warning("users.lookupByEmail failed for %s: %s", email, reason)
            raise ChatUnavailable(str(reason)) from error
        except OSError as error:
            log.warning("users.lookupByEmail failed for %s: %s", email, type(error).__name__)
            raise ChatUnavailable(type(error).__name__) from error
        return found if isinstance(found, str) and found else None
    return lookup
