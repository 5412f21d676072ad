"""Token use and the LLM engine's own overhead per turn, against the scripted OpenAI-compatible server.

    .venv/bin/python bench/agent.py [--rounds 20]

Each round is one conversation of four turn kinds: a read (tool call, then an answer), a write (tool call,
read-back), the yes (runs the stored call without the model) and a policy question (search_policies, then
an answer). Tokens come from the usage the endpoint reports (the scripted server estimates 4 characters per
token over the whole request, system prompt and tool schemas included, as a real endpoint would count them).
Overhead is the turn's wall time minus the time spent waiting for the model (HTTP included): it is what the
agent, the tools, the database and the memory cost per turn. The sample company and policies run on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from assistant.agent.engine import AgentLimits, LlmEngine, build_chat_model
from assistant.container import build_container, initialize_database
from assistant.demo import EMPLOYEE, load_sample_policies, seed_sample_company
from assistant.eval.scripted_server import ScriptedOpenAI, Text, ToolCalls
from assistant.operations import actor_id_for
from assistant.settings import Settings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
EXPECTED_CALLS = {"read": 2, "write": 1, "yes": 0, "policy": 2}


def round_script(server: ScriptedOpenAI, start: date) -> list[tuple[str, str]]:
    """Queue one round's model replies and return its (kind, text) turns."""
    end = start + timedelta(days=1)
    server.queue(ToolCalls((("get_leave_balance", {}),)), Text("You have 25 days of annual leave available."),
                 ToolCalls((("request_leave", {"start_date": start.isoformat(), "end_date": end.isoformat(), "leave_type": "unpaid"}),)),
                 ToolCalls((("search_policies", {"query": "hotel budget per night"}),)),
                 Text("Hotels are capped per night as the travel policy says (Travel and expenses > Hotels)."))
    return [("read", "how many vacation days do I have?"), ("write", f"book {start:%b} {start.day}-{end.day} off"),
            ("yes", "yes"), ("policy", "what's the hotel budget per night?")]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Run the rounds and print tokens and overhead per turn kind."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, ScriptedOpenAI() as server:
        settings = Settings(_env_file=None, BACKOFFICE_HOME=Path(home), OPENAI_BASE_URL=server.base_url,  # type: ignore[call-arg]
                            OPENAI_API_KEY="bench", BACKOFFICE_LLM_MODEL="scripted")
        container = build_container(settings)
        initialize_database(container)
        seed_sample_company(container)
        load_sample_policies(container)
        actor = actor_id_for(container, EMPLOYEE)
        limits = AgentLimits(max_retries=0)
        engine = LlmEngine(pipeline=container.pipeline, session_factory=container.session_factory,
                           model=build_chat_model(settings, limits), offline=container.offline_engine, limits=limits)
        figures: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        first = date(2027, 1, 4)
        for number in range(args.rounds + 1):  # round 0 warms up imports, the embedding model and the index
            for kind, text in round_script(server, first + timedelta(days=7 * number)):
                reply = engine.handle(key=f"bench:{number}", actor_id=actor, text=text, now=NOW)
                meta = reply.meta
                if meta.get("model_calls", 0) != EXPECTED_CALLS[kind] or meta.get("degraded"):
                    raise SystemExit(f"round {number} {kind}: the script went out of step: {reply.text!r} {meta}")
                if number == 0:
                    continue
                model = float(meta.get("model_seconds", 0.0))
                total = float(meta["seconds"])
                row = figures[kind]
                row["prompt_tokens"].append(meta.get("prompt_tokens", 0))
                row["completion_tokens"].append(meta.get("completion_tokens", 0))
                row["model_calls"].append(meta.get("model_calls", 0))
                row["model_ms"].append(model * 1000)
                row["overhead_ms"].append((total - model) * 1000)
        container.close()
    print(f"LLM engine per turn over {args.rounds} rounds (scripted endpoint on 127.0.0.1, SQLite, sample policies)")
    print(f"{'turn':8} {'model calls':>11} {'prompt tok':>10} {'completion tok':>14} {'model ms p50':>12} "
          f"{'overhead ms p50':>15} {'overhead ms p95':>15}")
    for kind, row in figures.items():
        overhead = row["overhead_ms"]
        print(f"{kind:8} {statistics.mean(row['model_calls']):11.1f} {statistics.mean(row['prompt_tokens']):10.0f} "
              f"{statistics.mean(row['completion_tokens']):14.0f} {statistics.median(row['model_ms']):12.1f} "
              f"{statistics.median(overhead):15.1f} {percentile(overhead, 0.95):15.1f}")


if __name__ == "__main__":
    main()
