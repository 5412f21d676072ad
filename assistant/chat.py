"""What a chat adapter (Slack) asks of the core: who is writing, was this event seen, and answer this message.

The adapter converts payloads and renders; identity, exactly-once handling and the turn itself live here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from assistant.container import Container
from assistant.dialogue.reply import Reply
from assistant.engines import AGENT_MEMORY_PREFIX, ConversationEngine
from assistant.errors import AssistantError, AssistantErrorCode, error_text
from tools.conversations.service import conversation_exists
from tools.db import run_in_transaction, transaction, utcnow
from tools.errors import ToolError
from tools.messaging.service import record_event
from tools.people.models import Employee
from tools.people.service import get_employee_by_email, get_employee_by_slack_id, record_slack_link

log = logging.getLogger(__name__)
UNKNOWN_PERSON = ("I couldn't match your Slack account to anyone in the company directory, so I can't act for you yet. "
                  "Ask HR or an admin to add your work email to the directory.")
LINKED_ELSEWHERE = ("Your work email belongs to someone the directory already links to another Slack account, so I can't act "
                    "for this one. Ask HR or an admin to put this account's Slack id in the directory if it is yours.")


@dataclass(frozen=True)
class ChatUser:
    """The employee behind a chat account."""

    employee_id: int
    email: str
    name: str
    roles: frozenset[str]
    active: bool
    linked_now: bool = False  # the account was linked to the employee by this lookup (their first message)


def first_delivery(container: Container, key: str, now: datetime | None = None) -> bool:
    """Return True the first time an event key is seen, False for a retry or duplicate (kept in the database)."""
    return run_in_transaction(container.session_factory, lambda session: record_event(session, key=key, now=now or utcnow()))


def identify(container: Container, chat_user_id: str, lookup_email: Callable[[str], str | None]) -> ChatUser:
    """Return the employee for a chat account: by stored id, else by the account's email, then remembered."""
    with transaction(container.session_factory) as session:
        employee = get_employee_by_slack_id(session, slack_user_id=chat_user_id)
        if employee is not None:
            return _user(employee)
    email = lookup_email(chat_user_id)
    if not email:
        raise AssistantError(AssistantErrorCode.UNKNOWN_USER, UNKNOWN_PERSON)
    with transaction(container.session_factory) as session:
        try:
            employee = get_employee_by_email(session, email=email)
        except ToolError as error:
            raise AssistantError(AssistantErrorCode.UNKNOWN_USER, UNKNOWN_PERSON) from error
        if employee.slack_user_id and employee.slack_user_id != chat_user_id:
            # a second account with the same email (Enterprise Grid, Slack Connect, a re-created account) never takes
            # over the linked one: cards and notices keep going to the account the directory names
            log.warning("Slack account %s has the email of employee %s, who is linked to %s; not relinked",
                        chat_user_id, employee.id, employee.slack_user_id)
            raise AssistantError(AssistantErrorCode.UNKNOWN_USER, LINKED_ELSEWHERE)
        linked_now = employee.slack_user_id != chat_user_id
        if linked_now:
            record_slack_link(session, employee=employee, slack_user_id=chat_user_id, found_by="users.info email")
        return _user(employee, linked_now=linked_now)


def _user(employee: Employee, *, linked_now: bool = False) -> ChatUser:
    return ChatUser(employee.id, employee.email, employee.name, frozenset(role.value for role in employee.roles), employee.active,
                    linked_now)


def answer(engine: ConversationEngine, *, key: str, employee_id: int, text: str, now: datetime | None = None) -> Reply:
    """Answer one chat message; any failure becomes a reason the person can read."""
    try:
        return engine.handle(key=key, actor_id=employee_id, text=text, now=now)
    except Exception as error:  # noqa: BLE001 - the chat edge: whoever addressed the bot gets an answer
        return Reply(error_text(error))


def has_conversation(container: Container, key: str) -> bool:
    """Return True when the assistant already takes part in this conversation (a thread it was mentioned in)."""
    with transaction(container.session_factory) as session:
        return conversation_exists(session, keys=(key, AGENT_MEMORY_PREFIX + key))


def database_ok(container: Container) -> bool:
    """Return True when the database answers (the health check of `serve`)."""
    from sqlalchemy import text

    with container.engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1
