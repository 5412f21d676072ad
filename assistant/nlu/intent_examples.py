"""The intent examples data file (intents.json): load it, check it, and fingerprint it for caching.

Each entry is a label with examples. A label is either one of the fixed intents of DESIGN.md or an internal
helper label with `maps_to` naming the fixed intent it stands for (e.g. `company_holidays` -> policy_question):
helper labels let the classifier learn a few tight groups instead of one sprawling one.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).resolve().with_name("intents.json")


class Intent(StrEnum):
    """The fixed intents that `route` returns (DESIGN.md)."""

    REQUEST_LEAVE = "request_leave"
    LEAVE_BALANCE = "leave_balance"
    LEAVE_STATUS = "leave_status"
    CANCEL_LEAVE = "cancel_leave"
    SUBMIT_EXPENSE = "submit_expense"
    EXPENSE_STATUS = "expense_status"
    CREATE_TICKET = "create_ticket"
    TICKET_STATUS = "ticket_status"
    POLICY_QUESTION = "policy_question"
    PENDING_APPROVALS = "pending_approvals"
    HUMAN_HANDOFF = "human_handoff"
    HELP = "help"
    OUT_OF_SCOPE = "out_of_scope"


# Intents that start a write (after slot filling and a read-back): a wrong guess here costs the most.
ACTION_INTENTS = frozenset({Intent.REQUEST_LEAVE, Intent.CANCEL_LEAVE, Intent.SUBMIT_EXPENSE, Intent.CREATE_TICKET})


@dataclass(frozen=True)
class IntentExamples:
    """Example texts, each with the label it was written for and the intent that label maps to."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]  # one per text
    intent_of_label: dict[str, Intent]
    fingerprint: str  # sha256 of the content, so a cache never mixes two versions of the examples

    @property
    def label_names(self) -> tuple[str, ...]:
        """Return the distinct labels in file order."""
        return tuple(self.intent_of_label)

    def intent_of(self, label: str) -> Intent:
        """Return the fixed intent a label stands for."""
        return self.intent_of_label[label]

    def examples_of(self, intent: Intent) -> list[str]:
        """Return every example whose label maps to the intent."""
        return [text for text, label in zip(self.texts, self.labels) if self.intent_of_label[label] == intent]


def load_intent_examples(path: Path = EXAMPLES_FILE) -> IntentExamples:
    """Read and check the examples file; a malformed file is an error, never silently skipped."""
    raw = path.read_bytes()
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid UTF-8 JSON: {error}") from error
    return parse_intent_examples(document, source=str(path), fingerprint=hashlib.sha256(raw).hexdigest())


def parse_intent_examples(document: Any, *, source: str = "examples", fingerprint: str | None = None) -> IntentExamples:
    """Check the structure of an examples document and return its examples."""
    entries = document.get("intents") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{source}: expected an object with a non-empty list 'intents'")
    intent_of_label: dict[str, Intent] = {}
    texts: list[str] = []
    labels: list[str] = []
    seen: dict[str, str] = {}
    for entry in entries:
        label, intent, examples = _checked_entry(entry, source)
        if label in intent_of_label:
            raise ValueError(f"{source}: label {label!r} appears twice")
        intent_of_label[label] = intent
        for text in examples:
            key = duplicate_key(text)
            if key in seen:
                raise ValueError(f"{source}: {text!r} ({label}) duplicates {seen[key]!r}")
            seen[key] = label
            texts.append(text)
            labels.append(label)
    missing = set(Intent) - set(intent_of_label.values())
    if missing:
        raise ValueError(f"{source}: no examples for {sorted(missing)}")
    if fingerprint is None:
        fingerprint = hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()
    return IntentExamples(texts=tuple(texts), labels=tuple(labels), intent_of_label=intent_of_label, fingerprint=fingerprint)


def duplicate_key(text: str) -> str:
    """Return the form under which two examples count as the same (case, accents, spacing, punctuation)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(character if character.isalnum() else " " for character in folded).split()) or folded.strip()


def _checked_entry(entry: Any, source: str) -> tuple[str, Intent, list[str]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"{source}: every entry needs a string 'name'")
    label = entry["name"]
    target = entry.get("maps_to", label)
    try:
        intent = Intent(target)
    except ValueError as error:
        raise ValueError(f"{source}: {label!r} maps to {target!r}, which is not one of the fixed intents") from error
    examples = entry.get("examples")
    if not isinstance(examples, list) or not examples or not all(isinstance(text, str) and text.strip() for text in examples):
        raise ValueError(f"{source}: {label!r} needs a non-empty list of non-blank example strings")
    return label, intent, examples
