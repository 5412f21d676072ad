"""`backoffice kb` against the DESIGN.md contract: ingestion report and exit codes, list, remove, search JSON and JSONL.

The real typer app runs in-process with BACKOFFICE_HOME in the test's folder (SQLite + Chroma there) and the
test's database for the people directory (SQLite, or PostgreSQL with BACKOFFICE_TEST_DB=postgres).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowledge.index import KnowledgeBase
from tests.assistant.test_cli import EMPLOYEE, HR, MANAGER, Cli, fail_on_boom, flat, write_people_csv
from tests.knowledge.document_files import (HR_CASES, INVESTIGATION_QUESTION, LAPTOPS, MANAGER_HANDBOOK, RAISE_QUESTION, TIME_OFF,
                                           pdf_bytes)

RESULT_KEYS = {"doc_id", "source", "title", "section", "score", "relevance", "text"}
REPORT_COUNTS = ("added", "replaced", "unchanged", "failed")


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Return a CLI bound to this test's database, with the test folder as BACKOFFICE_HOME."""
    monkeypatch.chdir(tmp_path)  # keep a developer's .env out of the settings
    env: dict[str, str | None] = {"BACKOFFICE_HOME": str(tmp_path / "home"), "DATABASE_URL": database_url,
                                  "BACKOFFICE_POLICY_FILE": None, "BACKOFFICE_TIMEZONE": None,
                                  "BACKOFFICE_MAX_DOCUMENT_BYTES": None, "BACKOFFICE_EMBEDDINGS": None}
    return Cli(home=tmp_path, env=env)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def add_json(cli: Cli, *args: object, exit_code: int) -> dict[str, Any]:
    """Run `kb add ... --json`, insist on the exit code and return the report."""
    result = cli.run("kb", "add", *args, "--json")
    assert result.exit_code == exit_code, f"{result.exit_code}: {result.stdout}{result.stderr}{result.exception!r}"
    return json.loads(result.stdout)


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {Path(item["path"]).name: item["outcome"] for item in report["files"]}


def search_json(cli: Cli, query: str, *options: object) -> dict[str, Any]:
    return cli.json("kb", "search", query, *options)


def assert_result_shape(result: dict[str, Any]) -> None:
    assert set(result) == {"query", "results"}
    for hit in result["results"]:
        assert set(hit) == RESULT_KEYS
        assert isinstance(hit["score"], float) and isinstance(hit["text"], str) and hit["text"]
    scores = [hit["score"] for hit in result["results"]]
    assert scores == sorted(scores, reverse=True)  # the order a client sees is the order of the scores


def test_a_handbooks_stub_pages_are_skipped_without_failing_the_run(cli: Cli) -> None:
    docs = cli.home / "handbook"
    write(docs, "time-off.md", TIME_OFF)
    write(docs, "it.md", "# IT\n")  # a heading and nothing under it, as handbooks keep for sections to come
    write(docs, "blank.txt", "   \n")
    report = add_json(cli, docs, exit_code=0)
    assert (report["added"], report["skipped"], report["failed"]) == (1, 2, 0)
    files = {Path(item["path"]).name: item for item in report["files"]}
    assert files["it.md"]["outcome"] == "skipped" and "Nothing to index; skipped." in files["it.md"]["reason"]
    assert "skipped 2 (nothing to index, or a link)" in cli.ok("kb", "add", str(docs)).stdout
    write(docs, "time-off.md", "# Time Off\n")  # an indexed policy emptied: failed, so the old text does not linger unsaid
    emptied = {Path(item["path"]).name: item for item in add_json(cli, docs, exit_code=1)["files"]}["time-off.md"]
    assert emptied["outcome"] == "failed" and "kb remove time-off" in emptied["reason"]


def test_add_reports_every_file_and_fails_when_one_failed(cli: Cli) -> None:
    docs = cli.home / "docs"
    time_off, laptops = write(docs, "time-off.md", TIME_OFF), write(docs, "laptops.md", LAPTOPS)
    (docs / "scanned.pdf").write_bytes(pdf_bytes([[]]))
    (docs / "latin1.txt").write_bytes("Caf\xe9 rules for the kitchen.".encode("latin-1"))

    report = add_json(cli, docs, exit_code=1)
    assert {key: report[key] for key in REPORT_COUNTS} == {"added": 2, "replaced": 0, "unchanged": 0, "failed": 2}
    assert report["chunks"] == 3
    assert outcomes(report) == {"laptops.md": "added", "latin1.txt": "failed", "scanned.pdf": "failed", "time-off.md": "added"}
    files = {Path(item["path"]).name: item for item in report["files"]}
    assert files["time-off.md"] == {"path": str(time_off), "outcome": "added", "doc_id": "time-off", "chunks": 2, "reason": ""}
    assert "scanned.pdf" in files["scanned.pdf"]["reason"] and "no extractable text" in files["scanned.pdf"]["reason"]
    assert "latin1.txt" in files["latin1.txt"]["reason"] and "not UTF-8" in files["latin1.txt"]["reason"]
    assert files["scanned.pdf"]["doc_id"] is None and files["scanned.pdf"]["chunks"] == 0
    stderr = flat(cli.run("kb", "add", docs, "--json").stderr)  # a failed file's reason is on stderr too, as every refusal's
    assert f"Error: {flat(files['scanned.pdf']['reason'])}" in stderr and f"Error: {flat(files['latin1.txt']['reason'])}" in stderr

    again = add_json(cli, docs, exit_code=1)
    assert {key: again[key] for key in REPORT_COUNTS} == {"added": 0, "replaced": 0, "unchanged": 2, "failed": 2}
    assert again["chunks"] == 0

    good_only = add_json(cli, time_off, laptops, exit_code=0)
    assert {key: good_only[key] for key in REPORT_COUNTS} == {"added": 0, "replaced": 0, "unchanged": 2, "failed": 0}

    write(docs, "laptops.md", LAPTOPS.replace("two days", "one day"))
    human = flat(cli.ok("kb", "add", laptops, time_off).stdout)
    assert "added 0, replaced 1, unchanged 1, failed 0" in human
    assert "one day" in search_json(cli, "broken laptop screen")["results"][0]["text"]

    missing = cli.run("kb", "add", docs / "missing.md", "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["files"][0]["reason"].endswith("missing.md: no such file.")


def test_list_and_remove(cli: Cli) -> None:
    docs = cli.home / "docs"
    laptops = write(docs, "laptops.md", LAPTOPS)
    add_json(cli, write(docs, "time-off.md", TIME_OFF), laptops, exit_code=0)
    records = {row["doc_id"]: row for row in cli.json("kb", "list")}
    assert set(records) == {"laptops", "time-off"}
    assert {key: records["laptops"][key] for key in ("title", "source", "audience", "chunk_count", "added_by")} == {
        "title": "IT Equipment", "source": str(laptops), "audience": "", "chunk_count": 1, "added_by": "admin"}

    assert cli.json("kb", "remove", "laptops") == {"doc_id": "laptops", "removed": True}
    assert [row["doc_id"] for row in cli.json("kb", "list")] == ["time-off"]
    for mode in ("hybrid", "dense", "keyword"):
        hits = search_json(cli, "broken laptop screen service desk", "--mode", mode)["results"]
        assert {hit["doc_id"] for hit in hits} <= {"time-off"}
    assert "laptops" in cli.refused("kb", "remove", "laptops")
    assert "Removed time-off" in cli.ok("kb", "remove", "time-off").stdout
    assert cli.json("kb", "list") == []


def test_search_json_has_the_contract_shape_in_every_mode(cli: Cli) -> None:
    docs = cli.home / "docs"
    time_off, laptops = write(docs, "Time Off.md", TIME_OFF), write(docs, "laptops.md", LAPTOPS)
    add_json(cli, docs, exit_code=0)

    for mode in ("hybrid", "dense", "keyword"):
        result = search_json(cli, "my laptop screen is broken", "--mode", mode)
        assert_result_shape(result)
        assert result["query"] == "my laptop screen is broken"
        top = result["results"][0]
        assert {key: top[key] for key in ("doc_id", "source", "title", "section")} == {
            "doc_id": "laptops", "source": str(laptops), "title": "IT Equipment", "section": "IT Equipment > Laptops"}
        assert top["text"].startswith("New starters receive a laptop") and 0.3 < top["score"] <= 1.0

    one = search_json(cli, "doctor's note when I am sick", "--k", "1")
    assert len(one["results"]) == 1
    assert (one["results"][0]["source"], one["results"][0]["section"]) == (str(time_off), "Time Off > Sick leave")
    assert cli.run("kb", "search", "laptop", "--mode", "fuzzy").exit_code != 0
    assert "laptop" in cli.ok("kb", "search", "broken laptop").stdout


def test_search_says_when_the_policies_do_not_cover_a_question(cli: Cli) -> None:
    add_json(cli, write(cli.home / "docs", "laptops.md", LAPTOPS), exit_code=0)

    unrelated = cli.ok("kb", "search", "what is the best pizza topping in naples").stdout
    related = cli.ok("kb", "search", "my laptop screen is broken").stdout

    assert "do not seem to cover this" in unrelated and "IT Equipment" in unrelated  # the passages still follow
    assert "do not seem to cover" not in related


def test_a_handbook_folder_with_an_index_md_per_section_keeps_every_page(cli: Cli) -> None:
    handbook = cli.home / "handbook"
    write(handbook / "time-off", "index.md", TIME_OFF)
    write(handbook / "equipment", "index.md", LAPTOPS)

    report = add_json(cli, handbook, exit_code=0)

    assert [(f["outcome"], f["doc_id"]) for f in report["files"]] == [("added", "equipment-index"), ("added", "time-off-index")]
    assert sorted(row["doc_id"] for row in cli.json("kb", "list")) == ["equipment-index", "time-off-index"]


def test_search_cites_each_passage_once_with_its_headings_verbatim(cli: Cli) -> None:
    add_json(cli, write(cli.home / "docs", "laptops.md", LAPTOPS.replace("## Laptops", "## Laptops [new starters]")),
             exit_code=0)

    printed = cli.ok("kb", "search", "broken laptop screen").stdout

    assert "1. IT Equipment > Laptops [new starters] (score" in printed
    assert "IT Equipment > IT Equipment" not in printed


def test_search_jsonl_answers_every_line_once(cli: Cli) -> None:
    docs = cli.home / "docs"
    write(docs, "time-off.md", TIME_OFF)
    write(docs, "laptops.md", LAPTOPS)
    add_json(cli, docs, exit_code=0)
    lines = [
        json.dumps({"query": "broken laptop screen"}),
        "this is not json",
        json.dumps({"text": "the wrong key"}),
        json.dumps({"query": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"query": "doctor's note when sick", "k": 1}),
        json.dumps({"query": "annual leave", "k": "many"}),
        json.dumps({"query": "annual leave", "k": 0}),
        json.dumps({"query": "carry over unused vacation days"}),
    ]
    for mode in ("hybrid", "dense", "keyword"):
        result = cli.ok("kb", "search", "--jsonl", "--mode", mode, input="\n".join(lines) + "\n")
        answers = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(answers) == len(lines), result.stdout
        errors = [index for index, answer in enumerate(answers) if "error" in answer]
        assert errors == [1, 2, 3, 4, 6, 7], mode
        for index in errors:
            assert answers[index]["results"] == [] and answers[index]["error"]
        for index in (0, 5, 8):
            assert_result_shape(answers[index])
            assert answers[index]["query"] == json.loads(lines[index])["query"]
        assert answers[0]["results"][0]["doc_id"] == "laptops"
        assert len(answers[5]["results"]) == 1 and answers[5]["results"][0]["section"] == "Time Off > Sick leave"
        assert answers[8]["results"][0]["section"] == "Time Off > Annual leave"


def test_a_search_line_that_fails_gets_its_reason_and_the_batch_goes_on(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = cli.home / "docs"
    write(docs, "laptops.md", LAPTOPS)
    add_json(cli, docs, exit_code=0)
    fail_on_boom(monkeypatch, KnowledgeBase, "search")
    lines = [json.dumps({"query": query}) for query in ("broken laptop screen", "boom", "new starter laptop")]
    answers = [json.loads(line) for line in cli.ok("kb", "search", "--jsonl", input="\n".join(lines)).stdout.splitlines()]
    assert [answer["query"] for answer in answers] == ["broken laptop screen", "boom", "new starter laptop"]
    assert answers[0]["results"] and answers[2]["results"] and answers[1]["results"] == []
    assert "error id" in answers[1]["error"] and "a bug" not in answers[1]["error"]


def test_search_as_someone_applies_their_audiences(cli: Cli) -> None:
    cli.ok("init")
    cli.ok("people", "import", write_people_csv(cli.home))
    docs = cli.home / "docs"
    write(docs, "time-off.md", TIME_OFF)
    write(docs, "manager-handbook.md", MANAGER_HANDBOOK)
    add_json(cli, docs, exit_code=0)
    add_json(cli, write(cli.home / "hr", "hr-cases.md", HR_CASES), "--audience", "hr", exit_code=0)
    audiences = {row["doc_id"]: row["audience"] for row in cli.json("kb", "list")}
    assert audiences == {"time-off": "", "manager-handbook": "manager", "hr-cases": "hr"}

    for mode in ("hybrid", "dense", "keyword"):
        for question in (RAISE_QUESTION, INVESTIGATION_QUESTION, "salary raise eight percent calibration"):
            for who in (("--as", EMPLOYEE), ()):
                hits = search_json(cli, question, "--mode", mode, "--k", "20", *who)["results"]
                assert {hit["doc_id"] for hit in hits} <= {"time-off"}, (mode, question, who)
        manager = search_json(cli, RAISE_QUESTION, "--mode", mode, "--as", MANAGER)["results"]
        assert manager[0]["doc_id"] == "manager-handbook" and "eight percent" in manager[0]["text"]
        assert "hr-cases" not in {hit["doc_id"] for hit in manager}
        hr = search_json(cli, INVESTIGATION_QUESTION, "--mode", mode, "--as", HR)["results"]
        assert hr[0]["doc_id"] == "hr-cases"

    batch = "\n".join(json.dumps({"query": q, "k": 20}) for q in (RAISE_QUESTION, INVESTIGATION_QUESTION)) + "\n"
    for who, visible in ((EMPLOYEE, {"time-off"}), (MANAGER, {"time-off", "manager-handbook"}), (HR, {"time-off", "hr-cases"})):
        answers = [json.loads(line) for line in cli.ok("kb", "search", "--jsonl", "--as", who, input=batch).stdout.splitlines()]
        assert len(answers) == 2
        assert {hit["doc_id"] for answer in answers for hit in answer["results"]} == visible, who

    assert "nobody@acme.example" in cli.refused("kb", "search", RAISE_QUESTION, "--as", "nobody@acme.example")
