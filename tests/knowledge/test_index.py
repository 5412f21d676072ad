"""KnowledgeBase end to end with the real MiniLM and a real Chroma folder: add, replace, crash, bad input, audience, remove.

Every test writes its own small documents (a few short chunks each) into its tmp_path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.container import Container
from knowledge.embeddings import LocalMiniLM
from knowledge.errors import KnowledgeError, KnowledgeErrorCode
from knowledge.index import AddOutcome, KnowledgeBase, SearchHit, SearchMode
from knowledge.store import KnowledgeStore, chunk_key
from knowledge.vectors import VectorIndex
from tests.builders import make_company
from tests.conftest import NOW
from tests.knowledge.document_files import (HR_CASES, INVESTIGATION_QUESTION, LAPTOPS, MANAGER_HANDBOOK, RAISE_QUESTION, TIME_OFF,
                                           pdf_bytes)

ALL_MODES = tuple(SearchMode)
# One distinctive word per version of the parking policy, so a passage tells which version it came from.
VERSION_WORDS = ("aardvark", "bumblebee", "chinchilla", "dromedary", "echidna", "flamingo", "gazelle", "hedgehog",
                 "iguana", "jackal", "koala", "lemur", "meerkat", "narwhal", "ocelot", "pangolin", "quokka", "raccoon",
                 "salamander", "tapir", "urchin", "vulture", "walrus", "yak", "zebra", "albatross", "bison", "cheetah")
PARKING_QUERY = "staff parking spaces, bicycles and visitors"


class RecordingEmbedder:
    """The real model, remembering every batch it was asked to embed."""

    def __init__(self, inner: LocalMiniLM) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []
        self.name = inner.name
        self.dimension = inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    model = LocalMiniLM()
    model.load()
    return model


@pytest.fixture
def embedder(minilm: LocalMiniLM) -> RecordingEmbedder:
    return RecordingEmbedder(minilm)


def open_knowledge_base(folder: Path, embedder: RecordingEmbedder, **options: int) -> KnowledgeBase:
    """Open a knowledge base with its SQLite file and Chroma folder under `folder`."""
    return KnowledgeBase(store=KnowledgeStore(folder / "knowledge.db"), vectors=VectorIndex(folder=folder / "chroma"),
                         embedder_factory=lambda: embedder, **options)  # type: ignore[arg-type]


@pytest.fixture
def kb(tmp_path: Path, embedder: RecordingEmbedder) -> Iterator[KnowledgeBase]:
    base = open_knowledge_base(tmp_path / "index", embedder)
    yield base
    base.store.close()


def write(folder: Path, name: str, text: str) -> Path:
    """Write a UTF-8 document and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def parking_policy(word: str) -> str:
    """Return a three-section parking policy whose every passage carries the version word."""
    return (f"# Parking\n\n## Spaces\n\nVersion {word}: staff parking spaces are assigned by the {word} office each month.\n\n"
            f"## Bicycles\n\nVersion {word}: bicycles go in the {word} shed beside the parking garage.\n\n"
            f"## Visitors\n\nVersion {word}: visitors park in the {word} bays near reception; parking passes come from reception.\n")


def versions_in(hits: list[SearchHit]) -> set[str | None]:
    """Return the version word of each hit (None for a hit that carries none)."""
    return {next((word for word in VERSION_WORDS if word in hit.text), None) for hit in hits}


def assert_index_holds_only_active_chunks(kb: KnowledgeBase) -> None:
    """Both indexes hold exactly the chunks of the active versions: no leftovers in SQLite or Chroma."""
    documents = kb.list_documents()
    keys = [chunk_key(d.doc_id, d.version, i) for d in documents for i in range(d.chunk_count)]
    assert kb.store.count_chunks() == kb.store.count_sentence_sets() == len(keys)
    assert set(kb.store.sentence_vectors(keys)) == set(keys)
    assert len(kb.store.active_chunks(keys, audiences={"manager", "hr", "finance", "it", "admin"})) == len(keys)
    assert kb.vectors.count() == len(keys)
    assert set(kb.vectors.vectors(keys)) == set(keys)


# --- add, replace, unchanged ----------------------------------------------------------------------


def test_an_added_document_is_found_with_its_citation_and_score(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path / "docs", "Time Off.md", TIME_OFF)
    result = kb.add_file(path, added_by="admin@example.com")
    assert (result.outcome, result.doc_id, result.chunks, result.path) == (AddOutcome.ADDED, "time-off", 2, str(path))

    hits = kb.search("How many vacation days do I get each year?")
    top = hits[0]
    assert top.doc_id == "time-off" and top.title == "Time Off" and top.section == "Time Off > Annual leave"
    assert top.source == str(path)
    assert top.text.startswith("Every employee gets twenty-five days of annual leave")
    assert 0.3 < top.score <= 1.0 and all(top.score >= hit.score for hit in hits)

    [record] = kb.list_documents()
    assert (record.doc_id, record.title, record.source, record.audience, record.added_by, record.chunk_count) == (
        "time-off", "Time Off", str(path), "", "admin@example.com", 2)
    assert_index_holds_only_active_chunks(kb)


def test_the_report_counts_added_replaced_unchanged_and_failed(kb: KnowledgeBase, tmp_path: Path,
                                                              embedder: RecordingEmbedder) -> None:
    docs = tmp_path / "docs"
    time_off, laptops = write(docs, "time-off.md", TIME_OFF), write(docs, "laptops.md", LAPTOPS)
    first = kb.add_paths([docs], added_by="admin")
    assert [(f.path, f.outcome) for f in first.files] == [(str(laptops), AddOutcome.ADDED), (str(time_off), AddOutcome.ADDED)]
    assert (first.count(AddOutcome.ADDED), first.count(AddOutcome.REPLACED), first.count(AddOutcome.UNCHANGED),
            first.count(AddOutcome.FAILED), first.chunks) == (2, 0, 0, 0, 3)

    write(docs, "laptops.md", LAPTOPS.replace("two days", "one day"))
    (docs / "notes.txt").write_bytes("Caf\xe9 rules".encode("latin-1"))  # not UTF-8: fails (an empty page is skipped)
    embedder.batches.clear()
    second = kb.add_paths([docs], added_by="admin")
    outcomes = {Path(f.path).name: f.outcome for f in second.files}
    assert outcomes == {"laptops.md": AddOutcome.REPLACED, "notes.txt": AddOutcome.FAILED, "time-off.md": AddOutcome.UNCHANGED}
    assert (second.count(AddOutcome.ADDED), second.count(AddOutcome.REPLACED), second.count(AddOutcome.UNCHANGED),
            second.count(AddOutcome.FAILED), second.chunks) == (0, 1, 1, 1, 1)
    unchanged = next(f for f in second.files if f.outcome is AddOutcome.UNCHANGED)
    assert (unchanged.doc_id, unchanged.chunks) == ("time-off", 2)
    # Only the replaced document was embedded again: its chunk, then each sentence after its heading.
    assert [text for batch in embedder.batches for text in batch] == [
        "IT Equipment > Laptops\nNew starters receive a laptop on their first day. "
        "A broken laptop screen is replaced by the service desk within one day.",
        "Laptops: New starters receive a laptop on their first day.",
        "Laptops: A broken laptop screen is replaced by the service desk within one day."]


def test_files_of_the_same_name_in_subfolders_are_separate_documents(kb: KnowledgeBase, tmp_path: Path) -> None:
    handbook = tmp_path / "handbook"
    write(handbook / "benefits", "index.md", TIME_OFF)
    write(handbook / "it" / "equipment", "index.md", LAPTOPS)
    write(handbook, "index.md", "# Handbook\n\nWelcome to the handbook of the company.\n")
    write(handbook / "node_modules" / "left-pad", "README.md", "# left-pad\n\nPads strings on the left.\n")  # tooling
    write(handbook / ".github", "CONTRIBUTING.md", "# Contributing\n\nOpen a pull request.\n")

    report = kb.add_paths([handbook], added_by="admin")

    assert [(Path(f.path).relative_to(handbook).as_posix(), f.outcome, f.doc_id) for f in report.files] == [
        ("benefits/index.md", AddOutcome.ADDED, "benefits-index"),
        ("index.md", AddOutcome.ADDED, "index"),
        ("it/equipment/index.md", AddOutcome.ADDED, "it-equipment-index")]
    assert {record.doc_id for record in kb.list_documents()} == {"benefits-index", "index", "it-equipment-index"}
    assert kb.search("broken laptop screen", k=1)[0].doc_id == "it-equipment-index"
    assert [f.outcome for f in kb.add_paths([handbook], added_by="admin").files] == [AddOutcome.UNCHANGED] * 3


def test_a_symbolic_link_inside_a_folder_is_reported_and_not_followed(kb: KnowledgeBase, tmp_path: Path) -> None:
    handbook = tmp_path / "handbook"
    write(handbook / "leave", "time-off.md", TIME_OFF)
    secret = write(tmp_path / "elsewhere", "secret.md", "# Salaries\n\nThe chief executive earns nine hundred thousand.\n")
    (handbook / "salaries.md").symlink_to(secret)  # a file outside the folder
    (handbook / "copy.md").symlink_to(handbook / "leave" / "time-off.md")  # a second copy of a page
    (handbook / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (handbook / "gone.md").symlink_to(tmp_path / "nothing-here.md")

    report = kb.add_paths([handbook], added_by="admin")

    assert [(Path(f.path).name, f.outcome) for f in report.files] == [
        ("copy.md", AddOutcome.SKIPPED), ("gone.md", AddOutcome.SKIPPED), ("time-off.md", AddOutcome.ADDED),
        ("more", AddOutcome.SKIPPED), ("salaries.md", AddOutcome.SKIPPED)]
    assert all("symbolic link" in f.reason for f in report.files if f.outcome is AddOutcome.SKIPPED)
    assert [record.doc_id for record in kb.list_documents()] == ["leave-time-off"]
    assert all("nine hundred thousand" not in hit.text for hit in kb.search("how much does the chief executive earn", k=5))


def test_a_file_added_again_by_another_path_replaces_its_document(kb: KnowledgeBase, tmp_path: Path) -> None:
    handbook = tmp_path / "handbook"
    page = write(handbook / "leave", "time-off.md", TIME_OFF)
    kb.add_paths([handbook], added_by="admin")
    assert [(f.outcome, f.doc_id) for f in kb.add_paths([page], added_by="admin").files] == [(AddOutcome.UNCHANGED, "leave-time-off")]
    page.write_text(TIME_OFF + "\nUnused days lapse at the end of March.\n", encoding="utf-8")
    assert [(f.outcome, f.doc_id) for f in kb.add_paths([page], added_by="admin").files] == [(AddOutcome.REPLACED, "leave-time-off")]
    assert [record.doc_id for record in kb.list_documents()] == ["leave-time-off"]  # one document, not an old one beside it


def test_files_named_in_other_scripts_keep_their_own_ids(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "Congés payés.md", "# Congés payés\n\nChaque salarié a droit à 25 jours de congés payés par an.\n")
    write(docs, "休暇規程.md", "# 休暇規程\n\n年次有給休暇は年間20日です。\n")
    write(docs, "Time Off.md", TIME_OFF)
    report = kb.add_paths([docs], added_by="admin")
    assert sorted((f.outcome, f.doc_id) for f in report.files) == [
        (AddOutcome.ADDED, "congés-payés"), (AddOutcome.ADDED, "time-off"), (AddOutcome.ADDED, "休暇規程")]
    assert kb.search("congés payés", k=1, mode=SearchMode.KEYWORD)[0].doc_id == "congés-payés"
    kb.remove("休暇規程")
    assert {record.doc_id for record in kb.list_documents()} == {"congés-payés", "time-off"}


def test_two_files_that_would_share_an_id_are_not_allowed_to_replace_each_other(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    first, second = write(docs, "Time Off.md", TIME_OFF), write(docs, "time-off.txt", "Time off is booked in the portal.")

    report = kb.add_paths([docs], added_by="admin")

    assert [(f.path, f.outcome) for f in report.files] == [(str(first), AddOutcome.ADDED), (str(second), AddOutcome.FAILED)]
    assert "same document id 'time-off'" in report.files[1].reason and str(first) in report.files[1].reason
    assert [record.source for record in kb.list_documents()] == [str(first)]


def test_an_unchanged_file_is_skipped_without_embedding_or_writing(kb: KnowledgeBase, tmp_path: Path,
                                                                   embedder: RecordingEmbedder,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "docs", "time-off.md", TIME_OFF)
    kb.add_file(path, added_by="admin")
    before = kb.store.get_document("time-off")
    embedder.batches.clear()

    def no_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file must not be written again")

    monkeypatch.setattr(kb.vectors, "upsert", no_writes)
    monkeypatch.setattr(kb.store, "stage_chunks", no_writes)
    monkeypatch.setattr(kb.store, "activate", no_writes)
    result = kb.add_file(path, added_by="someone-else")
    assert (result.outcome, result.doc_id, result.chunks) == (AddOutcome.UNCHANGED, "time-off", 2)
    assert embedder.batches == []
    assert kb.store.get_document("time-off") == before


def test_a_replaced_document_is_only_ever_found_in_its_new_version(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path / "docs", "parking.md", parking_policy("aardvark"))
    kb.add_file(path, added_by="admin")
    old = kb.store.get_document("parking")
    assert old is not None
    old_keys = [chunk_key("parking", old.version, i) for i in range(old.chunk_count)]

    write(tmp_path / "docs", "parking.md", parking_policy("bumblebee"))
    result = kb.add_file(path, added_by="admin")
    assert (result.outcome, result.doc_id, result.chunks) == (AddOutcome.REPLACED, "parking", 3)

    for mode in ALL_MODES:
        assert versions_in(kb.search(PARKING_QUERY, k=10, mode=mode)) == {"bumblebee"}, mode
        # Even a query made of the old version's own words finds nothing of it.
        assert "aardvark" not in " ".join(hit.text for hit in kb.search("aardvark office shed bays", k=10, mode=mode))
    assert len(kb.search(PARKING_QUERY, k=10)) == 3
    assert kb.vectors.vectors(old_keys) == {}
    assert kb.store.active_chunks(old_keys, audiences=()) == {}
    assert_index_holds_only_active_chunks(kb)


# --- atomic replace under concurrent searches -------------------------------------------------------


def test_searches_during_replaces_see_exactly_one_complete_version(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path / "docs", "parking.md", parking_policy(VERSION_WORDS[0]))
    kb.add_file(path, added_by="admin")
    stop = threading.Event()
    problems: list[str] = []
    searches = [0]

    def search_repeatedly(modes: Sequence[SearchMode]) -> None:
        while not stop.is_set():
            for mode in modes:
                try:
                    hits = kb.search(PARKING_QUERY, k=10, mode=mode)
                except Exception as error:  # noqa: BLE001 - a failed search is a finding, not a dead thread
                    problems.append(f"{mode}: {error!r}")
                    continue
                searches[0] += 1
                seen = versions_in(hits)
                if len(hits) != 3 or len(seen) != 1 or None in seen or min(hit.score for hit in hits) <= 0.05:
                    problems.append(f"{mode}: {len(hits)} hits from versions {seen}, scores {[h.score for h in hits]}")

    searchers = [threading.Thread(target=search_repeatedly, args=(modes,))
                 for modes in (ALL_MODES, tuple(reversed(ALL_MODES)))]
    for searcher in searchers:
        searcher.start()
    try:
        for word in VERSION_WORDS[1:]:
            write(tmp_path / "docs", "parking.md", parking_policy(word))
            assert kb.add_file(path, added_by="admin").outcome is AddOutcome.REPLACED
    finally:
        stop.set()
        for searcher in searchers:
            searcher.join()
    assert problems == []
    assert searches[0] > len(VERSION_WORDS)
    assert versions_in(kb.search(PARKING_QUERY, k=10)) == {VERSION_WORDS[-1]}
    assert_index_holds_only_active_chunks(kb)


# --- a crash in the middle of a replace -------------------------------------------------------------


def assert_old_version_intact(kb: KnowledgeBase) -> None:
    """The first version is searchable and complete in every mode; nothing of the crashed one shows."""
    for mode in ALL_MODES:
        hits = kb.search(PARKING_QUERY, k=10, mode=mode)
        assert len(hits) == 3 and versions_in(hits) == {"aardvark"}, mode
        crashed = kb.search("bumblebee office shed bays", k=10, mode=mode)
        assert "bumblebee" not in " ".join(hit.text for hit in crashed), mode
    record = kb.store.get_document("parking")
    assert record is not None and record.chunk_count == 3


def crash_in_embedder(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("the machine ran out of memory")

    monkeypatch.setattr(kb.embedder, "embed", fail)


def crash_halfway_through_upsert(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    upsert = kb.vectors.upsert

    def half_then_fail(keys: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        upsert(keys[:2], vectors[:2], metadatas[:2])
        raise RuntimeError("the vector store went away")

    monkeypatch.setattr(kb.vectors, "upsert", half_then_fail)


def crash_before_activate(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("killed before the switch")

    monkeypatch.setattr(kb.store, "activate", never)


@pytest.mark.parametrize("crash", [crash_in_embedder, crash_halfway_through_upsert, crash_before_activate])
@pytest.mark.parametrize("later", ["retry the new version", "add a third version", "re-add the current version"])
def test_a_crashed_replace_leaves_the_previous_version_and_the_next_add_cleans_up(
        kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        crash: Callable[[KnowledgeBase, pytest.MonkeyPatch], None], later: str) -> None:
    path = write(tmp_path / "docs", "parking.md", parking_policy("aardvark"))
    kb.add_file(path, added_by="admin")
    write(tmp_path / "docs", "parking.md", parking_policy("bumblebee") + "\n## Motorbikes\n\nMotorbikes use the bumblebee lane.\n")
    with monkeypatch.context() as patch:
        crash(kb, patch)
        with pytest.raises(RuntimeError):
            kb.add_file(path, added_by="admin")
    assert_old_version_intact(kb)
    # Embedding comes before any write, so only a later crash leaves the new version's staged rows, invisible.
    assert kb.store.count_chunks() == 3 + (0 if crash is crash_in_embedder else 4)

    if later == "retry the new version":
        assert kb.add_file(path, added_by="admin").outcome is AddOutcome.REPLACED
        expected = {"bumblebee"}
    elif later == "add a third version":
        write(tmp_path / "docs", "parking.md", parking_policy("chinchilla"))
        assert kb.add_file(path, added_by="admin").outcome is AddOutcome.REPLACED
        expected = {"chinchilla"}
    else:
        write(tmp_path / "docs", "parking.md", parking_policy("aardvark"))
        assert kb.add_file(path, added_by="admin").outcome is AddOutcome.UNCHANGED
        expected = {"aardvark"}
    for mode in ALL_MODES:
        assert versions_in(kb.search(PARKING_QUERY, k=10, mode=mode)) == expected, mode
    assert_index_holds_only_active_chunks(kb)


def test_a_crash_after_the_switch_shows_only_the_new_version(kb: KnowledgeBase, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "docs", "parking.md", parking_policy("aardvark"))
    kb.add_file(path, added_by="admin")
    write(tmp_path / "docs", "parking.md", parking_policy("bumblebee"))
    with monkeypatch.context() as patch:
        def fail(keys: object) -> None:
            raise RuntimeError("the vector store went away")

        patch.setattr(kb.vectors, "delete", fail)
        with pytest.raises(RuntimeError):
            kb.add_file(path, added_by="admin")
    for mode in ALL_MODES:
        hits = kb.search(PARKING_QUERY, k=10, mode=mode)
        assert len(hits) == 3 and versions_in(hits) == {"bumblebee"}, mode
    write(tmp_path / "docs", "parking.md", parking_policy("chinchilla"))
    kb.add_file(path, added_by="admin")
    assert_index_holds_only_active_chunks(kb)


# --- bad input --------------------------------------------------------------------------------------


def test_bad_files_fail_with_a_reason_and_the_good_ones_still_go_in(tmp_path: Path, embedder: RecordingEmbedder) -> None:
    kb = open_knowledge_base(tmp_path / "index", embedder, max_file_bytes=2_000)
    docs = tmp_path / "docs"
    good = [write(docs, "time-off.md", TIME_OFF), write(docs, "laptops.txt", LAPTOPS.replace("# ", ""))]
    (docs / "scanned.pdf").write_bytes(pdf_bytes([[]]))
    (docs / "zero.pdf").write_bytes(b"")
    (docs / "damaged.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog\nthis is not a real PDF\n%%EOF\n")
    write(docs, "huge.md", "# Huge\n\n" + "The zanzibar rule applies to every gadget. " * 60)
    (docs / "latin1.txt").write_bytes("Caf\xe9 policy: the zanzibar espresso machine is free.".encode("latin-1"))
    spreadsheet = tmp_path / "budgets.xlsx"
    spreadsheet.write_bytes(b"PK\x03\x04 zanzibar spreadsheet")
    missing = tmp_path / "nowhere" / "missing.md"

    report = kb.add_paths([docs, spreadsheet, missing], added_by="admin")

    reasons = {Path(f.path).name: f.reason for f in report.files if f.outcome is AddOutcome.FAILED}
    expected = {"scanned.pdf": "no extractable text", "zero.pdf": "is empty", "damaged.pdf": "could not be read as a PDF",
                "huge.md": "2,000-byte limit", "latin1.txt": "not UTF-8", "budgets.xlsx": "'.xlsx' files are not supported",
                "missing.md": "no such file"}
    assert set(reasons) == set(expected)
    for name, phrase in expected.items():
        assert name in reasons[name] and phrase in reasons[name], reasons[name]
    added = {Path(f.path).name: f for f in report.files if f.outcome is not AddOutcome.FAILED}
    assert {name: f.outcome for name, f in added.items()} == {"time-off.md": AddOutcome.ADDED, "laptops.txt": AddOutcome.ADDED}
    assert all(f.doc_id is None and f.chunks == 0 for f in report.files if f.outcome is AddOutcome.FAILED)
    assert (report.count(AddOutcome.ADDED), report.count(AddOutcome.FAILED)) == (2, 7)

    assert sorted(d.doc_id for d in kb.list_documents()) == ["laptops", "time-off"]
    assert kb.store.count_chunks() == kb.vectors.count() == report.chunks == 3
    assert kb.search("broken laptop screen")[0].source == str(good[1])
    assert kb.search("vacation days per year")[0].source == str(good[0])
    for mode in ALL_MODES:
        assert "zanzibar" not in " ".join(hit.text for hit in kb.search("zanzibar gadget espresso spreadsheet", k=10, mode=mode))
    assert_index_holds_only_active_chunks(kb)


# --- audience filtering -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def restricted_kb(tmp_path_factory: pytest.TempPathFactory, minilm: LocalMiniLM) -> Iterator[KnowledgeBase]:
    """A public, a managers-only (front matter) and an HR-only (added so) document; the tests only read it."""
    folder = tmp_path_factory.mktemp("restricted")
    kb = open_knowledge_base(folder / "index", RecordingEmbedder(minilm))
    kb.add_file(write(folder / "docs", "time-off.md", TIME_OFF), added_by="admin")
    kb.add_file(write(folder / "docs", "manager-handbook.md", MANAGER_HANDBOOK), added_by="admin")
    kb.add_file(write(folder / "docs", "hr-cases.md", HR_CASES), added_by="admin", audience="hr")
    yield kb
    kb.store.close()


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("question", [RAISE_QUESTION, INVESTIGATION_QUESTION, "salary raise calibration direct reports",
                                      "disciplinary investigations confidential case file complaint"])
def test_an_employee_never_sees_restricted_passages(restricted_kb: KnowledgeBase, mode: SearchMode, question: str) -> None:
    for audiences in [(), ("employee",), ("finance", "it")]:
        hits = restricted_kb.search(question, k=20, mode=mode, audiences=audiences)
        assert {hit.doc_id for hit in hits} <= {"time-off"}, audiences


@pytest.mark.parametrize("mode", ALL_MODES)
def test_managers_and_hr_see_the_documents_meant_for_them(restricted_kb: KnowledgeBase, mode: SearchMode) -> None:
    records = {record.doc_id: record.audience for record in restricted_kb.list_documents()}
    assert records == {"time-off": "", "manager-handbook": "manager", "hr-cases": "hr"}

    manager = restricted_kb.search(RAISE_QUESTION, k=20, mode=mode, audiences=("employee", "manager"))
    assert manager[0].doc_id == "manager-handbook" and "eight percent" in manager[0].text
    assert "hr-cases" not in {hit.doc_id for hit in manager}

    hr = restricted_kb.search(INVESTIGATION_QUESTION, k=20, mode=mode, audiences=("hr",))
    assert hr[0].doc_id == "hr-cases" and "confidential case file" in hr[0].text
    assert "manager-handbook" not in {hit.doc_id for hit in hr}


def test_changing_only_the_audience_refiles_the_document(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path / "docs", "hr-cases.md", HR_CASES)
    kb.add_file(path, added_by="admin")
    assert kb.add_file(path, added_by="admin", audience="hr").outcome is AddOutcome.REPLACED
    for mode in ALL_MODES:
        assert kb.search(INVESTIGATION_QUESTION, mode=mode) == []
        assert kb.search(INVESTIGATION_QUESTION, mode=mode, audiences=("hr",))[0].doc_id == "hr-cases"
    assert kb.add_file(path, added_by="admin", audience="hr").outcome is AddOutcome.UNCHANGED
    assert kb.add_file(path, added_by="admin").outcome is AddOutcome.REPLACED
    for mode in ALL_MODES:
        assert kb.search(INVESTIGATION_QUESTION, mode=mode)[0].doc_id == "hr-cases"
    assert_index_holds_only_active_chunks(kb)


def test_the_policy_tool_filters_by_the_actors_roles(container: Container, tmp_path: Path) -> None:
    company = make_company(container)
    base = container.knowledge.base
    docs = tmp_path / "docs"
    base.add_file(write(docs, "time-off.md", TIME_OFF), added_by="admin")
    base.add_file(write(docs, "manager-handbook.md", MANAGER_HANDBOOK), added_by="admin")
    base.add_file(write(docs, "hr-cases.md", HR_CASES), added_by="admin", audience="hr")

    def ask(actor_id: int, question: str) -> tuple[str, str]:
        result = container.pipeline.run("search_policies", {"query": question, "k": 10}, actor_id=actor_id, now=NOW)
        shown = [*result.data["quotes"], *result.data["passages"]]
        return result.message, " ".join(f"{p['doc_id']} {p['text']}" for p in shown)

    for question in (RAISE_QUESTION, "salary raise calibration direct reports eight percent"):
        message, shown = ask(company.requester, question)
        assert "eight percent" not in message and "manager-handbook" not in shown and "eight percent" not in shown
    message, shown = ask(company.requester, INVESTIGATION_QUESTION)
    assert "case file" not in message and "hr-cases" not in shown

    message, shown = ask(company.manager, RAISE_QUESTION)
    assert "eight percent" in message and "Manager Handbook > Salary reviews" in message
    message, shown = ask(company.hr, INVESTIGATION_QUESTION)
    assert "confidential case file" in message and "hr-cases" in shown
    message, shown = ask(company.hr, RAISE_QUESTION)
    assert "manager-handbook" not in shown


# --- remove and search modes ------------------------------------------------------------------------------


def test_a_removed_document_is_gone_from_search_list_and_both_indexes(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    kb.add_file(write(docs, "time-off.md", TIME_OFF), added_by="admin")
    kb.add_file(write(docs, "laptops.md", LAPTOPS), added_by="admin")
    kb.remove("laptops")
    assert [d.doc_id for d in kb.list_documents()] == ["time-off"]
    for mode in ALL_MODES:
        assert {hit.doc_id for hit in kb.search("broken laptop screen service desk", k=10, mode=mode)} <= {"time-off"}
    assert_index_holds_only_active_chunks(kb)

    for unknown in ("laptops", "never-added"):
        with pytest.raises(KnowledgeError) as caught:
            kb.remove(unknown)
        assert caught.value.code is KnowledgeErrorCode.NOT_FOUND and unknown in caught.value.message
    assert [d.doc_id for d in kb.list_documents()] == ["time-off"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_every_mode_finds_the_right_passage(kb: KnowledgeBase, tmp_path: Path, mode: SearchMode) -> None:
    docs = tmp_path / "docs"
    kb.add_file(write(docs, "time-off.md", TIME_OFF), added_by="admin")
    kb.add_file(write(docs, "laptops.md", LAPTOPS), added_by="admin")
    hits = kb.search("my laptop screen is broken", mode=mode)
    assert hits and hits[0].doc_id == "laptops" and hits[0].section == "IT Equipment > Laptops"
    sick = kb.search("doctor's note when I am sick", k=1, mode=mode)
    assert len(sick) == 1 and sick[0].section == "Time Off > Sick leave"


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_search_for_more_passages_than_the_usual_candidates_returns_them_all(kb: KnowledgeBase, tmp_path: Path,
                                                                               mode: SearchMode) -> None:
    bays = "".join(f"## Bay {n}\n\nParking bay {n} is kept for team {n} on weekdays.\n\n" for n in range(1, 46))
    kb.add_file(write(tmp_path / "docs", "parking.md", f"# Parking\n\n{bays}"), added_by="admin")
    assert kb.list_documents()[0].chunk_count == 45
    hits = kb.search("which parking bay is mine", k=45, mode=mode)
    assert len(hits) == len({hit.section for hit in hits}) == 45


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_refused(kb: KnowledgeBase, tmp_path: Path, query: str) -> None:
    kb.add_file(write(tmp_path / "docs", "time-off.md", TIME_OFF), added_by="admin")
    for mode in ALL_MODES:
        with pytest.raises(KnowledgeError) as caught:
            kb.search(query, mode=mode)
        assert caught.value.code is KnowledgeErrorCode.INVALID_INPUT


@pytest.mark.parametrize("mode", ALL_MODES)
def test_results_come_in_the_order_of_their_ranking_score_and_keep_their_relevance(
        kb: KnowledgeBase, tmp_path: Path, embedder: RecordingEmbedder, mode: SearchMode) -> None:
    bays = "".join(f"## Bay {n}\n\nParking bay {n} is kept for team {n} on weekdays.\n\n" for n in range(1, 6))
    for name, text in (("time-off.md", TIME_OFF), ("laptops.md", LAPTOPS), ("parking.md", f"# Parking\n\n{bays}")):
        kb.add_file(write(tmp_path / "docs", name, text), added_by="admin")
    for query in ("Where do I park my car?", "my laptop screen is broken", "How many vacation days do I get each year?"):
        # Three documents and k=8: two passages each first, then the rest in rank order (held back, so ranked lower).
        hits = kb.search(query, k=8, mode=mode)
        ranks = [hit.rank_score for hit in hits]
        assert len(hits) == 8 or mode is SearchMode.KEYWORD and hits  # keyword search returns only passages that match
        assert ranks == sorted(ranks, reverse=True) and 0 < ranks[0] <= 1 and ranks[-1] >= 0, (query, ranks)
        # `score` stays the chunk's cosine similarity to the query, what the answer threshold is compared with.
        vectors = embedder.embed([query] + [f"{hit.section}\n{hit.text}" for hit in hits])
        assert [hit.score for hit in hits] == pytest.approx(list(vectors[1:] @ vectors[0]), abs=2e-3)
