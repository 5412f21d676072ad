"""The outline every reader shares, text helpers, front matter, and the HTML reader (Markdown and text: markdown.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from html.parser import HTMLParser
from itertools import zip_longest
from pathlib import Path

from knowledge.documents import LoadedDocument, Section
from knowledge.errors import KnowledgeError, KnowledgeErrorCode


class LineKind(Enum):
    """How a line of extracted text joins its neighbours."""

    PARA = "para"  # soft-wrapped prose: joins the line above it
    LINE = "line"  # list item, table row, pre-joined PDF line: a line of its own
    BLOCK = "block"  # a whole paragraph (HTML, DOCX): blank lines around it
    BREAK = "break"  # paragraph break


class Outline:
    """Collect text lines under a stack of headings and cut them into sections."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.lines: list[tuple[LineKind, str]] = []
        self.sections: list[Section] = []
        self.first_heading: tuple[int, str] | None = None
        self.heading_levels: list[int] = []
        self.text_before_headings = False

    def heading(self, level: int, text: str) -> None:
        """Close the current section and open one under this heading."""
        self.flush()
        if not text:
            return
        if self.first_heading is None:
            self.first_heading = (level, text)
            self.text_before_headings = bool(self.sections)
        self.heading_levels.append(level)
        while self.stack and (self.stack[-1][0] >= level or _is_question(text) and _is_question(self.stack[-1][1])):
            self.stack.pop()  # FAQ pages often skip heading levels; a question is never the parent of the next one
        self.stack.append((level, text))

    def add(self, text: str, kind: LineKind) -> None:
        """Append a line of body text."""
        self.lines.append((kind, text))

    def flush(self) -> None:
        """Turn the lines collected so far into a section, unless they hold no words."""
        body, self.lines = render_lines(self.lines), []
        if has_words(body):
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

    def opening_heading(self) -> str | None:
        """Return the heading that opens the page when it stands for the whole page, e.g. a lone '## Taking laptops abroad'.

        It must come before any text, and no heading after it may be at its level or above: a sibling would make it
        the first of the page's sections, and a shallower one a part (the page then has no title of its own).
        """
        if self.first_heading is None or self.text_before_headings:
            return None
        level = self.first_heading[0]
        return self.first_heading[1] if sum(1 for other in self.heading_levels if other <= level) == 1 else None


# --- shared text helpers --------------------------------------------------------------------------


def _is_question(heading: str) -> bool:
    return heading.endswith("?") or bool(re.match(r"Q\s*[.:]\s", heading))


def has_words(text: str) -> bool:
    """Return True when the text holds at least one letter."""
    return any(character.isalpha() for character in text)


MAX_HEADING_WORDS = 14


def heading_shaped(text: str) -> bool:
    """Return True for a line shaped like a heading set only by its type (a PDF's large line, a DOCX bold paragraph):
    short, not ending like a sentence or a clause, starting with a capital or a number."""
    return (bool(text) and len(text.split()) <= MAX_HEADING_WORDS and not text.endswith((".", ",", ";"))
            and (text[0].isupper() or text[0].isdigit()))


def render_lines(lines: Iterable[tuple[LineKind, str]]) -> str:
    """Join extracted lines into paragraphs: prose re-flowed, items and rows kept on their own lines."""
    paragraphs: list[list[str]] = [[]]
    previous = LineKind.BREAK
    for kind, raw in lines:
        text = re.sub(r"(?<=\S)[ \t]{2,}", " ", raw.rstrip())
        if kind is LineKind.BREAK or not text.strip():
            paragraphs.append([])
        elif kind is LineKind.BLOCK or previous is LineKind.BLOCK:
            paragraphs.extend([[text], []] if kind is LineKind.BLOCK else [[text]])
        elif kind is LineKind.PARA and previous in (LineKind.PARA, LineKind.LINE) and paragraphs[-1]:
            paragraphs[-1][-1] += " " + text.strip()
        else:
            paragraphs[-1].append(text if kind is LineKind.LINE else text.strip())
        previous = LineKind.BREAK if not text.strip() else kind
    return "\n\n".join("\n".join(lines) for lines in paragraphs if lines).strip("\n")


def format_table_rows(rows: list[list[str]], has_header: bool) -> list[str]:
    """Turn table rows into readable lines: 'Header: cell; Header: cell' when there is a header row.

    A row of empty cells or placeholders ('-', '...': the blank lines of a form) says nothing and is dropped.
    """
    rows = [row for row in rows if any(not _PLACEHOLDER_CELL.fullmatch(cell) for cell in row)]
    if not has_header or len(rows) < 2:
        return ["; ".join(cell for cell in row if cell) for row in rows]
    header, *body = rows
    return ["; ".join(f"{name}: {cell}" if name and name != cell else cell
                      for name, cell in zip_longest(header, row, fillvalue="") if cell) for row in body]


_PLACEHOLDER_CELL = re.compile(r"[\s\-–—_.…]*")


def squash_whitespace(text: str) -> str:
    """Collapse runs of whitespace, non-breaking spaces included, into single spaces."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def title_from_file_name(path: Path) -> str:
    """Make a title from a file name; 'a__b__time-off__index.md' (a flattened path) gives 'Time off'.

    An index or README page is named by its folder: 'it/vpn/README.md' gives 'Vpn'.
    """
    parts = [part for part in path.stem.split("__") if part.lower() not in {"index", "readme", ""}]
    parts = parts or [part for part in (path.parent.name, path.stem) if part.strip("._-")][:1] or [path.stem]
    words = re.sub(r"[-_\s]+", " ", parts[-1]).strip() or path.stem
    return words[0].upper() + words[1:]


def decode_text(path: Path, data: bytes) -> str:
    """Decode a file as UTF-8 (with or without a byte order mark), or refuse it naming the first bad byte."""
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


def corrupt_file_error(path: Path, kind: str, error: Exception) -> KnowledgeError:
    """Build the error for a file its parser rejected as damaged."""
    return KnowledgeError(KnowledgeErrorCode.CORRUPT,
                          f"{path} could not be read as a {kind} file ({type(error).__name__}: {error}); "
                          f"it may be damaged or not really a {kind}. Re-export it and add it again.")


# --- front matter ---------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?)\n(?:\1|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*[:=][ \t]*(.*)$")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
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


COMMENT = re.compile(r"<!--.*?-->", re.S)
LIST_ITEM = re.compile(r"^(\s*)([-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")

# --- HTML -------------------------------------------------------------------------------------------

_SKIPPED_HTML = {"script", "style", "nav", "footer", "noscript", "template", "svg", "iframe", "head", "button"}
_BLOCK_HTML = {"p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre", "ul", "ol", "dl", "dt",
               "dd", "hr", "figure", "figcaption", "details", "summary", "address", "body", "br", "caption"}


class _HtmlText(HTMLParser):
    """Walk HTML and feed its visible text, headings, list items and tables to an outline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outline = Outline()
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
                for row in format_table_rows(self.rows, self.header_row):
                    self.outline.add(row, LineKind.LINE)
                self.outline.add("", LineKind.BREAK)
        elif self.table_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag) and self.heading_level:
            text, self.buffer, self.heading_level = squash_whitespace("".join(self.buffer)), [], 0
            self.outline.heading(int(tag[1]), text.rstrip(":"))
        elif tag == "li" or tag in _BLOCK_HTML:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page_title += data
        elif not self.skipping:
            self.buffer.append(data)
            if self.table_depth == 1 and self.rows and self.rows[-1]:
                self.rows[-1][-1] = squash_whitespace(self.rows[-1][-1] + " " + "".join(self.buffer))
                self.buffer = []

    def _new_cell(self) -> None:
        if not self.rows:
            self.rows.append([])
        self.rows[-1].append("")

    def flush(self) -> None:
        """Emit the text gathered since the last block boundary."""
        text, self.buffer = squash_whitespace("".join(self.buffer)), []
        if self.heading_level or not text:
            self.buffer = [text] if self.heading_level and text else []
            return
        self.outline.add(f"- {text}" if self.item_pending else text, LineKind.LINE if self.item_pending else LineKind.BLOCK)
        self.item_pending = False


def read_html(path: Path, data: bytes) -> LoadedDocument:
    """Read an HTML page's visible text, skipping scripts, navigation and footers."""
    parser = _HtmlText()
    try:
        parser.feed(COMMENT.sub("", decode_text(path, data)))
        parser.close()
    except AssertionError as error:  # how the standard library's parser rejects a malformed <!...> declaration
        raise corrupt_file_error(path, "HTML", error) from error
    parser.flush()
    sections = parser.outline.finish()
    title = (parser.outline.opening_h1() or squash_whitespace(parser.page_title) or parser.outline.opening_heading()
             or title_from_file_name(path))
    return LoadedDocument(title=title, sections=sections)
