"""Clean and parse Markdown, plain text and HTML into titled sections, with the outline every reader shares."""

from __future__ import annotations

import html
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
    """Turn table rows into readable lines: 'Header: cell; Header: cell' when there is a header row."""
    rows = [row for row in rows if any(cell for cell in row)]
    if not has_header or len(rows) < 2:
        return ["; ".join(cell for cell in row if cell) for row in rows]
    header, *body = rows
    return ["; ".join(f"{name}: {cell}" if name and name != cell else cell
                      for name, cell in zip_longest(header, row, fillvalue="") if cell) for row in body]


def squash_whitespace(text: str) -> str:
    """Collapse runs of whitespace, non-breaking spaces included, into single spaces."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def title_from_file_name(path: Path) -> str:
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


def corrupt_file_error(path: Path, kind: str, error: Exception) -> KnowledgeError:
    """Build the error for a file its parser rejected as damaged."""
    return KnowledgeError(KnowledgeErrorCode.CORRUPT,
                          f"{path} could not be read as a {kind} file ({type(error).__name__}: {error}); "
                          f"it may be damaged or not really a {kind}. Re-export it and add it again.")


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
# Table-of-contents markers ("* TOC" + "{:toc}" in kramdown, "[[_TOC_]]" in GitLab, "[TOC]") and kramdown's
# attribute lists ("{:.no_toc}"); a heading's own attributes ("## Holidays {#holidays}") are cut in _ATX_ATTRIBUTES.
_TOC_MARKER = re.compile(r"^[ \t]*(?:[-*+][ \t]+TOC[ \t]*\n[ \t]*\{:[ \t]*toc[ \t]*\}|\[\[_TOC_\]\]|\[TOC\])[ \t]*$",
                         re.M | re.I)
_ATTRIBUTE_LIST = re.compile(r"\{:[^{}\n]*\}")
_ATX_ATTRIBUTES = re.compile(r"[ \t]*\{[#.][^{}]*\}[ \t]*$")
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
LIST_ITEM = re.compile(r"^(\s*)([-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")


def _clean_inline(text: str) -> str:
    """Reduce Markdown and inline HTML to its readable text."""
    text = _HTML_TAG.sub("", _BREAK_TAG.sub(" ", text))
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return html.unescape(text).replace("\xa0", " ")


def _clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", _clean_inline(text)).strip().rstrip(":").strip()


def read_markdown(path: Path, data: bytes) -> LoadedDocument:
    """Read a Markdown file: front matter, headings, lists and tables; markup and templating removed."""
    metadata, body = _split_front_matter(_decode(path, data))
    return _markdown_document(path, metadata, body)


# MDX (Markdown with JSX, as in Docusaurus or Gatsby handbooks): import/export lines, {/* comments */} and
# components (<Callout type="info">, <Calculator />); their props may hold one level of {braces}.
_MDX_ESM = re.compile(r"^(?:import|export)\s")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*(?:\s(?:[^<>{}]|\{[^{}]*\})*)?/?>")


def read_mdx(path: Path, data: bytes) -> LoadedDocument:
    """Read an MDX file: its Markdown, without the module lines and the components' tags (their text stays)."""
    metadata, body = _split_front_matter(_decode(path, data))
    lines, in_fence = [], False
    for line in _MDX_COMMENT.sub("", body).split("\n"):
        in_fence ^= bool(_FENCE.match(line))
        if in_fence or not _MDX_ESM.match(line):
            lines.append(line if in_fence else _JSX_TAG.sub("", line))
    return _markdown_document(path, metadata, "\n".join(lines))


def _markdown_document(path: Path, metadata: dict[str, str], body: str) -> LoadedDocument:
    body = _TEMPLATE.sub("", _NOISE_BLOCKS.sub("", _COMMENT.sub("", body)))
    body = _ATTRIBUTE_LIST.sub("", _TOC_MARKER.sub("", body))
    body = _HTML_TAG.sub("", _BREAK_TAG.sub(" ", body))  # tags may span lines, so strip them before splitting
    outline = Outline()
    _markdown_lines(_setext_to_atx(body.split("\n")), outline)
    sections = outline.finish()
    title = _clean_heading(metadata.get("title", "")) or outline.opening_h1() or title_from_file_name(path)
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
    return not any(pattern.match(previous) for pattern in (_FENCE, _ATX, LIST_ITEM)) and not re.search(r"\||^\s*>", previous)


def _markdown_lines(lines: list[str], outline: Outline) -> None:
    in_fence, index = False, 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            in_fence = not in_fence
        elif in_fence:
            outline.add(line, LineKind.LINE)
        elif heading := _ATX.match(line):
            outline.heading(len(heading.group(1)), _clean_heading(_ATX_ATTRIBUTES.sub("", heading.group(2) or "")))
        elif "|" in line and index < len(lines) and _TABLE_SEPARATOR.match(lines[index]):
            rows = [line]
            index += 1
            while index < len(lines) and "|" in lines[index] and lines[index].strip():
                rows.append(lines[index])
                index += 1
            for row in format_table_rows([_table_cells(row) for row in rows], has_header=True):
                outline.add(row, LineKind.LINE)
        elif not line.strip() or _THEMATIC_OR_DEFINITION.match(line):
            outline.add("", LineKind.BREAK)
        else:
            outline.add(*_markdown_line(line))


def _table_cells(row: str) -> list[str]:
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [_clean_heading(cell.replace("\\|", "|")) for cell in re.split(r"(?<!\\)\|", inner)]


def _markdown_line(line: str) -> tuple[str, LineKind]:
    line = re.sub(r"^\s*(?:>\s?)+", "", line)  # block quotes
    if item := LIST_ITEM.match(line):
        indent = "  " * min(len(item.group(1).expandtabs(4)) // 2, 4)
        marker = item.group(2) if item.group(2)[0].isdigit() else "-"
        return f"{indent}{marker} {_clean_inline(item.group(3)).strip()}", LineKind.LINE
    return _clean_inline(line).strip(), LineKind.PARA


# --- plain text -------------------------------------------------------------------------------------


def read_text(path: Path, data: bytes) -> LoadedDocument:
    """Read a plain-text file, taking underlined and all-capitals lines as headings."""
    metadata, body = _split_front_matter(_decode(path, data))
    lines = body.split("\n")
    outline = Outline()
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
        elif item := LIST_ITEM.match(line):
            outline.add(f"{'  ' * min(len(item.group(1)) // 2, 4)}{'-' if item.group(2) in '-*+•' else item.group(2)} "
                        f"{item.group(3).strip()}", LineKind.LINE)
        else:
            outline.add(line.strip(), LineKind.PARA if line.strip() else LineKind.BREAK)
    sections = outline.finish()
    title = _clean_heading(metadata.get("title", "")) or outline.opening_h1() or title_from_file_name(path)
    return LoadedDocument(title=title, sections=sections, metadata=metadata)


def _looks_like_caps_heading(line: str) -> bool:
    """Return True for a short all-capitals line such as 'ANNUAL LEAVE' (only between blank lines)."""
    letters = [character for character in line if character.isalpha()]
    return (len(letters) >= 3 and len(line) <= 80 and len(line.split()) <= 10 and line.upper() == line
            and not line.endswith((".", ",", ";")) and not LIST_ITEM.match(line))


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
        parser.feed(_COMMENT.sub("", _decode(path, data)))
        parser.close()
    except AssertionError as error:  # how the standard library's parser rejects a malformed <!...> declaration
        raise corrupt_file_error(path, "HTML", error) from error
    parser.flush()
    sections = parser.outline.finish()
    title = parser.outline.opening_h1() or squash_whitespace(parser.page_title) or title_from_file_name(path)
    return LoadedDocument(title=title, sections=sections)
