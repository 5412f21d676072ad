"""Read Markdown, MDX and plain text into titled sections: markup, templating and embedded HTML turned into text."""

from __future__ import annotations

import html
import re
from pathlib import Path

from knowledge.documents import LoadedDocument
from knowledge.markup import (
    COMMENT,
    LIST_ITEM,
    LineKind,
    Outline,
    decode_text,
    format_table_rows,
    split_front_matter,
    title_from_file_name,
)

# --- Markdown -------------------------------------------------------------------------------------

_TAGS = ("a|abbr|article|aside|audio|b|big|blockquote|br|caption|center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|"
         "em|embed|figcaption|figure|font|h[1-6]|header|hr|i|img|input|ins|kbd|label|li|main|mark|object|ol|p|picture|pre|q|"
         "s|samp|section|small|source|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|tr|tt|u|ul|var|video|wbr")
_NOISE_BLOCKS = re.compile(r"<(script|style|nav|footer|noscript|template|svg|iframe)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TEMPLATE = re.compile(r"\{\{[<%].*?[%>]\}\}|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
# A Slack channel named by a template tag ({% slack_channel "admins-slack" %}) is often the answer: keep its name.
_CHANNEL_TAG = re.compile(r"\{%-?\s*(?:slack_channel|slack|channel)\s+[\"']#?([\w.-]+)[\"']\s*-?%\}")
# A link whose target was a template tag, its text wrapped onto a second line: "[Ask the Tech\nPortfolio.]()"
_EMPTY_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*\)")
# Table-of-contents markers ("* TOC" + "{:toc}" in kramdown, "[[_TOC_]]" in GitLab, "[TOC]") and kramdown's
# attribute lists ("{:.no_toc}"); a heading's own attributes ("## Holidays {#holidays}") are cut in _ATX_ATTRIBUTES.
_TOC_MARKER = re.compile(r"^[ \t]*(?:[-*+][ \t]+TOC[ \t]*\n[ \t]*\{:[ \t]*toc[ \t]*\}|\[\[_TOC_\]\]|\[TOC\])[ \t]*$",
                         re.M | re.I)
_ATTRIBUTE_LIST = re.compile(r"\{:[^{}\n]*\}")
_ATX_ATTRIBUTES = re.compile(r"[ \t]*\{[#.][^{}]*\}[ \t]*$")
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[[^\]]*\](?:\((?:<[^>]*>|[^)]*)\)|\[[^\]]*\])"), ""),  # images
    # the text of a link, which may hold brackets of its own: "[TWN Employee Guide [DOCX - 61 KB]](https://...)"
    (re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"),
     r"\1"),
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote references
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference-style links
    (re.compile(r"<(?:mailto:)?((?:https?|ftp)://[^>\s]+|[^@<>\s]+@[^@<>\s]+)>"), r"\1"),  # autolinks: the URL is the text
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(?<!\\)(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),  # a backslash escapes any ASCII punctuation: \= or \$
)
_BREAK_TAG = re.compile(r"<br\s*/?>", re.I)
_HTML_TAG = re.compile(rf"</?(?:{_TAGS})\b[^<>]*>", re.I)
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(={2,}|-{2,})[ \t]*$")
_THEMATIC_OR_DEFINITION = re.compile(r"^ {0,3}(?:([-*_])(?:[ \t]*\1){2,}[ \t]*|\[[^\]]+\]:\s*\S.*)$")
# The line under a table's header row; a one-column table needs both pipes ("| :- |"), or it would be a setext underline.
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$|^\s*\|\s*:?-+:?\s*\|\s*$")


# Emphasis markers the rules above could not pair ("** Mandatory prerequisites**", a bold run cut by a tag): a run of two
# or three, unless it sits between two letters or digits ("2**3", "snake__case"); longer underscores are blanks to fill.
_LEFTOVER_EMPHASIS = re.compile(r"(?<![^\W_])\*{2,3}|\*{2,3}(?![^\W_])|(?<!_)(?:(?<![^\W_])_{2,3}|_{2,3}(?![^\W_]))(?!_)")


def _clean_inline(text: str) -> str:
    """Reduce Markdown and inline HTML to its readable text."""
    text = _HTML_TAG.sub("", _BREAK_TAG.sub(" ", text))
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return _join_blocks(_LEFTOVER_EMPHASIS.sub("", html.unescape(text).replace("\xa0", " ")))


def _clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", _clean_inline(text)).strip().rstrip(":").strip()


def read_markdown(path: Path, data: bytes) -> LoadedDocument:
    """Read a Markdown file: front matter, headings, lists and tables; markup and templating removed."""
    metadata, body = split_front_matter(decode_text(path, data))
    return _markdown_document(path, metadata, body)


# MDX (Markdown with JSX, as in Docusaurus or Gatsby handbooks): import/export lines, {/* comments */} and
# components (<Callout type="info">, <Calculator />); their props may hold one level of {braces}.
_MDX_ESM = re.compile(r"^(?:import|export)\s")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*(?:\s(?:[^<>{}]|\{[^{}]*\})*)?/?>")


def read_mdx(path: Path, data: bytes) -> LoadedDocument:
    """Read an MDX file: its Markdown, without the module lines and the components' tags (their text stays)."""
    metadata, body = split_front_matter(decode_text(path, data))
    lines, in_fence = [], False
    for line in _MDX_COMMENT.sub("", body).split("\n"):
        in_fence ^= bool(_FENCE.match(line))
        if in_fence or not _MDX_ESM.match(line):
            lines.append(line if in_fence else _JSX_TAG.sub("", line))
    return _markdown_document(path, metadata, "\n".join(lines))


def _markdown_document(path: Path, metadata: dict[str, str], body: str) -> LoadedDocument:
    body = _TEMPLATE.sub("", _CHANNEL_TAG.sub(r"#\1", _NOISE_BLOCKS.sub("", COMMENT.sub("", body))))
    body = _EMPTY_LINK.sub(r"\1", body)
    body = _ATTRIBUTE_LIST.sub("", _TOC_MARKER.sub("", body))
    body = _HTML_TAG.sub("", _html_blocks_to_separators(body))  # tags may span lines, so strip them before splitting
    outline = Outline()
    _markdown_lines(_setext_to_atx(body.split("\n")), outline)
    sections = outline.finish()
    title = (_clean_heading(metadata.get("title", "")) or outline.opening_h1() or outline.opening_heading()
             or title_from_file_name(path))
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
    return (not any(pattern.match(previous) for pattern in (_FENCE, _ATX, LIST_ITEM))
            and not re.search(rf"\||^\s*>|^{_LITERAL_LINE}", previous))


def _markdown_lines(lines: list[str], outline: Outline) -> None:
    in_fence, index = False, 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            in_fence = not in_fence
        elif line.startswith(_LITERAL_LINE):
            outline.add(line.removeprefix(_LITERAL_LINE), LineKind.LINE)
        elif in_fence:  # code keeps its lines; a table row's separators (from tags in it) are still written out
            outline.add(_join_blocks(line) if _BLOCK_SEPARATOR in line else line, LineKind.LINE)
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


# --- HTML inside Markdown ---------------------------------------------------------------------------
# Handbooks written in Markdown fall back on HTML where Markdown has no syntax: paragraphs and line breaks inside a
# table cell, a table inside a cell. Stripping the tags glued the pieces together ("Date**Volume of shares**Price
# per share", "transactions:- relate"), so a block-level tag becomes a separator: a line break in running text and,
# inside a Markdown table row (which must stay on one line), _BLOCK_SEPARATOR, written out as "; " by _join_blocks.
# An HTML table becomes rows that read like a Markdown table's ("Header: cell; Header: cell").
_BLOCK_SEPARATOR = "\ue000"  # private-use characters: no document holds them
_LITERAL_LINE = "\ue001"  # starts a line that is already text (an HTML table's row): kept as a line of its own
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|dl|dt|dd|tr|td|th|thead|tbody|tfoot|table|caption|h[1-6]|blockquote|"
                        r"section|article|header|aside|main|figure|figcaption|details|summary|pre|hr)\b[^<>]*>", re.I)
_HTML_HEADING = re.compile(r"^[ \t]*<h([1-6])\b[^<>]*>([^\n]*?)</h\1\s*>[ \t]*$", re.I | re.M)
_HTML_TABLE = re.compile(r"<table\b[^<>]*>(.*?)</table\s*>", re.I | re.S)
_HTML_ROW = re.compile(r"<tr\b[^<>]*>", re.I)
_HTML_CELL = re.compile(r"<(t[dh])\b[^<>]*>", re.I)
_BOLD_CELL = re.compile(r"\s*(?:<(strong|b)\b[^<>]*>.*</\1\s*>|([*_]{2,3})\S.*?\2)\s*", re.I | re.S)


def _html_blocks_to_separators(body: str) -> str:
    """Turn HTML headings into Markdown ones, HTML tables into readable rows, and other block tags into separators."""
    body = _HTML_HEADING.sub(lambda match: f"\n{'#' * int(match.group(1))} {match.group(2)}\n", body)
    body = _HTML_TABLE.sub(lambda match: _html_table_text(match, body), body)
    return _BLOCK_TAG.sub(lambda match: _BLOCK_SEPARATOR if "|" in _line_around(match, body) else "\n", body)


def _line_around(match: re.Match[str], body: str) -> str:
    """Return the rest of the line a tag sits on, without the tag."""
    start = body.rfind("\n", 0, match.start()) + 1
    end = body.find("\n", match.end())
    return body[start:match.start()] + body[match.end():end if end >= 0 else len(body)]


def _html_table_text(match: re.Match[str], body: str) -> str:
    """Write an HTML table as readable rows: one line each, or within the cell of a Markdown table that holds it."""
    before_rows, *row_markup = _HTML_ROW.split(match.group(1))
    rows: list[list[str]] = []
    header = False
    for markup in row_markup:
        parts = _HTML_CELL.split(markup)  # text before the first cell, then (tag name, content) pairs
        kinds, contents = [kind.lower() for kind in parts[1::2]], parts[2::2]
        if not contents:
            continue
        if not rows:  # a header row is marked as one (<th>, <thead>) or set in bold, as Word and Google Docs export it
            texts = [text for text in (_BLOCK_TAG.sub("", cell).strip() for cell in contents) if text]
            header = (all(kind == "th" for kind in kinds) or re.search(r"<thead\b", before_rows, re.I) is not None
                      or bool(texts) and all(_BOLD_CELL.fullmatch(text) for text in texts))
        rows.append([_clean_heading(_BLOCK_TAG.sub(_BLOCK_SEPARATOR, cell)) for cell in contents])
    lines = format_table_rows(rows, has_header=header)
    line_start = body.rfind("\n", 0, match.start()) + 1
    if "|" in body[line_start:match.start()]:
        return _BLOCK_SEPARATOR + _BLOCK_SEPARATOR.join(line.replace("|", "\\|") for line in lines) + _BLOCK_SEPARATOR
    return "\n\n" + "".join(f"{_LITERAL_LINE}{line}\n" for line in lines) + "\n"


def _join_blocks(text: str) -> str:
    """Write the block separators of a line or cell as '; ', or a space after a punctuation mark."""
    if _BLOCK_SEPARATOR not in text:
        return text
    joined = ""
    for piece in filter(None, (piece.strip() for piece in text.split(_BLOCK_SEPARATOR))):
        joined = f"{joined}{' ' if joined[-1] in '.,;:!?' else '; '}{piece}" if joined else piece
    return joined


# --- plain text -------------------------------------------------------------------------------------


def read_text(path: Path, data: bytes) -> LoadedDocument:
    """Read a plain-text file, taking underlined and all-capitals lines as headings."""
    metadata, body = split_front_matter(decode_text(path, data))
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
    title = (_clean_heading(metadata.get("title", "")) or outline.opening_h1() or outline.opening_heading()
             or title_from_file_name(path))
    return LoadedDocument(title=title, sections=sections, metadata=metadata)


def _looks_like_caps_heading(line: str) -> bool:
    """Return True for a short all-capitals line such as 'ANNUAL LEAVE' (only between blank lines)."""
    letters = [character for character in line if character.isalpha()]
    return (len(letters) >= 3 and len(line) <= 80 and len(line.split()) <= 10 and line.upper() == line
            and not line.endswith((".", ",", ";")) and not LIST_ITEM.match(line))

