"""`backoffice eval scenarios`: the scenario suite against the offline or the LLM engine, with a pass rate."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.cli_common import JsonFlag, emit, out, refusals

if TYPE_CHECKING:
    from assistant.eval.runner import ScenarioResult, SuiteResult

eval_app = typer.Typer(help="Scenario suites that judge the assistant by the database state it leaves.", no_args_is_help=True)


class EngineChoice(StrEnum):
    """The engines a suite can run against."""

    OFFLINE = "offline"
    LLM = "llm"


EngineOption = Annotated[EngineChoice, typer.Option("--engine", help="offline, or llm (OPENAI_API_KEY / OPENAI_BASE_URL / "
                                                                     "BACKOFFICE_LLM_MODEL, or --scripted).")]
ScriptedFlag = Annotated[bool, typer.Option("--scripted", help="With --engine llm: answer from the scenarios' scripted "
                                                               "model on a local server instead of a real endpoint.")]
OnlyOption = Annotated[list[str] | None, typer.Option("--only", help="Run only this scenario id (repeatable).")]


def print_result(result: ScenarioResult) -> None:
    """Print one scenario's verdict on one line: PASS/FAIL, id, category, time and the reason of a failure."""
    verdict = "PASS" if result.passed else "FAIL"
    reason = f": {result.reason}" if result.reason else ""
    out.print(f"{verdict} {result.id} [{result.category}] {result.seconds:.2f}s{reason}", markup=False, highlight=False)


def pass_rate_line(report: SuiteResult) -> str:
    """Return the final line of a run: `pass rate: N/M (xx.x%) engine=...`."""
    return f"pass rate: {report.passed}/{report.total} ({100 * report.pass_rate:.1f}%) engine={report.engine}"


@eval_app.command("scenarios")
def scenarios(engine: EngineOption = EngineChoice.OFFLINE, scripted: ScriptedFlag = False, only: OnlyOption = None,
              as_json: JsonFlag = False) -> None:
    """Run the scenario suite (a fresh sample company per scenario) and print one line per scenario and the pass rate."""
    if scripted and engine is not EngineChoice.LLM:
        raise typer.BadParameter("--scripted goes with --engine llm", param_hint="--scripted")
    _run_suite(engine, scripted, only or [], as_json)


@refusals
def _run_suite(engine: EngineChoice, scripted: bool, only: list[str], as_json: bool) -> None:
    from assistant.eval.runner import Endpoint, run_scenarios
    from assistant.eval.suite import load_scenarios, select_scenarios
    from assistant.settings import load_settings

    suite = select_scenarios(load_scenarios(), only)
    settings = load_settings()  # only the LLM endpoint is taken from it; the suite brings its own database
    endpoint = Endpoint(base_url=settings.openai_base_url, api_key=settings.openai_api_key, model=settings.llm_model)
    report = run_scenarios(suite, engine=engine.value, scripted=scripted, endpoint=endpoint,
                           on_result=None if as_json else print_result)
    if as_json:
        emit(report.as_json(), True)
    else:
        categories = ", ".join(f"{name} {counts['passed']}/{counts['total']}" for name, counts in report.by_category().items())
        out.print(f"by category: {categories}", markup=False, highlight=False)
        out.print(pass_rate_line(report), markup=False, highlight=False)
    if report.passed < report.total:
        raise typer.Exit(1)
