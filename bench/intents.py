"""Intent classifier quality and speed on third-party data: CLINC150 (work domain + out-of-scope) and Rasa helpdesk.

    .venv/bin/python bench/intents.py [CLINC_JSON [RASA_JSON]] [--split val|train] [--show-errors] [--json]

CLINC_JSON and RASA_JSON default to ../shared/data/intents/clinc150_work_train_val.json and
../shared/data/intents/rasa_helpdesk_half.json (next to the project's root). CLINC_JSON may also be CLINC's own
data/data_full.json (github.com/clinc/oos-eval): then the test split can be scored too, and the lines of the nine
other domains (banking, credit cards, travel, kitchen, home, auto, utility, small talk, meta) are scored as what a
back-office assistant must not act on: the share routed out_of_scope and the false-action rate among them.

Labels are mapped as ../shared/data/README.md says. CLINC: pto_request -> request_leave; pto_balance, pto_used ->
leave_balance; pto_request_status -> leave_status; next_holiday -> policy_question; payday, direct_deposit, w2,
taxes, income, insurance, insurance_change, rollover_401k are not transactions, so policy_question,
human_handoff and out_of_scope all count as correct; meeting_schedule, schedule_meeting and the out-of-scope
lines -> out_of_scope. Rasa: password_reset, problem_email, open_incident -> create_ticket; incident_status ->
ticket_status; human_handoff; greet, help -> help; out_of_scope. Rasa's other labels (affirm, deny, thank,
goodbye, bot_challenge, inform) have no intent of ours: they are only checked for false actions.

Figures: in-scope accuracy (the CLINC work split), out-of-scope recall (the OOS split routed to out_of_scope),
false-action rate (OOS lines routed to request_leave, cancel_leave, submit_expense or create_ticket), a
confusion summary per source label, the same on the Rasa file, and the latency of single classify() calls.
The classifier was tuned on the train split, the Rasa file and the project's own examples; report val.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.nlu.intent_examples import ACTION_INTENTS, Intent
from assistant.nlu.intents import IntentClassifier
from knowledge.embeddings import LocalMiniLM

ROOT = Path(__file__).resolve().parents[1]
SHARED_INTENTS = ROOT.parent / "shared" / "data" / "intents"
NOT_A_TRANSACTION = frozenset({Intent.POLICY_QUESTION, Intent.HUMAN_HANDOFF, Intent.OUT_OF_SCOPE})
CLINC_LABELS: dict[str, frozenset[str]] = {
    "pto_request": frozenset({Intent.REQUEST_LEAVE}),
    "pto_balance": frozenset({Intent.LEAVE_BALANCE}),
    "pto_used": frozenset({Intent.LEAVE_BALANCE}),
    "pto_request_status": frozenset({Intent.LEAVE_STATUS}),
    "next_holiday": frozenset({Intent.POLICY_QUESTION}),
    **{label: NOT_A_TRANSACTION for label in ("payday", "direct_deposit", "w2", "taxes", "income", "insurance",
                                              "insurance_change", "rollover_401k")},
    "meeting_schedule": frozenset({Intent.OUT_OF_SCOPE}),
    "schedule_meeting": frozenset({Intent.OUT_OF_SCOPE}),
    "oos": frozenset({Intent.OUT_OF_SCOPE}),
}
RASA_LABELS: dict[str, frozenset[str]] = {
    "password_reset": frozenset({Intent.CREATE_TICKET}),
    "problem_email": frozenset({Intent.CREATE_TICKET}),
    "open_incident": frozenset({Intent.CREATE_TICKET}),
    "incident_status": frozenset({Intent.TICKET_STATUS}),
    "human_handoff": frozenset({Intent.HUMAN_HANDOFF}),
    "greet": frozenset({Intent.HELP}),
    "help": frozenset({Intent.HELP}),
    "out_of_scope": frozenset({Intent.OUT_OF_SCOPE}),
}
ACTIONS = frozenset(intent.value for intent in ACTION_INTENTS)
WORK_LABELS = frozenset(CLINC_LABELS) - {"oos"}


@dataclass
class Scored:
    """Predictions for one set of labelled lines."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (text, source label, predicted intent)

    def add(self, texts: Sequence[str], labels: Sequence[str], predicted: Sequence[str]) -> None:
        """Record one batch of predictions."""
        self.rows.extend(zip(texts, labels, predicted))

    def accuracy(self, mapping: dict[str, frozenset[str]]) -> tuple[float, int]:
        """Return the share of mapped lines predicted as one of their accepted intents, and their count."""
        mapped = [(label, predicted) for _, label, predicted in self.rows if label in mapping]
        correct = sum(predicted in mapping[label] for label, predicted in mapped)
        return correct / max(1, len(mapped)), len(mapped)

    def share(self, labels: set[str], intents: set[str]) -> tuple[float, int, int]:
        """Return (share, hits, lines) of the lines with one of `labels` predicted as one of `intents`."""
        chosen = [predicted for _, label, predicted in self.rows if label in labels]
        hits = sum(predicted in intents for predicted in chosen)
        return hits / max(1, len(chosen)), hits, len(chosen)

    def confusion(self, mapping: dict[str, frozenset[str]]) -> list[str]:
        """Return one line per source label: expected intent, accuracy and where the misses went."""
        lines = []
        for label in sorted({label for _, label, _ in self.rows}):
            predicted = Counter(intent for _, source, intent in self.rows if source == label)
            accepted = mapping.get(label, frozenset())
            total = sum(predicted.values())
            expected = "/".join(sorted(accepted)) if accepted else "(no intent of ours)"
            misses = ", ".join(f"{intent} {count}" for intent, count in predicted.most_common() if intent not in accepted)
            correct = sum(count for intent, count in predicted.items() if intent in accepted)
            score = f"{correct:3d}/{total:<3d}" if accepted else f"    {total:<3d}"
            lines.append(f"  {label:<19} -> {expected:<46} {score} {misses}")
        return lines

    def errors(self, mapping: dict[str, frozenset[str]]) -> list[str]:
        """Return every wrongly predicted line."""
        return [f"  {label:<19} -> {predicted:<18} {text}" for text, label, predicted in self.rows
                if label in mapping and predicted not in mapping[label]]


def load_clinc(path: Path, split: str) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """Return (work-domain lines, out-of-scope lines, other-domain lines) of one split."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if "work" in document:  # the shared file holds the work domain and the out-of-scope lines only
        return document["work"][split], document["oos"][split], []
    lines = [{"text": text, "intent": label} for text, label in document[split]]  # data_full.json: [text, label] pairs
    return ([line for line in lines if line["intent"] in WORK_LABELS],
            [{"text": text, "intent": "oos"} for text, _ in document[f"oos_{split}"]],
            [line for line in lines if line["intent"] not in WORK_LABELS])


def load_rasa(path: Path) -> list[dict[str, str]]:
    """Return the Rasa helpdesk lines."""
    return json.loads(path.read_text(encoding="utf-8"))["examples"]


def classify(classifier: IntentClassifier, lines: list[dict[str, str]], scored: Scored) -> None:
    """Classify the lines in one batch and record the predictions."""
    texts = [line["text"] for line in lines]
    scored.add(texts, [line["intent"] for line in lines], [prediction.intent for prediction in classifier.classify_many(texts)])


def latency(classifier: IntentClassifier, texts: list[str]) -> dict[str, float]:
    """Time single classify() calls (as a chat message is classified), after a short warm-up."""
    for text in texts[:20]:
        classifier.classify(text)
    timings = []
    for text in texts:
        started = time.perf_counter()
        classifier.classify(text)
        timings.append((time.perf_counter() - started) * 1000)
    ordered = sorted(timings)
    return {"p50_ms": statistics.median(ordered), "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "calls": len(ordered)}


@dataclass
class Measured:
    """Everything one run measured."""

    split: str
    clinc: Scored
    rasa: Scored
    other: Scored  # CLINC's other nine domains, when the file has them
    work_labels: set[str]
    examples: int
    prepare_seconds: float
    timings: dict[str, float]


def measure(clinc_path: Path, rasa_path: Path, split: str) -> Measured:
    """Build the classifier, classify both files and time single calls."""
    classifier = IntentClassifier(LocalMiniLM())
    started = time.perf_counter()
    classifier.prepare()
    prepare_seconds = time.perf_counter() - started
    work, out_of_scope, other_domains = load_clinc(clinc_path, split)
    clinc, rasa, other = Scored(), Scored(), Scored()
    classify(classifier, work, clinc)
    classify(classifier, out_of_scope, clinc)
    classify(classifier, load_rasa(rasa_path), rasa)
    if other_domains:
        classify(classifier, other_domains, other)
    timings = latency(classifier, [line["text"] for line in work + out_of_scope])
    return Measured(split=split, clinc=clinc, rasa=rasa, other=other, work_labels={line["intent"] for line in work},
                    examples=len(classifier.examples.texts), prepare_seconds=prepare_seconds, timings=timings)


def figures(run: Measured) -> dict[str, Any]:
    """Return the headline figures."""
    clinc, rasa = run.clinc, run.rasa
    strict_labels = {"pto_request", "pto_balance", "pto_used", "pto_request_status", "next_holiday"}
    in_scope, in_scope_lines = Scored(rows=[row for row in clinc.rows if row[1] in run.work_labels]).accuracy(CLINC_LABELS)
    strict, strict_lines = Scored(rows=[row for row in clinc.rows if row[1] in strict_labels]).accuracy(CLINC_LABELS)
    recall, _, oos_lines = clinc.share({"oos"}, {Intent.OUT_OF_SCOPE.value})
    false_action, false_actions, _ = clinc.share({"oos"}, set(ACTIONS))
    payroll_labels = {label for label, accepted in CLINC_LABELS.items() if accepted == NOT_A_TRANSACTION}
    rasa_accuracy, rasa_lines = rasa.accuracy(RASA_LABELS)
    rasa_recall, rasa_recalled, rasa_oos_lines = rasa.share({"out_of_scope"}, {Intent.OUT_OF_SCOPE.value})
    no_action_labels = {label for _, label, _ in rasa.rows} - {"password_reset", "problem_email", "open_incident"}
    rasa_false_action, rasa_false_actions, rasa_no_action_lines = rasa.share(no_action_labels, set(ACTIONS))
    other_labels = {label for _, label, _ in run.other.rows}
    other_recall, _, other_lines = run.other.share(other_labels, {Intent.OUT_OF_SCOPE.value})
    other_false_action, other_false_actions, _ = run.other.share(other_labels, set(ACTIONS))
    return {
        "examples": run.examples, "prepare_seconds": round(run.prepare_seconds, 2), "split": run.split,
        "clinc_in_scope_accuracy": round(in_scope, 4), "clinc_in_scope_lines": in_scope_lines,
        "clinc_leave_and_holiday_accuracy": round(strict, 4), "clinc_leave_and_holiday_lines": strict_lines,
        "clinc_oos_recall": round(recall, 4), "clinc_oos_lines": oos_lines,
        "clinc_false_action_rate": round(false_action, 4), "clinc_false_actions": false_actions,
        "clinc_meeting_lines_as_actions": clinc.share({"meeting_schedule", "schedule_meeting"}, set(ACTIONS))[1],
        "clinc_meeting_lines": clinc.share({"meeting_schedule", "schedule_meeting"}, set(ACTIONS))[2],
        "clinc_payroll_lines_as_actions": clinc.share(payroll_labels, set(ACTIONS))[1],
        "clinc_payroll_lines": clinc.share(payroll_labels, set(ACTIONS))[2],
        "rasa_accuracy": round(rasa_accuracy, 4), "rasa_mapped_lines": rasa_lines, "rasa_lines": len(rasa.rows),
        "rasa_oos_recall": round(rasa_recall, 4), "rasa_oos_recalled": rasa_recalled, "rasa_oos_lines": rasa_oos_lines,
        "rasa_false_action_rate": round(rasa_false_action, 4), "rasa_false_actions": rasa_false_actions,
        "rasa_no_action_lines": rasa_no_action_lines,
        "other_domain_lines": other_lines, "other_domain_oos_share": round(other_recall, 4),
        "other_domain_false_action_rate": round(other_false_action, 4), "other_domain_false_actions": other_false_actions,
        "latency_p50_ms": round(run.timings["p50_ms"], 2), "latency_p99_ms": round(run.timings["p99_ms"], 2),
        "latency_calls": run.timings["calls"],
    }


def print_report(run: Measured, numbers: dict[str, Any], show_errors: bool) -> None:
    """Print the figures and the confusion summaries for people."""
    n = numbers
    print(f"intent classifier: {n['examples']} own examples, embedded and trained in {n['prepare_seconds']:.1f} s")
    print(f"\nCLINC150 work domain, {n['split']} split ({n['clinc_in_scope_lines']} lines) + out-of-scope {n['split']} ({n['clinc_oos_lines']} lines)")
    print(f"  in-scope accuracy          {n['clinc_in_scope_accuracy']:.3f}   (target >= 0.95)")
    print(f"    leave + holiday labels   {n['clinc_leave_and_holiday_accuracy']:.3f}   "
          f"({n['clinc_leave_and_holiday_lines']} lines that must hit one exact intent)")
    print(f"  out-of-scope recall        {n['clinc_oos_recall']:.3f}   (target >= 0.90)")
    print(f"  false-action rate          {n['clinc_false_action_rate']:.3f}   "
          f"({n['clinc_false_actions']}/{n['clinc_oos_lines']}; target <= 0.01)")
    print(f"  actions on meeting lines   {n['clinc_meeting_lines_as_actions']}/{n['clinc_meeting_lines']}, "
          f"on payroll/benefit lines {n['clinc_payroll_lines_as_actions']}/{n['clinc_payroll_lines']}")
    print("  per source label (correct/lines, then where the misses went):")
    print("\n".join(run.clinc.confusion(CLINC_LABELS)))
    print(f"\nRasa helpdesk ({n['rasa_lines']} lines, {n['rasa_mapped_lines']} with an intent of ours)")
    print(f"  accuracy                   {n['rasa_accuracy']:.3f}")
    print(f"  out-of-scope recall        {n['rasa_oos_recall']:.3f}   ({n['rasa_oos_recalled']}/{n['rasa_oos_lines']})")
    print(f"  false-action rate          {n['rasa_false_action_rate']:.3f}   "
          f"({n['rasa_false_actions']}/{n['rasa_no_action_lines']} lines that ask for no action)")
    print("\n".join(run.rasa.confusion(RASA_LABELS)))
    if n["other_domain_lines"]:
        print(f"\nCLINC150 other nine domains, {n['split']} split ({n['other_domain_lines']} lines nobody here should act on)")
        print(f"  routed out_of_scope        {n['other_domain_oos_share']:.3f}")
        print(f"  false-action rate          {n['other_domain_false_action_rate']:.4f}   "
              f"({n['other_domain_false_actions']}/{n['other_domain_lines']})")
        routed = Counter(label for _, label, predicted in run.other.rows if predicted != Intent.OUT_OF_SCOPE.value)
        print("  labels most often routed elsewhere: " + ", ".join(f"{label} {count}" for label, count in routed.most_common(8)))
        acted = Counter(f"{label}->{predicted}" for _, label, predicted in run.other.rows if predicted in ACTIONS)
        print("  false actions by label: " + (", ".join(f"{pair} {count}" for pair, count in acted.most_common(8)) or "none"))
    print(f"\nlatency of one classify() call: p50 {n['latency_p50_ms']:.1f} ms, p99 {n['latency_p99_ms']:.1f} ms "
          f"({n['latency_calls']} calls)")
    if show_errors:
        print("\nmisclassified CLINC lines:\n" + "\n".join(run.clinc.errors(CLINC_LABELS)))
        print("\nmisclassified Rasa lines:\n" + "\n".join(run.rasa.errors(RASA_LABELS)))


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clinc", nargs="?", type=Path, default=SHARED_INTENTS / "clinc150_work_train_val.json")
    parser.add_argument("rasa", nargs="?", type=Path, default=SHARED_INTENTS / "rasa_helpdesk_half.json")
    parser.add_argument("--split", choices=["val", "train", "test"], default="val",
                        help="CLINC split to score (tune on train; test only in CLINC's own data_full.json)")
    parser.add_argument("--show-errors", action="store_true", help="print every misclassified line")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    arguments = parser.parse_args()
    for path in (arguments.clinc, arguments.rasa):
        if not path.is_file():
            print(f"{path} not found (the shared data sits at ../shared/data next to the project)", file=sys.stderr)
            return 2
    try:
        run = measure(arguments.clinc, arguments.rasa, arguments.split)
    except KeyError as missing:
        print(f"{arguments.clinc} has no {missing} split", file=sys.stderr)
        return 2
    numbers = figures(run)
    if arguments.json:
        print(json.dumps(numbers))
    else:
        print_report(run, numbers, arguments.show_errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
