"""Read policy documents (Markdown, text, HTML, PDF, DOCX) into a title, front matter and clean sections."""

from __future__ import annotations

import io
import re
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import BadZipFile

from knowledge.documents import LoadedDocument, Section
from knowledge.errors import KnowledgeError, KnowledgeErrorCode
from knowledge.markup import (
    LIST_ITEM,
    LineKind,
    Outline,
    corrupt_file_error,
    format_table_rows,
    has_words,
    read_html,
    read_markdown,
    read_mdx,
    read_text,
    render_lines,
    squash_whitespace,
    title_from_file_name,
)

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

SUPPORTED_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".html", ".htm", ".pdf", ".docx")


def load_document(path: Path, *, max_bytes: int = 20_000_000) -> LoadedDocument:
    """Read one policy document into clean titled sections, or refuse it with a KnowledgeError."""
    path = Path(path)
    if not path.exists():
        raise KnowledgeError(KnowledgeErrorCode.NOT_FOUND, f"{path}: no such file.")
    if not path.is_file():
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"{path} is a folder, not a document; name the files in it.")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
        raise KnowledgeError(KnowledgeErrorCode.UNSUPPORTED_TYPE,
                             f"{path}: {kind} are not supported; supported types are {', '.join(SUPPORTED_SUFFIXES)}.")
    data = _read_bytes(path, max_bytes)
    if not data.strip():
        raise KnowledgeError(KnowledgeErrorCode.EMPTY, f"{path} is empty.")
    document = reader(path, data)
    if not document.sections:
        raise KnowledgeError(KnowledgeErrorCode.EMPTY, f"{path} has no readable text once markup is removed.")
    return document


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    too_large = f"{path} is over the {max_bytes:,}-byte limit; split it into smaller documents."
    try:
        if path.stat().st_size > max_bytes:
            raise KnowledgeError(KnowledgeErrorCode.TOO_LARGE, too_large)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    except OSError as error:
        raise KnowledgeError(KnowledgeErrorCode.NOT_FOUND, f"{path} could not be read: {error.strerror or error}.") from error
    if len(data) > max_bytes:
        raise KnowledgeError(KnowledgeErrorCode.TOO_LARGE, too_large)
    return data


# --- PDF and DOCX -----------------------------------------------------------------------------------

# Fuzzing pypdf 7 with damaged files showed it raises these built-in errors besides its own PyPdfError family;
# they are caught only around pypdf's own calls, so they cannot hide a bug of ours.
_PYPDF_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?-?\s*\d{1,4}\s*-?(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)


def _read_pdf(path: Path, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeError(KnowledgeErrorCode.CORRUPT, f"{path} is password-protected; remove the password and add it again.")
        pages = [page.extract_text() or "" for page in reader.pages]
        pdf_title = str((reader.metadata.title if reader.metadata else None) or "").strip()
    except (PyPdfError, *_PYPDF_MALFORMED) as error:
        raise corrupt_file_error(path, "PDF", error) from error
    sections = [Section((f"Page {number}",), text) for number, text in enumerate(_pdf_page_texts(pages), start=1) if has_words(text)]
    if not sections:
        raise KnowledgeError(KnowledgeErrorCode.EMPTY,
                             f"{path} has no extractable text; it may be a scanned image. Run OCR on it or export it with text.")
    usable_title = pdf_title and not re.search(r"\.(docx?|pdf|pages|odt)$|^untitled", pdf_title, re.I)
    return LoadedDocument(title=pdf_title if usable_title else title_from_file_name(path), sections=sections)


def _pdf_page_texts(pages: list[str]) -> list[str]:
    """Drop page numbers and running headers/footers, re-join wrapped lines, one text per page."""
    page_lines = [[line.strip() for line in page.split("\n") if line.strip()] for page in pages]
    # A running header or footer: one of a page's first or last two lines, the same (digits aside) on most pages.
    edges = Counter(key for lines in page_lines for key in {_digitless(line) for line in lines[:2] + lines[-2:]})
    running = {key for key, count in edges.items() if len(pages) >= 3 and count >= 0.6 * len(pages)}
    texts = []
    for lines in page_lines:
        kept = [line for index, line in enumerate(lines)
                if not ((index < 2 or index >= len(lines) - 2) and _digitless(line) in running)]
        while kept and _PAGE_NUMBER.match(kept[-1]):
            kept.pop()
        while kept and _PAGE_NUMBER.match(kept[0]):
            kept.pop(0)
        texts.append(render_lines((LineKind.LINE, line) for line in _join_pdf_lines(kept)))
    return texts


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


def _read_docx(path: Path, data: bytes) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import OpcError
    from lxml.etree import LxmlError

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        core_title = (document.core_properties.title or "").strip()
    except (OpcError, BadZipFile, zlib.error, LxmlError, KeyError, ValueError, NotImplementedError) as error:
        raise corrupt_file_error(path, "DOCX", error) from error
    outline = Outline()
    for block in blocks:
        if isinstance(block, docx.table.Table):
            for row in _docx_rows(block):
                outline.add(row, LineKind.LINE)
            outline.add("", LineKind.BREAK)
        else:
            _docx_paragraph(block, outline)
    sections = outline.finish()
    title = outline.opening_h1(top_level=0) or core_title or outline.opening_h1() or title_from_file_name(path)
    return LoadedDocument(title=title, sections=sections)


def _docx_paragraph(paragraph: Paragraph, outline: Outline) -> None:
    text = squash_whitespace(paragraph.text)
    style = paragraph.style.name if paragraph.style is not None else ""
    if level := re.fullmatch(r"Heading ([1-9])", style or ""):
        outline.heading(int(level.group(1)), text.rstrip(":"))
    elif style == "Title":
        outline.heading(0, text)
    elif text and (style or "").startswith("List"):
        outline.add(f"- {text}", LineKind.LINE)
    elif text:
        outline.add(text, LineKind.BLOCK)


def _docx_rows(table: Table) -> list[str]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # merged cells repeat the same cell object
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(squash_whitespace(cell.text))
        rows.append(cells)
    first = table.rows[0].cells if table.rows else []
    runs = [run for cell in first for paragraph in cell.paragraphs for run in paragraph.runs if run.text.strip()]
    bold_header = bool(runs) and all(run.bold for run in runs)
    return format_table_rows(rows, has_header=bold_header)


_READERS: dict[str, Callable[[Path, bytes], LoadedDocument]] = {
    ".md": read_markdown, ".markdown": read_markdown, ".mdx": read_mdx, ".txt": read_text,
    ".html": read_html, ".htm": read_html, ".pdf": _read_pdf, ".docx": _read_docx,
}
