"""Wiring the knowledge base from settings, and the adapter the search_policies tool talks to."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant.settings import Settings
from tools.errors import ErrorCode, ToolError
from tools.policies.ports import PolicyAnswer, PolicyPassage

if TYPE_CHECKING:
    from knowledge.index import KnowledgeBase, SearchHit


def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    """Open the knowledge base in BACKOFFICE_HOME (or on the Chroma server); the model loads on first use."""
    from knowledge.embeddings import build_embedder
    from knowledge.index import KnowledgeBase
    from knowledge.store import KnowledgeStore
    from knowledge.vectors import VectorIndex

    folder = settings.backoffice_home / "knowledge"
    store = KnowledgeStore(folder / "knowledge.db")
    vectors = VectorIndex(folder=folder / "chroma", host=settings.chroma_host, port=settings.chroma_port)

    def embedder_factory():  # type: ignore[no-untyped-def]
        return build_embedder(settings.embeddings, base_url=settings.openai_base_url, api_key=settings.openai_api_key,
                              model=settings.embedding_model)

    return KnowledgeBase(store=store, vectors=vectors, embedder_factory=embedder_factory, max_file_bytes=settings.max_document_bytes)


def _passage(hit: SearchHit) -> PolicyPassage:
    return PolicyPassage(hit.doc_id, hit.title, hit.section, hit.source, hit.text, hit.score)


class KnowledgeLookup:
    """The PolicyLookup the pipeline uses: search, then an extractive answer; opened on first question."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._base: KnowledgeBase | None = None
        self._lock = threading.Lock()

    @property
    def base(self) -> KnowledgeBase:
        """Return the knowledge base, opening it on first use."""
        with self._lock:
            if self._base is None:
                self._base = build_knowledge_base(self._settings)
            return self._base

    def lookup(self, question: str, *, roles: frozenset[str], k: int) -> PolicyAnswer:
        """Answer from the documents these roles may see."""
        from knowledge.answer import extract_answer
        from knowledge.errors import KnowledgeError, KnowledgeErrorCode

        try:
            hits = self.base.search(question, k=k, audiences=roles)
            answer = extract_answer(question, hits, self.base.embedder, threshold=self._settings.answer_threshold)
        except KnowledgeError as error:
            code = ErrorCode.INVALID_INPUT if error.code == KnowledgeErrorCode.INVALID_INPUT else ErrorCode.CONFIGURATION
            raise ToolError(code, f"The policy search failed: {error.message}") from error
        quotes = [PolicyPassage(q.doc_id, q.title, q.section, q.source, q.text, q.score) for q in answer.quotes]
        return PolicyAnswer(covered=answer.covered, quotes=quotes, passages=[_passage(hit) for hit in hits])
