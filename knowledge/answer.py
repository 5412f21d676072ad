"""Extractive answers without an LLM: the sentences of the retrieved passages that answer the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import sentences_and_lines
from knowledge.embeddings import Embedder
from knowledge.index import SearchHit
from knowledge.sentences import sentence_view, split_sentences
from knowledge.store import keyword_query

# Below this cosine similarity between the question and the best passage, the policies do not cover it.
# Calibrated with bench/retrieval.py on answerable and unanswerable questions (see the README).
DEFAULT_THRESHOLD = 0.40
PASSAGES_CONSIDERED = 3


@dataclass(frozen=True)
class Quote:
    """A sentence quoted from a policy, with where it comes from."""

    text: str
    doc_id: str
    title: str
    section: str
    source: str
    score: float = 0.0  # the relevance of the passage it comes from (what the answer threshold is compared with)


@dataclass(frozen=True)
class ExtractiveAnswer:
    """Either quotes that answer the question, or covered=False when the policies do not say."""

    covered: bool
    quotes: list[Quote]
    best_score: float


def _overlap(question: str, sentence: str) -> float:
    terms = set((keyword_query(question) or "").replace('"', "").split(" OR ")) - {""}
    if not terms:
        return 0.0
    words = set(re.findall(r"[^\W_]+", sentence.lower()))
    return len({t for t in terms if any(w.startswith(t[:5]) for w in words)}) / len(terms)


# What a question asks for, and how a sentence that gives it looks: "when ..." wants a date or a span of time,
# "how much / how many ..." a number. A sentence of the right kind is preferred over a merely similar one.
_ASKS_WHEN = re.compile(r"\b(when|what (?:date|day|time)|deadline|how (?:soon|early|late)|by what)\b", re.IGNORECASE)
_ASKS_AMOUNT = re.compile(r"\b(how (?:much|many|long)|what(?:'s| is)? the (?:limit|maximum|minimum|budget|allowance|amount|cap)|"
                          r"(?:limit|maximum|minimum|budget|allowance|stipend) (?:for|on|per))\b", re.IGNORECASE)
_GIVES_WHEN = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                         r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several)[\s-]*"
                         r"(?:days?|weeks?|months?|years?|hours?)|"
                         r"\d+(?:st|nd|rd|th)|within|every (?:year|month|week|quarter)|annually|monthly|weekly|quarterly)\b",
                         re.IGNORECASE)
_GIVES_AMOUNT = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|hundred|"
                           r"thousand|half|unlimited|no limit)\b", re.IGNORECASE)
ANSWER_KIND_BONUS = 0.2
# A second sentence is quoted when it scores within this of the first. The sentence that answers is often the
# runner-up of a similar one; on four question sets (151 questions) 0.12 quoted it in 89 answers against 85 at 0.08,
# without changing which sentence comes first.
SECOND_QUOTE_GAP = 0.12


def answer_kind_bonus(question: str, sentence: str) -> float:
    """Return a bonus for a sentence that gives what the question asks for (a date, a number)."""
    kinds = ((_ASKS_WHEN, _GIVES_WHEN), (_ASKS_AMOUNT, _GIVES_AMOUNT))
    return ANSWER_KIND_BONUS if any(asks.search(question) and gives.search(sentence) for asks, gives in kinds) else 0.0


def extract_answer(question: str, hits: list[SearchHit], embedder: Embedder, *, threshold: float = DEFAULT_THRESHOLD,
                   max_quotes: int = 2) -> ExtractiveAnswer:
    """Pick the sentences that best answer the question from the top passages."""
    best = max((hit.score for hit in hits), default=0.0)
    if not hits or best < threshold:
        return ExtractiveAnswer(False, [], best)
    # Only passages that clear the threshold are quoted from: a passage ranked first by its words but not about the
    # question (a Sabbatical page for a severance question) must not answer just because another passage cleared it.
    relevant = [hit for hit in hits if hit.score >= threshold][:PASSAGES_CONSIDERED]
    sentences = [(hit, sentence) for hit in relevant for sentence in split_sentences(hit.text)]
    candidates = [(hit, sentence) for hit, sentence in sentences if not is_bare_pointer(sentence)]
    if not candidates:
        top = relevant[0]
        if sentences or is_bare_pointer(top.text):
            return ExtractiveAnswer(False, [], best)  # the passages only point elsewhere: nothing to quote
        return ExtractiveAnswer(True, [Quote(top.text[:400], top.doc_id, top.title, top.section, top.source, top.score)], best)
    # The words of a sentence's own heading count too ("Notice" for "how much notice ..."): the heading often
    # carries the word the question uses when the sentence itself does not. Meaning is judged on the sentence.
    in_context = [sentence_view(hit.section, sentence) for hit, sentence in candidates]
    vectors = embedder.embed([question] + [sentence for _, sentence in candidates])
    similarity = vectors[1:] @ vectors[0]
    rank_bonus = np.array([0.05 * (PASSAGES_CONSIDERED - relevant.index(hit)) for hit, _ in candidates])
    overlap = np.array([_overlap(question, text) for text in in_context])
    kind = np.array([answer_kind_bonus(question, sentence) for _, sentence in candidates])
    scores = similarity + rank_bonus + 0.25 * overlap + kind
    order = np.argsort(-scores)
    chosen: list[Quote] = []
    for index in order[:max_quotes]:
        hit, sentence = candidates[int(index)]
        if chosen and scores[index] < scores[order[0]] - SECOND_QUOTE_GAP:
            break  # a second sentence only when it is nearly as relevant as the first
        quote = Quote(_with_context(sentence, hit.text), hit.doc_id, hit.title, hit.section, hit.source, hit.score)
        # A list item and the sentence that introduces the list (quoted with its items) say the same: quote it once.
        if any(quote.text in earlier.text for earlier in chosen):
            continue
        held = [position for position, earlier in enumerate(chosen) if earlier.text in quote.text]
        if held:
            chosen[held[0]] = quote
        else:
            chosen.append(quote)
    return ExtractiveAnswer(True, chosen, best)


# A line that only points elsewhere ("See the government guidelines: https://...", "Link to VPN instructions", "More
# information is available here") answers nothing by itself, so it is never quoted.
_LINK = re.compile(r"\b(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+", re.IGNORECASE)
_POINTS_ELSEWHERE = re.compile(r"^(?:please\s+)?(?:see|refer to|visit|read|check(?: out)?|go to|click|follow|link to|"
                               r"(?:for )?(?:more|further) (?:info|information|details))\b", re.IGNORECASE)
_POINTED_AT = re.compile(r"\b(?:here|below|above|page|link|website|site|guidance|guidelines|guide|instructions|document|"
                         r"form|article|portal)$", re.IGNORECASE)
MAX_POINTER_WORDS = 8


def is_bare_pointer(sentence: str) -> bool:
    """Return True for a line that is only a link, or 'See <link>' with nothing else in it."""
    without_links = _LINK.sub(" ", sentence).strip(" -*\t")
    words = re.findall(r"[^\W\d_]+", without_links)
    if len(words) < 2:
        return True
    if len(words) > MAX_POINTER_WORDS or not _POINTS_ELSEWHERE.match(without_links):
        return False
    return _LINK.search(sentence) is not None or _POINTED_AT.search(without_links.rstrip(" .:;!")) is not None


# A sentence that refers to its neighbour finishes what it says, so a quote keeps the pair together, within one
# paragraph and only by a reference word: a next sentence that starts with one or says "these" or "those" ("... pick
# your own therapist." + "We will contribute £360 per year towards these sessions."), and the sentence before a quoted
# one that starts with "This", "These", "They" or "Such" ("We have introduced BUPA insurance for Grade 11 and above."
# + "This policy will cover ..."). Measured with bench/retrieval.py: the Made Tech questions' answer span was quoted
# in 20 answers instead of 17 (first quote 15 instead of 12); Sourcegraph's stayed at 15 (14). A sentence that
# draws a conclusion or a contrast ("Therefore, ...", "However, ...") takes the sentence before it along, too.
_LEANS_BACK = re.compile(r"^(?:this|these|that|those|it|its|they|their|them|such)\b(?! as\b)|\b(?:these|those)\b",
                         re.IGNORECASE)
_POINTS_BACK = re.compile(r"^(?:this|these|they|such|therefore|thus|hence|consequently|as a result|in (?:that|this|which) case"
                          r"|otherwise|however)\b(?! as\b)", re.IGNORECASE)
MAX_CONTEXT_CHARS = 300


def _with_context(sentence: str, passage: str) -> str:
    """Return the sentence with what completes it: the items of a list it introduces, or the sentences of its
    paragraph that it refers back to or that refer back to it."""
    if sentence.rstrip().endswith(":"):
        return _with_list(sentence, passage)
    for line in passage.split("\n"):
        parts = [part.strip(" -*\t") for part in sentences_and_lines(line)]
        if sentence not in parts:
            continue
        index = parts.index(sentence)
        before = parts[index - 1] if index > 0 else ""
        after = parts[index + 1] if index + 1 < len(parts) else ""
        text = sentence
        if before and _POINTS_BACK.match(sentence) and _can_accompany(before) and not before.endswith(":"):
            text = f"{before} {text}"
        if after and _LEANS_BACK.search(after) and _can_accompany(after):
            text = f"{text} {after}"
        return text
    return sentence


def _can_accompany(sentence: str) -> bool:
    return len(sentence) <= MAX_CONTEXT_CHARS and not is_bare_pointer(sentence)


def _with_list(sentence: str, passage: str, *, max_items: int = 5, max_chars: int = 600) -> str:
    """Return a sentence that introduces a list ("If your laptop is stolen:") together with the list's items."""
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
