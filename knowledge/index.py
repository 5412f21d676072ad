"""The knowledge base: add or replace documents atomically, remove, list, and hybrid search."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np

from knowledge.chunking import chunk_document
from knowledge.embeddings import Embedder
from knowledge.errors import KnowledgeError, KnowledgeErrorCode
from knowledge.loaders import SUPPORTED_SUFFIXES, load_document
from knowledge.sentences import sentence_views
from knowledge.store import DocumentRecord, KnowledgeStore, StoredChunk
from knowledge.vectors import VectorIndex

# Hybrid scores: each candidate's chunk-vector cosine, BM25 score and best sentence's cosine, each scaled to 0..1 over
# the candidates, summed with these weights. Fusing scores instead of ranks (reciprocal rank fusion, used before) keeps
# how far apart two candidates are: a passage the vectors rank second by a hair is not sunk by its keyword rank.
# Measured on five question sets (Sourcegraph's 17 pages and its whole 883-page handbook, dxw's 85-page playbook,
# Mattermost's 77 handbook pages, our sample policies): against rank fusion, recall@1 and MRR rose on four of them
# and recall@5 of the answer's section or span on three (Mattermost's section level: 0.911 against 0.822), with a
# question lost here and there on the two Sourcegraph sets; and hybrid found the answer in the top five at least as
# often as dense or keyword alone on all five, which rank fusion did not (Mattermost). Weights from 0.4 to 0.8 for the
# chunk vector and 0.1 to 0.25 for BM25 measured within a question or two of each other; more weight on BM25 put
# hybrid below dense on the 883-page handbook. Of the equals, these keep hybrid ahead of dense on the 17 pages.
DENSE_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.15
SENTENCE_WEIGHT = 1.0
CANDIDATES = 40
# In hybrid, keyword search offers its first 20. BM25 over an OR of the question's words ranks its tail by one common
# word ("leave", "travel"), and those passages crowded the fused list on large handbooks. On five question sets
# (Sourcegraph's 17 pages and its whole 883-page handbook, 18F's 246 pages, Basecamp's 16, our sample policies) 20 found
# the answer in the top five as often as 40 or more often (the 883-page document level: 0.92 against 0.88); 10 lost spans.
KEYWORD_CANDIDATES = 20
PER_DOCUMENT = 2
# Pages whose emptiness is their content (a handbook's stub page); an empty PDF or DOCX is a failed extraction instead
TEXT_SUFFIXES = frozenset({".md", ".markdown", ".mdx", ".txt", ".html", ".htm"})
SEARCH_ATTEMPTS = 5  # a search that overlapped a replace is run again, at most this often
AUDIENCE_ALIASES = {"managers": "manager", "everyone": "", "all": "", "employees": "", "public": "", "employee": ""}
AUDIENCES = frozenset({"", "manager", "hr", "finance", "it", "admin"})


class SearchMode(StrEnum):
    """Which retrievers answer a query.

    Keyword is BM25 over title, headings and text. Dense compares the question with each chunk's vector and, among
    those candidates, with each chunk's best sentence (the two scores fused). Hybrid fuses all three scores.
    """

    HYBRID = "hybrid"
    DENSE = "dense"
    KEYWORD = "keyword"


class AddOutcome(StrEnum):
    """What happened to one file in an ingestion run."""

    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # a text page with nothing to index (a heading-only stub of a handbook): reported, no failure
    FAILED = "failed"


@dataclass(frozen=True)
class FileResult:
    """One file's outcome in an ingestion run."""

    path: str
    outcome: AddOutcome
    doc_id: str | None = None
    chunks: int = 0
    reason: str = ""


class Source(NamedTuple):
    """A file to add, with its document id; `link` is set for a symbolic link met while walking a folder."""

    path: Path
    doc_id: str
    link: bool = False


@dataclass
class IngestReport:
    """What an ingestion run did, per file."""

    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: AddOutcome) -> int:
        """Return how many files ended with `outcome`."""
        return sum(1 for item in self.files if item.outcome is outcome)

    @property
    def chunks(self) -> int:
        """Return the number of chunks indexed in this run."""
        return sum(item.chunks for item in self.files if item.outcome in {AddOutcome.ADDED, AddOutcome.REPLACED})


@dataclass(frozen=True)
class SearchHit:
    """A retrieved passage with its citation, relevance and ranking score.

    `score` is the relevance: the cosine similarity of the passage's chunk vector to the query, what the answer
    threshold is compared with. Hybrid and dense search rank by a fused score instead, so `score` need not fall down
    the list; `rank_score` is the score the list is ordered by, 0..1 and never rising from one hit to the next.
    """

    doc_id: str
    source: str
    title: str
    section: str
    score: float
    text: str
    rank_score: float = 0.0


def normalize_audience(raw: str | None) -> str:
    """Map an audience label ('managers', 'hr', 'everyone') onto a role name, '' meaning everyone."""
    value = (raw or "").strip().lower()
    value = AUDIENCE_ALIASES.get(value, value)
    if value not in AUDIENCES:
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"Unknown audience '{raw}'; use managers, hr, finance, it or admin.")
    return value


def document_id(path: Path) -> str:
    """Derive a stable document id from a file name: 'Time Off.md' -> 'time-off'.

    Letters of every script are kept ('Congés payés.md' -> 'congés-payés', '休暇規程.md' -> '休暇規程'), so a
    handbook written in another language does not collapse into one id; whatever else joins the words becomes '-'.
    """
    return re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", path.stem).lower()).strip("-") or "document"


def fuse(candidates: Sequence[str], cosine: dict[str, float], bm25: dict[str, float], best_sentence: dict[str, float]) -> list[str]:
    """Order candidates by their weighted, scaled scores, best first (ties keep the candidates' order)."""
    scores = fused_scores(candidates, cosine, bm25, best_sentence)
    return sorted(candidates, key=lambda key: -scores[key])


def fused_scores(candidates: Sequence[str], cosine: dict[str, float], bm25: dict[str, float],
                 best_sentence: dict[str, float]) -> dict[str, float]:
    """Return each candidate's weighted sum of its scaled scores, divided by the weights in play (0..1).

    Cosines are scaled min to max over the candidates; BM25 by its highest value (a candidate the keyword search did
    not find scores 0 there; without keyword scores, as in dense mode, their weight is left out).
    """
    def scaled(values: list[float]) -> list[float]:
        low, high = min(values, default=0.0), max(values, default=0.0)
        return [(value - low) / (high - low) if high > low else 0.0 for value in values]

    chunk = scaled([cosine.get(key, 0.0) for key in candidates])
    sentence = scaled([best_sentence.get(key, 0.0) for key in candidates])
    top = max((bm25.get(key, 0.0) for key in candidates), default=0.0)
    keyword = [bm25.get(key, 0.0) / top if top > 0 else 0.0 for key in candidates]
    weights = DENSE_WEIGHT + SENTENCE_WEIGHT + (KEYWORD_WEIGHT if top > 0 else 0.0)
    return {key: (DENSE_WEIGHT * chunk[i] + KEYWORD_WEIGHT * keyword[i] + SENTENCE_WEIGHT * sentence[i]) / weights
            for i, key in enumerate(candidates)}


class KnowledgeBase:
    """Policy documents indexed for keyword and dense retrieval."""

    def __init__(self, *, store: KnowledgeStore, vectors: VectorIndex, embedder_factory: Callable[[], Embedder],
                 max_file_bytes: int = 20_000_000) -> None:
        self.store = store
        self.vectors = vectors
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self.max_file_bytes = max_file_bytes

    @property
    def embedder(self) -> Embedder:
        """Return the embedder, loading the model on first use."""
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def add_file(self, path: Path, *, added_by: str, audience: str | None = None, doc_id: str | None = None,
                 source: str | None = None) -> FileResult:
        """Add or replace one document; searches see the old version until the new one is complete.

        `source` is what citations and `kb list` show as its origin (default: the path), e.g. for an upload.
        """
        document = load_document(path, max_bytes=self.max_file_bytes)
        version = hashlib.sha256(path.read_bytes()).hexdigest()
        target = doc_id or document_id(path)
        chosen_audience = normalize_audience(audience if audience is not None else document.metadata.get("audience"))
        current = self.store.get_document(target)
        if (current is not None and current.version == version and current.audience == chosen_audience
                and not self.store.lacks_sentence_vectors(target)):
            self.vectors.delete(self.store.purge_inactive(target))  # what an earlier add left behind when it crashed
            return FileResult(str(path), AddOutcome.UNCHANGED, target, current.chunk_count)
        chunks = chunk_document(document)
        if not chunks:
            raise KnowledgeError(KnowledgeErrorCode.EMPTY, f"{path} has no text to index.")
        record = DocumentRecord(target, document.title, source or str(path), version, chosen_audience, added_by,
                                datetime.now(timezone.utc).isoformat(timespec="seconds"), len(chunks))
        views = [sentence_views(chunk.section, chunk.text) for chunk in chunks]
        vectors = self.embedder.embed([f"{chunk.section}\n{chunk.text}" for chunk in chunks])
        # Apart from the chunks: a batch is padded to its longest text, so a sentence batched with chunks costs a chunk.
        sentences = self.embedder.embed([view for chunk_views in views for view in chunk_views])
        bounds = np.cumsum([0] + [len(vs) for vs in views])
        per_chunk = [sentences[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
        keys = self.store.stage_chunks(record, [(chunk.section, chunk.text) for chunk in chunks], per_chunk)
        meta = [{"doc_id": target, "audience": chosen_audience} for _ in chunks]
        self.vectors.upsert(keys, vectors, meta)
        retired = self.store.activate(record)  # the atomic switch
        self.vectors.delete(retired)
        self.store.purge_inactive(target)
        outcome = AddOutcome.ADDED if current is None else AddOutcome.REPLACED
        return FileResult(str(path), outcome, target, len(chunks))

    def add_paths(self, paths: Sequence[Path], *, added_by: str, audience: str | None = None,
                  progress: Callable[[Path], None] | None = None) -> IngestReport:
        """Add many files (folders are walked); a failing file is reported and the others still go in."""
        return self.add_sources(expand_paths(paths), added_by=added_by, audience=audience, progress=progress)

    def add_sources(self, sources: Sequence[Source], *, added_by: str, audience: str | None = None,
                    progress: Callable[[Path], None] | None = None) -> IngestReport:
        """Add files already expanded with their document ids (expand_paths), e.g. when a caller counted them first.

        A file already indexed from the same place under another id (added once with its folder, once on its own)
        keeps its first id, so a new version replaces the old one instead of standing beside it. A symbolic link
        inside a folder is not followed: it could bring in any file of the machine, or a second copy of a page.
        """
        started = time.perf_counter()
        report = IngestReport()
        first_with_id: dict[str, Path] = {}
        indexed_from = self._ids_by_source()
        for path, derived_id, link in sources:
            if link:
                report.files.append(FileResult(str(path), AddOutcome.SKIPPED, reason=(
                    f"{path} is a symbolic link inside a folder; links are not followed. Add the file it points to "
                    "by its own path if it belongs in the policies.")))
                if progress is not None:
                    progress(path)
                continue
            doc_id = indexed_from.get(_place(path), derived_id)
            try:
                if doc_id in first_with_id:  # "Time Off.md" and "time-off.txt" side by side: neither may replace the other
                    raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"{path} would have the same document id '{doc_id}' "
                                                                           f"as {first_with_id[doc_id]}; rename one of them.")
                first_with_id[doc_id] = path
                report.files.append(self.add_file(path, added_by=added_by, audience=audience, doc_id=doc_id))
            except KnowledgeError as error:
                placeholder = error.code is KnowledgeErrorCode.EMPTY and path.suffix.lower() in TEXT_SUFFIXES
                if placeholder and self.store.get_document(doc_id) is not None:  # emptied: the old text would linger unseen
                    report.files.append(FileResult(str(path), AddOutcome.FAILED, reason=(
                        f"{error.message} The indexed version of {doc_id} is still searchable; if the policy is gone, "
                        f"remove it with `backoffice kb remove {doc_id}`.")))
                else:
                    report.files.append(FileResult(str(path), AddOutcome.SKIPPED if placeholder else AddOutcome.FAILED,
                                                   reason=f"{error.message} Nothing to index; skipped." if placeholder
                                                   else error.message))
            if progress is not None:
                progress(path)
        report.seconds = time.perf_counter() - started
        return report

    def _ids_by_source(self) -> dict[str, str]:
        """Return the id of each indexed document by the place its file was added from (uploads have none)."""
        ids: dict[str, str] = {}
        for record in self.store.list_documents():
            place = _place(Path(record.source))
            if place:
                ids.setdefault(place, record.doc_id)
        return ids

    def remove(self, doc_id: str) -> None:
        """Remove a document from searches and from both indexes."""
        keys = self.store.remove_document(doc_id)
        self.vectors.delete(keys)

    def list_documents(self) -> list[DocumentRecord]:
        """Return every indexed document."""
        return self.store.list_documents()

    def search(self, query: str, *, k: int = 5, mode: SearchMode = SearchMode.HYBRID, audiences: Iterable[str] = ()) -> list[SearchHit]:
        """Return the k best passages visible to these audiences, best first."""
        query = " ".join(query.split())[:2000]
        if not query:
            raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, "Ask a question to search the policies.")
        allowed = {normalize_audience(a) for a in audiences} | {""}
        vector = self.embedder.embed([query])[0]
        for _ in range(SEARCH_ATTEMPTS):
            before = self.store.generation()
            hits = self._search_once(query, vector, k, mode, allowed)
            # Candidates come from Chroma and SQLite at different moments; if no document switched versions
            # meanwhile they were all judged against one state, otherwise a replace may have hidden them all.
            if self.store.generation() == before:
                break
        return hits

    def _search_once(self, query: str, vector: np.ndarray, k: int, mode: SearchMode, allowed: set[str]) -> list[SearchHit]:
        wanted = max(CANDIDATES, k)
        keyword_limit = wanted if mode is SearchMode.KEYWORD else max(KEYWORD_CANDIDATES, k)
        dense = [] if mode is SearchMode.KEYWORD else self.vectors.query(vector, audiences=allowed, limit=wanted)
        keyword = [] if mode is SearchMode.DENSE else self.store.keyword_search(query, audiences=allowed, limit=keyword_limit)
        cosine = dict(dense)
        if mode is SearchMode.KEYWORD:
            top = max((score for _, score in keyword), default=0.0)
            ranking = {key: score / top if top > 0 else 0.0 for key, score in keyword}
        else:
            candidates = list(dict.fromkeys([key for key, _ in dense] + [key for key, _ in keyword]))
            self._add_cosines(candidates, vector, cosine)  # the keyword-only candidates' chunk vectors
            best = best_sentence_scores(candidates, self.store.sentence_vectors(candidates), vector, cosine)
            ranking = fused_scores(candidates, cosine, dict(keyword), best)
        ranked = sorted(ranking, key=lambda key: -ranking[key])
        active = self.store.active_chunks(ranked, audiences=allowed)
        chosen = diversify([key for key in ranked if key in active], active, k)
        return self._hits(chosen, active, vector, cosine, ranking)

    def _add_cosines(self, keys: list[str], vector: np.ndarray, cosine: dict[str, float]) -> None:
        """Fill in the chunk-vector similarity of keys found by keyword only."""
        missing = [key for key in keys if key not in cosine]
        for key, stored in self.vectors.vectors(missing).items():
            cosine[key] = float(np.dot(stored, vector))

    def _hits(self, keys: list[str], chunks: dict[str, StoredChunk], vector: np.ndarray, cosine: dict[str, float],
              ranking: dict[str, float]) -> list[SearchHit]:
        self._add_cosines(keys, vector, cosine)
        hits: list[SearchHit] = []
        ceiling = 1.0
        for key in keys:
            # A passage held back by diversify() ranks below the ones placed before it, whatever its fused score.
            ceiling = min(ceiling, ranking.get(key, 0.0))
            chunk = chunks[key]
            hits.append(SearchHit(chunk.doc_id, chunk.source, chunk.title, chunk.section, round(cosine.get(key, 0.0), 4),
                                  chunk.text, rank_score=round(ceiling, 4)))
        return hits


def best_sentence_scores(candidates: Sequence[str], sentence_vectors: dict[str, np.ndarray], vector: np.ndarray,
                         chunk_cosine: dict[str, float]) -> dict[str, float]:
    """Return each candidate chunk's highest sentence similarity to the question.

    A chunk without sentence vectors (indexed by an older version) counts its chunk vector as its one sentence.
    """
    return {key: float(np.max(sentence_vectors[key] @ vector)) if key in sentence_vectors else chunk_cosine.get(key, 0.0)
            for key in candidates}


def diversify(ranked: list[str], chunks: dict[str, StoredChunk], k: int) -> list[str]:
    """Take the best k passages with at most PER_DOCUMENT from one document, so other candidates get a place."""
    taken: list[str] = []
    per_document: dict[str, int] = {}
    for key in ranked:
        doc_id = chunks[key].doc_id
        if per_document.get(doc_id, 0) < PER_DOCUMENT:
            taken.append(key)
            per_document[doc_id] = per_document.get(doc_id, 0) + 1
        if len(taken) == k:
            return taken
    # Fewer documents than k: fill up with the remaining passages in rank order.
    return taken + [key for key in ranked if key not in taken][: k - len(taken)]


# A handbook kept as a website's source carries its tooling along: hidden folders (.git, .github) and installed
# packages, whose READMEs are no policy.
TOOLING_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


def _tooling(relative: Path) -> bool:
    return any(part.startswith(".") or part in TOOLING_FOLDERS for part in relative.parts)


def _place(path: Path) -> str:
    """Return where a file is, resolved (a relative path is taken from the current folder); '' when unknown."""
    try:
        return str(path.resolve()) if path.is_absolute() or path.exists() else ""
    except (OSError, RuntimeError):  # a link loop, a name the system refuses
        return ""


def expand_paths(paths: Sequence[Path]) -> list[Source]:
    """Expand folders into the supported files inside them, each with its document id; files are kept as given.

    A file's id is its name ('Time Off.md' -> 'time-off'); a file in a subfolder of a folder given is named by its
    path under that folder ('benefits/index.md' -> 'benefits-index'), so the many index.md of a handbook stay apart.
    Inside a folder, hidden files and folders and installed packages (node_modules) are skipped, and symbolic links
    are marked (`link`): they are reported, not followed.
    """
    expanded: list[Source] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if not _tooling(p.relative_to(path)) and (
                (p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
                or (p.is_symlink() and (p.is_dir() or p.suffix.lower() in SUPPORTED_SUFFIXES))))
            expanded.extend(Source(file, document_id(Path("-".join(file.relative_to(path).parts))), file.is_symlink())
                            for file in found)
        else:
            expanded.append(Source(path, document_id(path)))
    return expanded
