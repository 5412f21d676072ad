"""Split loaded documents into retrievable chunks that keep their heading path for citations."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from knowledge.documents import Chunk, LoadedDocument
from knowledge.errors import KnowledgeError, KnowledgeErrorCode

SECTION_SEPARATOR = " > "

# A boundary between sentences: end punctuation (plus closing quotes or brackets) and spaces before a capital,
# digit or opening quote; or a line break.
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*[ \t]+(?=[\"'“‘(\[]?[A-Z0-9])|\n+")
_ABBREVIATIONS = frozenset(
    "e.g. i.e. etc. vs. cf. al. approx. incl. mr. mrs. ms. dr. prof. st. jr. sr. inc. ltd. co. corp. dept. no. nr. fig. "
    "jan. feb. mar. apr. jun. jul. aug. sep. sept. oct. nov. dec.".split()
)


def section_label(title: str, heading_path: tuple[str, ...]) -> str:
    """Return the citation label of a section: the title, then its headings, without saying the title twice."""
    parts = [part for part in heading_path if part.strip()]
    if not parts or _comparable(parts[0]) != _comparable(title):
        parts.insert(0, title)
    deduplicated = [part for index, part in enumerate(parts) if index == 0 or _comparable(part) != _comparable(parts[index - 1])]
    return SECTION_SEPARATOR.join(deduplicated)


def chunk_document(document: LoadedDocument, *, max_chars: int = 1200, overlap_chars: int = 150) -> list[Chunk]:
    """Split a document into chunks of at most max_chars, per section, overlapping by whole sentences."""
    if max_chars < 1 or not 0 <= overlap_chars < max_chars:
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT,
                             f"Chunk sizes must satisfy 0 <= overlap ({overlap_chars}) < max ({max_chars}) and max >= 1.")
    pieces: list[tuple[str, str]] = []
    for label, text in _merge_same_label(document):
        pieces.extend((label, piece) for piece in _pack(_atoms(text, max_chars), max_chars, overlap_chars))
    # dedent rather than strip, so nested list items keep their relative indentation
    kept = [(label, textwrap.dedent(piece).strip("\n").rstrip()) for label, piece in pieces if any(c.isalpha() for c in piece)]
    return [Chunk(ordinal=ordinal, section=label, text=text) for ordinal, (label, text) in enumerate(kept)]


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _merge_same_label(document: LoadedDocument) -> list[tuple[str, str]]:
    """Label each section and join neighbours that carry the same label.

    A tiny section is NOT merged into a sibling with a different heading: the chunk would then cite the sibling's
    heading for text that sits under another one, or would need a vaguer parent label that drops the sub-heading,
    which in FAQ-style policies is the question itself. The indexer embeds title and section with every chunk, so a
    short chunk under a precise heading still retrieves well. Neighbours with the same label (intro text before the
    H1 and the H1's own text, or a heading repeated back to back) are merged, since that keeps every citation exact.
    """
    merged: list[tuple[str, str]] = []
    for section in document.sections:
        label, text = section_label(document.title, section.heading_path), section.text.strip()
        if merged and merged[-1][0] == label:
            merged[-1] = (label, merged[-1][1] + "\n\n" + text)
        elif text:
            merged.append((label, text))
    return merged


def _paragraphs(text: str) -> list[str]:
    return [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def _sentence_starts(text: str) -> list[int]:
    """Return the offsets where a sentence (or a line) begins, other than 0, in ascending order."""
    starts = []
    for boundary in _SENTENCE_BOUNDARY.finditer(text):
        if "\n" not in boundary.group():
            words = text[: boundary.start()].split()
            last = words[-1].lstrip("\"'“‘([").casefold() if words else ""
            if last in _ABBREVIATIONS or re.fullmatch(r"(?:\w\.)+", last):  # e.g. / U.S. / J. Smith
                continue
        starts.append(boundary.end())
    return [start for start in starts if 0 < start < len(text)]


def sentences_and_lines(text: str) -> list[str]:
    """Split text at sentence ends and line breaks; abbreviations ("e.g.", "U.S.") do not end a sentence."""
    cuts = [0, *_sentence_starts(text), len(text)]
    return [text[start:end].strip() for start, end in zip(cuts, cuts[1:]) if text[start:end].strip()]


def _words(text: str, max_chars: int) -> list[str]:
    """Wrap text at spaces into pieces of at most max_chars; only a single over-long word is cut."""
    pieces: list[str] = []
    for word in text.split():
        while len(word) > max_chars:
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if pieces and len(pieces[-1]) + 1 + len(word) <= max_chars:
            pieces[-1] += " " + word
        elif word:
            pieces.append(word)
    return pieces


# From coarse to fine: a too-long section splits at paragraphs, a too-long paragraph at lines (list items, table
# rows), a too-long line at sentences, and only a too-long sentence at spaces.
_SPLITTERS: tuple[tuple[Callable[[str], list[str]], str], ...] = ((_paragraphs, "\n\n"), (_lines, "\n"), (sentences_and_lines, " "))


def _atoms(text: str, max_chars: int, depth: int = 0) -> list[tuple[str, str]]:
    """Break text into (separator, atom) pairs, each atom at most max_chars, at the coarsest boundary that works."""
    if len(text) <= max_chars:
        return [("", text)]
    if depth == len(_SPLITTERS):
        return [("" if index == 0 else " ", piece) for index, piece in enumerate(_words(text, max_chars))]
    split, joiner = _SPLITTERS[depth]
    atoms: list[tuple[str, str]] = []
    for index, part in enumerate(split(text)):
        first, *rest = _atoms(part, max_chars, depth + 1)
        atoms.append(("" if index == 0 else joiner, first[1]))
        atoms.extend(rest)
    return atoms


def _pack(atoms: list[tuple[str, str]], max_chars: int, overlap_chars: int) -> list[str]:
    """Fill pieces with whole atoms; each new piece starts with the previous piece's last sentences."""
    pieces: list[str] = []
    current = ""
    for separator, atom in atoms:
        joined = current + separator + atom if current else atom
        if len(joined) <= max_chars:
            current = joined
            continue
        pieces.append(current)
        overlap = _overlap(current, overlap_chars)
        separator = separator or " "
        fits = bool(overlap) and len(overlap) + len(separator) + len(atom) <= max_chars
        current = overlap + separator + atom if fits else atom
    if current:
        pieces.append(current)
    return pieces


def _overlap(piece: str, overlap_chars: int) -> str:
    """Return the longest run of whole trailing sentences of a piece that fits in overlap_chars (never all of it)."""
    for start in _sentence_starts(piece):
        if len(piece) - start <= overlap_chars:
            return piece[start:].rstrip()
    return ""

