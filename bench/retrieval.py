"""Retrieval quality and speed: recall@1/@5, MRR, abstention, query latency and ingestion throughput.

    .venv/bin/python bench/retrieval.py --docs ../shared/data/policies/sourcegraph \
        --questions ../shared/data/policy_qa/sourcegraph_questions.json

Every mode is measured in one run over one index: keyword (BM25), dense (chunk vectors, and each candidate's
best sentence), hybrid (the three scores fused). At three levels, the first being the one a passage retriever is
judged by (top-k retrieval accuracy: does one of the first k passages hold the answer?):
- passage (questions with an `answer_span`): one of the first k passages holds the answer span, the passage an
  extractive answer quotes from. A span cut by a chunk boundary is missed at this level;
- section (questions with an `answer_section` heading path): one of them comes from the answering document and
  sits under the answer's own heading, the place the citation names ("Time off > PTO ground rules");
- document: one of them comes from a document that answers the question.
With a few documents the document level saturates (five passages from at least three documents cover a sixth of a
17-page handbook), so it tells the modes apart least. For a harder run, point --docs at a whole handbook: the 883
pages of github.com/sourcegraph/handbook at the questions' commit (5752928), each saved under its path with '/' as
'__', hold the same 17 pages among 8,847 chunks (about 18 minutes to ingest on 2 cores). The last lines name the
mode with the best recall@5 at each level (ties name every mode that reaches it). Abstention: the share of
unanswerable questions whose best passage scores below the answer threshold (and, for contrast, the
share of answerable ones wrongly abstained on). Unanswerable questions come from the questions file, or
from bench/data/unanswerable.json when it has none.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.knowledge_base import build_knowledge_base
from assistant.settings import Settings
from knowledge.answer import DEFAULT_THRESHOLD, extract_answer
from knowledge.chunking import SECTION_SEPARATOR
from knowledge.index import AUDIENCES, KnowledgeBase, SearchHit, SearchMode, document_id
from knowledge.sentences import heading_leaf

HERE = Path(__file__).parent


def load_questions(path: Path) -> list[dict]:
    """Read a questions file: a list, or {"items": [...]}; relevant documents named by file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw["items"] if isinstance(raw, dict) else raw
    for item in items:
        names = item.get("relevant_doc_ids") or [item.get("answer_doc_id") or item.get("answer_doc") or ""]
        item["relevant"] = {document_id(Path(name.split("/")[-1])) for name in names if name}
        item.setdefault("answerable", bool(item["relevant"]))
        if isinstance(item.get("answer_section"), str):  # a heading path written as one label
            item["answer_section"] = item["answer_section"].split(SECTION_SEPARATOR)
    return items


def comparable(text: str) -> str:
    """Lower-case words only, link targets and Markdown emphasis dropped, to find an answer span in a passage."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def in_answer_section(item: dict, hit: SearchHit) -> bool:
    """Whether a passage comes from the answering document, under the answer's deepest heading."""
    return hit.doc_id in item["relevant"] and (
        comparable(heading_leaf(hit.section)) == comparable(item["answer_section"][-1]))


def holds_answer(item: dict, hit: SearchHit) -> bool:
    """Whether a passage (with its heading path) contains the question's answer span."""
    return comparable(item["answer_span"]) in comparable(f"{hit.section} {hit.text}")


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(base: KnowledgeBase, items: list[dict], mode: SearchMode, threshold: float, k: int) -> dict[str, float]:
    """Run every question in one mode and compute the figures."""
    ranks: list[int | None] = []
    section_ranks: list[int | None] = []
    passage_ranks: list[int | None] = []
    latencies, abstained, wrongly_abstained = [], [], []
    for item in items:
        started = time.perf_counter()
        hits = base.search(item["question"], k=k, mode=mode, audiences=AUDIENCES)  # every document, as an admin
        latencies.append((time.perf_counter() - started) * 1000)
        best = max((hit.score for hit in hits), default=0.0)
        if item["answerable"]:
            found = [i for i, hit in enumerate(hits) if hit.doc_id in item["relevant"]]
            ranks.append(found[0] + 1 if found else None)
            if item.get("answer_section"):
                under = [i for i, hit in enumerate(hits) if in_answer_section(item, hit)]
                section_ranks.append(under[0] + 1 if under else None)
            if item.get("answer_span"):
                holding = [i for i, hit in enumerate(hits) if holds_answer(item, hit)]
                passage_ranks.append(holding[0] + 1 if holding else None)
            wrongly_abstained.append(best < threshold)
        else:
            abstained.append(best < threshold)
    answerable = len(ranks) or 1
    return {
        **rank_figures(ranks),
        **{f"section_{name}": value for name, value in rank_figures(section_ranks).items()},
        **{f"span_{name}": value for name, value in rank_figures(passage_ranks).items()},
        "questions": len(ranks),
        "section_questions": len(section_ranks),
        "span_questions": len(passage_ranks),
        "abstain_unanswerable": (sum(abstained) / len(abstained)) if abstained else float("nan"),
        "abstain_answerable": sum(wrongly_abstained) / answerable,
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
    }


def answer_quality(base: KnowledgeBase, items: list[dict], threshold: float) -> tuple[int, int]:
    """Count the answers without an LLM that quote the answer span (in any quote, in the first quote)."""
    quoted = first = 0
    for item in items:
        if not (item["answerable"] and item.get("answer_span")):
            continue
        hits = base.search(item["question"], k=5, mode=SearchMode.HYBRID, audiences=AUDIENCES)
        quotes = [comparable(quote.text) for quote in extract_answer(item["question"], hits, base.embedder, threshold=threshold).quotes]
        span = comparable(item["answer_span"])
        holds = [span in quote or (len(quote) > 20 and quote in span) for quote in quotes]  # a quote may be part of a long span
        quoted += any(holds)
        first += bool(holds and holds[0])
    return quoted, first


def rank_figures(ranks: list[int | None]) -> dict[str, float]:
    """Recall@1, recall@5 and MRR from the rank of the first relevant passage per question (None: not found)."""
    count = len(ranks) or 1
    return {
        "recall@1": sum(1 for r in ranks if r == 1) / count,
        "recall@5": sum(1 for r in ranks if r and r <= 5) / count,
        "mrr": sum(1 / r for r in ranks if r) / count,
    }


# (figure prefix, level name, what counts as found), the passage level first
LEVELS = [("span_", "passage", "a passage that holds the answer span"),
          ("section_", "section", "a passage from the answering document under the answer's own heading"),
          ("", "document", "a passage from a document that answers the question")]


def main() -> None:
    """Index the documents, run the questions in every mode, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--unanswerable", type=Path, default=HERE / "data" / "unanswerable.json")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()

    items = load_questions(args.questions)
    if not any(not item["answerable"] for item in items):
        items += load_questions(args.unanswerable)
    with tempfile.TemporaryDirectory() as home:
        base = build_knowledge_base(Settings(_env_file=None, BACKOFFICE_HOME=Path(home)))  # type: ignore[call-arg]
        base.embedder.embed(["warm up"])  # model load is not ingestion
        report = base.add_paths([args.docs], added_by="bench")
        failed = [f for f in report.files if f.reason]
        print(f"ingested {len(report.files) - len(failed)} files, {report.chunks} chunks in {report.seconds:.2f} s "
              f"= {report.chunks / report.seconds:.1f} chunks/s" + (f"; {len(failed)} failed" if failed else ""))
        for item in failed:
            print(f"  failed {item.path}: {item.reason}", file=sys.stderr)
        answerable = sum(1 for item in items if item["answerable"])
        print(f"questions: {answerable} answerable, {len(items) - answerable} unanswerable; threshold {args.threshold}")
        rows = {mode: measure(base, items, mode, args.threshold, args.k)
                for mode in (SearchMode.KEYWORD, SearchMode.DENSE, SearchMode.HYBRID)}
        print(f"\n{'mode':8} {'abstain(unans)':>15} {'abstain(ans)':>13} {'p50 ms':>7} {'p95 ms':>7}")
        for mode, row in rows.items():
            print(f"{mode.value:8} {row['abstain_unanswerable']:15.3f} {row['abstain_answerable']:13.3f} "
                  f"{row['p50_ms']:7.1f} {row['p95_ms']:7.1f}")
        levels = [level for level in LEVELS if rows[SearchMode.HYBRID][level[0] + "questions"]]
        for prefix, name, what in levels:
            count = rows[SearchMode.HYBRID][prefix + "questions"]
            print(f"\n{name} level ({count} questions): found where the first {args.k} hold {what}")
            print(f"{'mode':8} {'recall@1':>9} {'recall@5':>9} {'MRR':>6}")
            for mode, row in rows.items():
                print(f"{mode.value:8} {row[prefix + 'recall@1']:9.3f} {row[prefix + 'recall@5']:9.3f} {row[prefix + 'mrr']:6.3f}")
        print()
        for prefix, name, _ in levels:
            best = max(row[prefix + "recall@5"] for row in rows.values())
            leaders = [mode.value for mode, row in rows.items() if row[prefix + "recall@5"] == best]
            print(f"best recall@5 at the {name} level: {' = '.join(leaders)} ({best:.3f})")
        spans = rows[SearchMode.HYBRID]["span_questions"]
        if spans:
            quoted, first = answer_quality(base, items, args.threshold)
            print(f"\noffline extractive answer (hybrid): quotes the answer span in {quoted}/{spans} answers, "
                  f"in the first quote in {first}/{spans}")


if __name__ == "__main__":
    main()
