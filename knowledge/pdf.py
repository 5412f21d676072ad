"""Read PDF files: running headers and page numbers dropped, sections cut at headings found by their type.

A PDF has no heading markup, but a handbook exported from a word processor sets its headings larger than the
body text, or in bold on a line of their own. Those lines become the heading path of the text under them
("Employee Handbook > Time Off > Carry-over"). A PDF without such lines (a scan with a text layer, a form)
falls back to one section per page ("Page 3").
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.documents import LoadedDocument, Section
from knowledge.errors import KnowledgeError, KnowledgeErrorCode

# pypdf logs what it repairs ("invalid pdf header") on stderr; a file it cannot read is reported per file instead
logging.getLogger("pypdf").setLevel(logging.ERROR)
from knowledge.markup import (
    LIST_ITEM,
    LineKind,
    Outline,
    corrupt_file_error,
    has_words,
    heading_shaped,
    render_lines,
    title_from_file_name,
)

# Fuzzing pypdf 7 with damaged files showed it raises these built-in errors besides its own PyPdfError family;
# they are caught only around pypdf's own calls, so they cannot hide a bug of ours.
_PYPDF_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?-?\s*\d{1,4}\s*-?(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
# A table-of-contents entry: a title, dot leaders and a page number ("2.1 Annual leave ........ 12"). Left in, the
# contents page would match every question by its words and cite nothing useful.
_CONTENTS_ENTRY = re.compile(r"(?:\.\s*){4,}\d{1,4}\s*$|\.{3,}\s*\d{1,4}\s*$")
HEADING_SCALE = 1.15  # a line set this much larger than the body text is a heading
MIN_HEADINGS = 2  # fewer than this and the document is cut by page instead
_BOLD_FACE = re.compile(r"bold|black|heavy|semibold|demi", re.I)


@dataclass(frozen=True)
class PdfLine:
    """A line of a page's text with the type it is set in."""

    text: str
    size: float  # the largest type size in the line, in points (0 when unknown)
    bold: bool  # every run of the line is in a bold face


def read_pdf(path: Path, data: bytes) -> LoadedDocument:
    """Read a PDF into sections under its headings (or one per page), refusing encrypted, broken or image-only files."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeError(KnowledgeErrorCode.CORRUPT, f"{path} is password-protected; remove the password and add it again.")
        pages = [_page_lines(page) for page in reader.pages]
        pdf_title = str((reader.metadata.title if reader.metadata else None) or "").strip()
    except (PyPdfError, *_PYPDF_MALFORMED) as error:
        raise corrupt_file_error(path, "PDF", error) from error
    pages = _without_running_lines(pages)
    by_heading = _sections_by_heading(pages)
    sections, first_heading = by_heading if by_heading else (_sections_by_page(pages), None)
    if not sections:
        raise KnowledgeError(KnowledgeErrorCode.EMPTY,
                             f"{path} has no extractable text; it may be a scanned image. Run OCR on it or export it with text.")
    usable_title = pdf_title and not re.search(r"\.(docx?|pdf|pages|odt)$|^untitled", pdf_title, re.I)
    return LoadedDocument(title=pdf_title if usable_title else first_heading or title_from_file_name(path), sections=sections)


def _page_lines(page: Any) -> list[PdfLine]:
    """Return a page's lines with their type size and weight (pypdf reports each run of text it extracts)."""
    runs: list[tuple[str, float, bool]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        try:  # "1 Tf" scaled by the text matrix is common, so the size is the font size times the matrices' scale
            points = float(size or 0) * (math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or 1.0)
            face = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
        except (TypeError, ValueError, IndexError):  # an odd matrix or size only loses the type information
            points, face = 0.0, ""
        runs.append((str(text), points, bool(_BOLD_FACE.search(face))))

    extracted = page.extract_text(visitor_text=visit) or ""
    lines: list[PdfLine] = []
    text, sizes, weights = "", [], []
    for run_text, size, bold in runs + [("\n", 0.0, False)]:
        for index, piece in enumerate(run_text.split("\n")):
            if index:  # a line ends here
                if text.strip():
                    lines.append(PdfLine(text.strip(), max(sizes, default=0.0), bool(weights) and all(weights)))
                text, sizes, weights = "", [], []
            text += piece
            if piece.strip():
                sizes.append(size)
                weights.append(bold)
    if " ".join(line.text for line in lines).split() != extracted.split():
        # The runs did not add up to the page's text (unusual encodings): keep the text, without type information.
        return [PdfLine(line.strip(), 0.0, False) for line in extracted.split("\n") if line.strip()]
    return lines


def _without_running_lines(pages: list[list[PdfLine]]) -> list[list[PdfLine]]:
    """Drop page numbers, contents entries and running headers/footers: one of a page's first or last two lines,
    the same (digits aside) on most pages."""
    edges = Counter(key for lines in pages for key in {_digitless(line.text) for line in lines[:2] + lines[-2:]})
    running = {key for key, count in edges.items() if len(pages) >= 3 and count >= 0.6 * len(pages)}
    kept_pages = []
    for lines in pages:
        kept = [line for index, line in enumerate(lines)
                if not ((index < 2 or index >= len(lines) - 2) and _digitless(line.text) in running)
                and not _CONTENTS_ENTRY.search(line.text)]
        while kept and _PAGE_NUMBER.match(kept[-1].text):
            kept.pop()
        while kept and _PAGE_NUMBER.match(kept[0].text):
            kept.pop(0)
        kept_pages.append(kept)
    return kept_pages


def _sections_by_page(pages: list[list[PdfLine]]) -> list[Section]:
    texts = [render_lines((LineKind.LINE, line) for line in _join_pdf_lines([line.text for line in lines])) for lines in pages]
    return [Section((f"Page {number}",), text) for number, text in enumerate(texts, start=1) if has_words(text)]


def _sections_by_heading(pages: list[list[PdfLine]]) -> tuple[list[Section], str | None] | None:
    """Cut the text at the lines set as headings, or return None when the document has too few of them."""
    lines = [line for page in pages for line in page]
    weight = Counter[float]()
    for line in lines:
        weight[round(line.size * 2) / 2] += len(line.text)
    body = max(weight, key=lambda size: weight[size], default=0.0)
    if body <= 0:
        return None
    larger = sorted({round(line.size * 2) / 2 for line in lines if _is_heading(line, body) and line.size >= body * HEADING_SCALE},
                    reverse=True)[:5]
    if sum(1 for line in lines if _is_heading(line, body)) < MIN_HEADINGS:
        return None

    def level(line: PdfLine) -> int:
        if line.size < body * HEADING_SCALE:
            return len(larger) + 1  # a bold line in the body size is the smallest heading
        return 1 + min(range(len(larger)), key=lambda index: abs(larger[index] - line.size))

    outline, body_lines = Outline(), []
    previous: tuple[int, str] | None = None  # the heading just seen, while no body text has followed it
    for line in lines:
        if not _is_heading(line, body):
            body_lines.append(line.text)
            previous = None
            continue
        for joined in _join_pdf_lines(body_lines):
            outline.add(joined, LineKind.LINE)
        body_lines = []
        text = " ".join(line.text.split())
        if previous and previous[0] == level(line) and not _starts_a_heading(text, previous[1]):
            text = f"{previous[1]} {text}"  # a heading wrapped onto a second line
        outline.heading(level(line), text)
        previous = (level(line), text)
    for joined in _join_pdf_lines(body_lines):
        outline.add(joined, LineKind.LINE)
    return outline.finish(), outline.opening_h1()


def _starts_a_heading(text: str, before: str) -> bool:
    """Return True when a heading line right under another one is a heading of its own, not the rest of it:
    it is numbered ("2 Utilities"), or the one above is the contents' title."""
    return text[:1].isdigit() or before.casefold() in ("contents", "table of contents")


def _is_heading(line: PdfLine, body: float) -> bool:
    """Return True for a short line that starts like a title and is set larger than the body, or all in bold."""
    text = line.text.strip()
    if not (has_words(text) and heading_shaped(text)) or re.match(r"[-*+•▪◦●]", text) or _PAGE_NUMBER.match(text):
        return False
    if line.size >= body * HEADING_SCALE:
        return True  # "1. Introduction" set large is a numbered heading, not a list item
    return line.bold and line.size >= body * 0.95 and not LIST_ITEM.match(text)


def _digitless(line: str) -> str:
    return re.sub(r"\d+", "#", line)


def _join_pdf_lines(lines: list[str]) -> list[str]:
    """Re-join a line to the one above only when it obviously continues it (hyphenation, lower-case start)."""
    joined: list[str] = []
    for line in lines:
        if joined and re.search(r"[a-z]-$", joined[-1]) and line[:1].islower():
            joined[-1] = joined[-1][:-1] + line
        elif joined and line[:1].islower() and not LIST_ITEM.match(line):
            joined[-1] += " " + line
        else:
            joined.append(re.sub(r"^[•▪◦●]\s*", "- ", line))
    return joined
