"""Routing a message: the intent (with its confidence) and the slots found in the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from assistant.nlu.slots import extract_slots


class Classifier(Protocol):
    """Anything that names the intent of a text with a confidence."""

    def classify(self, text: str) -> Any:
        """Return an object with `intent` and `confidence`."""
        ...


# The slots DESIGN.md's route contract names per intent. The dialogue reads more (a cancel_leave's dates, a date
# that does not exist), but a route line shows only these.
CONTRACT_SLOTS: dict[str, frozenset[str]] = {
    "request_leave": frozenset({"start_date", "end_date", "leave_type", "half_day"}),
    "leave_balance": frozenset({"leave_type"}),
    "leave_status": frozenset({"request_id"}),
    "cancel_leave": frozenset({"request_id"}),
    "submit_expense": frozenset({"amount", "currency", "category", "expense_date", "merchant", "description"}),
    "expense_status": frozenset({"claim_id"}),
    "create_ticket": frozenset({"summary", "category", "priority"}),
    "ticket_status": frozenset({"ticket_id"}),
    "policy_question": frozenset({"topic"}),
}


@dataclass(frozen=True)
class Route:
    """The result of routing one text, as `backoffice route` prints it."""

    text: str
    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the DESIGN.md route line, with the slots the contract names for the intent."""
        named = CONTRACT_SLOTS.get(self.intent, frozenset())
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
                "slots": {name: value for name, value in self.slots.items() if name in named}}


class Router:
    """Intent classification plus slot extraction, with no side effects."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def route(self, text: str, *, today: date, default_currency: str = "USD", intent: str | None = None,
              day_first: bool = True) -> Route:
        """Route `text`; slots are read for `intent` when a conversation is already about it. Numeric dates are read
        day first ("12/7" is 12 July) unless `day_first` is False (December 7, as written in the US)."""
        prediction = self.classifier.classify(text)
        slot_intent = intent or prediction.intent
        slots = extract_slots(text, intent=slot_intent, today=today, default_currency=default_currency,
                              day_first=day_first) if text.strip() else {}
        if slot_intent == "policy_question":
            slots.setdefault("topic", text.strip()[:500])
        return Route(text=text, intent=prediction.intent, confidence=float(prediction.confidence), slots=slots)


def build_router(cache_dir: Path | None = None) -> Router:
    """Build the router with the bundled embedding model (loaded on first use); the trained model is kept in cache_dir."""
    from assistant.nlu.intents import IntentClassifier
    from knowledge.embeddings import LocalMiniLM

    return Router(IntentClassifier(LocalMiniLM(), cache_dir=cache_dir))
