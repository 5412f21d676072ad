"""chunk_document: labels for citations, size bounds, paragraph and sentence boundaries, overlap."""

from __future__ import annotations

import random
import re

import pytest

from knowledge.chunking import chunk_document, section_label
from knowledge.documents import Chunk, LoadedDocument, Section
from knowledge.errors import KnowledgeError, KnowledgeErrorCode

WORDS = ("leave", "manager", "approval", "receipt", "travel", "policy", "employee", "request", "days", "claim",
         "budget", "laptop", "team", "office", "holiday", "payroll", "week", "notice", "form", "hotel")


def sentence(rng: random.Random, words: int) -> str:
    """Return one capitalised sentence of the given number of words."""
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + rng.choice(".!?")


def paragraph(rng: random.Random, sentences: int) -> str:
    """Return a paragraph of random-length sentences."""
    return " ".join(sentence(rng, rng.randint(4, 30)) for _ in range(sentences))


def document(*sections: tuple[tuple[str, ...], str], title: str = "Handbook") -> LoadedDocument:
    """Build a document from (heading path, text) pairs."""
    return LoadedDocument(title=title, sections=[Section(path, text) for path, text in sections])


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- labels -----------------------------------------------------------------------------------------


def test_labels_put_the_title_first_without_repeating_it() -> None:
    assert section_label("Leave policy", ()) == "Leave policy"
    assert section_label("Leave policy", ("Leave policy", "Sick leave")) == "Leave policy > Sick leave"
    assert section_label("Leave policy", ("LEAVE POLICY:",)) == "LEAVE POLICY:"
    assert section_label("Leave policy", ("Sick leave", "Notes")) == "Leave policy > Sick leave > Notes"
    assert section_label("Handbook", ("Page 3",)) == "Handbook > Page 3"


def test_chunks_carry_their_section_label_and_ordinals_count_from_zero() -> None:
    chunks = chunk_document(document(
        ((), "Intro before any heading."),
        (("Handbook",), "Text under the title heading."),
        (("Handbook", "Leave"), "Annual leave is 25 days."),
        (("Expenses",), "Claims are paid monthly."),
    ))
    assert [(chunk.ordinal, chunk.section) for chunk in chunks] == [
        (0, "Handbook"), (1, "Handbook > Leave"), (2, "Handbook > Expenses")]
    # Intro text and the title's own text share a label, so they are one chunk.
    assert chunks[0].text == "Intro before any heading.\n\nText under the title heading."


def test_tiny_sections_are_not_merged_into_siblings_with_another_heading() -> None:
    chunks = chunk_document(document(
        (("FAQ", "Can I carry over leave?"), "Yes, five days."),
        (("FAQ", "Who approves?"), "Your manager."),
    ))
    assert [(chunk.section, chunk.text) for chunk in chunks] == [
        ("Handbook > FAQ > Can I carry over leave?", "Yes, five days."),
        ("Handbook > FAQ > Who approves?", "Your manager."),
    ]


def test_chunks_without_letters_are_dropped_and_text_is_not_prefixed() -> None:
    chunks = chunk_document(document((("Rates",), "12 / 34 - 56"), (("Leave",), "Ask first.")))
    assert [(chunk.ordinal, chunk.section, chunk.text) for chunk in chunks] == [(0, "Handbook > Leave", "Ask first.")]


# --- splitting ----------------------------------------------------------------------------------------


def test_a_short_section_is_one_chunk_with_its_text_unchanged() -> None:
    text = "First paragraph.\n\n- item one\n- item two"
    assert chunk_document(document((("Leave",), text))) == [Chunk(0, "Handbook > Leave", text)]


def test_long_sections_split_at_paragraphs_first() -> None:
    rng = random.Random(7)
    paragraphs = [paragraph(rng, 3)[:380].rsplit(" ", 1)[0] + "." for _ in range(6)]
    chunks = chunk_document(document((("Leave",), "\n\n".join(paragraphs))), max_chars=1000, overlap_chars=0)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 1000
        assert all(part in paragraphs for part in chunk.text.split("\n\n")), "no paragraph was cut"


def test_a_long_paragraph_splits_at_sentences_and_never_inside_a_word() -> None:
    rng = random.Random(11)
    text = paragraph(rng, 40)
    chunks = chunk_document(document((("Travel",), text)), max_chars=300, overlap_chars=0)
    sentences = re.findall(r"[^.!?]+[.!?]", text)
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert chunk.text[0].isupper() and chunk.text[-1] in ".!?", chunk.text
        assert all(piece.strip() in text for piece in re.findall(r"[^.!?]+[.!?]", chunk.text))
    assert normalized(" ".join(chunk.text for chunk in chunks)) == normalized(" ".join(sentences))


def test_list_items_stay_whole_when_a_list_is_split() -> None:
    items = [f"- Item {number}: " + "bring the signed form to the office " * 3 for number in range(30)]
    chunks = chunk_document(document((("Steps",), "\n".join(line.rstrip() for line in items))), max_chars=500,
                            overlap_chars=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert all(line.startswith("- Item ") and line.endswith("office") for line in chunk.text.split("\n"))


def test_sentence_boundaries_respect_abbreviations() -> None:
    text = ("Bring proof, e.g. A receipt or an invoice from the U.S. Office of the vendor. " * 3
            + "Dr. Smith signs medical notes. Ask HR.")
    chunks = chunk_document(document((("Proof",), text)), max_chars=120, overlap_chars=0)
    assert "Bring proof, e.g. A receipt or an invoice from the U.S. Office of the vendor." in [c.text for c in chunks]
    assert all(not chunk.text.startswith(("A receipt", "Office", "Smith")) for chunk in chunks)


def test_a_word_longer_than_a_chunk_is_the_only_thing_cut() -> None:
    url = "https://example.com/" + "x" * 250
    chunks = chunk_document(document((("Links",), f"See {url} for details.")), max_chars=100, overlap_chars=20)
    assert all(len(chunk.text) <= 100 for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks).replace(" ", "") == f"See{url}fordetails."


# --- overlap ------------------------------------------------------------------------------------------


def test_consecutive_pieces_of_a_section_overlap_by_whole_sentences() -> None:
    rng = random.Random(3)
    text = paragraph(rng, 60)
    chunks = chunk_document(document((("Leave",), text)), max_chars=400, overlap_chars=150)
    assert len(chunks) > 4
    overlapping = 0
    for previous, current in zip(chunks, chunks[1:]):
        shared = _shared_prefix_suffix(previous.text, current.text)
        assert len(shared) <= 150
        if shared:
            overlapping += 1
            assert shared[0].isupper() and shared[-1] in ".!?", "the overlap is whole sentences"
            assert text.find(shared) >= 0
    assert overlapping >= len(chunks) // 2


def test_no_overlap_across_sections_or_when_disabled() -> None:
    rng = random.Random(5)
    first, second = paragraph(rng, 30), paragraph(rng, 30)
    chunks = chunk_document(document((("A",), first), (("B",), second)), max_chars=400, overlap_chars=150)
    boundary = max(index for index, chunk in enumerate(chunks) if chunk.section == "Handbook > A")
    assert _shared_prefix_suffix(chunks[boundary].text, chunks[boundary + 1].text) == ""
    plain = chunk_document(document((("A",), first)), max_chars=400, overlap_chars=0)
    assert normalized(" ".join(chunk.text for chunk in plain)) == normalized(first)


def _shared_prefix_suffix(previous: str, current: str) -> str:
    """Return the longest end of previous that current starts with."""
    for start in range(len(previous)):
        tail = previous[start:].strip()
        if tail and current.startswith(tail):
            return tail
    return ""


# --- bounds on random documents -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_random_documents_stay_within_bounds_and_lose_no_text(seed: int) -> None:
    rng = random.Random(seed)
    max_chars = rng.choice([200, 400, 800, 1200])
    overlap = rng.choice([0, 50, 150])
    sections = []
    for number in range(rng.randint(1, 5)):
        blocks = [paragraph(rng, rng.randint(1, 12)) if rng.random() < 0.7
                  else "\n".join(f"- {sentence(rng, rng.randint(3, 40))}" for _ in range(rng.randint(2, 8)))
                  for _ in range(rng.randint(1, 6))]
        sections.append(((f"Part {number}",), "\n\n".join(blocks)))
    chunks = chunk_document(document(*sections), max_chars=max_chars, overlap_chars=overlap)
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert all(0 < len(chunk.text) <= max_chars for chunk in chunks)
    for (path, text) in sections:
        own = " ".join(chunk.text for chunk in chunks if chunk.section == f"Handbook > {path[0]}")
        words = set(normalized(own).split())
        assert set(normalized(text).split()) <= words, "every word of the section is in one of its chunks"


def test_invalid_sizes_are_refused() -> None:
    for max_chars, overlap in ((0, 0), (100, 100), (100, -1)):
        with pytest.raises(KnowledgeError) as raised:
            chunk_document(document((("A",), "Text.")), max_chars=max_chars, overlap_chars=overlap)
        assert raised.value.code is KnowledgeErrorCode.INVALID_INPUT
