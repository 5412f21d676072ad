"""Slack action, callback and block ids: one place, so listeners and renderers cannot drift apart."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Interactive element action ids."""

    APPROVE = "approval_approve"
    DENY = "approval_deny"
    FORM_FIELD = "form_field"  # the one element inside each input block of the leave, expense and ticket modals


class Callback(StrEnum):
    """Modal callback ids."""

    DENY_REASON = "approval_deny_reason"
    LEAVE_FORM = "leave_form"
    EXPENSE_FORM = "expense_form"
    TICKET_FORM = "ticket_form"


class Block(StrEnum):
    """Input block ids inside modals."""

    REASON = "reason"
    HOME_APPROVAL = "home_approval"  # App Home queue: one actions block per approval step, suffixed _<id>_<step>
    # The fields of the leave, expense and ticket modals: the same names as assistant.forms.FormField (a test holds them equal).
    START_DATE = "start_date"
    END_DATE = "end_date"
    LEAVE_TYPE = "leave_type"
    HALF_DAY = "half_day"
    AMOUNT = "amount"
    CURRENCY = "currency"
    CATEGORY = "category"
    EXPENSE_DATE = "expense_date"
    MERCHANT = "merchant"
    DESCRIPTION = "description"
    RECEIPT = "receipt"
    SUMMARY = "summary"
    PRIORITY = "priority"


class Command(StrEnum):
    """Slash commands (as configured in the Slack app's manifest)."""

    BACKOFFICE = "/backoffice"
