"""Who is clicking or writing: the Slack user as an employee (the lookup itself is core; this supplies users.info)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

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


def chat_id_lookup(client: WebClient):  # type: ignore[no-untyped-def]
    """Return a function finding a Slack user id by email with users.lookupByEmail (scope users:read.email)."""
    def lookup(email: str) -> str | None:
        try:
            found = client.users_lookupByEmail(email=email).get("user", {}).get("id")
        except SlackApiError as error:
            log.info("no Slack account for %s: %s", email, error.response.get("error"))
            return None
        return found if isinstance(found, str) and found else None
    return lookup
