"""Text helpers shared by the slot extractors: Slack markup, length-preserving normalisation, span masking, tidying."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# Only this much of a message is scanned: slot phrases sit near the start, and it bounds the work on pasted logs.
MAX_SCAN_CHARS = 4000

Span = tuple[int, int]

_ONE_FOR_ONE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u202f": " ", "\t": " ", "\n": " ",
})


@cache
def _slack_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    mention = re.compile(r"<[@#!][^<>|]{1,80}(?:\|[^<>]{0,80})?>")
    labelled_link = re.compile(r"<[^<>|\s]{1,500}\|([^<>]{0,200})>")
    bare_link = re.compile(r"<([^<>|\s]{1,500})>")
    return mention, labelled_link, bare_link


def clean_slack_markup(text: str) -> str:
    """Drop Slack mentions and keep the visible label of links."""
    mention, labelled_link, bare_link = _slack_patterns()
    text = mention.sub(" ", text)
    text = labelled_link.sub(r"\1", text)
    return bare_link.sub(r"\1", text)


def normalize(text: str) -> str:
    """Lowercase and unify dashes, quotes and spaces without changing the length, so spans match the original."""
    mapped = text.translate(_ONE_FOR_ONE)
    lowered = mapped.lower()
    if len(lowered) == len(mapped):
        return lowered
    # A few characters (e.g. "İ") lowercase to two; keep those as they are so offsets stay aligned.
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in mapped)


def mask(text: str, spans: Iterable[Span]) -> str:
    """Replace the given spans with spaces, keeping every other offset in place."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def overlaps(span: Span, spans: Iterable[Span]) -> bool:
    """Return True when span shares a character with one of spans."""
    return any(span[0] < end and start < span[1] for start, end in spans)


@cache
def _tidy_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    spaces = re.compile(r"\s+")
    space_before_punctuation = re.compile(r"\s+([,.;:!?])")
    repeated_punctuation = re.compile(r"([,;:])(?:\s*[,;:.!?])+")
    return spaces, space_before_punctuation, repeated_punctuation


EDGE_PUNCTUATION = " ,.;:!?-\u2026\"'()[]"


def tidy(text: str) -> str:
    """Collapse whitespace, drop orphaned punctuation and strip punctuation at both ends."""
    spaces, space_before_punctuation, repeated_punctuation = _tidy_patterns()
    text = spaces.sub(" ", text)
    text = space_before_punctuation.sub(r"\1", text)
    text = repeated_punctuation.sub(r"\1", text)
    return text.strip(EDGE_PUNCTUATION)


def strip_edge_words(text: str, words: frozenset[str]) -> str:
    """Remove the given words (and punctuation) from both ends until neither end is one of them."""
    tokens = tidy(text).split(" ")
    while tokens and tokens[0].strip(EDGE_PUNCTUATION).lower() in words:
        tokens.pop(0)
    while tokens and tokens[-1].strip(EDGE_PUNCTUATION).lower() in words:
        tokens.pop()
    return tidy(" ".join(tokens))


def capitalize_first(text: str) -> str:
    """Upper-case the first character only (keep "iPhone"-style words below it intact)."""
    return text[:1].upper() + text[1:] if text else text


def truncate_words(text: str, limit: int) -> str:
    """Cut text to at most limit characters, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(EDGE_PUNCTUATION) + "\u2026"


def remove_patterns(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    """Replace every match of the patterns with a space."""
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return text
