"""Per-turn latency of the offline conversation engine (model load excluded), on SQLite.

    .venv/bin/python bench/dialogue.py [--rounds 20]

Each round is a realistic mix: a balance question, a leave request with its read-back and a yes, an
expense claim over two turns with a cancel, a ticket status question, and an out-of-scope line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from assistant.container import build_container, initialize_database
from assistant.demo import EMPLOYEE, seed_sample_company
from assistant.operations import actor_id_for
from assistant.settings import Settings


def script(start: date) -> list[str]:
    """Return one round of messages; leave dates move each round so requests never overlap."""
    end = start + timedelta(days=1)
    return [
        "how many vacation days do I have left?",
        f"I need {start:%b} {start.day} to {end:%b} {end.day} off",
        "no",
        "I want to file an expense",
        "$18.40",
        "cancel",
        "what's the status of my tickets?",
        "what's the weather in Rome tomorrow?",
        "hi",
    ]


def main() -> None:
    """Run the rounds and print p50/p95/p99 per turn."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        container = build_container(Settings(_env_file=None, BACKOFFICE_HOME=Path(home)))  # type: ignore[call-arg]
        initialize_database(container)
        seed_sample_company(container)
        actor = actor_id_for(container, EMPLOYEE)
        engine = container.offline_engine
        for text in ("hello", "what is the weather in Paris?", "I need next Friday off"):  # model, examples, index, dates
            engine.handle(key="warm", actor_id=actor, text=text)
        engine.handle(key="warm", actor_id=actor, text="cancel")
        timings: list[float] = []
        first = date.today() + timedelta(days=30)
        for round_number in range(args.rounds):
            for text in script(first + timedelta(days=7 * round_number)):
                started = time.perf_counter()
                engine.handle(key=f"bench:{round_number}", actor_id=actor, text=text)
                timings.append((time.perf_counter() - started) * 1000)
        container.close()
    ordered = sorted(timings)
    print(f"turns {len(timings)}; per turn: p50 {statistics.median(ordered):.1f} ms, "
          f"p95 {ordered[int(0.95 * len(ordered))]:.1f} ms, p99 {ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]:.1f} ms, "
          f"max {ordered[-1]:.1f} ms")


if __name__ == "__main__":
    main()
