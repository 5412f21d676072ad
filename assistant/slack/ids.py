"""Slack action, callback and block ids and message subtypes: one place, so listeners and renderers cannot drift apart."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Interactive element action ids."""

    APPROVE = "approval_approve"
    DENY = "approval_deny"
    FORM_FIELD = "form_field"  # the one element inside each input block of the leave, expense and ticket modals
    TICKET_TAKE = "ticket_take"  # App Home team queue: take a ticket (become its assignee)
    TICKET_RESOLVE = "ticket_resolve"  # App Home team queue: mark a ticket resolved


class Callback(StrEnum):
    """Modal callback ids."""

    DENY_REASON = "approval_deny_reason"
    LEAVE_FORM = "leave_form"
    EXPENSE_FORM = "expense_form"
    TICKET_FORM = "ticket_form"
    ACCESS_FORM = "access_form"


class Block(StrEnum):
    """Block ids of our own (the form modals use assistant.forms.FormField names as theirs)."""

    REASON = "reason"
    HOME_APPROVAL = "home_approval"  # App Home queue: one actions block per approval step, suffixed _<id>_<step>
    HOME_TICKET = "home_ticket"  # App Home team queue: one actions block per ticket, suffixed _<id>


class MessageSubtype(StrEnum):
    """Subtypes of message events that a person wrote (every other subtype is Slack's own doing)."""

    FILE_SHARE = "file_share"  # a message with files: the uploads listener takes it
    THREAD_BROADCAST = "thread_broadcast"  # a thread reply also sent to the channel
    ME_MESSAGE = "me_message"  # /me does something
