"""Misspelt back-office words put right before a message is classified: "leave balence", "pass word".

Only a word that is not an English word (not a whole word of the embedding model's vocabulary) and is one typing
slip (a letter missing, added, changed or two swapped) away from exactly one word of the domain is replaced, so
"cancer" never becomes "cancel" and a merchant's name is left alone.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from assistant.nlu.slot_dates import DAY_SHORT_FORMS

DOMAIN_WORDS = frozenset("""
    absence access account allowance annual approval approve approved approver balance bereavement booking broken
    cancel cancelled charger claim claims computer entitlement expense expenses headset holiday holidays incident install
    internet keyboard laptop leave mileage maternity monitor network parental password paternity pending printer
    receipt receipts refund reimburse reimbursed reimbursement remaining request requests schedule software status
    submit ticket tickets unpaid vacation working
""".split())
MIN_LENGTH = 5  # shorter words are too often another real word or a name one slip away
_WORD = re.compile(r"[^\W\d_]+")
# Domain words typed as two ("pass word", "lap top"): joined, whatever the case or the space between.
SPLIT_WORDS = {"pass word": "password", "pass words": "passwords", "user name": "username", "lap top": "laptop",
               "lap tops": "laptops", "e mail": "email", "e mails": "emails", "wi fi": "wifi", "head set": "headset",
               "key board": "keyboard", "re imburse": "reimburse", "re imbursement": "reimbursement"}
# Chat short forms of words the intents turn on ("can i get tmrw off"), written out before classifying.
SHORT_FORMS = {**DAY_SHORT_FORMS, "tdy": "today", "wk": "week", "wks": "weeks", "mgr": "manager", "appt": "appointment",
               "acct": "account", "pwd": "password", "hrs": "hours", "wfh": "work from home"}
_SHORT = re.compile(r"(?<![\w'])(" + "|".join(SHORT_FORMS) + r")(?![\w'])", re.IGNORECASE)
# Leave types as HR systems abbreviate them ("apply CL for tomorrow", "2 days LWP", "3 days AL"): the two-letter ones only in
# capitals, since "el" or "pl" in lower case is too often something else; "leave" is added unless it follows.
LEAVE_ABBREVIATIONS = {"CL": "casual", "EL": "earned", "PL": "privilege", "SL": "sick", "AL": "annual", "LWP": "unpaid",
                       "LOP": "unpaid"}
# "AL" after a comma is Alabama ("Birmingham, AL"), not annual leave
_LEAVE_ABBREVIATION = re.compile(r"(?<![\w'./-])(?:(?P<upper>CL|EL|PL|SL|(?<!, )AL)|(?P<any>(?i:LWP|LOP)))(?P<plural>s?)(?![\w'/-])"
                                 r"(?P<leave>\s+leaves?\b)?")


def expand_leave_abbreviations(text: str) -> str:
    """Return text with abbreviated leave types written out: "CL on Friday" -> "casual leave on Friday"."""
    def written_out(match: re.Match[str]) -> str:
        word = LEAVE_ABBREVIATIONS[(match["upper"] or match["any"]).upper()]
        return f"{word}{match['leave'] or (' leave days' if match['plural'] else ' leave')}"

    return _LEAVE_ABBREVIATION.sub(written_out, text)
_SPLIT = re.compile(r"\b(" + "|".join(re.escape(split).replace(r"\ ", r"[\s-]+") for split in SPLIT_WORDS) + r")\b",
                    re.IGNORECASE)


# "leaves" as days off, as many people write it ("how many leaves do I have?", "apply for 2 leaves"); not a tree's
# leaves, nor someone who leaves for the airport.
_LEAVES = re.compile(r"(?<!\btree )(?<!\bautumn )(?<!\bfallen )(?<!\bdead )(?<!\bgreen )(?<!\btea )(?<!\bbay )\bleaves\b"
                     r"(?!\s+(?:for|at|on|in|the|a|an|work|office|early|today|tomorrow|tonight|now|soon|home|after|before|with"
                     r"|me|us|him|her|them|it|his|her|their|my|our|your|when|once|next|this)\b)", re.IGNORECASE)
_NATURE = re.compile(r"\b(?:trees?|garden|yard|rake|raking|autumn|fall(?:en|ing)|plants?|branch\w*|gutters?|lettuce|salad|tea)\b",
                     re.IGNORECASE)


def correct_spelling(text: str, known_words: frozenset[str] | None = None) -> str:
    """Return text with each misspelt domain word replaced by the word it was meant to be."""
    text = expand_leave_abbreviations(text)
    if not _NATURE.search(text):
        text = _LEAVES.sub(lambda match: "Leave days" if match.group()[0].isupper() else "leave days", text)
    text = _SPLIT.sub(lambda match: SPLIT_WORDS[" ".join(re.split(r"[\s-]+", match.group().casefold()))], text)
    text = _SHORT.sub(lambda match: SHORT_FORMS[match.group().casefold()], text)
    known = vocabulary_words() if known_words is None else known_words
    if not known:
        return text
    return _WORD.sub(lambda match: _corrected(match.group(), known), text)


def _corrected(word: str, known: frozenset[str]) -> str:
    lowered = word.casefold()
    if len(lowered) < MIN_LENGTH or lowered in known or lowered in DOMAIN_WORDS or lowered.removesuffix("s") in known:
        return word
    candidates = [target for target in DOMAIN_WORDS if abs(len(target) - len(lowered)) <= 1 and _one_slip(lowered, target)]
    return candidates[0] if len(candidates) == 1 else word


def _one_slip(word: str, target: str) -> bool:
    """Return True when target is one deletion, insertion, substitution or adjacent swap away from word."""
    if len(word) == len(target):
        differences = [index for index, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(differences) == 1:
            return True
        first, *rest = differences or [0]
        return (len(differences) == 2 and rest[0] == first + 1
                and word[first] == target[first + 1] and word[first + 1] == target[first])
    shorter, longer = (word, target) if len(word) < len(target) else (target, word)
    index = next((i for i, (a, b) in enumerate(zip(shorter, longer, strict=False)) if a != b), len(shorter))
    return shorter[index:] == longer[index + 1:]


@cache
def vocabulary_words() -> frozenset[str]:
    """Return the whole words of the bundled model's vocabulary (empty when the model files are not installed)."""
    from knowledge.embeddings import LocalModelFiles
    from knowledge.errors import KnowledgeError

    try:
        path: Path = LocalModelFiles.bundled().vocab
        lines = path.read_text(encoding="utf-8").split("\n")
    except (KnowledgeError, OSError):
        return frozenset()
    return frozenset(line for line in lines if line.isalpha() and line.islower())
