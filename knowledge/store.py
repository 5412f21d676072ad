"""Document metadata, chunk text and the keyword (FTS5 BM25) index, in one SQLite file.

A document's `version` names the chunk set that searches may see; flipping it is one transaction,
so a search sees either the old or the new version of a document, never a mix and never neither.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import KnowledgeError, KnowledgeErrorCode

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    version TEXT NOT NULL,
    audience TEXT NOT NULL DEFAULT '',
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    chunk_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_key TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_chunks_doc_version ON chunks (doc_id, version);
CREATE TABLE IF NOT EXISTS chunk_sentences (
    chunk_id INTEGER PRIMARY KEY,
    dimensions INTEGER NOT NULL,
    vectors BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation (id, value) VALUES (1, 0);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, section, text, tokenize = 'porter unicode61');
"""
# Words too common to help a keyword match; the dense side still sees the whole question.
STOPWORDS = frozenset(
    "a an and are as at be by can could do does did for from have has how i if in is it its me my of on or our "
    "should so that the their them there these this to was we what when where which who why will with would you your "
    "am any get got i'm im ok please tell want know need".split()
)
# Column weights for bm25(): title, section, text.
BM25_WEIGHTS = (2.0, 3.0, 1.0)
KEYWORD_PREFETCH_FACTOR = 4  # matches ranked before the join to documents, per match wanted
# Sentence vectors are only compared with a question, so half precision loses nothing that changes a ranking
# and halves the file (a chunk holds about eight sentences).
SENTENCE_DTYPE = np.float16
SQL_BATCH = 500  # ids per IN (...) list, well under SQLite's limit on bound parameters


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the index knows it."""

    doc_id: str
    title: str
    source: str
    version: str
    audience: str
    added_by: str
    added_at: str
    chunk_count: int


@dataclass(frozen=True)
class StoredChunk:
    """A chunk of the active version of a document, with what a citation needs."""

    chunk_key: str
    doc_id: str
    version: str
    title: str
    source: str
    section: str
    text: str
    audience: str


def chunk_key(doc_id: str, version: str, ordinal: int) -> str:
    """Return the id of one chunk of one version of a document."""
    return f"{doc_id}:{version[:16]}:{ordinal}"


def _batches(items: Sequence[Any]) -> Iterator[list[Any]]:
    """Yield items in lists of at most SQL_BATCH, for IN (...) lists."""
    for start in range(0, len(items), SQL_BATCH):
        yield list(items[start:start + SQL_BATCH])


def keyword_query(text: str) -> str | None:
    """Turn free text into an FTS5 OR-query of its meaningful words (None when nothing is left)."""
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if w not in STOPWORDS and len(w) > 1]
    unique = list(dict.fromkeys(words))[:32]
    return " OR ".join(f'"{word}"' for word in unique) or None


class KnowledgeStore:
    """The SQLite side of the knowledge base (thread-safe within one process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        """Return the active record of a document, if indexed."""
        with self._lock:
            row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentRecord(**dict(row)) if row else None

    def list_documents(self) -> list[DocumentRecord]:
        """Return every indexed document, by id."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        return [DocumentRecord(**dict(row)) for row in rows]

    def generation(self) -> int:
        """Return a number that changes whenever a document switches versions or is removed: the state searches see."""
        with self._lock:
            return int(self._db.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0])

    def stage_chunks(self, record: DocumentRecord, sections_and_texts: Sequence[tuple[str, str]],
                     sentence_vectors: Sequence[np.ndarray] | None = None) -> list[str]:
        """Write a new version's chunks (invisible until `activate`), each with its sentence vectors; return their keys."""
        keys = [chunk_key(record.doc_id, record.version, i) for i in range(len(sections_and_texts))]
        if sentence_vectors is not None and len(sentence_vectors) != len(keys):
            raise ValueError("one matrix of sentence vectors per chunk")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_version(record.doc_id, record.version)
                for key, (ordinal, (section, text)) in zip(keys, enumerate(sections_and_texts), strict=True):
                    cursor = self._db.execute(
                        "INSERT INTO chunks (chunk_key, doc_id, version, ordinal, section, text) VALUES (?, ?, ?, ?, ?, ?)",
                        (key, record.doc_id, record.version, ordinal, section, text),
                    )
                    self._db.execute("INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                                     (cursor.lastrowid, record.title, section, text))
                    if sentence_vectors is not None:
                        matrix = np.asarray(sentence_vectors[ordinal], dtype=SENTENCE_DTYPE)
                        self._db.execute("INSERT INTO chunk_sentences (chunk_id, dimensions, vectors) VALUES (?, ?, ?)",
                                         (cursor.lastrowid, matrix.shape[1], matrix.tobytes()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return keys

    def activate(self, record: DocumentRecord) -> list[str]:
        """Make `record.version` the one searches see; return the chunk keys of versions now retired."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO documents (doc_id, title, source, version, audience, added_by, added_at, chunk_count) "
                    "VALUES (:doc_id, :title, :source, :version, :audience, :added_by, :added_at, :chunk_count) "
                    "ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, source = excluded.source, "
                    "version = excluded.version, audience = excluded.audience, added_by = excluded.added_by, "
                    "added_at = excluded.added_at, chunk_count = excluded.chunk_count",
                    record.__dict__,
                )
                retired = [row[0] for row in self._db.execute(
                    "SELECT chunk_key FROM chunks WHERE doc_id = ? AND version != ?", (record.doc_id, record.version))]
                self._db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return retired

    def remove_document(self, doc_id: str) -> list[str]:
        """Remove a document from searches; return all its chunk keys (for the vector store)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount == 0:
                    raise KnowledgeError(KnowledgeErrorCode.NOT_FOUND, f"No document with id '{doc_id}'.")
                keys = [row[0] for row in self._db.execute("SELECT chunk_key FROM chunks WHERE doc_id = ?", (doc_id,))]
                self._delete_version(doc_id, None)
                self._db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return keys

    def purge_inactive(self, doc_id: str) -> list[str]:
        """Delete chunk rows of versions that are not active (left by a replaced or crashed add)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT id, chunk_key FROM chunks WHERE doc_id = ? AND version NOT IN "
                    "(SELECT version FROM documents WHERE doc_id = ?)", (doc_id, doc_id)).fetchall()
                self._delete_ids([row[0] for row in rows])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [row[1] for row in rows]

    def _delete_version(self, doc_id: str, version: str | None) -> None:
        query = "SELECT id FROM chunks WHERE doc_id = ?" + (" AND version = ?" if version else "")
        params = (doc_id, version) if version else (doc_id,)
        self._delete_ids([row[0] for row in self._db.execute(query, params)])

    def _delete_ids(self, ids: list[int]) -> None:
        for batch in _batches(ids):
            marks = ",".join("?" * len(batch))
            self._db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", batch)
            self._db.execute(f"DELETE FROM chunk_sentences WHERE chunk_id IN ({marks})", batch)
            self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", batch)

    def keyword_search(self, text: str, *, audiences: Iterable[str], limit: int) -> list[tuple[str, float]]:
        """Return (chunk_key, bm25 score; higher is better) of active, visible chunks."""
        query = keyword_query(text)
        if query is None:
            return []
        allowed = sorted(set(audiences) | {""})
        marks = ",".join("?" * len(allowed))
        score = f"-bm25(chunks_fts, {', '.join(map(str, BM25_WEIGHTS))})"
        joins = ("JOIN chunks c ON c.id = best.rowid JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.version "
                 f"WHERE d.audience IN ({marks}) ORDER BY best.score DESC LIMIT ?")
        # Joining every match (tens of thousands for common words) to its document costs more than ranking it, so
        # rank in FTS5 alone first; rank every match only when too many of the best were hidden or retired.
        best_first = (f"WITH best AS (SELECT rowid, {score} AS score FROM chunks_fts WHERE chunks_fts MATCH ? "
                      f"ORDER BY score DESC LIMIT ?) SELECT c.chunk_key, best.score FROM best {joins}")
        every_match = (f"WITH best AS (SELECT rowid, {score} AS score FROM chunks_fts WHERE chunks_fts MATCH ?) "
                       f"SELECT c.chunk_key, best.score FROM best {joins}")
        with self._lock:
            rows = self._db.execute(best_first, (query, limit * KEYWORD_PREFETCH_FACTOR, *allowed, limit)).fetchall()
            if len(rows) < limit:
                rows = self._db.execute(every_match, (query, *allowed, limit)).fetchall()
        return [(row[0], float(row[1])) for row in rows]

    def active_chunks(self, keys: Sequence[str], *, audiences: Iterable[str]) -> dict[str, StoredChunk]:
        """Return the chunks among `keys` that belong to an active version visible to these audiences."""
        if not keys:
            return {}
        allowed = sorted(set(audiences) | {""})
        found: dict[str, StoredChunk] = {}
        for batch in _batches(keys):
            sql = (
                "SELECT c.chunk_key, c.doc_id, c.version, d.title, d.source, c.section, c.text, d.audience "
                "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.version "
                f"WHERE c.chunk_key IN ({','.join('?' * len(batch))}) AND d.audience IN ({','.join('?' * len(allowed))})"
            )
            with self._lock:
                rows = self._db.execute(sql, (*batch, *allowed)).fetchall()
            found.update({row[0]: StoredChunk(*row) for row in rows})
        return found

    def sentence_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the sentence vectors (one row per sentence) of the chunks among `keys` that have them."""
        found: dict[str, np.ndarray] = {}
        for batch in _batches(keys):
            sql = ("SELECT c.chunk_key, s.dimensions, s.vectors FROM chunks c JOIN chunk_sentences s ON s.chunk_id = c.id "
                   f"WHERE c.chunk_key IN ({','.join('?' * len(batch))})")
            with self._lock:
                rows = self._db.execute(sql, batch).fetchall()
            found.update({row[0]: np.frombuffer(row[2], dtype=SENTENCE_DTYPE).reshape(-1, row[1]).astype(np.float32)
                          for row in rows})
        return found

    def lacks_sentence_vectors(self, doc_id: str) -> bool:
        """Whether some chunk of a document's active version was indexed without sentence vectors (an older index)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM chunks c JOIN documents d ON d.doc_id = c.doc_id AND d.version = c.version "
                "LEFT JOIN chunk_sentences s ON s.chunk_id = c.id WHERE c.doc_id = ? AND s.chunk_id IS NULL LIMIT 1",
                (doc_id,)).fetchone()
        return row is not None

    def count_chunks(self) -> int:
        """Return the number of chunk rows (all versions)."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def count_sentence_sets(self) -> int:
        """Return the number of chunks (all versions) that have sentence vectors."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunk_sentences").fetchone()[0])
