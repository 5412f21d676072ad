"""Benchmark: query latency with 100,000 chunks indexed (issue 3: "under 100 ms at the median on this machine").

    .venv/bin/python bench/retrieval_scale.py [--chunks 100000] [--keep DIR] [--shared-data ../shared/data]

Embedding 100,000 real passages with the bundled CPU model would take over an hour, so most of the index is
synthetic. What is synthetic, exactly:
- The chunk texts. About 2,000 documents (one per 50 chunks) with a title, a few sections and chunks of 300-1,200
  characters. Each chunk is made of sentences of 6-24 words drawn at random from real words: half from the real
  "anchor" sentences the chunk's vector is built from, the rest from the document's 20 topic anchors, from
  all anchors by their real frequency, and from a per-document lexicon of rarer English words (the tokenizer's
  vocabulary) standing in for names and jargon. So the word statistics the FTS5 side sees are those of handbook text,
  but the sentences do not read as English.
- The chunk vectors. About 1,400 distinct real sentences of the Sourcegraph handbook pages under --shared-data (the
  project's own sample policies when that folder is absent) are embedded with the real model; questions are kept
  out of them, since the timed queries include CLINC150 questions. A document draws on one topic: a random anchor, its 20 nearest anchors and its
  200 nearest. Each chunk's vector is a random convex mix of one of the 20 and one or two of the 200, plus Gaussian
  noise of length 0.5, normalised. That puts a chunk's nearest neighbour at cosine 0.72/0.79/0.82 (p10/p50/p90),
  close to real chunks of the Sourcegraph pages among themselves (0.62/0.78/0.89). As those pages are about leave,
  expenses, travel and IT, most synthetic documents compete with the sample policies: a worst case for relevance.
- The sentence vectors: one per synthetic sentence, each the vector of one of its chunk's anchors plus the same noise.
- The audiences: 85% of the synthetic documents are for everyone, the rest for managers, HR or finance.
What is real: the synthetic chunks go in through the same calls the add path makes (KnowledgeStore.stage_chunks,
VectorIndex.upsert, KnowledgeStore.activate), into the same SQLite FTS5 file and Chroma collection that
build_knowledge_base(Settings) opens; the six sample policies are added with KnowledgeBase.add_paths; and every
timed query is a real question (the project's question sets plus the shared CLINC150, Rasa and Sourcegraph sets)
answered end to end by KnowledgeBase.search, query embedding included, as an employee (audience: everyone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.knowledge_base import build_knowledge_base
from assistant.settings import Settings
from knowledge.chunking import section_label
from knowledge.embeddings import MODEL_DIRECTORY
from knowledge.index import AUDIENCES, KnowledgeBase, SearchMode
from knowledge.loaders import load_document
from knowledge.store import DocumentRecord

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_POLICIES = ROOT / "assistant" / "sample" / "policies"
HERE = Path(__file__).parent
MANIFEST = "retrieval_scale.json"
CHUNKS_PER_DOCUMENT = 50
BATCH_CHUNKS = 4000
TOPIC, NEIGHBOURHOOD = 20, 200  # a document's anchors: a random one's 20 nearest, and its 200 nearest for variety
NOISE = 0.5  # length of the noise added to a unit mix, before normalising again
SYNTHETIC_AUDIENCES = ["" for _ in range(17)] + ["manager", "hr", "finance"]  # 85% for everyone
WARMUP_QUERIES = 10
K = 5


@dataclass(frozen=True)
class Query:
    """A real question, with the sample policy that answers it when one does."""

    text: str
    origin: str
    answer_doc: str | None = None


def log(message: str) -> None:
    """Report progress on stderr, so stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)


def _sentences(text: str) -> Iterator[str]:
    for line in text.split("\n"):
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", line.strip().lstrip("-*0123456789.) ").strip()):
            if 40 <= len(sentence) <= 400 and len(sentence.split()) >= 6:
                yield sentence


def anchor_sentences(shared_data: Path) -> list[str]:
    """Return the distinct real handbook sentences that synthetic vectors and words are built from."""
    pages = sorted((shared_data / "policies" / "sourcegraph").glob("*.md")) or sorted(SAMPLE_POLICIES.glob("*.md"))
    found = [s for page in pages for section in load_document(page).sections for s in _sentences(section.text)]
    return list(dict.fromkeys(found))


def load_queries(shared_data: Path) -> list[Query]:
    """Return the real questions to time: policy questions (some answered by a sample policy) and off-topic ones."""
    queries: list[Query] = []
    for name in ("harborpine_questions.json", "unanswerable.json"):
        raw = json.loads((HERE / "data" / name).read_text(encoding="utf-8"))
        for item in raw["items"] if isinstance(raw, dict) else raw:
            answer = item.get("answer_doc") if item.get("answerable", True) else None
            queries.append(Query(item["question"], name, Path(answer).stem if answer else None))
    sourcegraph = shared_data / "policy_qa" / "sourcegraph_questions.json"
    if sourcegraph.exists():
        queries += [Query(item["question"], "sourcegraph") for item in json.loads(sourcegraph.read_text())["items"]]
    clinc = shared_data / "intents" / "clinc150_work_train_val.json"
    if clinc.exists():
        raw = json.loads(clinc.read_text(encoding="utf-8"))
        per_intent: Counter[str] = Counter()
        for item in raw["work"]["val"]:  # five per intent: pto_request, pto_balance, payday, insurance, w2 ...
            per_intent[item["intent"]] += 1
            if per_intent[item["intent"]] <= 5:
                queries.append(Query(item["text"], "clinc150 work"))
        queries += [Query(item["text"], "clinc150 out-of-scope") for item in raw["oos"]["val"][:40]]
    rasa = shared_data / "intents" / "rasa_helpdesk_half.json"
    if rasa.exists():
        it_intents = {"password_reset", "problem_email", "open_incident", "incident_status", "out_of_scope"}
        queries += [Query(item["text"], "rasa helpdesk") for item in json.loads(rasa.read_text())["examples"]
                    if item["intent"] in it_intents]
    return queries


class SyntheticCorpus:
    """Generate documents of chunk texts and vectors from embedded anchor sentences (see the module docstring)."""

    def __init__(self, anchors: list[str], anchor_vectors: np.ndarray, seed: int = 3) -> None:
        self.rng = np.random.default_rng(seed)
        self.vectors = anchor_vectors
        self.anchor_words = [re.findall(r"[A-Za-z][A-Za-z'-]*", sentence) or ["policy"] for sentence in anchors]
        counts = Counter(word for words in self.anchor_words for word in words)
        weights = np.array(list(counts.values()), dtype=float)
        # Drawing from a large pre-drawn pool keeps real word frequencies without a weighted draw per word.
        self.common_pool = self.rng.choice(np.array(list(counts)), size=1_000_000, p=weights / weights.sum())
        vocab = (MODEL_DIRECTORY / "vocab.txt").read_text(encoding="utf-8").split("\n")
        self.rare_words = np.array([word for word in vocab if re.fullmatch(r"[a-z]{4,}", word)])

    def document(self, number: int, chunks: int) -> tuple[DocumentRecord, list[tuple[str, str]], np.ndarray, list[np.ndarray]]:
        """Return one synthetic document: its record, its (section, text) chunks, their vectors and sentence vectors."""
        seed = int(self.rng.integers(len(self.vectors)))
        order = np.argsort(-(self.vectors @ self.vectors[seed]))
        cluster, neighbourhood = order[:TOPIC], order[:NEIGHBOURHOOD]
        cluster_words = np.array([word for index in cluster for word in self.anchor_words[index]])
        lexicon = self.rng.choice(self.rare_words, size=30, replace=False)
        topic = [word.lower() for word in cluster_words if len(word) >= 4] or ["general"]
        title = f"{lexicon[0].capitalize()} {lexicon[1]} {self.rng.choice(topic)} policy"
        headings = [" ".join(self._words(cluster_words, cluster_words, lexicon, int(self.rng.integers(1, 5)))).capitalize()
                    for _ in range(max(1, chunks // 8))]
        sections, texts, vectors, sentence_vectors = [], [], [], []
        for ordinal in range(chunks):
            path = (title, headings[ordinal * len(headings) // chunks], f"Part {ordinal % 4 + 1}")
            mix = np.concatenate([self.rng.choice(cluster, size=1),
                                  self.rng.choice(neighbourhood, size=int(self.rng.integers(1, 3)), replace=False)])
            own = np.array([word for index in mix for word in self.anchor_words[index]])
            sections.append(section_label(title, path))
            texts.append(self._text(own, cluster_words, lexicon))
            vectors.append(self._vector(mix))
            sentence_vectors.append(np.stack([self._vector(self.rng.choice(mix, size=1))
                                              for _ in range(max(1, texts[-1].count(". ") + 1))]))
        audience = SYNTHETIC_AUDIENCES[number % len(SYNTHETIC_AUDIENCES)]
        version = f"{number:016x}{'0' * 48}"
        record = DocumentRecord(f"synthetic-{number:05d}", title, f"synthetic/{number:05d}.md", version, audience,
                                "bench", datetime.now(timezone.utc).isoformat(timespec="seconds"), chunks)
        return record, list(zip(sections, texts, strict=True)), np.stack(vectors), sentence_vectors

    def _vector(self, mix: np.ndarray) -> np.ndarray:
        weights = self.rng.dirichlet(np.ones(len(mix)))
        vector = weights @ self.vectors[mix]
        vector = vector / np.linalg.norm(vector)
        noise = self.rng.normal(size=vector.shape)
        vector = vector + NOISE * noise / np.linalg.norm(noise)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def _words(self, own: np.ndarray, cluster_words: np.ndarray, lexicon: np.ndarray, count: int) -> list[str]:
        """Draw words: half from the chunk's own anchors, then its document's cluster, real frequencies, the lexicon."""
        roll = self.rng.random(count)
        sources = [(roll < 0.5, own), ((roll >= 0.5) & (roll < 0.7), cluster_words),
                   ((roll >= 0.7) & (roll < 0.9), self.common_pool), (roll >= 0.9, lexicon)]
        words = np.empty(count, dtype=object)
        for chosen, pool in sources:
            words[chosen] = pool[self.rng.integers(len(pool), size=int(chosen.sum()))]
        return [str(word) for word in words]

    def _text(self, own: np.ndarray, cluster_words: np.ndarray, lexicon: np.ndarray) -> str:
        target = int(self.rng.integers(300, 1201))
        words = self._words(own, cluster_words, lexicon, 300)
        sentences: list[str] = []
        length, used = 0, 0
        while length < target and used < len(words):
            size = int(self.rng.integers(6, 25))
            sentence = " ".join(words[used:used + size]).capitalize() + "."
            sentences.append(sentence)
            length, used = length + len(sentence) + 1, used + size
        return " ".join(sentences)[:1200].rstrip()


def build_index(base: KnowledgeBase, corpus: SyntheticCorpus, total_chunks: int) -> None:
    """Write the synthetic documents through stage_chunks, upsert and activate, a batch of documents at a time."""
    started = time.perf_counter()
    written, number = 0, 0
    while written < total_chunks:
        batch: list[tuple[DocumentRecord, list[str]]] = []
        vectors: list[np.ndarray] = []
        while written < total_chunks and sum(len(keys) for _, keys in batch) < BATCH_CHUNKS:
            size = min(total_chunks - written, int(corpus.rng.integers(CHUNKS_PER_DOCUMENT // 2, CHUNKS_PER_DOCUMENT * 3 // 2)))
            record, chunks, chunk_vectors, sentence_vectors = corpus.document(number, size)
            batch.append((record, base.store.stage_chunks(record, chunks, sentence_vectors)))
            vectors.append(chunk_vectors)
            written, number = written + size, number + 1
        keys = [key for _, record_keys in batch for key in record_keys]
        meta = [{"doc_id": record.doc_id, "audience": record.audience} for record, record_keys in batch for _ in record_keys]
        base.vectors.upsert(keys, np.concatenate(vectors), meta)
        for record, _ in batch:
            base.store.activate(record)
        elapsed = time.perf_counter() - started
        log(f"  {written:,}/{total_chunks:,} chunks, {number:,} documents, {elapsed:.0f} s "
            f"(about {elapsed / written * (total_chunks - written):.0f} s to go)")


def open_index(home: Path, total_chunks: int, shared_data: Path) -> tuple[KnowledgeBase, dict[str, float]]:
    """Open the index in home, building it first unless a complete build of this size is there; return build times."""
    base = build_knowledge_base(Settings(_env_file=None, BACKOFFICE_HOME=home))  # type: ignore[call-arg]
    manifest = home / MANIFEST
    if manifest.exists():
        built = json.loads(manifest.read_text())
        if built.get("chunks") != total_chunks:
            raise SystemExit(f"{home} holds an index of {built.get('chunks')} synthetic chunks; use another --keep folder.")
        log(f"reusing the index in {home}")
        return base, built["seconds"]
    if base.store.count_chunks():
        raise SystemExit(f"{home} holds an unfinished build; remove it or use another --keep folder.")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    anchors = anchor_sentences(shared_data)
    log(f"embedding {len(anchors):,} real anchor sentences with {base.embedder.name}")
    corpus = SyntheticCorpus(anchors, base.embedder.embed(anchors))
    seconds["embedding the anchor sentences"] = time.perf_counter() - started
    log(f"writing {total_chunks:,} synthetic chunks")
    build_index(base, corpus, total_chunks)
    seconds["writing the synthetic chunks"] = time.perf_counter() - started - sum(seconds.values())
    log("adding the sample policies with the real add path")
    report = base.add_paths([SAMPLE_POLICIES], added_by="bench")
    if any(item.reason for item in report.files):
        raise SystemExit(f"a sample policy failed: {[item.reason for item in report.files if item.reason]}")
    seconds["adding the sample policies"] = report.seconds
    manifest.write_text(json.dumps({"chunks": total_chunks, "anchors": len(anchors), "seconds": seconds}))
    return base, seconds


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_ms(call: Callable[[], object]) -> float:
    """Return how long one call took, in milliseconds."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def figures(label: str, latencies: list[float]) -> str:
    """Format one row of the latency table."""
    return (f"{label:28} {len(latencies):5} {statistics.median(latencies):8.1f} {percentile(latencies, 0.95):8.1f} "
            f"{percentile(latencies, 0.99):8.1f} {max(latencies):8.1f}")


def time_searches(base: KnowledgeBase, queries: list[Query]) -> None:
    """Time every query end to end in each mode, then the parts of a hybrid search one by one."""
    for query in queries[:WARMUP_QUERIES]:
        base.search(query.text, k=K)
    print(f"{'search (employee)':28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for mode in (SearchMode.HYBRID, SearchMode.DENSE, SearchMode.KEYWORD):
        print(figures(mode.value, [time_ms(lambda q=q: base.search(q.text, k=K, mode=mode)) for q in queries]))
    print(figures("hybrid, as an admin", [time_ms(lambda q=q: base.search(q.text, k=K, audiences=AUDIENCES)) for q in queries]))
    embed, dense, keyword, active, sentences = [], [], [], [], []
    for query in queries:
        vector = base.embedder.embed([query.text])[0]
        embed.append(time_ms(lambda q=query: base.embedder.embed([q.text])))
        dense.append(time_ms(lambda: base.vectors.query(vector, audiences={""}, limit=40)))
        keyword.append(time_ms(lambda q=query: base.store.keyword_search(q.text, audiences={""}, limit=40)))
        ranked = [key for key, _ in base.vectors.query(vector, audiences={""}, limit=40)]
        ranked += [key for key, _ in base.store.keyword_search(query.text, audiences={""}, limit=40)]
        active.append(time_ms(lambda r=ranked: base.store.active_chunks(r, audiences={""})))
        sentences.append(time_ms(lambda r=ranked: base.store.sentence_vectors(r)))
    print("parts of a hybrid search:")
    for label, values in (("query embedding", embed), ("Chroma query (40)", dense), ("FTS5 bm25 (40)", keyword),
                          ("active_chunks (<=80 keys)", active), ("sentence_vectors (<=80 keys)", sentences)):
        print(figures("  " + label, values))


def sanity(base: KnowledgeBase, queries: list[Query]) -> str:
    """Return how many sample-policy questions find their document at rank 1 and in the top K, in hybrid mode."""
    answered = [query for query in queries if query.answer_doc]
    ranks = []
    for query in answered:
        documents = [hit.doc_id for hit in base.search(query.text, k=K)]
        ranks.append(documents.index(query.answer_doc) + 1 if query.answer_doc in documents else None)
    top1 = sum(1 for rank in ranks if rank == 1)
    topk = sum(1 for rank in ranks if rank)
    return f"{top1}/{len(answered)} at rank 1, {topk}/{len(answered)} in the top {K}"


def sanity_without_synthetic(queries: list[Query]) -> str:
    """Return the sanity figures of an index holding only the sample policies, for comparison."""
    with tempfile.TemporaryDirectory(prefix="retrieval-scale-small-") as home:
        base = build_knowledge_base(Settings(_env_file=None, BACKOFFICE_HOME=Path(home)))  # type: ignore[call-arg]
        base.add_paths([SAMPLE_POLICIES], added_by="bench")
        figures = sanity(base, queries)
        base.store.close()
    return figures


@contextmanager
def index_home(keep: Path | None) -> Iterator[Path]:
    """Yield the folder for the index: --keep DIR, or a temporary folder removed afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="retrieval-scale-") as home:
        yield Path(home)


def main() -> None:
    """Build (or reuse) the large index, then print build time, counts, latencies and the sanity line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="synthetic chunks to index (default 100,000)")
    parser.add_argument("--keep", type=Path, help="build the index in this folder and reuse it on later runs")
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="third-party data: handbook pages for the anchors, question sets to time")
    args = parser.parse_args()
    queries = load_queries(args.shared_data)
    if not args.shared_data.exists():
        log(f"{args.shared_data} is missing: timing only the project's own {len(queries)} questions")
    with index_home(args.keep) as home:
        reused = (home / MANIFEST).exists()
        base, build_seconds = open_index(home, args.chunks, args.shared_data)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        writing = build_seconds["writing the synthetic chunks"]
        print(f"index build: {sum(build_seconds.values()):.0f} s = "
              + ", ".join(f"{seconds:.0f} s {what}" for what, seconds in build_seconds.items())
              + f" ({args.chunks / writing:,.0f} synthetic chunks/s)" + (" [by an earlier run]" if reused else ""))
        print(f"indexed: {base.vectors.count():,} vectors in Chroma, {base.store.count_chunks():,} chunks in SQLite, "
              f"{len(base.list_documents()):,} documents")
        print(f"queries: {len(queries)} real questions ({', '.join(f'{n} {o}' for o, n in Counter(q.origin for q in queries).items())})")
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (other processes on the machine slow every figure)")
        time_searches(base, queries)
        print(f"load average after timing: {os.getloadavg()[0]:.2f}")
        print(f"sanity (hybrid, sample-policy questions): {sanity(base, queries)} with {args.chunks:,} synthetic chunks; "
              f"{sanity_without_synthetic(queries)} with the sample policies alone")
        base.store.close()


if __name__ == "__main__":
    main()
