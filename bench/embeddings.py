"""Benchmark: the bundled local embedder (int8 MiniLM on onnxruntime), texts per second and query latency.

Measures throughput for batches of short texts (questions, ~10 tokens) and of ~200-token passages (policy
chunks), single-query latency p50/p95, and, for comparison, the same passages padded to 256 tokens, which
is what padding to a fixed length would cost.

    .venv/bin/python bench/embeddings.py [--texts 256] [--queries 200] [--threads 2] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence

import numpy as np

from knowledge.embeddings import LOCAL_MAX_TOKENS, LocalMiniLM

QUESTIONS = [
    "How many vacation days do I get?",
    "Can I claim a taxi to the airport?",
    "reset my VPN password",
    "Who approves parental leave?",
    "What is the per diem for Berlin?",
    "My laptop screen is broken",
    "Is remote work allowed from abroad?",
    "When are expenses reimbursed?",
]
SENTENCES = [
    "Employees accrue annual leave monthly from their start date and may carry over up to five days.",
    "Expense claims above five hundred euros need a second approval from the finance team before payment.",
    "Receipts must be attached to every claim, and card statements are not accepted as a receipt.",
    "Hardware faults are reported through the helpdesk, which replaces a broken laptop within two working days.",
    "Sick leave longer than three consecutive days requires a medical certificate sent to human resources.",
    "Travel is booked through the company portal; economy class applies to flights under six hours.",
    "Remote work from another country is limited to twenty working days per calendar year.",
    "Parental leave is sixteen weeks at full pay, and it can be split into at most three blocks.",
]


def short_texts(count: int) -> list[str]:
    """Return count questions, each made distinct so nothing is cached anywhere."""
    return [f"{QUESTIONS[number % len(QUESTIONS)]} ({number})" for number in range(count)]


def passages(count: int, embedder: LocalMiniLM, target_tokens: int = 200) -> list[str]:
    """Return count passages of about target_tokens word pieces each."""
    tokenizer = embedder._model().tokenizer
    texts = []
    for number in range(count):
        words: list[str] = [f"Section {number}."]
        sentence = number
        while len(tokenizer.encode(" ".join(words)).ids) < target_tokens:
            words.append(SENTENCES[sentence % len(SENTENCES)])
            sentence += 3
        texts.append(" ".join(words))
    return texts


def texts_per_second(embedder: LocalMiniLM, texts: Sequence[str], repeats: int = 3) -> float:
    """Return the best of a few runs, so one hiccup of a busy machine does not decide the number."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        embedder.embed(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def fixed_padding_texts_per_second(embedder: LocalMiniLM, texts: Sequence[str]) -> float:
    """Return texts/s when every batch is padded to 256 tokens, i.e. what per-batch padding saves."""
    model = embedder._model()
    encodings = model.tokenizer.encode_batch(list(texts))
    started = time.perf_counter()
    for start in range(0, len(encodings), embedder.batch_size):
        batch = encodings[start:start + embedder.batch_size]
        feeds = {name: np.zeros((len(batch), LOCAL_MAX_TOKENS), dtype=np.int64) for name in model.input_names}
        for row, encoding in enumerate(batch):
            feeds["input_ids"][row, :len(encoding.ids)] = encoding.ids
            feeds["attention_mask"][row, :len(encoding.ids)] = 1
        model.session.run([model.output_name], feeds)
    return len(texts) / (time.perf_counter() - started)


def query_latencies_ms(embedder: LocalMiniLM, count: int) -> list[float]:
    """Return the latency of embedding one question at a time, as a search query is embedded."""
    latencies = []
    for text in short_texts(count):
        started = time.perf_counter()
        embedder.embed([text])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value below which the given fraction of values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256, help="texts per throughput run")
    parser.add_argument("--queries", type=int, default=200, help="single queries for the latency run")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--batch-size", type=int, default=32)
    arguments = parser.parse_args()
    embedder = LocalMiniLM(batch_size=arguments.batch_size, threads=arguments.threads)
    started = time.perf_counter()
    embedder.load()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; "
          f"threads {arguments.threads}, batch size {arguments.batch_size}")
    print(f"load (sha256 checks + session): {(time.perf_counter() - started) * 1000:.0f} ms")
    embedder.embed(short_texts(arguments.batch_size))  # warm-up
    short = short_texts(arguments.texts)
    long = passages(arguments.texts, embedder)
    tokens = [len(encoding.ids) for encoding in embedder._model().tokenizer.encode_batch(long)]
    print(f"short texts (~{len(embedder._model().tokenizer.encode(short[0]).ids)} tokens): "
          f"{texts_per_second(embedder, short):8.1f} texts/s")
    print(f"passages (~{statistics.mean(tokens):.0f} tokens):    {texts_per_second(embedder, long):8.1f} texts/s")
    print(f"passages padded to 256 (for comparison): {fixed_padding_texts_per_second(embedder, long):8.1f} texts/s")
    print(f"short texts padded to 256 (for comparison): {fixed_padding_texts_per_second(embedder, short):8.1f} texts/s")
    latencies = query_latencies_ms(embedder, arguments.queries)
    print(f"single query latency: p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms")


if __name__ == "__main__":
    main()
