"""The scenario file: its schema, loading with clear errors, and the `{setup[N].key}` placeholders.

A scenario is a conversation as one employee (`as`), optional setup calls run through the pipeline first,
the scripted model responses the LLM engine needs (`model`, ignored by the offline engine), the reply
substrings both engines must say (`reply_contains`) and the final database state (`expect`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import AssistantError, AssistantErrorCode
from assistant.eval.expectations import BALANCE_FIELDS, BALANCE_KEYS, TABLES, field_problem
from tools.errors import ToolError
from tools.pipeline import ToolSpec, validate_args, validation_message
from tools.registry import build_registry

SCENARIO_FILE = Path(__file__).with_name("scenarios.json")
Category = Literal["leave", "expenses", "tickets", "policy", "approvals", "refusals", "corrections", "handoff", "reads"]
CATEGORIES: tuple[str, ...] = get_args(Category)
TOP_LEVEL_KEYS = frozenset({"about", "scenarios"})
PLACEHOLDER = re.compile(r"\{setup\[(\d+)\]\.(\w+)\}")
SetupResults = Sequence[Mapping[str, Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCall(_Strict):
    """One tool call of a scripted model response."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ModelStep(_Strict):
    """One scripted model response: a final text, or tool calls."""

    content: str | None = None
    tool_calls: list[ToolCall] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelStep:
        if (self.content is None) == (self.tool_calls is None):
            raise ValueError("a model step has either 'content' or 'tool_calls', not both or neither")
        if self.content is not None and not self.content.strip():
            raise ValueError("a model step's content must not be empty")
        if self.tool_calls is not None and not self.tool_calls:
            raise ValueError("a model step's tool_calls must not be empty")
        return self

    def as_json(self) -> dict[str, Any]:
        """Return the response in the scripted server's JSON form."""
        if self.content is not None:
            return {"content": self.content}
        return {"tool_calls": [{"name": call.name, "args": call.args} for call in self.tool_calls or []]}


Alternatives = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class Turn(_Strict):
    """One message of the employee, what the scripted model answers, and what the reply must say.

    Each `reply_contains` item is a text the reply must contain (case-insensitive), or a list of texts of
    which it must contain one: a real model words things its own way ("rejected", "declined").
    """

    user: str = Field(min_length=1)
    model: list[ModelStep] = Field(default_factory=list)
    reply_contains: list[Annotated[str, Field(min_length=1)] | Alternatives] = Field(default_factory=list)


class SetupCall(_Strict):
    """A tool call run through the pipeline before the conversation, as someone."""

    tool: str
    actor: str = Field(alias="as")
    args: dict[str, Any] = Field(default_factory=dict)


class Expect(_Strict):
    """The final database state; see assistant/eval/expectations.py for the rules."""

    leave_requests: list[dict[str, Any]] = Field(default_factory=list)
    expense_claims: list[dict[str, Any]] = Field(default_factory=list)
    tickets: list[dict[str, Any]] = Field(default_factory=list)
    ticket_comments: list[dict[str, Any]] = Field(default_factory=list)
    approvals: list[dict[str, Any]] = Field(default_factory=list)
    records: list[dict[str, Any]] = Field(default_factory=list)
    balances: list[dict[str, Any]] = Field(default_factory=list)
    nothing_written: bool = False

    @model_validator(mode="after")
    def _known_fields(self) -> Expect:
        for table in TABLES:
            for row in getattr(self, table):
                _check_fields(table, row)
        for record in self.records:
            if record.get("table") not in TABLES or "id" not in record:
                raise ValueError(f"a record needs 'table' (one of {', '.join(TABLES)}) and 'id', got {record}")
            _check_fields(record["table"], {k: v for k, v in record.items() if k not in ("table", "id")})
        for balance in self.balances:
            unknown = set(balance) - BALANCE_KEYS - BALANCE_FIELDS
            if unknown or not {"employee", "year"} <= set(balance):
                raise ValueError(f"a balance needs 'employee' and 'year', and may have leave_type, "
                                 f"{', '.join(sorted(BALANCE_FIELDS))}; got {balance}")
        if self.nothing_written and any(getattr(self, table) for table in TABLES):
            raise ValueError("'nothing_written' cannot go with expected new rows")
        return self

    def as_json(self) -> dict[str, Any]:
        """Return the expectations as plain data."""
        return self.model_dump()


def _check_fields(table: str, row: Mapping[str, Any]) -> None:
    for field in row:
        problem = field_problem(table, field)
        if problem:
            raise ValueError(problem)


class Scenario(_Strict):
    """One conversation with the state the database must end in."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    category: Category
    description: str = ""
    actor: str = Field(alias="as")
    setup: list[SetupCall] = Field(default_factory=list)
    turns: list[Turn] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)

    @property
    def first_message(self) -> str:
        """Return the first user message, whitespace collapsed (the scripted model's key starts with it)."""
        return " ".join(self.turns[0].user.split())


# --- placeholders ----------------------------------------------------------------------------------


def substitute(value: Any, results: SetupResults) -> Any:
    """Replace `{setup[N].key}` in strings, lists and dicts; a string that is only a placeholder takes the raw value."""
    if isinstance(value, dict):
        return {key: substitute(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, results) for item in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        return _resolve(whole, results)
    return PLACEHOLDER.sub(lambda match: str(_resolve(match, results)), value)


def _resolve(match: re.Match[str], results: SetupResults) -> Any:
    index, key = int(match.group(1)), match.group(2)
    if index >= len(results):
        raise KeyError(f"{match.group(0)}: there are only {len(results)} setup results")
    if key not in results[index]:
        raise KeyError(f"{match.group(0)}: setup[{index}] has no '{key}' (it has {', '.join(sorted(results[index]))})")
    return results[index][key]


def _placeholder_indexes(value: Any) -> list[int]:
    return [int(index) for index, _key in PLACEHOLDER.findall(json.dumps(value))]


# --- loading and validation --------------------------------------------------------------------------


@cache
def sample_emails() -> frozenset[str]:
    """Return the emails of the sample company, whom scenarios may act as."""
    text = resources.files("assistant.sample").joinpath("people.csv").read_text(encoding="utf-8")
    return frozenset(row["email"].strip().lower() for row in csv.DictReader(text.splitlines()))


def _bad(source: str, where: str, problem: str) -> AssistantError:
    return AssistantError(AssistantErrorCode.BAD_FILE, f"{source}: {where}: {problem}")


def _pydantic_problem(error: ValidationError) -> str:
    return validation_message(error).removeprefix("Invalid input: ").rstrip(".")


@cache
def _registry() -> dict[str, ToolSpec]:
    return build_registry()


def _check_tool_call(name: str, args: dict[str, Any], placeholders_allowed: int) -> str | None:
    registry = _registry()
    if name not in registry:
        return f"there is no tool called '{name}'"
    indexes = _placeholder_indexes(args)
    if any(index >= placeholders_allowed for index in indexes):
        return f"the args of {name} refer to a setup result that does not exist yet ({args})"
    if indexes:
        return None  # the arguments are only complete once the setup has run
    try:
        validate_args(registry[name], args)
    except ToolError as error:
        return f"{name}: {error.message}"
    return None


def _check_script_ending(steps: Sequence[ModelStep]) -> str | None:
    """A turn's script ends with a text, or with a write (the engine reads it back and asks for a yes)."""
    if not steps or steps[-1].content is not None:
        return None
    reads = [call.name for call in steps[-1].tool_calls or [] if not _registry()[call.name].writes]
    if reads:
        return (f"it ends with the read tool call(s) {', '.join(reads)}; the model is called again after a read, "
                "so add a {\"content\": ...} step with the answer")
    return None


def _check_references(scenario: Scenario) -> str | None:
    """Return the first problem with the scenario's people, tools and placeholders, or None."""
    people = sample_emails()
    for index, call in enumerate(scenario.setup):
        if call.actor not in people:
            return f"setup[{index}]: '{call.actor}' is not in the sample company"
        problem = _check_tool_call(call.tool, call.args, index)
        if problem:
            return f"setup[{index}]: {problem}"
    if scenario.actor not in people:
        return f"'as': '{scenario.actor}' is not in the sample company"
    for index, turn in enumerate(scenario.turns):
        if any(number >= len(scenario.setup) for number in _placeholder_indexes(turn.user)):
            return f"turns[{index}].user refers to a setup result that does not exist"
        for step in turn.model:
            for call in step.tool_calls or []:
                problem = _check_tool_call(call.name, call.args, len(scenario.setup))
                if problem:
                    return f"turns[{index}].model: {problem}"
        problem = _check_script_ending(turn.model)
        if problem:
            return f"turns[{index}].model: {problem}"
    if any(number >= len(scenario.setup) for number in _placeholder_indexes(scenario.expect.as_json())):
        return "expect refers to a setup result that does not exist"
    return None


def parse_scenarios(raw: Any, source: str = "scenarios") -> list[Scenario]:
    """Validate scenario data ({"scenarios": [...]}) and return the scenarios; a problem names the scenario."""
    items = raw.get("scenarios") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise _bad(source, "top level", 'expected an object with a non-empty "scenarios" list')
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise _bad(source, "top level", f"unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(TOP_LEVEL_KEYS))})")
    scenarios: list[Scenario] = []
    for number, item in enumerate(items, start=1):
        name = item.get("id") if isinstance(item, dict) else None
        where = f"scenario '{name}' (#{number})" if name else f"scenario #{number}"
        try:
            scenario = Scenario.model_validate(item)
        except ValidationError as error:
            raise _bad(source, where, _pydantic_problem(error)) from error
        problem = _check_references(scenario)
        if problem:
            raise _bad(source, where, problem)
        scenarios.append(scenario)
    _check_unique(scenarios, source)
    return scenarios


def _check_unique(scenarios: list[Scenario], source: str) -> None:
    seen_ids: set[str] = set()
    seen_first: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.id in seen_ids:
            raise _bad(source, f"scenario '{scenario.id}'", "the id is used twice")
        seen_ids.add(scenario.id)
        other = seen_first.setdefault(scenario.first_message, scenario.id)
        if other != scenario.id:
            raise _bad(source, f"scenario '{scenario.id}'",
                       f"its first message {scenario.first_message!r} is also the first message of '{other}'")


def load_scenarios(path: Path | None = None) -> list[Scenario]:
    """Read and validate a scenario file (the bundled suite by default)."""
    file = path or SCENARIO_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{file} cannot be read: {error.strerror}.") from error
    except json.JSONDecodeError as error:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"{file} is not valid JSON: {error.msg} at line {error.lineno}, "
                                                          f"column {error.colno}.") from error
    return parse_scenarios(raw, str(file))


def select_scenarios(scenarios: list[Scenario], only: Sequence[str]) -> list[Scenario]:
    """Return the scenarios whose ids are in `only` (all when empty), refusing unknown ids."""
    if not only:
        return scenarios
    known = {scenario.id for scenario in scenarios}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise AssistantError(AssistantErrorCode.BAD_FILE, f"No scenario with the id {', '.join(unknown)}.")
    return [scenario for scenario in scenarios if scenario.id in set(only)]
