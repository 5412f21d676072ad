"""The vector index: nearest chunks found (almost) exactly, also in a collection an earlier version created."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import knowledge.vectors as vectors_module

from knowledge.vectors import COLLECTION, HNSW_EF_SEARCH, VectorIndex

DIMENSIONS = 384


def unit_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    rows = rng.normal(size=(count, DIMENSIONS)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def nearest_overlap(index: VectorIndex, vectors: np.ndarray, queries: np.ndarray, limit: int) -> list[float]:
    """For each query, the share of the exact `limit` nearest vectors the index returned."""
    shares = []
    for query in queries:
        exact = {f"k{i}" for i in np.argsort(-(vectors @ query))[:limit]}
        found = {key for key, _ in index.query(query, audiences=[""], limit=limit)}
        shares.append(len(exact & found) / limit)
    return shares


def test_the_nearest_chunks_are_found_almost_exactly(tmp_path: Path) -> None:
    # Random directions are the hardest case for HNSW: Chroma's default search breadth finds about 87% of them.
    rng = np.random.default_rng(7)
    vectors = unit_rows(rng, 3000)
    index = VectorIndex(folder=tmp_path)
    index.upsert([f"k{i}" for i in range(len(vectors))], vectors, [{"doc_id": "d", "audience": ""}] * len(vectors))
    queries = vectors[:40] + 0.5 * unit_rows(rng, 40)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    shares = nearest_overlap(index, vectors, queries, limit=40)

    assert np.mean(shares) >= 0.98
    assert min(shares) >= 0.9


def test_a_collection_from_an_earlier_version_is_searched_as_widely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as earlier:  # earlier versions created the collection with Chroma's default breadth
        earlier.setattr(vectors_module, "HNSW_EF_SEARCH", 100)
        earlier.setattr(vectors_module, "HNSW_EF_CONSTRUCTION", 100)
        VectorIndex(folder=tmp_path).upsert(["kept"], np.eye(DIMENSIONS, dtype=np.float32)[:1], [{"doc_id": "d", "audience": ""}])
    assert search_breadth(tmp_path) == 100

    index = VectorIndex(folder=tmp_path)

    assert search_breadth(tmp_path) == HNSW_EF_SEARCH
    assert [key for key, _ in index.query(np.eye(DIMENSIONS, dtype=np.float32)[0], audiences=[""], limit=1)] == ["kept"]


def search_breadth(folder: Path) -> int:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))
    return int(client.get_collection(COLLECTION).configuration_json["hnsw"]["ef_search"])


def test_a_write_waits_while_another_client_holds_the_folders_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def locked_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Database error: error returned from database: (code: 5) database is locked")
        return "written"

    monkeypatch.setattr(vectors_module.time, "sleep", lambda seconds: None)
    assert vectors_module._when_unlocked(locked_twice) == "written" and len(calls) == 3
    with pytest.raises(RuntimeError, match="no such table"):  # any other failure is not waited for
        vectors_module._when_unlocked(lambda: (_ for _ in ()).throw(RuntimeError("no such table")))
