"""Read policy documents (Markdown, text, HTML, PDF, DOCX) into a title, front matter and clean sections."""

from __future__ import annotations

import html
import io
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from enum import Enum
from html.parser import HTMLParser
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING
from zipfile import BadZipFile

from knowledge.documents import LoadedDocument, Section
from knowledge.errors import KnowledgeError, KnowledgeErrorCode

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


class _Kind(Enum):
    """How a line of extracted text joins its neighbours."""

    PARA = "para"  # soft-wrapped prose: joins the line above it
    LINE = "line"  # list item, table row, pre-joined PDF line: a line of its own
    BLOCK = "block"  # a whole paragraph (HTML, DOCX): blank lines around it
    BREAK = "break"  # paragraph break


class _Outline:
    """Collect text lines under a stack of headings and cut them into sections."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.lines: list[tuple[_Kind, str]] = []
        self.sections: list[Section] = []
        self.first_heading: tuple[int, str] | None = None

    def heading(self, level: int, text: str) -> None:
        """Close the current section and open one under this heading."""
        self.flush()
        if not text:
            return
        if self.first_heading is None:
            self.first_heading = (level, text)
        while self.stack and (self.stack[-1][0] >= level or _is_question(text) and _is_question(self.stack[-1][1])):
            self.stack.pop()  # FAQ pages often skip heading levels; a question is never the parent of the next one
        self.stack.append((level, text))

    def add(self, text: str, kind: _Kind) -> None:
        """Append a line of body text."""
        self.lines.append((kind, text))

    def flush(self) -> None:
        """Turn the lines collected so far into a section, unless they hold no words."""
        body, self.lines = _render(self.lines), []
        if _has_words(body):
            self.sections.append(Section(tuple(title for _, title in self.stack), body))

    def finish(self) -> list[Section]:
        """Close the last section and return all of them."""
        self.flush()
        return self.sections

    def opening_h1(self, top_level: int = 1) -> str | None:
        """Return the first heading when it is a top-level one (a later H1 is a part, not the title)."""
        if self.first_heading and self.first_heading[0] <= top_level:
            return self.first_heading[1]
        return None


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


# --- shared text helpers --------------------------------------------------------------------------


def _is_question(heading: str) -> bool:
    return heading.endswith("?") or bool(re.match(r"Q\s*[.:]\s", heading))


def _has_words(text: str) -> bool:
    return any(character.isalpha() for character in text)


def _render(lines: Iterable[tuple[_Kind, str]]) -> str:
    """Join extracted lines into paragraphs: prose re-flowed, items and rows kept on their own lines."""
    paragraphs: list[list[str]] = [[]]
    previous = _Kind.BREAK
    for kind, raw in lines:
        text = re.sub(r"(?<=\S)[ \t]{2,}", " ", raw.rstrip())
        if kind is _Kind.BREAK or not text.strip():
            paragraphs.append([])
        elif kind is _Kind.BLOCK or previous is _Kind.BLOCK:
            paragraphs.extend([[text], []] if kind is _Kind.BLOCK else [[text]])
        elif kind is _Kind.PARA and previous in (_Kind.PARA, _Kind.LINE) and paragraphs[-1]:
            paragraphs[-1][-1] += " " + text.strip()
        else:
            paragraphs[-1].append(text if kind is _Kind.LINE else text.strip())
        previous = _Kind.BREAK if not text.strip() else kind
    return "\n\n".join("\n".join(lines) for lines in paragraphs if lines).strip("\n")


def _format_table(rows: list[list[str]], has_header: bool) -> list[str]:
    """Turn table rows into readable lines: 'Header: cell; Header: cell' when there is a header row."""
    rows = [row for row in rows if any(cell for cell in row)]
    if not has_header or len(rows) < 2:
        return ["; ".join(cell for cell in row if cell) for row in rows]
    header, *body = rows
    return ["; ".join(f"{name}: {cell}" if name and name != cell else cell
                      for name, cell in zip_longest(header, row, fillvalue="") if cell) for row in body]


def _pretty_stem(path: Path) -> str:
    """Make a title from a file name; 'a__b__time-off__index.md' (a flattened path) gives 'Time off'."""
    parts = [part for part in path.stem.split("__") if part.lower() not in {"index", "readme", ""}] or [path.stem]
    words = re.sub(r"[-_\s]+", " ", parts[-1]).strip() or path.stem
    return words[0].upper() + words[1:]


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # plain UTF-8, with or without a byte order mark
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        hint = " (it starts with a UTF-16 byte order mark)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise KnowledgeError(KnowledgeErrorCode.NOT_UTF8,
                             f"{path} is not UTF-8 text{hint}: byte {error.start} (0x{data[error.start]:02X}, line {line}) "
                             f"is not valid UTF-8. Save the file as UTF-8 and add it again.") from error
    if "\x00" in text:
        offset = data.index(b"\x00")
        raise KnowledgeError(KnowledgeErrorCode.NOT_UTF8,
                             f"{path} is not UTF-8 text: byte {offset} is a NUL byte (UTF-16 or binary data). "
                             f"Save the file as UTF-8 and add it again.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- front matter ---------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?)\n(?:\1|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*[:=][ \t]*(.*)$")


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Remove YAML (---) or TOML (+++) front matter and read it simply as key: value strings."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    metadata: dict[str, str] = {}
    key = ""
    for line in match.group(2).split("\n"):
        if (entry := _FRONT_KEY.match(line)) and not line[0].isspace():
            key = entry.group(1).lower()
            metadata[key] = _front_value(entry.group(2))
        elif key and (item := re.match(r"^\s*-\s+(.*)$", line)):
            metadata[key] = ", ".join(filter(None, [metadata[key], _front_value(item.group(1))]))
        elif key and line.strip() and line[0].isspace():  # a folded or block scalar's continuation
            metadata[key] = " ".join(filter(None, [metadata[key], line.strip()]))
    metadata = {name: value for name, value in metadata.items() if value not in ("", "|", ">", "|-", ">-")}
    return metadata, text[match.end():]


def _front_value(raw: str) -> str:
    value = re.sub(r"\s+#.*$", "", raw.strip())
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(_front_value(item) for item in value[1:-1].split(",") if item.strip())
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.strip()


# --- Markdown -------------------------------------------------------------------------------------

_TAGS = ("a|abbr|article|aside|audio|b|big|blockquote|br|caption|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|"
         "em|embed|figcaption|figure|font|h[1-6]|header|hr|i|img|input|ins|kbd|label|li|main|mark|object|ol|p|picture|pre|q|"
         "s|samp|section|small|source|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|tr|tt|u|ul|var|video|wbr")
_NOISE_BLOCKS = re.compile(r"<(script|style|nav|footer|noscript|template|svg|iframe)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TEMPLATE = re.compile(r"\{\{[<%].*?[%>]\}\}|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[[^\]]*\](?:\((?:<[^>]*>|[^)]*)\)|\[[^\]]*\])"), ""),  # images
    (re.compile(r"\[([^\]]*)\]\((?:<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"), r"\1"),
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote references
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference-style links
    (re.compile(r"<(?:mailto:)?((?:https?|ftp)://[^>\s]+|[^@<>\s]+@[^@<>\s]+)>"), r"\1"),  # autolinks: the URL is the text
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(?<!\\)(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])"), r"\1"),
)
_BREAK_TAG = re.compile(r"<br\s*/?>", re.I)
_HTML_TAG = re.compile(rf"</?(?:{_TAGS})\b[^<>]*>", re.I)
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(={2,}|-{2,})[ \t]*$")
_THEMATIC_OR_DEFINITION = re.compile(r"^ {0,3}(?:([-*_])(?:[ \t]*\1){2,}[ \t]*|\[[^\]]+\]:\s*\S.*)$")
_LIST_ITEM = re.compile(r"^(\s*)([-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")


def _clean_inline(text: str) -> str:
    """Reduce Markdown and inline HTML to its readable text."""
    text = _HTML_TAG.sub("", _BREAK_TAG.sub(" ", text))
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return html.unescape(text).replace("\xa0", " ")


def _clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", _clean_inline(text)).strip().rstrip(":").strip()


def _read_markdown(path: Path, data: bytes) -> LoadedDocument:
    metadata, body = _split_front_matter(_decode(path, data))
    body = _TEMPLATE.sub("", _NOISE_BLOCKS.sub("", _COMMENT.sub("", body)))
    body = _HTML_TAG.sub("", _BREAK_TAG.sub(" ", body))  # tags may span lines, so strip them before splitting
    outline = _Outline()
    _markdown_lines(_setext_to_atx(body.split("\n")), outline)
    sections = outline.finish()
    title = _clean_heading(metadata.get("title", "")) or outline.opening_h1() or _pretty_stem(path)
    return LoadedDocument(title=title, sections=sections, metadata=metadata)


def _setext_to_atx(lines: list[str]) -> list[str]:
    """Rewrite 'Title' + '=====' (or '-----') as '# Title' when the title is a one-line paragraph."""
    result: list[str] = []
    in_fence = False
    for line in lines:
        in_fence ^= bool(_FENCE.match(line))
        if not in_fence and _SETEXT.match(line) and _is_one_line_paragraph(result):
            result[-1] = ("# " if line.strip()[0] == "=" else "## ") + result[-1].strip()
        else:
            result.append(line)
    return result


def _is_one_line_paragraph(lines: list[str]) -> bool:
    """Return True when the last line is short plain text after a blank line or a heading."""
    previous = lines[-1] if lines else ""
    before = lines[-2] if len(lines) > 1 else ""
    if not 0 < len(previous.strip()) <= 120 or (before.strip() and not _ATX.match(before)):
        return False
    return not any(pattern.match(previous) for pattern in (_FENCE, _ATX, _LIST_ITEM)) and not re.search(r"\||^\s*>", previous)


def _markdown_lines(lines: list[str], outline: _Outline) -> None:
    in_fence, index = False, 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            in_fence = not in_fence
        elif in_fence:
            outline.add(line, _Kind.LINE)
        elif heading := _ATX.match(line):
            outline.heading(len(heading.group(1)), _clean_heading(heading.group(2) or ""))
        elif "|" in line and index < len(lines) and _TABLE_SEPARATOR.match(lines[index]):
            rows = [line]
            index += 1
            while index < len(lines) and "|" in lines[index] and lines[index].strip():
                rows.append(lines[index])
                index += 1
            for row in _format_table([_table_cells(row) for row in rows], has_header=True):
                outline.add(row, _Kind.LINE)
        elif not line.strip() or _THEMATIC_OR_DEFINITION.match(line):
            outline.add("", _Kind.BREAK)
        else:
            outline.add(*_markdown_line(line))


def _table_cells(row: str) -> list[str]:
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [_clean_heading(cell.replace("\\|", "|")) for cell in re.split(r"(?<!\\)\|", inner)]


def _markdown_line(line: str) -> tuple[str, _Kind]:
    line = re.sub(r"^\s*(?:>\s?)+", "", line)  # block quotes
    if item := _LIST_ITEM.match(line):
        indent = "  " * min(len(item.group(1).expandtabs(4)) // 2, 4)
        marker = item.group(2) if item.group(2)[0].isdigit() else "-"
        return f"{indent}{marker} {_clean_inline(item.group(3)).strip()}", _Kind.LINE
    return _clean_inline(line).strip(), _Kind.PARA


# --- plain text -------------------------------------------------------------------------------------


def _read_text(path: Path, data: bytes) -> LoadedDocument:
    metadata, body = _split_front_matter(_decode(path, data))
    lines = body.split("\n")
    outline = _Outline()
    index = 0
    while index < len(lines):
        line, after = lines[index], lines[index + 1] if index + 1 < len(lines) else ""
        before = lines[index - 1] if index else ""
        index += 1
        if line.strip() and not before.strip() and _SETEXT.match(after):
            outline.heading(1 if after.strip()[0] == "=" else 2, line.strip().rstrip(":"))
            index += 1
        elif not before.strip() and not after.strip() and _looks_like_caps_heading(line.strip()):
            outline.heading(1, line.strip().rstrip(":"))
        elif item := _LIST_ITEM.match(line):
            outline.add(f"{'  ' * min(len(item.group(1)) // 2, 4)}{'-' if item.group(2) in '-*+•' else item.group(2)} "
                        f"{item.group(3).strip()}", _Kind.LINE)
        else:
            outline.add(line.strip(), _Kind.PARA if line.strip() else _Kind.BREAK)
    sections = outline.finish()
    title = _clean_heading(metadata.get("title", "")) or outline.opening_h1() or _pretty_stem(path)
    return LoadedDocument(title=title, sections=sections, metadata=metadata)


def _looks_like_caps_heading(line: str) -> bool:
    """Return True for a short all-capitals line such as 'ANNUAL LEAVE' (only between blank lines)."""
    letters = [character for character in line if character.isalpha()]
    return (len(letters) >= 3 and len(line) <= 80 and len(line.split()) <= 10 and line.upper() == line
            and not line.endswith((".", ",", ";")) and not _LIST_ITEM.match(line))


# --- HTML -------------------------------------------------------------------------------------------

_SKIPPED_HTML = {"script", "style", "nav", "footer", "noscript", "template", "svg", "iframe", "head", "button"}
_BLOCK_HTML = {"p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre", "ul", "ol", "dl", "dt",
               "dd", "hr", "figure", "figcaption", "details", "summary", "address", "body", "br", "caption"}


class _HtmlText(HTMLParser):
    """Walk HTML and feed its visible text, headings, list items and tables to an outline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = _Outline()
        self.page_title, self.in_title, self.skipping = "", False, 0
        self.buffer: list[str] = []
        self.heading_level, self.item_pending, self.table_depth = 0, False, 0
        self.rows: list[list[str]] = []
        self.header_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag == "body":
            self.skipping = 0  # an unclosed <head> must not hide the page
        elif tag in _SKIPPED_HTML:
            self.skipping += 1
        elif self.skipping:
            return
        elif tag == "table":
            self.table_depth += 1
            if self.table_depth == 1:
                self.flush()
                self.rows, self.header_row = [], False
        elif self.table_depth == 1 and tag == "tr":
            self.rows.append([])
        elif self.table_depth == 1 and tag in ("td", "th"):
            self.header_row = self.header_row or (len(self.rows) == 1 and tag == "th")
            self._new_cell()
        elif self.table_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag) or tag == "li" or tag in _BLOCK_HTML:
            self.flush()
            self.heading_level = int(tag[1]) if tag[0] == "h" and tag[1:].isdigit() else self.heading_level
            self.item_pending = self.item_pending or tag == "li"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIPPED_HTML:
            self.skipping = max(0, self.skipping - 1)
        elif self.skipping:
            return
        elif tag == "table" and self.table_depth:
            self.table_depth -= 1
            if not self.table_depth:
                for row in _format_table(self.rows, self.header_row):
                    self.outline.add(row, _Kind.LINE)
                self.outline.add("", _Kind.BREAK)
        elif self.table_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag) and self.heading_level:
            text, self.buffer, self.heading_level = _squash("".join(self.buffer)), [], 0
            self.outline.heading(int(tag[1]), text.rstrip(":"))
        elif tag == "li" or tag in _BLOCK_HTML:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page_title += data
        elif not self.skipping:
            self.buffer.append(data)
            if self.table_depth == 1 and self.rows and self.rows[-1]:
                self.rows[-1][-1] = _squash(self.rows[-1][-1] + " " + "".join(self.buffer))
                self.buffer = []

    def _new_cell(self) -> None:
        if not self.rows:
            self.rows.append([])
        self.rows[-1].append("")

    def flush(self) -> None:
        """Emit the text gathered since the last block boundary."""
        text, self.buffer = _squash("".join(self.buffer)), []
        if self.heading_level or not text:
            self.buffer = [text] if self.heading_level and text else []
            return
        self.outline.add(f"- {text}" if self.item_pending else text, _Kind.LINE if self.item_pending else _Kind.BLOCK)
        self.item_pending = False


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _read_html(path: Path, data: bytes) -> LoadedDocument:
    parser = _HtmlText()
    try:
        parser.feed(_COMMENT.sub("", _decode(path, data)))
        parser.close()
    except AssertionError as error:  # how the standard library's parser rejects a malformed <!...> declaration
        raise _corrupt(path, "HTML", error) from error
    parser.flush()
    sections = parser.outline.finish()
    title = parser.outline.opening_h1() or _squash(parser.page_title) or _pretty_stem(path)
    return LoadedDocument(title=title, sections=sections)


# --- PDF and DOCX -----------------------------------------------------------------------------------

# Fuzzing pypdf 7 with damaged files showed it raises these built-in errors besides its own PyPdfError family;
# they are caught only around pypdf's own calls, so they cannot hide a bug of ours.
_PYPDF_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?-?\s*\d{1,4}\s*-?(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)


def _corrupt(path: Path, kind: str, error: Exception) -> KnowledgeError:
    return KnowledgeError(KnowledgeErrorCode.CORRUPT,
                          f"{path} could not be read as a {kind} file ({type(error).__name__}: {error}); "
                          f"it may be damaged or not really a {kind}. Re-export it and add it again.")


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
        raise _corrupt(path, "PDF", error) from error
    sections = [Section((f"Page {number}",), text) for number, text in enumerate(_pdf_page_texts(pages), start=1) if _has_words(text)]
    if not sections:
        raise KnowledgeError(KnowledgeErrorCode.EMPTY,
                             f"{path} has no extractable text; it may be a scanned image. Run OCR on it or export it with text.")
    usable_title = pdf_title and not re.search(r"\.(docx?|pdf|pages|odt)$|^untitled", pdf_title, re.I)
    return LoadedDocument(title=pdf_title if usable_title else _pretty_stem(path), sections=sections)


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
        texts.append(_render((_Kind.LINE, line) for line in _join_pdf_lines(kept)))
    return texts


def _digitless(line: str) -> str:
    return re.sub(r"\d+", "#", line)


def _join_pdf_lines(lines: list[str]) -> list[str]:
    """Re-join a line to the one above only when it obviously continues it (hyphenation, lower-case start)."""
    joined: list[str] = []
    for line in lines:
        if joined and re.search(r"[a-z]-$", joined[-1]) and line[:1].islower():
            joined[-1] = joined[-1][:-1] + line
        elif joined and line[:1].islower() and not _LIST_ITEM.match(line):
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
        raise _corrupt(path, "DOCX", error) from error
    outline = _Outline()
    for block in blocks:
        if isinstance(block, docx.table.Table):
            for row in _docx_rows(block):
                outline.add(row, _Kind.LINE)
            outline.add("", _Kind.BREAK)
        else:
            _docx_paragraph(block, outline)
    sections = outline.finish()
    title = outline.opening_h1(top_level=0) or core_title or outline.opening_h1() or _pretty_stem(path)
    return LoadedDocument(title=title, sections=sections)


def _docx_paragraph(paragraph: Paragraph, outline: _Outline) -> None:
    text = _squash(paragraph.text)
    style = paragraph.style.name if paragraph.style is not None else ""
    if level := re.fullmatch(r"Heading ([1-9])", style or ""):
        outline.heading(int(level.group(1)), text.rstrip(":"))
    elif style == "Title":
        outline.heading(0, text)
    elif text and (style or "").startswith("List"):
        outline.add(f"- {text}", _Kind.LINE)
    elif text:
        outline.add(text, _Kind.BLOCK)


def _docx_rows(table: Table) -> list[str]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # merged cells repeat the same cell object
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(_squash(cell.text))
        rows.append(cells)
    first = table.rows[0].cells if table.rows else []
    runs = [run for cell in first for paragraph in cell.paragraphs for run in paragraph.runs if run.text.strip()]
    bold_header = bool(runs) and all(run.bold for run in runs)
    return _format_table(rows, has_header=bold_header)


_READERS: dict[str, Callable[[Path, bytes], LoadedDocument]] = {
    ".md": _read_markdown, ".markdown": _read_markdown, ".txt": _read_text,
    ".html": _read_html, ".htm": _read_html, ".pdf": _read_pdf, ".docx": _read_docx,
}
