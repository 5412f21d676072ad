"""Slack action, callback and block ids: one place, so listeners and renderers cannot drift apart."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Interactive element action ids."""

    APPROVE = "approval_approve"
    DENY = "approval_deny"


class Callback(StrEnum):
    """Modal callback ids."""

    DENY_REASON = "approval_deny_reason"
    LEAVE_FORM = "leave_form"
    EXPENSE_FORM = "expense_form"
    TICKET_FORM = "ticket_form"


class Block(StrEnum):
    """Input block ids inside modals."""

    REASON = "reason"
