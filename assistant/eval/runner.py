"""Running the scenario suite against an engine: a fresh copy of the sample company per scenario, a fixed clock.

One template home (schema, Harbor & Pine, its policies) is built per run in a temporary folder; every scenario
gets its own copy and Container, runs its setup through the pipeline, then talks to the engine turn by turn.
A scenario fails with a precise reason (the turn and what was expected) and never stops the run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from assistant.container import Container, build_container, initialize_database
from assistant.demo import load_sample_policies, seed_sample_company
from assistant.errors import AssistantError, AssistantErrorCode, error_text
from assistant.eval.expectations import Snapshot, check_expectations, take_snapshot
from assistant.eval.suite import Scenario, SetupResults, substitute
from assistant.settings import Settings
from tools.people.models import Employee

if TYPE_CHECKING:
    from assistant.eval.scripted_server import ScriptedOpenAI

# Friday 27 November 2026, noon UTC: the scenarios' dates ("Dec 14", "yesterday") are written against it.
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
ENGINES = ("offline", "llm")
SCRIPTED = "scripted"
FAULT_MARK = "(error id "  # in the text of an unexpected fault (assistant.errors.error_text)


@dataclass(frozen=True)
class Endpoint:
    """The OpenAI-compatible endpoint the LLM engine talks to."""

    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class TurnLog:
    """What the employee said and what the assistant answered."""

    user: str
    reply: str


@dataclass(frozen=True)
class ScenarioResult:
    """The verdict on one scenario."""

    id: str
    category: str
    passed: bool
    reason: str
    turns: tuple[TurnLog, ...]
    seconds: float


@dataclass(frozen=True)
class SuiteResult:
    """The verdicts of a run, with the pass rate per engine and per category."""

    engine: str
    results: tuple[ScenarioResult, ...]
    seconds: float

    @property
    def passed(self) -> int:
        """Return how many scenarios passed."""
        return sum(1 for result in self.results if result.passed)

    @property
    def total(self) -> int:
        """Return how many scenarios ran."""
        return len(self.results)

    @property
    def pass_rate(self) -> float:
        """Return the share of scenarios that passed (0 for an empty run)."""
        return self.passed / self.total if self.total else 0.0

    def by_category(self) -> dict[str, dict[str, int]]:
        """Return passed and total counts per category."""
        counts: dict[str, dict[str, int]] = {}
        for result in self.results:
            entry = counts.setdefault(result.category, {"passed": 0, "total": 0})
            entry["total"] += 1
            entry["passed"] += int(result.passed)
        return counts

    def as_json(self) -> dict[str, Any]:
        """Return the run as JSON-able data."""
        return {"engine": self.engine, "passed": self.passed, "total": self.total, "pass_rate": round(self.pass_rate, 4),
                "seconds": round(self.seconds, 3), "by_category": self.by_category(),
                "scenarios": [asdict(result) | {"seconds": round(result.seconds, 3)} for result in self.results]}


# --- the environment of a run ------------------------------------------------------------------------


def eval_settings(home: Path, endpoint: Endpoint | None = None) -> Settings:
    """Return settings for one scenario: its own SQLite home and the defaults, whatever the environment says."""
    endpoint = endpoint or Endpoint()
    values: dict[str, Any] = {
        "BACKOFFICE_HOME": home, "DATABASE_URL": None, "BACKOFFICE_POLICY_FILE": None, "BACKOFFICE_TIMEZONE": "UTC",
        "CHROMA_HOST": None, "BACKOFFICE_EMBEDDINGS": "local", "BACKOFFICE_ENGINE": "auto",
        "OPENAI_BASE_URL": endpoint.base_url, "OPENAI_API_KEY": endpoint.api_key, "BACKOFFICE_LLM_MODEL": endpoint.model,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def build_template_home(home: Path) -> Path:
    """Create a home with the schema, the sample company and its indexed policies; return it."""
    container = build_container(eval_settings(home))
    try:
        initialize_database(container)
        seed_sample_company(container)
        if load_sample_policies(container):
            raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, "The sample policies could not be indexed.")
    finally:
        container.close()
    return home


@contextmanager
def _scripted_endpoint(scripted: bool) -> Iterator[tuple[ScriptedOpenAI | None, Endpoint | None]]:
    if not scripted:
        yield None, None
        return
    from assistant.eval.scripted_server import ScriptedOpenAI

    with ScriptedOpenAI() as server:
        yield server, Endpoint(base_url=server.base_url, api_key=SCRIPTED, model=SCRIPTED)


def _check_engine(engine: str, scripted: bool, endpoint: Endpoint | None) -> None:
    if engine not in ENGINES:
        raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, f"Unknown engine '{engine}': use {' or '.join(ENGINES)}.")
    if scripted and engine != "llm":
        raise AssistantError(AssistantErrorCode.NOT_CONFIGURED, "The scripted model only serves the llm engine.")
    if engine == "llm" and not scripted and not (endpoint and (endpoint.api_key or endpoint.base_url)):
        raise AssistantError(AssistantErrorCode.NOT_CONFIGURED,
                             "The llm engine needs OPENAI_API_KEY (and OPENAI_BASE_URL for other endpoints), or the scripted model.")


def run_scenarios(scenarios: Sequence[Scenario], *, engine: str = "offline", scripted: bool = False,
                  endpoint: Endpoint | None = None, on_result: Callable[[ScenarioResult], None] | None = None,
                  template: Path | None = None, fallback_ok: bool = False) -> SuiteResult:
    """Run every scenario against the engine and return the verdicts; `on_result` hears each as it comes.

    `template` reuses a home made by `build_template_home` (indexing the policies takes a few seconds);
    by default the run builds its own. `fallback_ok` accepts turns the offline engine answered because the
    endpoint failed (the degraded-mode check); otherwise such a turn fails the scenario.
    """
    _check_engine(engine, scripted, endpoint)
    started = time.perf_counter()
    results: list[ScenarioResult] = []
    with tempfile.TemporaryDirectory(prefix="backoffice-eval-") as folder, _scripted_endpoint(scripted) as (server, scripted_at):
        source = template or build_template_home(Path(folder) / "template")
        for scenario in scenarios:
            result = run_scenario(scenario, template=source, home=Path(folder) / scenario.id, engine=engine,
                                  endpoint=scripted_at or endpoint, server=server, fallback_ok=fallback_ok)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return SuiteResult(engine=engine, results=tuple(results), seconds=time.perf_counter() - started)


# --- one scenario --------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One scenario being played: its container, the people's ids, the setup results and the turns so far."""

    scenario: Scenario
    container: Container
    people: dict[str, int]
    turns: list[TurnLog]
    setup: list[Mapping[str, Any]] = field(default_factory=list)


def run_scenario(scenario: Scenario, *, template: Path, home: Path, engine: str, endpoint: Endpoint | None = None,
                 server: ScriptedOpenAI | None = None, fallback_ok: bool = False) -> ScenarioResult:
    """Play one scenario on a fresh copy of the template home and judge it."""
    started = time.perf_counter()
    turns: list[TurnLog] = []
    try:
        shutil.copytree(template, home)
        container = build_container(eval_settings(home, endpoint))
        try:
            reason = _play(_Run(scenario, container, _people(container), turns), engine, server, fallback_ok)
        finally:
            container.close()
    except Exception as error:  # noqa: BLE001 - one scenario's crash is its failure, never the run's
        reason = f"crashed: {type(error).__name__}: {error}"
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return ScenarioResult(id=scenario.id, category=scenario.category, passed=reason is None, reason=reason or "",
                          turns=tuple(turns), seconds=time.perf_counter() - started)


def _people(container: Container) -> dict[str, int]:
    with container.session_factory() as session:
        return dict(session.execute(select(Employee.email, Employee.id)).all())


def _play(run: _Run, engine_kind: str, server: ScriptedOpenAI | None, fallback_ok: bool = False) -> str | None:
    from assistant.engines import select_engine

    problem = _run_setup(run)
    if problem:
        return problem
    before: Snapshot = take_snapshot(run.container)
    if server is not None:
        register_scripts(server, run.scenario, run.setup)
    engine = select_engine(run.container, engine_kind)
    actor_id = run.people[run.scenario.actor]
    for index, turn in enumerate(run.scenario.turns):
        text = substitute(turn.user, run.setup)
        reply = engine.handle(key=f"eval:{run.scenario.id}", actor_id=actor_id, text=text, now=NOW)
        run.turns.append(TurnLog(text, reply.text))
        if reply.meta.get("degraded") and not fallback_ok:
            hint = " (the scenario's scripted model has no response for this call)" if server is not None else ""
            return f"turn {index} ({text!r}): the model endpoint failed and the offline engine answered instead{hint}"
        problem = check_reply(index, text, turn.reply_contains, reply.text)
        if problem:
            return problem
    return check_expectations(run.container, substitute(run.scenario.expect.as_json(), run.setup), before)


def _run_setup(run: _Run) -> str | None:
    for index, call in enumerate(run.scenario.setup):
        try:
            args = substitute(call.args, run.setup)
            if str(args.get("receipt_path", "")).startswith("uploads/"):  # the person uploaded it earlier
                receipt = run.container.settings.backoffice_home / str(args["receipt_path"])
                receipt.parent.mkdir(parents=True, exist_ok=True)
                receipt.write_bytes(b"%PDF-1.4 scenario receipt")
            result = run.container.pipeline.run(call.tool, args, actor_id=run.people[call.actor], now=NOW)
        except Exception as error:  # noqa: BLE001 - a setup that cannot run is the scenario's failure
            return f"setup[{index}] {call.tool} as {call.actor} failed: {error_text(error)}"
        run.setup.append(result.data)
    return None


def check_reply(index: int, said: str, wanted: Sequence[str | Sequence[str]], reply: str) -> str | None:
    """Return why the reply to turn `index` (the person said `said`) is not acceptable, or None.

    Each wanted item is a text the reply must contain, or a list of texts of which it must contain one.
    """
    if not reply.strip():
        return f"turn {index} ({said!r}): the reply is empty"
    if FAULT_MARK in reply:
        return f"turn {index} ({said!r}): the engine failed: {reply!r}"
    lowered = reply.lower()
    missing = [item for item in wanted if not any(text.lower() in lowered for text in _options(item))]
    if missing:
        lacks = ", ".join(" or ".join(map(repr, _options(item))) for item in missing)
        return f"turn {index} ({said!r}): the reply lacks {lacks}; it was {reply!r}"
    return None


def _options(item: str | Sequence[str]) -> Sequence[str]:
    return [item] if isinstance(item, str) else item


def register_scripts(server: ScriptedOpenAI, scenario: Scenario, setup: SetupResults) -> None:
    """Give the scripted model each turn's responses, keyed by the user messages up to that turn."""
    from assistant.eval.scripted_server import response_from_json

    said: list[str] = []
    for turn in scenario.turns:
        said.append(substitute(turn.user, setup))
        if turn.model:
            server.add_script(list(said), [response_from_json(substitute(step.as_json(), setup)) for step in turn.model])
