"""Sentences of a passage: what an extractive answer quotes and what the sentence vectors of a chunk embed."""

from __future__ import annotations

import re

from knowledge.chunking import SECTION_SEPARATOR, sentences_and_lines


def split_sentences(text: str) -> list[str]:
    """Split a passage into sentences and list items, dropping fragments without words."""
    parts = (part.strip(" -*\t") for part in sentences_and_lines(text))
    return [part for part in parts if len(re.findall(r"[^\W\d_]{2,}", part)) >= 3]


def heading_leaf(section: str) -> str:
    """Return the deepest heading of a section label ('Time off > Holidays' -> 'Holidays')."""
    return section.rsplit(SECTION_SEPARATOR.strip(), 1)[-1].strip()


def sentence_views(section: str, text: str) -> list[str]:
    """Return the texts a chunk's sentence vectors embed: each sentence after its own heading, at least one.

    A chunk vector blurs a passage that covers several things; a question usually matches one sentence of it
    ("Do I need extra approval for three weeks off?" against one rule among many), so retrieval also compares the
    question with every sentence. The heading goes with the sentence because it often carries the question's word.
    """
    return [sentence_view(section, sentence) for sentence in split_sentences(text)] or [sentence_view(section, text)]


def sentence_view(section: str, sentence: str) -> str:
    """Return one sentence after its own heading: 'Carry-over: You can carry up to 5 days ...'."""
    return f"{heading_leaf(section)}: {sentence}"
