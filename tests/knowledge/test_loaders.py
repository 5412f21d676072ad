"""load_document: sections with heading paths, clean text, front matter, and a clear refusal per bad file."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from knowledge.chunking import chunk_document
from knowledge.documents import LoadedDocument
from knowledge.errors import KnowledgeError, KnowledgeErrorCode
from knowledge.loaders import SUPPORTED_SUFFIXES, load_document
from tests.knowledge.document_files import pdf_bytes, write_docx, write_pdf

MARKDOWN = """---
title: "Travel and Expenses"
audience: [finance, managers]
owner: 'People Team'  # who maintains it
tags:
  - money
  - travel
---

<!-- draft: check the per diem with finance -->
{{< banner "Updated yearly" >}}
{% include toc.html %}

Intro paragraph that is
wrapped over two lines.

# Travel and Expenses

## Booking

Book trips through the **travel desk** and read the [booking guide](https://intranet.example/guide "Guide").
Use _economy_ class, see <https://travel.example/rules> and ![a plane](img/plane.png) <span class="x">always</span>.

<script>alert("tracking")</script>
<nav><a href="/">Home</a></nav>

### Per diem

| Country | Daily rate |
| ------- | ---------: |
| Germany | 40 EUR |
| France  | 45 EUR |

Claims under &lt;4 weeks old, for *Your Name* or <Employee name>.

<div class="callout"
     data-kind="tip">Tip: book early.</div>

Hotel nights
------------

- Up to **150 EUR** a night
- Breakfast included


```
# not a heading
```

Meals
=====

Keep receipts.

<footer>Copyright Example Corp</footer>
"""


def _load(tmp_path: Path, name: str, content: str | bytes, **options: int) -> LoadedDocument:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return load_document(path, **options)


def _paths(document: LoadedDocument) -> list[tuple[str, ...]]:
    return [section.heading_path for section in document.sections]


def _refusal(path: Path, **options: int) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as raised:
        load_document(path, **options)
    assert str(path) in raised.value.message, "every refusal names the file"
    return raised.value


# --- Markdown ---------------------------------------------------------------------------------------


def test_markdown_front_matter_is_parsed_into_metadata_and_removed(tmp_path: Path) -> None:
    document = _load(tmp_path, "travel.md", MARKDOWN)
    assert document.title == "Travel and Expenses"
    assert document.metadata == {"title": "Travel and Expenses", "audience": "finance, managers",
                                 "owner": "People Team", "tags": "money, travel"}
    assert all("audience" not in section.text and "---" not in section.text for section in document.sections)


def test_template_links_and_slack_channel_tags_leave_readable_text(tmp_path: Path) -> None:
    document = _load(tmp_path, "leave.md", (
        "# Leave\n\n## Asking\n\nAsk in {% slack_channel \"tts-leave\" %} or read [these\ntips]({% page \"/tips/\" %}) first. "
        "See the [Employee Guide [DOCX - 61 KB]](https://x.example/guide.docx) too, or post in {% slack_channel '#admins' %}.\n"))
    assert document.sections[-1].text == ("Ask in #tts-leave or read these tips first. See the Employee Guide [DOCX - 61 KB] too, "
                                          "or post in #admins.")


def test_markdown_sections_keep_their_heading_paths_including_setext_headings(tmp_path: Path) -> None:
    document = _load(tmp_path, "travel.md", MARKDOWN)
    assert _paths(document) == [
        (),
        ("Travel and Expenses", "Booking"),
        ("Travel and Expenses", "Booking", "Per diem"),
        ("Travel and Expenses", "Hotel nights"),  # a '---' underline is level 2
        ("Meals",),
    ]
    assert document.sections[0].text == "Intro paragraph that is wrapped over two lines."


def test_markdown_noise_is_cleaned_and_readable_text_kept(tmp_path: Path) -> None:
    document = _load(tmp_path, "travel.md", MARKDOWN)
    text = "\n".join(section.text for section in document.sections)
    for noise in ("draft", "banner", "toc.html", "{{", "{%", "tracking", "Home", "Copyright", "intranet.example", "Guide",
                  "plane", "img/", "**", "_economy_", "<span", "](", "|", "-----", "===", "```", "callout", "data-kind"):
        assert noise not in text, noise
    booking = document.sections[1].text
    assert booking.startswith("Book trips through the travel desk and read the booking guide. Use economy class")
    assert "https://travel.example/rules" in booking, "a URL that is the link text stays"
    assert "always" in booking
    per_diem = document.sections[2].text
    assert "Country: Germany; Daily rate: 40 EUR\nCountry: France; Daily rate: 45 EUR" in per_diem
    assert "Claims under <4 weeks old, for Your Name or <Employee name>.\n\nTip: book early." in per_diem
    assert document.sections[3].text == "- Up to 150 EUR a night\n- Breakfast included\n\n# not a heading"
    assert "\n\n\n" not in text


HTML_IN_MARKDOWN = """## Notification

| **Field** | **Answer** |
| - | - |
| **Contact** | Sam Paice<br/>sam.paice@example.com |
| **Details** | <p>*[please attach contract notes]*</p><br><table><tr><td>***Date***</td><td>***Volume***</td></tr><tr><td>-</td><td>-</td></tr><tr><td>2 May</td><td>100</td></tr></table> |
| <p>**Aggregated information**</p><p>**Aggregated volume**</p> | <p>*[Aggregate them when these transactions:*</p><p>*-	relate to one instrument;*</p><p>*-	are of one nature.]*</p> |

<table>
<thead><tr><td>Grade</td><td>Pension match</td></tr></thead>
<tr><td>8</td><td><p>4%</p></td></tr>
<tr><td>9 - 10</td><td>6%</td></tr>
</table>

<p>Paragraph one.</p><p>Paragraph two.</p>

** Mandatory prerequisites** Complete the DSE training first.

| Notifiable transaction |
| :- |
| A gift of shares |
"""


def test_html_inside_markdown_separates_its_blocks_and_tables_read_like_markdown_ones(tmp_path: Path) -> None:
    [section] = _load(tmp_path, "dealing.md", HTML_IN_MARKDOWN).sections
    assert section.text.split("\n") == [
        # <br/> and <p> in a cell separate its parts; a table inside a cell reads "Header: value" (the form's blank row dropped)
        "Field: Contact; Answer: Sam Paice; sam.paice@example.com",
        "Field: Details; Answer: [please attach contract notes]; Date: 2 May; Volume: 100",
        "Field: Aggregated information; Aggregated volume; Answer: [Aggregate them when these transactions: "
        "- relate to one instrument; - are of one nature.]",
        "",
        "Grade: 8; Pension match: 4%",  # an HTML table on its own: one line per row, like a Markdown table
        "Grade: 9 - 10; Pension match: 6%",
        "",
        "Paragraph one.",
        "",
        "Paragraph two.",
        "",
        "Mandatory prerequisites Complete the DSE training first.",  # emphasis markers that did not pair are dropped
        "",
        "Notifiable transaction: A gift of shares",  # a one-column table
    ]
    [code] = _load(tmp_path, "code.md", "## Example\n\n```\n| a<br>b | c |\n```\n").sections
    assert code.text == "| a; b | c |"  # in code too, and no marker of ours is left behind


def test_table_of_contents_markers_and_attribute_lists_are_dropped(tmp_path: Path) -> None:
    source = ("# Time off {#time-off}\n\n* TOC\n{:toc}\n\n[[_TOC_]]\n\n## Holidays {#holidays .wide}\n{:.no_toc}\n\n"
              "Public holidays come on top of PTO.{: .note}\n\n[TOC]\n\n## Sick days {.tip}\n\nTell your manager.\n")
    document = _load(tmp_path, "pto.md", source)
    assert document.title == "Time off"
    assert [(section.heading_path, section.text) for section in document.sections if section.text] == [
        (("Time off", "Holidays"), "Public holidays come on top of PTO."),
        (("Time off", "Sick days"), "Tell your manager."),
    ]


MDX = """---
title: Compensation
sidebar: Handbook
---
import { Calculator } from 'components/Calculator'
export const rates = { uk: 1.0 }

{/* reviewed by People, do not quote */}

## Pay reviews

Use the calculator: <Calculator region="uk" onChange={(value) => save(value)} />

<Callout type="info" title="Heads up">
Pay is reviewed **every quarter**, as <b>everyone</b> knows.
</Callout>

```js
import { Calculator } from 'components/Calculator'
```
"""


def test_mdx_keeps_its_markdown_and_the_text_inside_components(tmp_path: Path) -> None:
    document = _load(tmp_path, "compensation.mdx", MDX)
    assert document.title == "Compensation"
    [section] = document.sections
    assert section.heading_path == ("Pay reviews",)
    assert section.text == ("Use the calculator:\n\nPay is reviewed every quarter, as everyone knows.\n\n"
                            "import { Calculator } from 'components/Calculator'")  # code keeps its lines


def test_markdown_headings_skip_levels_and_lose_their_markup(tmp_path: Path) -> None:
    source = ("# Leave\n\nIntro.\n\n#### **Q. Can I carry over days?**\n\nYes, five.\n\n## [Sick leave](x.md):\n\n"
              "Tell your manager.\n\n### Notes\n\nSee HR.\n")
    document = _load(tmp_path, "leave.md", source)
    assert _paths(document) == [("Leave",), ("Leave", "Q. Can I carry over days?"), ("Leave", "Sick leave"),
                                ("Leave", "Sick leave", "Notes")]
    faq = _load(tmp_path, "faq.md", "## FAQ\n\n### Q: Who approves?\n\nYour manager.\n\n##### Can I appeal?\n\nYes.\n\n"
                                    "#### Deadlines\n\nTen days.\n\n##### How do I file?\n\nBy form.\n")
    # A skipped level must not make one question the parent of the next; other headings still nest.
    assert _paths(faq) == [("FAQ", "Q: Who approves?"), ("FAQ", "Can I appeal?"), ("FAQ", "Deadlines"),
                           ("FAQ", "Deadlines", "How do I file?")]


def test_markdown_title_falls_back_to_the_prettified_file_stem(tmp_path: Path) -> None:
    # Sibling headings: the first one is a section, not the page's title.
    no_h1 = _load(tmp_path, "content__it__remote-work_policy.md", "## Equipment\n\nA laptop.\n\n## Hours\n\nCore hours.\n")
    assert no_h1.title == "Remote work policy"
    assert _paths(no_h1) == [("Equipment",), ("Hours",)]
    # Text above the first heading: the heading does not open the page.
    intro_first = _load(tmp_path, "leave-and-time-off.md", "Book time off in HiBob.\n\n## Holiday\n\nFlexible.\n")
    assert intro_first.title == "Leave and time off"
    # An H1 that comes after another heading is a part of the document, not its title.
    later_h1 = _load(tmp_path, "spam__index.md", "## Phishing\n\nReport it.\n\n# Filters\n\nOn by default.\n")
    assert later_h1.title == "Spam"
    assert _paths(later_h1) == [("Phishing",), ("Filters",)]


TITLE = "Taking Made Tech laptops abroad"


@pytest.mark.parametrize(("name", "source", "labels"), [
    ("taking-mt-laptops-abroad.md", f"## {TITLE}\n\nAsk the People Team first.\n\n### Before you go\n\nInstall the VPN.\n",
     [TITLE, f"{TITLE} > Before you go"]),
    ("taking-mt-laptops-abroad.txt", f"{TITLE}\n{'-' * len(TITLE)}\n\nAsk the People Team first.\n", [TITLE]),
    ("taking-mt-laptops-abroad.html", f"<h2>{TITLE}</h2><p>Ask the People Team first.</p><h3>Before you go</h3><p>Install the VPN.</p>",
     [TITLE, f"{TITLE} > Before you go"]),
])
def test_a_lone_heading_that_opens_a_page_without_h1_is_its_title(tmp_path: Path, name: str, source: str,
                                                                   labels: list[str]) -> None:
    document = _load(tmp_path, name, source)
    assert document.title == TITLE
    # The title is not repeated as a section of itself ("Taking ... abroad > Taking ... abroad").
    assert [chunk.section for chunk in chunk_document(document)] == labels


@pytest.mark.parametrize("name", ["README.md", "index.md", "readme.txt"])
def test_an_index_or_readme_without_headings_is_named_by_its_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "guides" / "it" / "vpn"
    folder.mkdir(parents=True)
    (folder / name).write_text("Connect to the VPN before you open client systems.\n", encoding="utf-8")
    assert load_document(folder / name).title == "Vpn"
    flattened = _load(tmp_path, f"guides__it__vpn__{name}", "Connect to the VPN before you open client systems.\n")
    assert flattened.title == "Vpn"


def test_toml_front_matter_and_markup_in_the_title_are_handled(tmp_path: Path) -> None:
    document = _load(tmp_path, "hugo.md", '+++\ntitle = "**Hybrid** work"\naudience = "all"\n+++\n\nThree office days.\n')
    assert document.title == "Hybrid work"
    assert document.metadata == {"title": "**Hybrid** work", "audience": "all"}
    assert [section.text for section in document.sections] == ["Three office days."]


def test_markdown_with_only_front_matter_and_markup_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text("---\ntitle: Nothing\n---\n<!-- todo -->\n![logo](logo.png)\n\n---\n", encoding="utf-8")
    assert _refusal(path).code is KnowledgeErrorCode.EMPTY


# --- plain text -------------------------------------------------------------------------------------


def test_text_file_is_one_section_unless_headings_are_obvious(tmp_path: Path) -> None:
    plain = _load(tmp_path, "notes.txt", "Expenses are paid monthly.\nSubmit by the 5th.\n\n- receipts\n- approvals\n")
    assert plain.title == "Notes"
    assert _paths(plain) == [()]
    assert plain.sections[0].text == "Expenses are paid monthly. Submit by the 5th.\n\n- receipts\n- approvals"
    headed = _load(tmp_path, "handbook.txt", "Handbook\n========\n\nWelcome.\n\nANNUAL LEAVE\n\n25 days.\n\n"
                                              "Carry over\n----------\n\nFive days.\n\nPlease note: ASK FIRST\n")
    assert headed.title == "Handbook"
    assert _paths(headed) == [("Handbook",), ("ANNUAL LEAVE",), ("ANNUAL LEAVE", "Carry over")]
    assert headed.sections[2].text == "Five days.\n\nPlease note: ASK FIRST"


def test_utf8_with_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    document = _load(tmp_path, "bom.md", "\ufeff# Café rules\n\nCrème brûlée on Fridays.\n".encode("utf-8"))
    assert document.title == "Café rules"
    assert document.sections[0].text == "Crème brûlée on Fridays."


@pytest.mark.parametrize("name", ["policy.txt", "policy.md", "policy.html"])
def test_latin1_text_is_refused_with_the_bad_byte_offset(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes("Holiday pay\nCafé vouchers".encode("latin-1"))
    error = _refusal(path)
    assert error.code is KnowledgeErrorCode.NOT_UTF8
    assert "byte 15" in error.message and "0xE9" in error.message and "line 2" in error.message
    assert "save the file as UTF-8" in error.message.lower() or "Save the file as UTF-8" in error.message


def test_utf16_text_is_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("Leave policy".encode("utf-16"))
    error = _refusal(path)
    assert error.code is KnowledgeErrorCode.NOT_UTF8 and "UTF-16" in error.message
    without_bom = tmp_path / "wide_le.txt"
    without_bom.write_bytes("Leave policy".encode("utf-16-le"))
    assert _refusal(without_bom).code is KnowledgeErrorCode.NOT_UTF8


# --- HTML -------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html><head><title>Intranet | Expenses</title>
<style>body { color: red }</style><script>var tracking = 1;</script></head>
<body><nav><ul><li>Home</li><li>Menu</li></ul></nav>
<!-- hidden comment -->
<h1>Expense policy</h1><p>Claims are paid&nbsp;monthly.</p>
<h2>Receipts</h2><p>Attach a <b>receipt</b> to <a href="https://x.example">every claim</a>.</p>
<ul><li>Taxi</li><li>Hotel <em>and</em> meals</li></ul>
<h3>Lost receipts</h3><p>Write a note.</p>
<table><tr><th>Item</th><th>Limit</th></tr><tr><td>Meal</td><td><p>30 EUR</p></td></tr></table>
<h2>Approvals</h2><div>Your manager approves.</div>
<footer><p>Copyright 2026</p></footer></body></html>"""


def test_html_sections_follow_h1_to_h6_and_noise_is_dropped(tmp_path: Path) -> None:
    document = _load(tmp_path, "expenses.html", HTML)
    assert document.title == "Expense policy"
    assert _paths(document) == [("Expense policy",), ("Expense policy", "Receipts"),
                                ("Expense policy", "Receipts", "Lost receipts"), ("Expense policy", "Approvals")]
    text = "\n".join(section.text for section in document.sections)
    for noise in ("color", "tracking", "Home", "Menu", "hidden", "Copyright", "x.example", "<"):
        assert noise not in text, noise
    assert document.sections[0].text == "Claims are paid monthly."
    assert document.sections[1].text == "Attach a receipt to every claim.\n\n- Taxi\n- Hotel and meals"
    assert document.sections[2].text == "Write a note.\n\nItem: Meal; Limit: 30 EUR"


def test_html_without_h1_takes_the_page_title(tmp_path: Path) -> None:
    document = _load(tmp_path, "page.htm", "<html><head><title>Remote work</title><body><h2>Hours</h2><p>Core hours 10-16.</p>")
    assert document.title == "Remote work"
    assert _paths(document) == [("Hours",)]


def test_html_with_an_unclosed_head_still_loads(tmp_path: Path) -> None:
    document = _load(tmp_path, "old.html", "<html><head><title>Dress code</title><body><p>Smart casual.</p></body>")
    assert document.title == "Dress code"
    assert [section.text for section in document.sections] == ["Smart casual."]


def test_malformed_html_declaration_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.html"
    path.write_text("<p>Leave</p><![ 1 broken", encoding="utf-8")
    assert _refusal(path).code is KnowledgeErrorCode.CORRUPT


# --- PDF --------------------------------------------------------------------------------------------


def test_pdf_gives_one_section_per_page_with_the_metadata_title(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "handbook.pdf", [
        ["Employee Handbook", "Annual leave is 25 days a year and must be", "approved by your manager in advance.", "1"],
        ["Sick leave needs a doctor's note after", "three days of absence.", "2"],
    ], title="Employee Handbook 2026")
    document = load_document(path)
    assert document.title == "Employee Handbook 2026"
    assert _paths(document) == [("Page 1",), ("Page 2",)]
    assert document.sections[0].text == ("Employee Handbook\n"
                                         "Annual leave is 25 days a year and must be approved by your manager in advance.")
    assert document.sections[1].text == "Sick leave needs a doctor's note after three days of absence."


def test_pdf_headings_are_found_by_their_type_and_cut_the_sections(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "handbook.pdf", [
        [("h1", "Employee Handbook"), "Welcome to Harbor.", ("h2", "1. Time Off"), "Everyone gets 25 days of annual",
         "leave per year.", ("bold", "Carry-over"), "Up to five days carry over to March.", "2"],
        [("h2", "2. Expenses and"), ("h2", "Travel"), "Claims are due within 30 days.", ("bold", "Receipts"),
         "Keep every receipt above 25 EUR.", "- Taxis are claimed as travel.", "3"],
    ])
    document = load_document(path)
    assert document.title == "Employee Handbook"  # no metadata title: the first top-level heading
    assert [(section.heading_path, section.text) for section in document.sections] == [
        (("Employee Handbook",), "Welcome to Harbor."),
        (("Employee Handbook", "1. Time Off"), "Everyone gets 25 days of annual leave per year."),
        (("Employee Handbook", "1. Time Off", "Carry-over"), "Up to five days carry over to March."),
        (("Employee Handbook", "2. Expenses and Travel"), "Claims are due within 30 days."),  # a wrapped heading is one
        (("Employee Handbook", "2. Expenses and Travel", "Receipts"),
         "Keep every receipt above 25 EUR.\n- Taxis are claimed as travel."),
    ]


def test_a_pdf_contents_page_is_dropped_and_does_not_join_the_next_heading(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "handbook.pdf", [
        [("h2", "Contents"), "1 Time Off ........................ 2", "2 Expenses . . . . . . . . . . 3"],
        [("h2", "1 Time Off"), "Everyone gets 25 days of annual leave."],
        [("h2", "2 Expenses"), "Claims are due within 30 days."],
    ])
    assert [(section.heading_path, section.text) for section in load_document(path).sections] == [
        (("1 Time Off",), "Everyone gets 25 days of annual leave."),
        (("2 Expenses",), "Claims are due within 30 days."),
    ]


def test_a_pdf_with_a_single_bold_line_is_still_cut_by_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "memo.pdf", [[("bold", "Memo"), "Desks are shared."], ["Lockers are assigned."]])
    assert _paths(load_document(path)) == [("Page 1",), ("Page 2",)]


def test_pdf_running_headers_are_dropped_and_the_stem_is_the_fallback_title(tmp_path: Path) -> None:
    bodies = ["Desks are shared.", "Lockers are assigned.", "Visitors sign in."]
    pages = [["ACME Confidential", body, "Every rule applies to everyone here.", body.upper(), f"Page {n} of 3"]
             for n, body in enumerate(bodies, start=1)]
    document = load_document(write_pdf(tmp_path / "acme_rules.pdf", pages))
    assert document.title == "Acme rules"
    # A line repeated on every page stays when it is body text, not a first or last line.
    assert [section.text for section in document.sections] == [
        f"{body}\nEvery rule applies to everyone here.\n{body.upper()}" for body in bodies]


def test_pdf_without_text_is_refused_as_empty(tmp_path: Path) -> None:
    error = _refusal(write_pdf(tmp_path / "scan.pdf", [[], []]))
    assert error.code is KnowledgeErrorCode.EMPTY and "scanned" in error.message


@pytest.mark.parametrize("content", [os.urandom(4000), b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", pdf_bytes([["Hello"]])[:150]],
                         ids=["random-bytes", "header-only", "truncated"])
def test_corrupt_pdf_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    error = _refusal(path)
    assert error.code is KnowledgeErrorCode.CORRUPT and "PDF" in error.message


def test_password_protected_pdf_is_refused_but_an_owner_only_password_is_fine(tmp_path: Path) -> None:
    for name, user_password in (("locked.pdf", "secret"), ("open.pdf", "")):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Bonus rules apply to everyone."]]))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        writer.write(tmp_path / name)
    error = _refusal(tmp_path / "locked.pdf")
    assert error.code is KnowledgeErrorCode.CORRUPT and "password" in error.message
    assert load_document(tmp_path / "open.pdf").sections[0].text == "Bonus rules apply to everyone."


# --- DOCX -------------------------------------------------------------------------------------------


def test_docx_headings_title_lists_and_tables(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "it.docx", [
        ("Title", "IT Security Policy"), ("Normal", "Applies to all staff."),
        ("Heading 1", "Passwords"), ("Normal", "Use a password manager."),
        ("List Bullet", "At least 14 characters"), ("List Bullet", "No reuse"),
        ("Heading 2", "Rotation"), ("Normal", "Rotate after an incident."),
        ("Heading 1", "Devices"),
    ], table=[["Device", "Encryption"], ["Laptop", "FileVault"], ["Phone", "Built in"]])
    document = load_document(path)
    assert document.title == "IT Security Policy"
    assert _paths(document) == [("IT Security Policy",), ("IT Security Policy", "Passwords"),
                                ("IT Security Policy", "Passwords", "Rotation"), ("IT Security Policy", "Devices")]
    assert document.sections[1].text == "Use a password manager.\n\n- At least 14 characters\n- No reuse"
    assert document.sections[3].text == "Device: Laptop; Encryption: FileVault\nDevice: Phone; Encryption: Built in"


def test_docx_bold_paragraphs_on_their_own_are_headings_under_the_styled_ones(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Time Off", style="Heading 1")
    for text, bold in (("Carry-over", True), ("Up to five days carry over to March.", False),
                       ("Sick days", True), ("Tell your manager before 10am.", False),
                       ("Note: this sentence is bold but ends like one.", True), ("Only part", None)):
        paragraph = document.add_paragraph()
        paragraph.add_run(text).bold = bold
        if bold is None:
            paragraph.add_run(" of this line is bold").bold = True
    document.add_paragraph("Expenses", style="Heading 1")
    document.add_paragraph("Claims are due within 30 days.")
    document.save(str(tmp_path / "handbook.docx"))

    loaded = load_document(tmp_path / "handbook.docx")

    assert [(section.heading_path, section.text) for section in loaded.sections] == [
        (("Time Off", "Carry-over"), "Up to five days carry over to March."),
        (("Time Off", "Sick days"), "Tell your manager before 10am.\n\nNote: this sentence is bold but ends like one."
                                    "\n\nOnly part of this line is bold"),
        (("Expenses",), "Claims are due within 30 days."),
    ]


def test_docx_table_of_contents_is_left_out(tmp_path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Contents", style="TOC Heading")
    document.add_paragraph("Time Off\t2", style="TOC 1")
    document.add_paragraph("Time Off", style="Heading 1")
    document.add_paragraph("Everyone gets 25 days of annual leave.")
    document.save(str(tmp_path / "handbook.docx"))

    assert [(section.heading_path, section.text) for section in load_document(tmp_path / "handbook.docx").sections] == [
        (("Time Off",), "Everyone gets 25 days of annual leave.")]


def test_docx_table_without_a_bold_header_row_keeps_plain_cells(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "allowances.docx", [("Heading 1", "Allowances")],
                      table=[["Annual leave", "25 days"], ["Sick leave", "10 days"]], bold_header=False)
    document = load_document(path)
    assert document.title == "Allowances"
    assert document.sections[0].text == "Annual leave; 25 days\nSick leave; 10 days"


def test_docx_without_text_is_empty(tmp_path: Path) -> None:
    assert _refusal(write_docx(tmp_path / "blank.docx", [("Normal", "  ")])).code is KnowledgeErrorCode.EMPTY


def test_corrupt_docx_is_refused(tmp_path: Path) -> None:
    random_bytes = tmp_path / "random.docx"
    random_bytes.write_bytes(os.urandom(3000))
    not_word = tmp_path / "not_word.docx"
    with zipfile.ZipFile(not_word, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(write_docx(tmp_path / "whole.docx", [("Normal", "Text " * 200)]).read_bytes()[:5000])
    for path in (random_bytes, not_word, truncated):
        error = _refusal(path)
        assert error.code is KnowledgeErrorCode.CORRUPT and "DOCX" in error.message


# --- refusals before reading ------------------------------------------------------------------------


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "nowhere.md").code is KnowledgeErrorCode.NOT_FOUND


def test_a_folder_is_not_a_document(tmp_path: Path) -> None:
    assert _refusal(tmp_path).code is KnowledgeErrorCode.INVALID_INPUT
    device = _refusal(Path("/dev/null"))  # nor a device or a pipe, which is no folder either
    assert device.code is KnowledgeErrorCode.INVALID_INPUT and "not a regular file" in device.message


def test_backslash_escapes_of_any_punctuation_are_read_as_the_character(tmp_path: Path) -> None:
    document = _load(tmp_path, "pay.md", "# Pay\n\n## Rates\n\nOvertime is 1.5 \\= 150\\% of the hourly rate \\$ for \\#ops.\n")
    assert document.sections[-1].text == "Overtime is 1.5 = 150% of the hourly rate $ for #ops."


def test_unsupported_type_names_the_supported_ones(tmp_path: Path) -> None:
    for name in ("budget.xlsx", "README"):
        path = tmp_path / name
        path.write_bytes(b"PK\x03\x04 not really a spreadsheet")
        error = _refusal(path)
        assert error.code is KnowledgeErrorCode.UNSUPPORTED_TYPE
        assert all(suffix in error.message for suffix in SUPPORTED_SUFFIXES)


def test_oversize_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_text("# Big\n\n" + "word " * 400, encoding="utf-8")
    error = _refusal(path, max_bytes=1000)
    assert error.code is KnowledgeErrorCode.TOO_LARGE and "1,000" in error.message
    assert load_document(path, max_bytes=5000).title == "Big"


@pytest.mark.parametrize("name", ["empty.md", "empty.txt", "empty.html", "empty.pdf", "empty.docx"])
def test_empty_files_are_refused_as_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"" if not name.endswith("txt") else b" \n\n ")
    assert _refusal(path).code is KnowledgeErrorCode.EMPTY
