"""A receipt sent in a chat travels with the message as a note the engines read: "[receipt attached: uploads/<hash>.pdf]".

The adapter stores the file first (assistant.forms.store_uploaded_receipt) and appends the note; the offline engine
takes it out of the text into the claim's receipt slot, and the LLM engine's model passes it as `receipt_path`.
A note is only a claim that a file exists: `submit_expense` checks the reference against the uploads folder.
"""

from __future__ import annotations

import re

RECEIPT_NOTE = re.compile(r"\s*\[receipt attached: (?P<reference>uploads/[\w-]+\.[A-Za-z0-9]{2,5})\]\s*")


def note_receipt(text: str, reference: str) -> str:
    """Return the message text with the note of an attached receipt."""
    return f"{text.strip()} [receipt attached: {reference}]".strip()


def take_receipt_note(text: str) -> tuple[str, str | None]:
    """Split a message into its own words and the reference of the receipt it carries (None without one)."""
    found = RECEIPT_NOTE.search(text)
    if found is None:
        return text, None
    return " ".join(RECEIPT_NOTE.sub(" ", text).split()), found.group("reference")
