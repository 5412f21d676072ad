"""`backoffice route`: the offline intent and slots of a text, one JSON object per line with --jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.nlu.router import Router
from tests.assistant.test_cli import Cli, fail_on_boom


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Return a CLI with the test folder as BACKOFFICE_HOME (route reads no database, but the settings name one)."""
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the settings
    return Cli(home=tmp_path, env={"BACKOFFICE_HOME": str(tmp_path), "DATABASE_URL": database_url,
                                   "BACKOFFICE_POLICY_FILE": None, "BACKOFFICE_TIMEZONE": None})


def test_route_prints_the_intent_and_only_the_slots_found(cli: Cli) -> None:
    routed = json.loads(cli.ok("route", "can I take Dec 14-18 off?", "--today", "2026-11-27").stdout)
    assert set(routed) == {"text", "intent", "confidence", "slots"}
    assert routed["intent"] == "request_leave" and 0 < routed["confidence"] <= 1
    assert routed["slots"] == {"start_date": "2026-12-14", "end_date": "2026-12-18"}  # no leave type said: absent


def test_route_jsonl_answers_every_line_once_in_order(cli: Cli) -> None:
    lines = [
        json.dumps({"text": "is my time off request 12 approved yet?"}),
        "not json",
        json.dumps({"query": "the wrong key"}),
        json.dumps({"text": "what's the weather in Paris tomorrow?"}),
        json.dumps({"text": "expense $45.20 for lunch at Nando's yesterday"}),
    ]
    answers = [json.loads(line) for line in cli.ok("route", "--jsonl", "--today", "2026-11-27",
                                                    input="\n".join(lines) + "\n\n").stdout.splitlines()]
    assert len(answers) == len(lines)
    assert (answers[0]["intent"], answers[0]["slots"]) == ("leave_status", {"request_id": "12"})
    assert "not JSON" in answers[1]["error"] and "text" in answers[2]["error"]
    assert answers[3]["intent"] == "out_of_scope" and answers[3]["slots"] == {}
    assert answers[4]["intent"] == "submit_expense"
    assert {k: answers[4]["slots"][k] for k in ("amount", "currency", "expense_date")} == {
        "amount": "45.20", "currency": "USD", "expense_date": "2026-11-26"}


def test_route_lines_carry_only_the_slots_the_contract_names_for_the_intent(cli: Cli) -> None:
    lines = [json.dumps({"text": text}) for text in (
        "cancel my leave next week",  # the dialogue reads its dates to pick the request; the contract names request_id
        "I'd like leave on the 31st of February",  # a date that does not exist: no slot, not a made-up one
        "sick \ud83d day tomorrow",  # half an emoji, as a JSON escape can give
    )]
    answers = [json.loads(line) for line in cli.ok("route", "--jsonl", "--today", "2026-11-27", input="\n".join(lines) + "\n").stdout.splitlines()]
    assert [(answer["intent"], answer["slots"]) for answer in answers] == [
        ("cancel_leave", {}), ("request_leave", {}),
        ("request_leave", {"start_date": "2026-11-28", "end_date": "2026-11-28", "leave_type": "sick"})]


def test_a_line_that_fails_gets_its_reason_and_the_batch_goes_on(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_boom(monkeypatch, Router, "route")
    lines = [json.dumps({"text": text}) for text in ("how many vacation days do I have left?", "boom", "open a ticket")]
    answers = [json.loads(line) for line in cli.ok("route", "--jsonl", input="\n".join(lines)).stdout.splitlines()]
    assert [answer["intent"] for answer in answers] == ["leave_balance", None, "create_ticket"]
    assert answers[1]["text"] == "boom" and "error id" in answers[1]["error"] and "a bug" not in answers[1]["error"]


def test_exit_codes_tell_a_refusal_a_usage_error_and_an_internal_fault_apart(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_boom(monkeypatch, Router, "route")
    fault = cli.run("route", "boom")
    assert fault.exit_code == 3 and "error id" in fault.stderr and "a bug" not in fault.stderr
    for usage in (cli.run("route"), cli.run("route", "hello", "--today", "someday")):  # no TEXT; a malformed option
        assert usage.exit_code == 2 and "error id" not in usage.stderr and "Invalid value" in usage.stderr
