"""Intent routing on crowd-style messages written for this project: typos, slang, terse and rambling lines.

    .venv/bin/python bench/intent_probes.py [FILE.tsv ...] [--show-errors]

Each file holds `expected_intent<TAB>message` lines (bench/data/intent_probe_*.tsv by default):
- intent_probe_dev.tsv: 300 in-scope lines and 100 out-of-scope ones, the set the classifier's rules and examples
  were adjusted against;
- intent_probe_test.tsv: 264 in-scope and 96 out-of-scope lines written separately and only scored, never read
  line by line while tuning;
- intent_probe_oos.tsv: 200 out-of-scope lines from other parts of life, over half sharing words with our
  intents ("leave a review", "train ticket", "insurance claim", "mortgage approval").
Figures per file: in-scope accuracy, out-of-scope recall and false actions (out-of-scope lines routed to
request_leave, cancel_leave, submit_expense or create_ticket), then correct/lines per intent.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from assistant.nlu.intent_examples import ACTION_INTENTS, Intent
from assistant.nlu.intents import IntentClassifier
from knowledge.embeddings import LocalMiniLM

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = [DATA / f"intent_probe_{name}.tsv" for name in ("dev", "test", "oos")]


def load(path: Path) -> list[tuple[str, str]]:
    """Read `intent<TAB>text` lines; a bad line stops the run with its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        intent, _, text = line.partition("\t")
        if intent not in {member.value for member in Intent} or not text.strip():
            raise SystemExit(f"{path}:{number}: expected 'intent<TAB>text', got {line!r}")
        rows.append((intent, text))
    return rows


def score(classifier: IntentClassifier, path: Path, show_errors: bool) -> None:
    """Classify one file and print its figures."""
    rows = load(path)
    predicted = [prediction.intent for prediction in classifier.classify_many([text for _, text in rows])]
    lines, correct = Counter(), Counter()
    for (expected, _), got in zip(rows, predicted, strict=True):
        lines[expected] += 1
        correct[expected] += got == expected
    in_scope = [intent for intent in lines if intent != Intent.OUT_OF_SCOPE.value]
    in_scope_lines = sum(lines[intent] for intent in in_scope)
    oos = Intent.OUT_OF_SCOPE.value
    false_actions = sum(1 for (expected, _), got in zip(rows, predicted, strict=True)
                        if expected == oos and got in {intent.value for intent in ACTION_INTENTS})
    print(f"\n{path.name}: {len(rows)} lines")
    if in_scope_lines:
        print(f"  in-scope accuracy    {sum(correct[i] for i in in_scope) / in_scope_lines:.3f}  ({in_scope_lines} lines)")
    if lines[oos]:
        print(f"  out-of-scope recall  {correct[oos] / lines[oos]:.3f}  ({lines[oos]} lines)")
        print(f"  false actions        {false_actions}/{lines[oos]}")
    print("  " + ", ".join(f"{intent} {correct[intent]}/{lines[intent]}" for intent in sorted(lines)))
    if show_errors:
        for (expected, text), got in zip(rows, predicted, strict=True):
            if got != expected:
                print(f"    {expected:18} -> {got:18} {text}")


def main() -> int:
    """Score every probe file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--show-errors", action="store_true", help="print every misrouted line")
    arguments = parser.parse_args()
    classifier = IntentClassifier(LocalMiniLM())
    classifier.prepare()
    for path in arguments.files:
        score(classifier, path, arguments.show_errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
