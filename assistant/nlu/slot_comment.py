"""A comment for an open ticket, read from a message: "add to ticket 12: I restarted and it is still broken"."""

from __future__ import annotations

import re

Slots = dict[str, str]

_COMMENTING = re.compile(
    r"\b(comment|add\s+(?:a\s+)?(?:note|comment|update)|add\s+(?:this\s+)?to|update\s+(?:my\s+)?(?:ticket|incident|#)|"
    r"reply\s+to|respond\s+to|note\s+on|follow[- ]?up\s+on|tell\s+(?:it|them|the\s+(?:helpdesk|it\s+team))\b.*\b(?:on|in|for)\s+"
    r"(?:my\s+)?(?:ticket|incident|#))", re.I)
_TICKET = re.compile(r"\b(?:ticket|incident|case)\b", re.I)
_TICKET_NUMBER = re.compile(r"(?:\b(?:ticket|incident|case)\s*(?:#|no\.?|number)?\s*|#\s*)(\d+)", re.I)
_BODY = re.compile(
    r"(?:\b(?:ticket|incident|case)\s*(?:#|no\.?|number)?\s*\d+|#\s*\d+|\b(?:my|the)\s+(?:ticket|incident|case))"
    r"\s*(?::|-|–|—|,|\s+(?:that|saying|with|to\s+say))\s*:?\s*(?P<body>\S.*)", re.I | re.S)
_LEAD_BODY = re.compile(r"^\s*(?:comment|note|update)\s*:\s*(?P<body>\S.*)", re.I | re.S)


def comment_request(text: str) -> bool:
    """Return True when a message asks to add something to a ticket (rather than to open one)."""
    return bool(_COMMENTING.search(text) and (_TICKET.search(text) or _TICKET_NUMBER.search(text)))


def read_comment_slots(text: str, answering: str | None = None) -> Slots:
    """Read the ticket number and the comment's text; a reply to a question fills the slot asked."""
    slots: Slots = {}
    number = _TICKET_NUMBER.search(text)
    if number is not None:
        slots["ticket_id"] = number.group(1)
    elif answering == "ticket_id" and re.fullmatch(r"\s*#?\s*\d+\s*", text):
        slots["ticket_id"] = text.strip().lstrip("#").strip()
    body = _BODY.search(text) or _LEAD_BODY.search(text)
    if body is not None:
        slots["body"] = _tidy(body.group("body"))[:10_000]
    elif answering == "body" and text.strip() and "ticket_id" not in slots:
        slots["body"] = _tidy(text)[:10_000]
    return slots


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(" \"'")
