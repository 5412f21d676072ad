"""The merchant and the free-text description of an expense claim."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from assistant.nlu.slot_keywords import EXPENSE_CATEGORIES, KNOWN_MERCHANTS, first_match, merchant_pattern
from assistant.nlu.slot_text import Span, mask, remove_patterns, strip_edge_words, tidy, truncate_words

MAX_MERCHANT_CHARS = 200
MAX_DESCRIPTION_CHARS = 1000
# Words that end (or rule out) a merchant name after "at"/"from": places and people, not businesses.
NOT_MERCHANT = frozenset({
    "the", "a", "an", "my", "our", "your", "his", "her", "their", "this", "that", "these", "those", "home", "work",
    "office", "airport", "station", "hotel", "client", "clients", "customer", "customers", "night", "noon", "lunch",
    "dinner", "breakfast", "on", "for", "in", "to", "with", "and", "or", "of", "by", "via", "last", "next",
    "least", "all", "about", "around", "most", "it", "them", "me", "us", "here", "there", "expense",
    "receipt", "invoice", "i", "we", "per", "each", "total", "approx", "approximately", "at", "from",
})
EDGE_WORDS = frozenset({
    "on", "for", "at", "from", "of", "a", "an", "the", "and", "with", "in", "to", "my", "me", "i", "is", "was",
    "it", "this", "that", "some", "by", "via", "as", "so", "just",
})


@dataclass(frozen=True)
class Merchant:
    """A merchant name and, when written as "at X"/"from X", the phrase to leave out of the description."""

    name: str
    phrase: Span | None


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        "prepositional": re.compile(r"\b(?:at|from|@)\s+(?P<rest>[^\s,.;:!?()\"]+(?:[ ]+[^\s,;:!?()\"]+){0,3})", re.IGNORECASE),
        "preposition_before": re.compile(r"\b(?:on|via|through|with|from|at)\s+$", re.IGNORECASE),
        "before_receipt": re.compile(r"\b(?P<name>[A-Z][\w&'.-]*)\s+(?:receipt|invoice|order|ride|bill)\b"),
    }


@cache
def _filler() -> tuple[re.Pattern[str], ...]:
    flags = re.IGNORECASE
    return (
        re.compile(r"^\s*(?:hi|hello|hey)\b[\s,!]*", flags),
        re.compile(r"\b(?:(?:i\s+)?(?:want|need|would\s+like|'d\s+like)\s+to\s+|please\s+|can\s+you\s+|could\s+you\s+|let\s+me\s+)?"
                   r"(?:submit|file|log|add|record|claim|expense|enter)\b(?:\s+(?:an?|my|this|the))?(?:\s+new)?"
                   r"(?:\s+(?:expenses?(?:\s+(?:claim|report))?|claim|report|receipt))?(?:\s+(?:for|of)\b)?", flags),
        re.compile(r"\b(?:i\s+)?(?:got|have|here'?s|here\s+is|attached)\s+(?:a|the|my)\s+(?:receipt|invoice)s?\s+(?:for|from)\b", flags),
        re.compile(r"\b(?:i\s+)?(?:spent|paid|bought|purchased)\b", flags),
        re.compile(r"\b(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:reimburse|pay\s+me\s+back)(?:\s+me)?(?:\s+for)?\b", flags),
        re.compile(r"\b(?:receipts?|invoices?)\b", flags),
        re.compile(r"\b(?:please|pls|thanks|thank\s+you|thx)\b", flags),
    )


def _name_from(rest: str, mixed_case: bool) -> tuple[str, int] | None:
    """Return the merchant name at the start of rest and how many characters of rest it covers."""
    words: list[str] = []
    covered = 0
    for found in re.finditer(r"\S+", rest):
        word = found.group(0).strip(".,'\"")
        if not word or word.lower() in NOT_MERCHANT or not word[0].isalpha() or (mixed_case and not word[0].isupper()):
            break
        words.append(found.group(0).rstrip(".,"))
        covered = found.start() + len(words[-1])
        if len(words) == 3:
            break
    if not words:
        return None
    name = " ".join(words)
    # str.title() would write "Nando'S": upper-case only the first letter of each word.
    return (name if mixed_case else " ".join(word[:1].upper() + word[1:] for word in words)), covered


def find_merchant(text: str) -> Merchant | None:
    """Return the merchant of a claim: "at X"/"from X", a well-known name, or "X receipt" (text has dates and money masked)."""
    patterns = _patterns()
    mixed_case = any(char.isupper() for char in text)
    for match in patterns["prepositional"].finditer(text):
        found = _name_from(match["rest"], mixed_case)
        if found:
            name, covered = found
            if match.group(0).lower().startswith("from") and re.match(r"\s+to\b", text[match.start("rest") + covered:]):
                continue  # "a train from Paris to Lyon": a route, not where the money went
            spelled = KNOWN_MERCHANTS.get(name.lower(), name)
            return Merchant(spelled[:MAX_MERCHANT_CHARS], (match.start(), match.start("rest") + covered))
    known = merchant_pattern().search(text.lower())
    if known:
        # "on Amazon", "via Uber": a preposition before a known name makes the phrase a place of purchase.
        before = patterns["preposition_before"].search(text, 0, known.start())
        phrase = (before.start(), known.end()) if before else None
        return Merchant(KNOWN_MERCHANTS[known.group(0)], phrase)
    for match in patterns["before_receipt"].finditer(text):
        name = match["name"]
        if name.lower() not in NOT_MERCHANT and first_match(EXPENSE_CATEGORIES, name.lower()) is None:
            return Merchant(name[:MAX_MERCHANT_CHARS], None)
    return None


def describe(text: str, *, remove: list[Span], merchant: Merchant | None) -> str | None:
    """Return what the claim is for: the text without dates, amount, merchant phrase and filler."""
    spans = [*remove, *([merchant.phrase] if merchant and merchant.phrase else [])]
    rest = remove_patterns(mask(text, spans), _filler())
    description = strip_edge_words(rest, EDGE_WORDS)
    if not description or (merchant and description.lower() == merchant.name.lower()):
        return None
    return truncate_words(tidy(description), MAX_DESCRIPTION_CHARS)
