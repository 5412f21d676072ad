"""The registry's tools as langchain tools for one turn: every call goes through the pipeline as the turn's actor.

The actor is bound here, from the turn, and is never an argument the model fills. Reads run at once; writes
are validated, authorized and previewed, then parked as the turn's pending write for the person to confirm.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.tools import BaseTool, StructuredTool

from assistant.agent.readback import PendingWrite, preview_tool, readback_text
from assistant.errors import error_text
from prompts import render
from tools.expenses.tools import check_receipt_reference
from tools.people.models import Role
from tools.pipeline import Pipeline, ToolSpec, validate_args, validation_message

# Internal helpers of the engines (previews for the read-backs), not actions a person asks for.
HIDDEN_TOOLS = frozenset({"preview_leave_request", "preview_expense", "preview_system_access", "preview_decision",
                          "preview_comment", "preview_reimbursement", "preview_ticket_update"})
# Offered only to someone who may decide approvals; anyone else would only be refused (the pipeline checks anyway).
APPROVER_TOOLS = frozenset({"list_pending_approvals", "decide_approval"})
# Offered only to the roles that work a queue (the tool itself says whose queue is whose).
QUEUE_ROLES = {"list_ticket_queue": frozenset({Role.IT, Role.HR, Role.ADMIN})}
MAX_RESULT_CHARS = 6000
MAX_TOOL_CALLS = 12  # per turn: a model that asks for forty lookups at once gets the first twelve


@dataclass
class TurnTools:
    """The tools of one turn and what they did: at most one pending write, and every call made."""

    pipeline: Pipeline
    actor_id: int
    roles: frozenset[Role]
    now: datetime
    decides: bool = True  # may decide approvals: holds an approver's role, or a request waits for them
    pending: PendingWrite | None = None
    calls: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # writes asked for while another one waits for its yes
    # (tool, why) of every call refused in this turn; a later call of the same tool that goes through clears it
    refusals: list[tuple[str, str]] = field(default_factory=list)
    _parking: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def refused(self) -> list[str]:
        """Why calls of this turn were refused (once each), for the person to hear whatever the model says."""
        return list(dict.fromkeys(reason for _, reason in self.refusals))

    def refuse(self, tool: str, reason: str) -> str:
        """Record a refused call and return what the model reads."""
        self.refusals.append((tool, reason))
        return f"REFUSED: {reason}"

    def went_through(self, tool: str) -> None:
        """A call of `tool` worked (a read answered, a write parked): its earlier refusals were put right."""
        self.refusals = [(name, reason) for name, reason in self.refusals if name != tool]

    def note_unknown_tools(self, messages: list[Any]) -> None:
        """Record calls of tools that do not exist or are not this person's (the agent answered them itself)."""
        for message in messages:
            if getattr(message, "type", "") == "tool" and getattr(message, "status", "") == "error" \
                    and not str(message.content).startswith("REFUSED:"):
                name = str(getattr(message, "name", "") or "that")
                self.refusals.append((name, f"'{name}' is not something I can do for you."))

    def build(self) -> list[BaseTool]:
        """Return the tools this person's roles allow (the pipeline checks again on every call)."""
        return [self._tool(spec) for spec in self.pipeline.registry.values()
                if spec.name not in HIDDEN_TOOLS and (not spec.roles or spec.roles & self.roles)
                and (self.decides or spec.name not in APPROVER_TOOLS)
                and (spec.name not in QUEUE_ROLES or QUEUE_ROLES[spec.name] & self.roles)]

    def _tool(self, spec: ToolSpec) -> BaseTool:
        def call(**kwargs: Any) -> str:
            return self.call(spec, kwargs)

        # Arguments the schema refuses ("deny" without a reason) go back to the model as a refusal it can act on.
        return StructuredTool.from_function(func=call, name=spec.name, description=inspect.cleandoc(spec.description),
                                            args_schema=spec.args_model,
                                            handle_validation_error=lambda error: self.refuse(spec.name, validation_message(error)))

    def call(self, spec: ToolSpec, raw: dict[str, Any]) -> str:
        """Run a read, or park a write for confirmation; return what the model reads."""
        self.calls.append(spec.name)
        if len(self.calls) > MAX_TOOL_CALLS:
            return f"REFUSED: more than {MAX_TOOL_CALLS} tool calls in one turn; answer with what you have."
        try:
            args = validate_args(spec, raw).model_dump(mode="json")
            if spec.writes:
                parked = self._park(spec, args)
                if not parked.startswith("REFUSED:"):
                    self.went_through(spec.name)
                return parked
            result = self.pipeline.run(spec.name, args, actor_id=self.actor_id, now=self.now)
        except Exception as error:  # noqa: BLE001 - the model reads the refusal, and the person hears it too
            return self.refuse(spec.name, error_text(error))
        self.went_through(spec.name)
        if spec.name == "search_policies":
            return _passages_for_model(args["query"], result.data)
        return _clip(json.dumps({"message": result.message, "data": result.data}, default=str))

    def _park(self, spec: ToolSpec, args: dict[str, Any]) -> str:
        with self._parking:  # the model may call several tools at once; they run in parallel threads
            # Every write is checked, even one that will have to wait: whichever thread parks first, a write that
            # cannot be done is told with its reason ("end before start"), not as "ask me again".
            self.pipeline.check(spec.name, args, actor_id=self.actor_id)
            if "receipt_path" in args:  # before the read-back says "with the receipt you sent"
                check_receipt_reference(args["receipt_path"], self.pipeline.receipt_exists)
            checker = preview_tool(spec.name)
            preview: dict[str, Any] = {}
            if checker is not None:  # refusals come now, before the read-back, not after the yes
                preview = self.pipeline.run(checker, args, actor_id=self.actor_id, now=self.now).data
            if self.pending is not None:
                self.deferred.append(spec.name)  # the person is told it waits, see LlmEngine
                return "REFUSED: one change at a time; the first one is waiting for the person's confirmation."
            self.pending = PendingWrite(spec.name, args, readback_text(spec.name, args, preview))
            return f"NOT DONE YET. The person was shown this and must answer yes first: {self.pending.readback}"


# A document cannot close the fence around it: "<<<END RETRIEVED POLICY PASSAGES>>>" written in a policy loses its
# angle brackets (so does the query, which the person typed), and what follows stays inside the data.
_FENCE_MARKS = re.compile(r"<{2,}|>{2,}")


def _unfenced(text: object) -> str:
    return _FENCE_MARKS.sub(lambda match: "\u2039" * len(match[0]) if match[0][0] == "<" else "\u203a" * len(match[0]), str(text))


def _passages_for_model(query: str, data: dict[str, Any]) -> str:
    """Fence the retrieved passages as data, with their citations."""
    passages = data.get("passages") or []
    lines = [f"[{index}] ({_unfenced(item.get('citation'))}): {_unfenced(item.get('text'))}"
             for index, item in enumerate(passages, start=1)]
    verdict = ("The passages appear to cover the question." if data.get("covered") else
               "The passages do not answer the question: say the policies do not cover it and offer a hand-over to HR.")
    return _clip(render("passages", query=_unfenced(query), passages="\n".join(lines) or "(none)", verdict=verdict))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS] + " …(cut)"


class StopAtPendingWrite(AgentMiddleware):  # type: ignore[type-arg]
    """End the turn once a write is parked: the read-back is the reply, and the model gets no further call."""

    def __init__(self, turn_tools: TurnTools) -> None:
        super().__init__()
        self.turn_tools = turn_tools

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Jump to the end when the turn has a write waiting for the person's yes."""
        return {"jump_to": "end"} if self.turn_tools.pending is not None else None
