"""An approver's decision, read from a message: "approve 7", "deny #12 because we are short-staffed that week"."""

from __future__ import annotations

import re

Slots = dict[str, str]

_DENY = re.compile(r"\b(deny|denied|reject(?:ed)?|decline[d]?|refuse[d]?|turn(?:ed)?\s+down|(?:do\s+not|don'?t)\s+approve)\b", re.I)
_APPROVE = re.compile(r"\b(approve[d]?|accept(?:ed)?|sign\s+off(?:\s+on)?|green[- ]?light)\b", re.I)
# A decision is an order, not a question about decisions ("what do I need to approve?").
_ORDER = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|yes|please|pls|go\s+ahead\s+and|i(?:'ll|\s+will)?|can\s+you|could\s+you)[\s,]+)*"
    r"(?:approve|deny|reject|decline|refuse|accept|sign\s+off|turn\s+down|don'?t\s+approve|do\s+not\s+approve)\b", re.I)
_NUMBERED = re.compile(r"\b(?:approve|deny|reject|decline|refuse|accept)\s+(?:approval\s+|request\s+|number\s+|no\.?\s*)?#?\s*\d+", re.I)
_QUESTION = re.compile(r"^\s*(?:what|which|how|when|who|where|why|do|does|did|are|is|any|should)\b", re.I)
# A bare number names an approval unless it is an amount or a length: "approve sarah's expense of 230 eur".
_NUMBER = re.compile(
    r"#\s*(\d+)|\b(?:approval|request|number|no\.?)\s*#?\s*(\d+)"
    r"|(?<![$£€¥₹.,\d])\b(\d+)\b(?![.,]\d)(?!\s*(?:usd|eur|gbp|chf|jpy|cad|aud|sgd|inr|dollars?|euros?|pounds?|bucks|quid"
    r"|francs?|yen|%|days?|weeks?|hours?|nights?)\b)", re.I)
# A number after the kind of record it is ("approve leave request 2", "deny claim #5") names that record, not an
# approval: the approval about it is looked up, so "request 2" never decides approval #2 about something else.
_RECORD = re.compile(
    r"\b(?P<kind>leave(?:\s+request)?|time[- ]off(?:\s+request)?|(?:expense\s+)?claim|expense(?:\s+report)?|"
    r"access\s+request|ticket)\s*(?:#|no\.?|number)?\s*(?P<id>\d{1,9})\b(?!\s*(?:days?|weeks?|hours?|am|pm)\b)", re.I)
_RECORD_SUBJECT = {"leave": "leave_request", "time": "leave_request", "claim": "expense_claim", "expense": "expense_claim",
                   "access": "ticket", "ticket": "ticket"}
_REASON = re.compile(r"(?:\b(?:because|coz|cos|cuz|'?cause|bc|since|due\s+to|reason(?:\s+is)?\s*:?|as)\s+|\d+\s*[-:–—,]\s*)(?P<reason>\S.*)", re.I | re.S)


_ONLY_NUMBERS = re.compile(r"[\s#\d,&]*(?:\band\b[\s#\d,&]*)*", re.I)  # "#8 and #9": more approvals, not a reason
_BARE_ANSWER = re.compile(r"^\s*(?:y|yes|yeah|yep|yup|ok|okay|sure|fine|no|nope|n|idk|dunno)\W*$", re.I)
# "deny it, we're short-staffed that week": the words after the denial, set off by a comma or a dash, are its reason
_AFTER_DENIAL = re.compile(r"\b(?:deny|reject|decline|refuse)(?:\s+(?:it|that|this|them|the\s+request|#?\s*\d+))?"
                           r"\s*[,:;\-–—]+\s*(?P<reason>\S.*)", re.I | re.S)


def decision_request(text: str) -> bool:
    """Return True when a message orders a decision ("approve 7", "deny it, we are short-staffed")."""
    return bool(_ORDER.search(text) or _NUMBERED.search(text)) and not _QUESTION.search(text)


def read_decision_slots(text: str, answering: str | None = None) -> Slots:
    """Read the approval number, the decision and a reason; a reply to a question fills the slot asked."""
    slots: Slots = {}
    if _DENY.search(text):
        slots["decision"] = "deny"
    elif _APPROVE.search(text):
        slots["decision"] = "approve"
    record = _RECORD.search(text)
    number = _NUMBER.search(text)
    if record is not None:
        kind = re.split(r"[\s-]", record["kind"].lower())[0]
        slots["record"] = f"{_RECORD_SUBJECT[kind]}:{record['id']}"
    elif number is not None:
        slots["approval_id"] = next(group for group in number.groups() if group)
        others = [next(group for group in found.groups() if group) for found in _NUMBER.finditer(text)][1:]
        others = list(dict.fromkeys(other for other in others if other != slots["approval_id"]))
        listed = _REASON.search(text)
        if others and (listed is None or _ONLY_NUMBERS.fullmatch(listed.group("reason"))):
            slots["also"] = ",".join(others)  # "approve 6 and 8", "approve #6, #8 and #9": one at a time, the rest said
    reason = _REASON.search(text) or _AFTER_DENIAL.search(text)
    if reason is not None and re.search(r"[^\W\d_]{2,}", reason.group("reason")) and not _ONLY_NUMBERS.fullmatch(reason.group("reason")):
        slots["reason"] = _tidy(reason.group("reason"))[:1000]
    if (answering == "reason" and "reason" not in slots and text.strip() and not ({"decision", "approval_id"} & set(slots))
            and not _BARE_ANSWER.match(text)):  # "yes" to "why do you deny it?" is no reason
        slots["reason"] = _tidy(text)[:1000]
    return slots


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(" .,;:!\"'")
