"""Extractive answers without an LLM: the sentences of the retrieved passages that answer the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import Embedder
from knowledge.index import SearchHit
from knowledge.store import keyword_query

# Below this cosine similarity between the question and the best passage, the policies do not cover it.
# Calibrated with bench/retrieval.py on answerable and unanswerable questions (see the README).
DEFAULT_THRESHOLD = 0.40
PASSAGES_CONSIDERED = 3
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


@dataclass(frozen=True)
class Quote:
    """A sentence quoted from a policy, with where it comes from."""

    text: str
    doc_id: str
    title: str
    section: str
    source: str


@dataclass(frozen=True)
class ExtractiveAnswer:
    """Either quotes that answer the question, or covered=False when the policies do not say."""

    covered: bool
    quotes: list[Quote]
    best_score: float


def split_sentences(text: str) -> list[str]:
    """Split a passage into sentences and list items, dropping fragments without words."""
    parts = (part.strip(" -*\t") for part in SENTENCE_SPLIT.split(text))
    return [part for part in parts if len(re.findall(r"[^\W\d_]{2,}", part)) >= 3]


def _overlap(question: str, sentence: str) -> float:
    terms = set((keyword_query(question) or "").replace('"', "").split(" OR ")) - {""}
    if not terms:
        return 0.0
    words = set(re.findall(r"[^\W_]+", sentence.lower()))
    return len({t for t in terms if any(w.startswith(t[:5]) for w in words)}) / len(terms)


def extract_answer(question: str, hits: list[SearchHit], embedder: Embedder, *, threshold: float = DEFAULT_THRESHOLD,
                   max_quotes: int = 2) -> ExtractiveAnswer:
    """Pick the sentences that best answer the question from the top passages."""
    best = max((hit.score for hit in hits), default=0.0)
    if not hits or best < threshold:
        return ExtractiveAnswer(False, [], best)
    candidates: list[tuple[SearchHit, str]] = [
        (hit, sentence) for hit in hits[:PASSAGES_CONSIDERED] for sentence in split_sentences(hit.text)
    ]
    if not candidates:
        top = hits[0]
        return ExtractiveAnswer(True, [Quote(top.text[:400], top.doc_id, top.title, top.section, top.source)], best)
    # The words of a sentence's own heading count too ("Notice" for "how much notice ..."): the heading often
    # carries the word the question uses when the sentence itself does not. Meaning is judged on the sentence.
    in_context = [f"{_leaf(hit.section)}: {sentence}" for hit, sentence in candidates]
    vectors = embedder.embed([question] + [sentence for _, sentence in candidates])
    similarity = vectors[1:] @ vectors[0]
    rank_bonus = np.array([0.05 * (PASSAGES_CONSIDERED - hits.index(hit)) for hit, _ in candidates])
    overlap = np.array([_overlap(question, text) for text in in_context])
    scores = similarity + rank_bonus + 0.25 * overlap
    order = np.argsort(-scores)
    chosen: list[Quote] = []
    for index in order[:max_quotes]:
        hit, sentence = candidates[int(index)]
        if chosen and scores[index] < scores[order[0]] - 0.08:
            break  # a second sentence only when it is nearly as relevant as the first
        chosen.append(Quote(_with_list(sentence, hit.text), hit.doc_id, hit.title, hit.section, hit.source))
    return ExtractiveAnswer(True, chosen, best)


def _leaf(section: str) -> str:
    return section.rsplit(">", 1)[-1].strip()


def _with_list(sentence: str, passage: str, *, max_items: int = 5, max_chars: int = 600) -> str:
    """Return a sentence that introduces a list ("If your laptop is stolen:") together with the list's items."""
    if not sentence.rstrip().endswith(":"):
        return sentence
    parts = split_sentences(passage)
    if sentence not in parts:
        return sentence
    items = parts[parts.index(sentence) + 1:][:max_items]
    text = sentence
    for item in items:
        if len(text) + len(item) + 2 > max_chars:
            break
        text = f"{text} {item}" if text.endswith((":", ".", "!", "?")) else f"{text}; {item}"
    return text
