"""Read policy documents (Markdown, text, HTML, PDF, DOCX) into a title, front matter and clean sections."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import BadZipFile

from knowledge.documents import LoadedDocument
from knowledge.errors import KnowledgeError, KnowledgeErrorCode
from knowledge.markdown import read_markdown, read_mdx, read_text
from knowledge.markup import (
    LineKind,
    Outline,
    corrupt_file_error,
    format_table_rows,
    heading_shaped,
    read_html,
    squash_whitespace,
    title_from_file_name,
)
from knowledge.pdf import read_pdf

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

SUPPORTED_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".html", ".htm", ".pdf", ".docx")


def check_type(path: Path) -> None:
    """Refuse a file whose type cannot be read, by its name alone (before anything is read or downloaded)."""
    if path.suffix.lower() not in _READERS:
        kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
        raise KnowledgeError(KnowledgeErrorCode.UNSUPPORTED_TYPE,
                             f"{path}: {kind} are not supported; supported types are {', '.join(SUPPORTED_SUFFIXES)}.")


def load_document(path: Path, *, max_bytes: int = 20_000_000) -> LoadedDocument:
    """Read one policy document into clean titled sections, or refuse it with a KnowledgeError."""
    path = Path(path)
    if not path.exists():
        raise KnowledgeError(KnowledgeErrorCode.NOT_FOUND, f"{path}: no such file.")
    if path.is_dir():
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"{path} is a folder, not a document; name the files in it.")
    if not path.is_file():  # /dev/null, a pipe, a socket
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"{path} is not a regular file; name a document file.")
    check_type(path)
    reader = _READERS[path.suffix.lower()]
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


# --- DOCX -----------------------------------------------------------------------------------------

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
    title = (outline.opening_h1(top_level=0) or core_title or outline.opening_h1() or outline.opening_heading()
             or title_from_file_name(path))
    return LoadedDocument(title=title, sections=sections)


def _docx_paragraph(paragraph: Paragraph, outline: Outline) -> None:
    text = squash_whitespace(paragraph.text)
    style = paragraph.style.name if paragraph.style is not None else ""
    if (style or "").lower().startswith(("toc", "table of contents")):
        return  # Word's table of contents repeats the headings with page numbers
    if level := re.fullmatch(r"Heading ([1-9])", style or ""):
        outline.heading(int(level.group(1)), text.rstrip(":"))
    elif style == "Title":
        outline.heading(0, text)
    elif _looks_like_bold_heading(paragraph, text, style or ""):
        outline.heading(BOLD_HEADING_LEVEL, text.rstrip(":"))
    elif text and (style or "").startswith("List"):
        outline.add(f"- {text}", LineKind.LINE)
    elif text:
        outline.add(text, LineKind.BLOCK)


# Many handbooks set their headings as a short bold paragraph instead of a Heading style: such a heading sits
# under the last styled one and above the text that follows it.
BOLD_HEADING_LEVEL = 10


def _looks_like_bold_heading(paragraph: Paragraph, text: str, style: str) -> bool:
    if not heading_shaped(text) or style.startswith("List"):
        return False
    style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


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
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf, ".docx": _read_docx,
}
