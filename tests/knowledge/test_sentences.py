"""Sentence vectors: what each chunk's sentences embed, how they rank candidates, their life cycle and older indexes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import LocalMiniLM
from knowledge.index import AddOutcome, KnowledgeBase, SearchMode, best_sentence_scores, fuse
from knowledge.sentences import sentence_views, split_sentences
from knowledge.store import KnowledgeStore, chunk_key
from knowledge.vectors import VectorIndex

HANDBOOK = """# Workplace

## Office rules

The kitchen on each floor has coffee, tea and fruit. Lockers are allocated by reception for six months. Dogs are welcome in the office on Fridays if they are house-trained.

## Pet insurance

Our benefits include discounted pet insurance for cats and dogs, with vet visits covered up to a yearly limit.
"""


def test_a_quoted_sentence_is_not_cut_at_an_abbreviation() -> None:
    text = ("Profits are paid out once the books close, usually around March (e.g. 2025 profits in March 2026). "
            "Staff with over 2 yrs. of service take part, as do contractors hired via the U.S. office.\n- Ask finance first")

    assert split_sentences(text) == [
        "Profits are paid out once the books close, usually around March (e.g. 2025 profits in March 2026).",
        "Staff with over 2 yrs. of service take part, as do contractors hired via the U.S. office.",
        "Ask finance first",
    ]


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    return LocalMiniLM()


@pytest.fixture
def kb(tmp_path: Path, minilm: LocalMiniLM) -> Iterator[KnowledgeBase]:
    folder = tmp_path / "index"
    base = KnowledgeBase(store=KnowledgeStore(folder / "knowledge.db"), vectors=VectorIndex(folder=folder / "chroma"),
                         embedder_factory=lambda: minilm)
    yield base
    base.store.close()


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "workplace.md"
    path.parent.mkdir()
    path.write_text(HANDBOOK, encoding="utf-8")
    return path


def active_keys(kb: KnowledgeBase, doc_id: str) -> list[str]:
    record = kb.store.get_document(doc_id)
    assert record is not None
    return [chunk_key(doc_id, record.version, ordinal) for ordinal in range(record.chunk_count)]


def test_each_sentence_is_embedded_after_its_own_heading() -> None:
    assert sentence_views("Workplace > Office rules", "Lockers are allocated by reception. Dogs are welcome on Fridays.") == [
        "Office rules: Lockers are allocated by reception.", "Office rules: Dogs are welcome on Fridays."]
    # A passage without a whole sentence (a table row, a heading-only note) is its own one sentence.
    assert sentence_views("IT > Contacts", "helpdesk | x1234") == ["Contacts: helpdesk | x1234"]


def test_candidates_score_their_best_sentence_and_older_chunks_their_own_vector() -> None:
    question = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    sentences = {
        "broad": np.array([[0.2, 0.98, 0.0], [0.3, 0.0, 0.95]], dtype=np.float32),  # no sentence says it
        "answers": np.array([[0.0, 1.0, 0.0], [0.99, 0.1, 0.0]], dtype=np.float32),  # one sentence says it
    }
    chunk_cosine = {"broad": 0.6, "answers": 0.4, "older": 0.5}
    best = best_sentence_scores(["broad", "answers", "older"], sentences, question, chunk_cosine)
    assert best == pytest.approx({"broad": 0.3, "answers": 0.99, "older": 0.5})
    assert best_sentence_scores([], sentences, question, chunk_cosine) == {}
    # The best sentence outweighs a broad chunk vector once the scores are fused.
    assert fuse(["broad", "answers", "older"], chunk_cosine, {}, best)[0] == "answers"


def test_fusion_keeps_how_far_apart_the_scores_are() -> None:
    cosine = {"close second": 0.60, "first": 0.61, "keyword only": 0.20}
    best = {"close second": 0.70, "first": 0.71, "keyword only": 0.25}
    bm25 = {"keyword only": 9.0, "first": 1.0}
    # A strong keyword match alone does not sink a passage the vectors put a hair behind the first ...
    assert fuse(list(cosine), cosine, bm25, best)[:2] == ["first", "close second"]
    # ... but it decides between passages the vectors cannot tell apart.
    level = {key: 0.5 for key in cosine}
    assert fuse(list(cosine), level, bm25, level)[0] == "keyword only"
    assert fuse([], {}, {}, {}) == []


def test_every_chunk_stores_one_vector_per_sentence(kb: KnowledgeBase, handbook: Path, minilm: LocalMiniLM) -> None:
    kb.add_file(handbook, added_by="admin")
    keys = active_keys(kb, "workplace")
    chunks = kb.store.active_chunks(keys, audiences=())
    stored = kb.store.sentence_vectors(keys)
    assert set(stored) == set(keys) == set(chunks)
    for key in keys:
        expected = minilm.embed(sentence_views(chunks[key].section, chunks[key].text))
        assert stored[key].shape == expected.shape
        np.testing.assert_allclose(stored[key], expected, atol=2e-3)  # kept in half precision


def test_replacing_or_removing_a_document_drops_its_sentence_vectors(kb: KnowledgeBase, handbook: Path) -> None:
    kb.add_file(handbook, added_by="admin")
    old_keys = active_keys(kb, "workplace")
    handbook.write_text(HANDBOOK.replace("six months", "a year"), encoding="utf-8")
    assert kb.add_file(handbook, added_by="admin").outcome is AddOutcome.REPLACED
    assert kb.store.sentence_vectors(old_keys) == {}
    assert kb.store.count_sentence_sets() == kb.store.count_chunks() == 2

    kb.remove("workplace")
    assert kb.store.count_sentence_sets() == kb.store.count_chunks() == 0


def test_an_index_built_before_sentence_vectors_still_answers_and_the_next_add_completes_it(
        kb: KnowledgeBase, handbook: Path) -> None:
    kb.add_file(handbook, added_by="admin")
    kb.store._db.execute("DELETE FROM chunk_sentences")  # what an index written by an earlier release holds
    assert kb.store.lacks_sentence_vectors("workplace")
    for mode in SearchMode:
        assert kb.search("Can I bring my dog to the office?", k=1, mode=mode)[0].section == "Workplace > Office rules", mode

    # The file did not change, but its chunks lack sentence vectors: adding it again indexes it in full.
    assert kb.add_file(handbook, added_by="admin").outcome is AddOutcome.REPLACED
    assert not kb.store.lacks_sentence_vectors("workplace")
    assert kb.store.count_sentence_sets() == kb.store.count_chunks()
    assert kb.add_file(handbook, added_by="admin").outcome is AddOutcome.UNCHANGED
