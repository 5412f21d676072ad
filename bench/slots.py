"""Slot extraction accuracy and speed on hand-written dated utterances.

    .venv/bin/python bench/slots.py [--data bench/data/slot_utterances.json] [--split all|dev|holdout] [--show-errors] [--json]

Per slot: exact-match accuracy over the utterances where the slot is expected or extracted (a missing, an
extra and a wrong value each count as one miss). Per utterance: the share whose whole slot dictionary matches.
"*" in the data means any non-empty value (invalid_date holds a reason in prose); free-text slots (summary,
description, topic) compare case-insensitively with whitespace collapsed. Latency: extract_slots per call,
after one warm-up pass (the first call imports dateparser/price-parser lazily; that cold call is shown apart),
as wall-clock time and as the thread's CPU time (on a shared machine the wall-clock tail is mostly preemption).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from assistant.nlu.slots import extract_slots

HERE = Path(__file__).parent
FREE_TEXT = {"summary", "description", "topic"}
TARGET = 0.95


def same(slot: str, expected: str | None, got: str | None) -> bool:
    """Return True when an extracted value matches the expected one under the rules above."""
    if expected is None or got is None:
        return expected is None and got is None
    if expected == "*":
        return bool(got)
    if slot in FREE_TEXT:
        return " ".join(expected.lower().split()) == " ".join(got.lower().split())
    return expected == got


def run(item: dict) -> dict[str, str]:
    """Extract the slots of one benchmark item."""
    return extract_slots(item["text"], intent=item["intent"], today=date.fromisoformat(item["today"]),
                         default_currency=item.get("default_currency", "USD"))


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "slot_utterances.json")
    parser.add_argument("--show-errors", action="store_true", help="print every utterance that does not match")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the data")
    parser.add_argument("--split", choices=["all", "dev", "holdout"], default="all", help="score one split only")
    args = parser.parse_args()
    items = [item for item in json.loads(args.data.read_text(encoding="utf-8"))["items"]
             if args.split == "all" or item.get("split", "dev") == args.split]

    started = time.perf_counter()
    run(items[0])
    cold_ms = (time.perf_counter() - started) * 1000
    for item in items:  # warm-up: lazy imports and compiled patterns
        run(item)

    hits: dict[str, int] = defaultdict(int)
    seen: dict[str, int] = defaultdict(int)
    exact, errors, latencies, cpu_times = 0, [], [], []
    for _ in range(args.repeat):
        for item in items:
            started, started_cpu = time.perf_counter(), time.thread_time()
            run(item)
            latencies.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.thread_time() - started_cpu) * 1000)
    for item in items:
        got, expected = run(item), item["expected"]
        wrong = [slot for slot in sorted(set(got) | set(expected)) if not same(slot, expected.get(slot), got.get(slot))]
        for slot in set(got) | set(expected):
            seen[slot] += 1
            hits[slot] += slot not in wrong
        exact += not wrong
        if wrong:
            errors.append({"id": item["id"], "text": item["text"], "today": item["today"], "intent": item["intent"],
                           "wrong": {slot: {"expected": expected.get(slot), "got": got.get(slot)} for slot in wrong}})

    per_slot = {slot: round(hits[slot] / seen[slot], 4) for slot in sorted(seen)}
    figures = {
        "split": args.split, "utterances": len(items), "exact_match": round(exact / len(items), 4), "per_slot": per_slot,
        "support": {slot: seen[slot] for slot in sorted(seen)},
        "latency_ms": {"p50": round(statistics.median(latencies), 3), "p99": round(percentile(latencies, 0.99), 3),
                       "max": round(max(latencies), 3), "cold_first_call": round(cold_ms, 1),
                       "cpu_p50": round(statistics.median(cpu_times), 3), "cpu_p99": round(percentile(cpu_times, 0.99), 3)},
        "below_target": sorted(slot for slot, share in per_slot.items() if share < TARGET),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{len(items)} utterances ({args.split}), per-utterance exact match {figures['exact_match']:.3f}")
        for slot, share in per_slot.items():
            flag = "" if share >= TARGET else f"  < {TARGET}"
            print(f"  {slot:<14} {share:.3f}  (n={seen[slot]}){flag}")
        latency = figures["latency_ms"]
        print(f"latency per call: p50 {latency['p50']:.3f} ms, p99 {latency['p99']:.3f} ms, max {latency['max']:.3f} ms"
              f" (first, cold call {latency['cold_first_call']:.1f} ms)")
        print(f"CPU time per call: p50 {latency['cpu_p50']:.3f} ms, p99 {latency['cpu_p99']:.3f} ms")
    if args.show_errors:
        for error in errors:
            print(json.dumps(error, ensure_ascii=False))
    return 0 if not figures["below_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
