"""Out-of-scope lines from other assistants' domains: how many the classifier leaves alone, and which it acts on.

    .venv/bin/python bench/intents_elsewhere.py FILE_OR_FOLDER... [--show-actions] [--json]

Each input is a file of labelled utterances written for another assistant (a bank's, a smart speaker's):
- .csv (comma, semicolon or tab separated) with a `text` column (or `utterance`, `sentence`, `answer`) and
  optionally `category`, `intent` or `label`, as Banking77 (github.com/PolyAI-LDN/task-specific-datasets,
  banking_data/test.csv) or HWU64's NLU-Data-Home-Domain-Annotated-All.csv;
- .jsonl with one {"text": ..., "label"/"intent": ...} object per line;
- .json holding a list of such objects, or an object whose lists hold them, as the cross-validation folds of
  HWU64 (github.com/xliuhw/NLU-Evaluation-Data, CrossValidation/.../testset/annotated/*/*.json);
- a folder: every such file below it.
Nothing in those sets asks for a back-office action, so the figures are the share routed out_of_scope and the
false-action rate (lines routed to request_leave, cancel_leave, submit_expense or create_ticket), then per
source label where the lines went. Some labels are honest look-alikes at work: a forgotten password or a lost
phone is an IT ticket when the phone is the company's; the per-label lines show them apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.nlu.intent_examples import ACTION_INTENTS, Intent
from assistant.nlu.intents import IntentClassifier
from knowledge.embeddings import LocalMiniLM

ACTIONS = frozenset(intent.value for intent in ACTION_INTENTS)
TEXT_COLUMNS = ("text", "utterance", "sentence", "answer")  # "answer": HWU64's CSV calls the utterance so
LABEL_COLUMNS = ("category", "intent", "label")
SUFFIXES = (".csv", ".jsonl", ".json")


def _row(record: dict[str, Any]) -> tuple[str, str] | None:
    """Return (text, label) of one record, or None when it holds no text."""
    text = next((record[key] for key in TEXT_COLUMNS if isinstance(record.get(key), str)), None)
    if not text or not text.strip():
        return None
    label = next((str(record[key]) for key in LABEL_COLUMNS if record.get(key) not in (None, "")), "(none)")
    return text, label


def _records(document: Any) -> list[dict[str, Any]]:
    """Find the utterance objects in a JSON document: a list of them, or lists inside an object."""
    if isinstance(document, list):
        return [item for item in document if isinstance(item, dict)]
    if isinstance(document, dict):
        return [item for value in document.values() if isinstance(value, list) for item in _records(value)]
    return []


def load_lines(path: Path) -> list[tuple[str, str]]:
    """Return the (text, label) pairs of one file or of every supported file below a folder."""
    if path.is_dir():
        return [line for child in sorted(path.rglob("*")) if child.suffix in SUFFIXES for line in load_lines(child)]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            header = handle.readline()
            handle.seek(0)
            delimiter = max(",;\t", key=header.count)  # HWU64's own CSV is separated by semicolons
            records: list[dict[str, Any]] = list(csv.DictReader(handle, delimiter=delimiter))
    elif path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        records = _records(json.loads(path.read_text(encoding="utf-8")))
    return [row for record in records if (row := _row(record)) is not None]


def measure(classifier: IntentClassifier, lines: list[tuple[str, str]]) -> dict[str, Any]:
    """Classify every line and count where they went."""
    predicted = [prediction.intent for prediction in classifier.classify_many([text for text, _ in lines])]
    routed = Counter(predicted)
    acted = [(label, intent, text) for (text, label), intent in zip(lines, predicted, strict=True) if intent in ACTIONS]
    per_label: dict[str, Counter[str]] = {}
    for (_, label), intent in zip(lines, predicted, strict=True):
        per_label.setdefault(label, Counter())[intent] += 1
    total = max(1, len(lines))
    return {
        "lines": len(lines), "out_of_scope_share": round(routed[Intent.OUT_OF_SCOPE.value] / total, 4),
        "false_actions": len(acted), "false_action_rate": round(len(acted) / total, 4),
        "routed": dict(routed.most_common()), "acted": acted,
        "per_label": {label: dict(counts.most_common()) for label, counts in sorted(per_label.items())},
    }


def print_report(name: str, figures: dict[str, Any], show_actions: bool) -> None:
    """Print one input's figures for people."""
    print(f"\n{name} ({figures['lines']} lines nobody here should act on)")
    print(f"  routed out_of_scope        {figures['out_of_scope_share']:.3f}")
    print(f"  false-action rate          {figures['false_action_rate']:.4f}   ({figures['false_actions']}/{figures['lines']})")
    elsewhere = ", ".join(f"{intent} {count}" for intent, count in figures["routed"].items() if intent != Intent.OUT_OF_SCOPE.value)
    print(f"  routed to our intents      {elsewhere or 'none'}")
    leaks = sorted(((sum(count for intent, count in counts.items() if intent != Intent.OUT_OF_SCOPE.value), label, counts)
                    for label, counts in figures["per_label"].items()), reverse=True)
    print("  labels most often routed to one of ours (lines: where they went):")
    for leaked, label, counts in leaks[:12]:
        if leaked:
            where = ", ".join(f"{intent} {count}" for intent, count in counts.items() if intent != Intent.OUT_OF_SCOPE.value)
            print(f"    {label:<34} {leaked:4d}: {where}")
    if show_actions:
        for label, intent, text in sorted(figures["acted"]):
            print(f"    ! {intent:<15} {label:<30} {text}")


def main() -> int:
    """Run the benchmark over every input and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="CSV, JSONL or JSON files of utterances, or folders of them")
    parser.add_argument("--show-actions", action="store_true", help="print every line routed to an action")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object per input")
    arguments = parser.parse_args()
    loaded: list[tuple[Path, list[tuple[str, str]]]] = []
    for path in arguments.inputs:
        if not path.exists():
            print(f"{path} not found", file=sys.stderr)
            return 2
        try:
            lines = load_lines(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as error:
            print(f"{path}: cannot read it ({error})", file=sys.stderr)
            return 2
        if not lines:
            print(f"{path}: no utterances found (a text column or \"text\" field is needed)", file=sys.stderr)
            return 2
        loaded.append((path, lines))
    classifier = IntentClassifier(LocalMiniLM())
    classifier.prepare()
    for path, lines in loaded:
        figures = measure(classifier, lines)
        if arguments.json:
            print(json.dumps({"input": str(path), **{key: value for key, value in figures.items() if key != "acted"}}))
        else:
            print_report(str(path), figures, arguments.show_actions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
