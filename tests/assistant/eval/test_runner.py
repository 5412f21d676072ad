"""The scenario suite: the bundled file is sound, the offline engine passes all of it (and the LLM engine with the
scripted model), a wrong expectation fails with a readable reason, a bad file is refused naming the scenario,
and `backoffice eval scenarios` prints the pass rate.

Each run builds its own temporary SQLite home with the sample company, whatever BACKOFFICE_TEST_DB says.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.cli_eval import pass_rate_line, print_result
from assistant.errors import AssistantError
from assistant.eval.runner import (Endpoint, ScenarioResult, SuiteResult, build_template_home, check_reply, run_scenario,
                                   run_scenarios)
from assistant.eval.suite import CATEGORIES, SCENARIO_FILE, load_scenarios, parse_scenarios, substitute

PRIYA = "priya.nair@harborpine.example"


def failures(report: SuiteResult) -> str:
    """Return the failed scenarios with their reasons and turns, for an assertion message."""
    lines = []
    for result in report.results:
        if not result.passed:
            lines.append(f"{result.id}: {result.reason}")
            lines.extend(f"    > {turn.user}\n    < {turn.reply}" for turn in result.turns)
    return "\n".join(lines)


def raw_suite() -> dict[str, Any]:
    """Return the bundled scenario file as plain data."""
    return json.loads(SCENARIO_FILE.read_text(encoding="utf-8"))


def raw_scenario(scenario_id: str) -> dict[str, Any]:
    """Return a deep copy of one bundled scenario, to change in a test."""
    return copy.deepcopy(next(item for item in raw_suite()["scenarios"] if item["id"] == scenario_id))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One home with the schema, the sample company and its policies, shared by the runs of this module."""
    yield build_template_home(tmp_path_factory.mktemp("eval") / "template")


def play(raw: dict[str, Any], template: Path, tmp_path: Path) -> ScenarioResult:
    """Validate and run one in-memory scenario with the offline engine."""
    [scenario] = parse_scenarios({"scenarios": [raw]})
    return run_scenario(scenario, template=template, home=tmp_path / scenario.id, engine="offline")


# --- the bundled suite ---------------------------------------------------------------------------------


def test_the_suite_is_large_varied_and_well_formed() -> None:
    scenarios = load_scenarios()  # validates every scenario, its people, tools and placeholders
    assert len(scenarios) >= 30
    assert len({s.id for s in scenarios}) == len(scenarios)
    assert len({s.first_message for s in scenarios}) == len(scenarios), "the scripted model finds scripts by the first message"
    assert set(CATEGORIES) == {s.category for s in scenarios}
    assert all(sum(1 for s in scenarios if s.category == category) >= 3 for category in CATEGORIES)
    assert sum(1 for s in scenarios if len(s.turns) > 1) >= 20, "most scenarios should be conversations, not one-liners"


def test_the_offline_engine_passes_every_scenario(template: Path) -> None:
    report = run_scenarios(load_scenarios(), engine="offline", template=template)
    assert report.passed == report.total, failures(report)
    assert report.pass_rate == 1.0 and report.engine == "offline"
    assert sum(counts["total"] for counts in report.by_category().values()) == report.total
    assert all(result.turns and result.seconds > 0 for result in report.results)


def test_llm_engine_with_the_scripted_model_passes_every_scenario(template: Path) -> None:
    report = run_scenarios(load_scenarios(), engine="llm", scripted=True, template=template)
    assert report.passed == report.total, failures(report)
    assert report.engine == "llm"


def test_with_the_endpoint_down_every_scenario_completes_through_the_offline_engine(template: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on: every model call fails at once
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    monkeypatch.setenv("BACKOFFICE_LLM_MAX_RETRIES", "0")
    report = run_scenarios(load_scenarios(), engine="llm", endpoint=Endpoint(base_url=down, api_key="k", model="m"),
                           template=template, fallback_ok=True)
    assert report.passed == report.total, failures(report)
    strict = run_scenarios(load_scenarios()[:1], engine="llm", endpoint=Endpoint(base_url=down, api_key="k", model="m"),
                           template=template)
    assert "offline engine answered instead" in strict.results[0].reason  # a real run never scores fallbacks as passes


# --- verdicts and reasons ------------------------------------------------------------------------------


def test_a_wrong_expectation_fails_with_the_field_the_value_and_the_expected_value(template: Path, tmp_path: Path) -> None:
    raw = raw_scenario("leave-one-message")
    raw["expect"]["leave_requests"][0]["working_days"] = 4
    raw["expect"]["approvals"][0]["approver"] = "maya.okafor@harborpine.example"
    result = play(raw, template, tmp_path)
    assert not result.passed
    assert "leave_requests new row 1 (#1): working_days is 5.0, expected 4" in result.reason
    assert "approver is 'daniel.reyes@harborpine.example', expected 'maya.okafor@harborpine.example'" in result.reason
    assert [turn.user for turn in result.turns] == ["I'd like annual leave from Dec 14 to Dec 18", "yes"]


def test_a_write_nobody_expected_fails_the_scenario(template: Path, tmp_path: Path) -> None:
    raw = raw_scenario("refusal-user-says-no")
    raw["turns"][1] = {"user": "yes"}  # the person confirms instead of saying no: a request is written
    result = play(raw, template, tmp_path)
    assert not result.passed
    assert "leave_requests: expected 0 new row(s), found 1 (#1 'priya.nair@harborpine.example' 'annual'" in result.reason
    assert "expected nothing written, but the audit trail grew by request_leave" in result.reason


def test_a_missing_reply_text_names_the_turn(template: Path, tmp_path: Path) -> None:
    raw = raw_scenario("reads-help")
    raw["turns"][0]["reply_contains"] = ["bananas"]
    result = play(raw, template, tmp_path)
    assert not result.passed and result.reason.startswith("turn 0 ('hi, what can you do?'): the reply lacks 'bananas'; it was 'I can help")


def test_a_reply_may_match_one_of_several_wordings_and_a_fault_always_fails() -> None:
    assert check_reply(0, "what happened?", [["declined", "rejected"]], "It was rejected.") is None
    assert check_reply(2, "and now?", ["pending", ["declined", "denied"]], "It is pending.") == \
        "turn 2 ('and now?'): the reply lacks 'declined' or 'denied'; it was 'It is pending.'"
    fault = "Something went wrong on our side (error id 1a2b3c4d). Nothing was changed; please try again or tell IT."
    assert "the engine failed" in (check_reply(0, "hi", [], fault) or "")
    assert check_reply(0, "hi", [], "  ") == "turn 0 ('hi'): the reply is empty"


def test_a_changed_record_and_a_balance_are_checked_by_id(template: Path, tmp_path: Path) -> None:
    raw = raw_scenario("leave-cancel-own-request")
    raw["turns"] = raw["turns"][:1]  # read back, never confirmed: the request stays pending
    result = play(raw, template, tmp_path)
    assert "leave_requests #1: status is 'pending', expected 'cancelled'" in result.reason
    assert "priya.nair@harborpine.example annual 2027 balance: reserved is 2.0, expected 0" in result.reason


def test_a_setup_that_is_refused_fails_the_scenario_without_stopping_the_run(template: Path, tmp_path: Path) -> None:
    raw = raw_scenario("reads-leave-status")
    raw["setup"][0]["args"]["start_date"] = "2026-11-02"  # in the past
    result = play(raw, template, tmp_path)
    assert not result.passed and result.turns == ()
    assert result.reason.startswith("setup[0] request_leave as priya.nair@harborpine.example failed: The start date 2026-11-02 is in the past")


def test_placeholders_keep_numbers_whole_and_fill_text() -> None:
    results = [{"request_id": 7, "approval_id": 3}]
    assert substitute({"request_id": "{setup[0].request_id}"}, results) == {"request_id": 7}
    assert substitute("cancel request #{setup[0].request_id}", results) == "cancel request #7"
    assert substitute([{"id": "{setup[0].approval_id}"}, 5], results) == [{"id": 3}, 5]
    with pytest.raises(KeyError, match="setup\\[0\\] has no 'claim_id'"):
        substitute("{setup[0].claim_id}", results)


# --- bad files -------------------------------------------------------------------------------------------


def _minimal(**changes: Any) -> dict[str, Any]:
    scenario = {"id": "tiny", "category": "reads", "as": PRIYA, "turns": [{"user": "hi, what can you do?"}], "expect": {}}
    return {**scenario, **changes}


@pytest.mark.parametrize(("scenario", "message"), [
    (_minimal(category="gossip"), "scenario 'tiny' (#1): category: Input should be 'leave'"),
    (_minimal(**{"as": "nobody@harborpine.example"}), "scenario 'tiny' (#1): 'as': 'nobody@harborpine.example' is not in the sample company"),
    (_minimal(turns=[]), "scenario 'tiny' (#1): turns: List should have at least 1 item"),
    (_minimal(turns=[{"user": "hi", "model": [{"tool_calls": [{"name": "fly_to_the_moon", "args": {}}]}]}]),
     "turns[0].model: there is no tool called 'fly_to_the_moon'"),
    (_minimal(turns=[{"user": "hi", "model": [{"tool_calls": [{"name": "request_leave", "args": {"start_date": "soon"}}]}]}]),
     "turns[0].model: request_leave: Invalid input: start_date: 'soon' is not a date (write it as YYYY-MM-DD)"),
    (_minimal(turns=[{"user": "hi", "model": [{"tool_calls": [{"name": "list_my_leave", "args": {}}]}]}]),
     "it ends with the read tool call(s) list_my_leave"),
    (_minimal(turns=[{"user": "hi", "model": [{"content": "a", "tool_calls": []}]}]), "either 'content' or 'tool_calls'"),
    (_minimal(turns=[{"user": "cancel #{setup[0].request_id}"}]), "turns[0].user refers to a setup result that does not exist"),
    (_minimal(expect={"tickets": [{"colour": "red"}]}), "tickets rows have no field 'colour'"),
    (_minimal(expect={"nothing_written": True, "tickets": [{"queue": "it"}]}), "'nothing_written' cannot go with expected new rows"),
    (_minimal(setup=[{"tool": "decide_approval", "as": PRIYA, "args": {"approval_id": "{setup[0].approval_id}", "decision": "approve"}}]),
     "setup[0]: the args of decide_approval refer to a setup result that does not exist yet"),
])
def test_a_bad_scenario_is_refused_naming_it(scenario: dict[str, Any], message: str) -> None:
    with pytest.raises(AssistantError) as caught:
        parse_scenarios({"scenarios": [scenario]}, "suite.json")
    assert caught.value.message.startswith("suite.json: scenario") and message in caught.value.message


def test_duplicate_ids_and_first_messages_are_refused() -> None:
    with pytest.raises(AssistantError, match="scenario 'tiny': the id is used twice"):
        parse_scenarios({"scenarios": [_minimal(), _minimal()]})
    with pytest.raises(AssistantError, match="its first message 'hi, what can you do\\?' is also the first message of 'tiny'"):
        parse_scenarios({"scenarios": [_minimal(), _minimal(id="other")]})


def test_a_broken_file_is_refused_with_its_path_and_position(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"scenarios": [\n  {"id": "x",}\n]}', encoding="utf-8")
    with pytest.raises(AssistantError, match=r"broken\.json is not valid JSON: .* at line 2"):
        load_scenarios(broken)
    with pytest.raises(AssistantError, match="cannot be read"):
        load_scenarios(tmp_path / "missing.json")
    with pytest.raises(AssistantError, match='top level: expected an object with a non-empty "scenarios" list'):
        parse_scenarios([_minimal()])


# --- the command -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Return an environment whose own database the eval must ignore."""
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the settings
    return {"BACKOFFICE_HOME": str(tmp_path / "home"), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


def test_the_command_runs_the_chosen_scenarios_and_prints_the_pass_rate(cli_env: dict[str, str | None]) -> None:
    result = CliRunner().invoke(app, ["eval", "scenarios", "--engine", "offline", "--only", "reads-help", "--only",
                                      "refusal-user-says-no", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["engine"], report["passed"], report["total"], report["pass_rate"]) == ("offline", 2, 2, 1.0)
    assert [item["id"] for item in report["scenarios"]] == ["refusal-user-says-no", "reads-help"]
    assert report["by_category"] == {"refusals": {"passed": 1, "total": 1}, "reads": {"passed": 1, "total": 1}}


def test_the_text_output_is_one_line_per_scenario_then_the_pass_rate(capsys: pytest.CaptureFixture[str]) -> None:
    passed = ScenarioResult("reads-help", "reads", True, "", (), 0.25)
    failed = ScenarioResult("leave-half-day", "leave", False, "turn 0 ('x'): the reply lacks '0.5'", (), 1.5)
    print_result(passed)
    print_result(failed)
    assert capsys.readouterr().out.splitlines() == [
        "PASS reads-help [reads] 0.25s", "FAIL leave-half-day [leave] 1.50s: turn 0 ('x'): the reply lacks '0.5'"]
    assert pass_rate_line(SuiteResult("llm", (passed, failed), 2.0)) == "pass rate: 1/2 (50.0%) engine=llm"


def test_the_command_refuses_bad_options(cli_env: dict[str, str | None]) -> None:
    runner = CliRunner()
    scripted_offline = runner.invoke(app, ["eval", "scenarios", "--scripted"], env=cli_env)
    assert scripted_offline.exit_code == 2 and "--scripted goes with --engine llm" in scripted_offline.stderr
    unknown = runner.invoke(app, ["eval", "scenarios", "--only", "no-such-scenario"], env=cli_env)
    assert unknown.exit_code == 1 and "No scenario with the id no-such-scenario." in unknown.stderr
    keyless = runner.invoke(app, ["eval", "scenarios", "--engine", "llm", "--only", "reads-help"],
                            env={**cli_env, "OPENAI_API_KEY": None, "OPENAI_BASE_URL": None})
    assert keyless.exit_code == 1 and "needs OPENAI_API_KEY" in keyless.stderr
