"""The dense side: chunk vectors in Chroma (an embedded folder, or a server when CHROMA_HOST is set).

Vectors are always computed by our own embedder and passed explicitly; Chroma's default embedding
function would download a model, so the collection gets a stand-in that refuses to embed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from knowledge.errors import KnowledgeError, KnowledgeErrorCode

T = TypeVar("T")
COLLECTION = "policy_chunks"
MAX_BATCH = 4000
UNFILTERED_FACTOR = 2  # neighbours fetched without the audience filter, per neighbour wanted
# HNSW is approximate: with Chroma's default search breadth (100) a query over the 8,847 chunks of a whole real
# handbook missed 2.5% of the exact 40 nearest (25% for the worst question) and the misses changed from one process
# to the next. At 400 it misses 0.04% for about 1 ms more.
HNSW_EF_SEARCH = 400
HNSW_EF_CONSTRUCTION = 200


LOCK_RETRIES = 6  # an embedded Chroma folder briefly locked by another client (a CLI beside the server) is waited for


def _when_unlocked(call: Callable[[], T]) -> T:
    """Run a write to the embedded Chroma folder, waiting a little while its SQLite file is locked by another client."""
    for attempt in range(LOCK_RETRIES):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - Chroma raises its InternalError; only "database is locked" is waited for
            if "database is locked" not in str(error) or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def _refusing_embedding_function() -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class ExplicitVectorsOnly(EmbeddingFunction[Documents]):
        """Stand-in that makes sure Chroma never embeds (or downloads a model) by itself."""

        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
            raise KnowledgeError(KnowledgeErrorCode.INDEX, "The vector store was asked to embed text itself.")

        @staticmethod
        def name() -> str:
            return "backoffice-explicit-vectors"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "ExplicitVectorsOnly":
            return ExplicitVectorsOnly()

    return ExplicitVectorsOnly()


class VectorIndex:
    """Chunk vectors with the audience of their document, queried by cosine similarity."""

    def __init__(self, *, folder: Path | None = None, host: str | None = None, port: int = 8000, collection: str = COLLECTION) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False)
        if host:
            self._client = chromadb.HttpClient(host=host, port=port, settings=settings)
        else:
            assert folder is not None, "an embedded Chroma needs a folder"
            folder.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(folder), settings=settings)
        hnsw = {"space": "cosine", "ef_search": HNSW_EF_SEARCH, "ef_construction": HNSW_EF_CONSTRUCTION}
        self._collection = self._client.get_or_create_collection(
            collection, embedding_function=_refusing_embedding_function(), configuration={"hnsw": hnsw}  # type: ignore[typeddict-item]
        )
        current = (self._collection.configuration_json or {}).get("hnsw") or {}
        if int(current.get("ef_search") or 0) < HNSW_EF_SEARCH:  # a collection created by an earlier version
            _when_unlocked(lambda: self._collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}}))
            self._collection = self._client.get_collection(collection, embedding_function=_refusing_embedding_function())
        # Embedded Chroma is not safe for a filtered query that overlaps a write: it fails ("Error finding id", the
        # metadata filter lists an id the HNSW index has just dropped) or misses neighbours, so calls take turns.
        self._lock = threading.Lock()

    def upsert(self, keys: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        """Store vectors under chunk keys, in batches Chroma accepts."""
        for start in range(0, len(keys), MAX_BATCH):
            end = start + MAX_BATCH
            with self._lock:
                _when_unlocked(lambda: self._collection.upsert(ids=list(keys[start:end]), embeddings=vectors[start:end],
                                                               metadatas=list(metadatas[start:end])))

    def delete(self, keys: Iterable[str]) -> None:
        """Remove vectors by chunk key (missing keys are ignored)."""
        keys = list(keys)
        for start in range(0, len(keys), MAX_BATCH):
            with self._lock:
                _when_unlocked(lambda: self._collection.delete(ids=keys[start:start + MAX_BATCH]))

    def query(self, vector: np.ndarray, *, audiences: Iterable[str], limit: int) -> list[tuple[str, float]]:
        """Return (chunk_key, cosine similarity) of the nearest chunks visible to these audiences."""
        allowed = sorted(set(audiences) | {""})
        # A metadata filter makes embedded Chroma check every id it admits (0.4 s a query at 100,000 chunks), so ask
        # for more neighbours unfiltered and drop the hidden ones; filter only when too many of them were hidden.
        with self._lock:
            result = self._collection.query(query_embeddings=[vector], n_results=limit * UNFILTERED_FACTOR,
                                            include=["distances", "metadatas"])
            ids = result["ids"][0]
            visible = [(key, 1.0 - float(distance)) for key, distance, meta
                       in zip(ids, result["distances"][0], result["metadatas"][0], strict=True)
                       if meta is not None and meta.get("audience") in allowed]
            if len(visible) < limit and len(ids) == limit * UNFILTERED_FACTOR:
                result = self._collection.query(
                    query_embeddings=[vector], n_results=limit, where={"audience": {"$in": allowed}}, include=["distances"]
                )
                visible = [(key, 1.0 - float(distance)) for key, distance in zip(result["ids"][0], result["distances"][0], strict=True)]
        return visible[:limit]

    def vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors of these chunk keys."""
        if not keys:
            return {}
        with self._lock:
            found = self._collection.get(ids=list(keys), include=["embeddings"])
        return {key: np.asarray(vector, dtype=np.float32) for key, vector in zip(found["ids"], found["embeddings"], strict=True)}

    def count(self) -> int:
        """Return the number of stored vectors."""
        with self._lock:
            return int(self._collection.count())
