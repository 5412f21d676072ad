"""Small builders for test documents: a hand-written PDF with real text, and DOCX files via python-docx."""

from __future__ import annotations

from pathlib import Path

import docx


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


PDF_STYLES = {"body": ("F1", 11), "h1": ("F2", 20), "h2": ("F2", 14), "bold": ("F2", 11)}


def pdf_bytes(pages: list[list[str | tuple[str, str]]], *, title: str | None = None) -> bytes:
    """Return a minimal valid PDF whose pages show the given lines (pypdf extracts them back).

    A line is body text in 11 pt Helvetica, or a (style, text) pair with a style of PDF_STYLES: headings are set
    larger in Helvetica-Bold, as a word processor exports them.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{5 + 2 * i} 0 R' for i in range(len(pages)))}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for index, lines in enumerate(pages):
        operators = ["BT", "72 740 Td"]
        for line in lines:
            style, text = ("body", line) if isinstance(line, str) else line
            font, size = PDF_STYLES[style]
            operators += [f"/{font} {size} Tf", f"{size + 3} TL", f"{_pdf_string(text)} Tj T*"]
        stream = "\n".join([*operators, "ET"]).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                       f"/Contents {6 + 2 * index} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if title is not None:
        objects.append(f"<< /Title {_pdf_string(title)} >>".encode())
    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = f" /Info {len(objects)} 0 R" if title is not None else ""
    output += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(output)


def write_pdf(path: Path, pages: list[list[str | tuple[str, str]]], *, title: str | None = None) -> Path:
    """Write a PDF with the given page lines and return its path."""
    path.write_bytes(pdf_bytes(pages, title=title))
    return path


def write_docx(path: Path, blocks: list[tuple[str, str]], *, table: list[list[str]] | None = None,
               bold_header: bool = True) -> Path:
    """Write a DOCX of (style, text) paragraphs, then an optional table, and return its path."""
    document = docx.Document()
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row_index, row in enumerate(table):
            for column, value in enumerate(row):
                run = grid.cell(row_index, column).paragraphs[0].add_run(value)
                run.bold = bold_header and row_index == 0
    document.save(str(path))
    return path


# Two small policies shared by the index and kb CLI tests.
TIME_OFF = """# Time Off

## Annual leave

Every employee gets twenty-five days of annual leave per calendar year. Unused days can be carried over until the end of March.

## Sick leave

Report sickness to your manager before ten in the morning. A doctor's note is needed after three days of absence.
"""
LAPTOPS = """# IT Equipment

## Laptops

New starters receive a laptop on their first day. A broken laptop screen is replaced by the service desk within two days.
"""

# Documents with an audience: only managers, only HR.
MANAGER_HANDBOOK = """---
title: Manager Handbook
audience: managers
---

# Manager Handbook

## Salary reviews

Managers may approve salary raises of up to eight percent for their direct reports during the yearly calibration.
"""
HR_CASES = """# HR Case Handling

## Investigations

Disciplinary investigations are recorded in the confidential case file within two working days of the complaint.
"""
RAISE_QUESTION = "How big a salary raise can a manager approve for a direct report?"
INVESTIGATION_QUESTION = "Where are disciplinary investigations recorded?"
