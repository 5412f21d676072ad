"""The LLM engine: one turn = the person's message to a langchain agent whose tools run through the pipeline.

Server-side guarantees, whatever the model says: the actor comes from the turn; the model only sees the tools
the person's roles allow; writes are never run by the model but read back and run on the person's "yes"
(without the model), through the same pipeline and approval gate as every other caller. When the endpoint
fails (timeouts, 429 or 5xx after retries, connection errors) or the whole turn runs past its time budget, the
offline engine answers and says so.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import openai
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelCallLimitMiddleware
from langchain.agents.middleware.model_call_limit import ModelCallLimitExceededError
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from langgraph.errors import GraphRecursionError

from assistant.agent.memory import bounded, dump_messages, load_messages
from assistant.agent.readback import WRITE_NAMES, PendingWrite
from assistant.agent.tools import StopAtPendingWrite, TurnTools
from assistant.dialogue import words
from assistant.dialogue.engine import OfflineEngine, run_confirmed
from assistant.dialogue.reply import Reply
from assistant.engines import AGENT_MEMORY_PREFIX
from assistant.errors import error_text
from knowledge.embeddings import encodable
from prompts import render
from tools.approvals.service import list_pending_for
from tools.conversations.service import get_conversation_state, record_conversation_state
from tools.db import run_in_transaction, utcnow
from tools.people.models import Role
from tools.people.service import get_employee
from tools.pipeline import Pipeline, employee_today

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from assistant.container import Container
    from assistant.settings import Settings

log = logging.getLogger(__name__)
DECIDING_ROLES = frozenset({Role.MANAGER, Role.HR, Role.FINANCE, Role.IT, Role.ADMIN})  # who may be asked to approve
MAX_TEXT = 4000
MAX_REPLY = 6000  # characters of a model's answer shown; Slack itself cuts a message at 40,000
NO_ANSWER = "Sorry, I couldn't work that out. Could you say it another way, or say \"help\"?"
CAPPED = ("Sorry, I stopped after {calls} steps without an answer; nothing was changed. "
          "Could you ask again, one thing at a time?")
# Graph steps per model call: the middlewares' hooks, the model and the tools. The model call limit is what ends a
# looping turn; the graph's recursion limit sits above it and is only a backstop.
STEPS_PER_MODEL_CALL = 8
# Why the offline engine answered, in the degraded note: "(The AI assistant {reason}, so ...)".
UNAVAILABLE = "is unavailable right now"
UNUSABLE = "sent a reply that could not be used"
TOO_SLOW = "took too long to answer"
CUT_OFF = {"length": "(My answer was cut short; ask again if you need the rest.)",
           "content_filter": "(The AI service's content filter stopped this answer part-way.)"}
NOT_DONE = "(Not done: {reasons})"
THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
DEFERRED = "(One change at a time: after this, ask me again for {what}.)"


class TurnTooSlow(Exception):
    """The turn's model calls, with their retries, ran past the turn's time budget."""


class UnusableReply(Exception):
    """The endpoint answered, but not with something usable: not JSON, the wrong shape, broken tool calls, no text."""


def _with_refusals(answer: str, turn_tools: TurnTools) -> str:
    """The reply with every call refused in the turn told after it, whatever the model made of them."""
    return f"{answer}\n{NOT_DONE.format(reasons=' '.join(turn_tools.refused))}" if turn_tools.refused else answer


class RejectUnusableReplies(AgentMiddleware):  # type: ignore[type-arg]
    """Turn a model reply the agent cannot use into UnusableReply, so the offline engine answers instead.

    A small local model may send tool-call arguments that are not JSON, or nothing at all; a proxy may answer
    200 with a page that is not JSON. Endpoint errors (openai.APIError) pass through unchanged.
    """

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        try:
            response = handler(request)
        except openai.APIError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:  # JSONDecodeError is a ValueError
            raise UnusableReply(f"{type(error).__name__}: {error}") from error
        for message in getattr(response, "result", None) or []:
            seen: set[str] = set()
            for call in getattr(message, "tool_calls", None) or []:
                # Some servers send tool calls without ids, or one id twice; each tool result must name its own call.
                if not call.get("id") or call["id"] in seen:
                    call["id"] = f"call_{uuid.uuid4().hex[:24]}"
                seen.add(call["id"])
            if isinstance(message, AIMessage) and not message.tool_calls and (
                    message.invalid_tool_calls or not message_text(message)):
                raise UnusableReply("broken tool calls" if message.invalid_tool_calls else "an empty reply")
        return response


RETRYABLE = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError, openai.ConflictError)
MAX_RETRY_WAIT = 20.0  # seconds; a longer Retry-After is not waited for within a turn


class RetryWithinTurn(AgentMiddleware):  # type: ignore[type-arg]
    """Retry a model call on a timeout, a dropped connection, 409, 429 or 5xx, with backoff (honouring Retry-After),
    and never once the turn was given up: an abandoned turn must not keep calling the endpoint (or take the reply a
    later turn is waiting for)."""

    def __init__(self, retries: int, abandoned: threading.Event) -> None:
        super().__init__()
        self.retries = retries
        self.abandoned = abandoned

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        for attempt in range(self.retries + 1):
            if self.abandoned.is_set():
                raise TurnTooSlow("the turn was given up")
            try:
                return handler(request)
            except RETRYABLE as error:
                if attempt == self.retries:
                    raise
                if self.abandoned.wait(_retry_wait(error, attempt)):
                    raise TurnTooSlow("the turn was given up") from error
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _retry_wait(error: Exception, attempt: int) -> float:
    """Return how long to wait before the next attempt: the endpoint's Retry-After, else 0.5 s, 1 s, 2 s ..."""
    response = getattr(error, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return min(max(float(header), 0.0), MAX_RETRY_WAIT) if header is not None else min(0.5 * 2 ** attempt, 8.0)
    except ValueError:  # an HTTP date: not worth parsing for a chat turn
        return min(0.5 * 2 ** attempt, 8.0)


@dataclass(frozen=True)
class AgentLimits:
    """Bounds on one turn and on what is remembered."""

    model_calls: int = 6
    history_messages: int = 40
    timeout_seconds: float = 30.0
    max_retries: int = 2
    turn_seconds: float = 45.0  # the whole turn: past it, the offline engine answers


@dataclass
class _Person:
    name: str
    email: str
    roles: frozenset[Any]
    timezone: str
    today: Any
    decides: bool = False  # holds an approver's role, or has a request waiting for their decision


@dataclass
class TurnMeter(BaseCallbackHandler):
    """Counts model calls, their wall time and the token usage the endpoint reports."""

    calls: int = 0
    model_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _started: dict[Any, float] = field(default_factory=dict)

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: Any, **kwargs: Any) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: Any, *, run_id: Any, **kwargs: Any) -> None:
        self.calls += 1
        self.model_seconds += time.perf_counter() - self._started.pop(run_id, time.perf_counter())
        usage = (response.llm_output or {}).get("token_usage") or {}
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)

    def on_llm_error(self, error: BaseException, *, run_id: Any, **kwargs: Any) -> None:
        self.model_seconds += time.perf_counter() - self._started.pop(run_id, time.perf_counter())

    def as_json(self) -> dict[str, Any]:
        """Return the figures of the turn."""
        return {"model_calls": self.calls, "model_seconds": round(self.model_seconds, 6), "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


class LlmEngine:
    """Serves employees through an LLM agent, with the offline engine as the fallback."""

    def __init__(self, *, pipeline: Pipeline, session_factory: sessionmaker[Session], model: ChatOpenAI, offline: OfflineEngine,
                 limits: AgentLimits = AgentLimits(), ttl: timedelta = timedelta(minutes=30)) -> None:
        self.pipeline = pipeline
        self.session_factory = session_factory
        self.model = model
        self.offline = offline
        self.limits = limits
        self.ttl = ttl

    def handle(self, *, key: str, actor_id: int, text: str, now: datetime | None = None) -> Reply:
        """Answer one message in conversation `key` as employee `actor_id`; the person always gets a reply."""
        started = time.perf_counter()
        moment = now or utcnow()
        clean = " ".join(encodable(text or "").split())[:MAX_TEXT]
        if not clean:
            return Reply(words.EMPTY, "help")
        try:
            person, state, offline_open = run_in_transaction(self.session_factory, lambda s: self._load(s, key, actor_id, moment))
        except Exception as error:  # noqa: BLE001 - the turn's error edge: always answer
            return Reply(error_text(error))
        history = load_messages(state.get("messages", []))
        pending = PendingWrite.from_json(state.get("pending"))
        reply, pending, new_messages = self._respond(key, actor_id, person, clean, moment, history, pending, offline_open)
        state = {"messages": dump_messages(bounded(history + new_messages, self.limits.history_messages)),
                 "pending": pending.as_json() if pending else None}
        run_in_transaction(self.session_factory, lambda s: record_conversation_state(
            s, key=AGENT_MEMORY_PREFIX + key, employee_id=actor_id, state=state, now=moment))
        reply.meta["seconds"] = round(time.perf_counter() - started, 6)  # the whole turn, memory included
        return reply

    def _load(self, session: Session, key: str, actor_id: int, now: datetime) -> tuple[_Person, dict[str, Any], bool]:
        """Return the person, the agent's memory, and whether the offline fallback has a request half-way."""
        employee = get_employee(session, employee_id=actor_id)
        state, _ = get_conversation_state(session, key=AGENT_MEMORY_PREFIX + key, employee_id=actor_id, now=now, ttl=self.ttl)
        decides = bool(employee.roles & DECIDING_ROLES) or bool(list_pending_for(session, actor=employee))
        person = _Person(employee.name, employee.email, employee.roles, employee.timezone or self.pipeline.default_timezone,
                         employee_today(employee, now, self.pipeline.default_timezone), decides)
        return person, state, self.offline.has_open_flow(session, key=key, actor_id=actor_id, now=now)

    def _respond(self, key: str, actor_id: int, person: _Person, text: str, now: datetime, history: list[BaseMessage],
                 pending: PendingWrite | None, offline_open: bool) -> tuple[Reply, PendingWrite | None, list[BaseMessage]]:
        said = HumanMessage(text)
        if pending is not None and words.is_yes(text):
            reply = run_confirmed(self.pipeline, pending.tool, pending.args, actor_id=actor_id, now=now, intent=pending.tool)
            return reply, None, [said, AIMessage(reply.text)]
        if pending is None and offline_open:
            return self._degraded(key, actor_id, text, now, said, note=None)  # finish what the fallback started
        if pending is not None and (words.is_no(text) or words.is_cancel(text)):
            # only a read-back's "no" is ours to take; any other "no" or "never mind" answers the model's own question
            dropped = words.dropped(pending.tool)  # "no" to a cancellation leaves the leave standing
            return Reply(dropped), None, [said, AIMessage(dropped)]
        try:
            reply, fresh, new = self._ask_model(actor_id, person, text, now, history)
        except (openai.APIError, OSError) as error:  # the endpoint failed after its retries: the offline engine answers
            log.warning("LLM endpoint failed (%s: %s); answering with the offline engine", type(error).__name__, error)
            return self._degraded(key, actor_id, text, now, said, note=UNAVAILABLE, pending=pending)
        except UnusableReply as error:
            log.warning("LLM reply unusable (%s); answering with the offline engine", error)
            return self._degraded(key, actor_id, text, now, said, note=UNUSABLE, pending=pending)
        except TurnTooSlow:
            log.warning("LLM turn took over %.0f s; answering with the offline engine", self.limits.turn_seconds)
            return self._degraded(key, actor_id, text, now, said, note=TOO_SLOW, pending=pending)
        except Exception as error:  # noqa: BLE001 - a fault of ours: logged with an id the person sees
            return Reply(error_text(error)), pending, [said]
        if fresh is None and pending is not None:
            # a question or a remark while a change waits ("how many days will I have left?"): the change still
            # waits for its yes, and the person is told so, whatever the model said ("Done!" would not be true)
            reply.text = f"{reply.text}\n{words.STILL_WAITING}"
            return reply, pending, [said, *new[:-1], AIMessage(reply.text)] if new else [said, AIMessage(reply.text)]
        return reply, fresh, [said, *new]

    def _ask_model(self, actor_id: int, person: _Person, text: str, now: datetime,
                   history: list[BaseMessage]) -> tuple[Reply, PendingWrite | None, list[BaseMessage]]:
        turn_tools = TurnTools(self.pipeline, actor_id, person.roles, now, decides=person.decides)
        abandoned = threading.Event()
        agent = create_agent(self.model, turn_tools.build(), system_prompt=self._system_prompt(person),
                             middleware=[StopAtPendingWrite(turn_tools), RetryWithinTurn(self.limits.max_retries, abandoned),
                                         RejectUnusableReplies(),
                                         ModelCallLimitMiddleware(run_limit=self.limits.model_calls, exit_behavior="error")])
        meter = TurnMeter()
        messages = [*history, HumanMessage(text)]
        # max_concurrency 1: the tools of one model reply run one after the other in the model's order, so the first
        # write asked for is the one read back, not whichever thread got there first.
        config = {"callbacks": [meter], "recursion_limit": STEPS_PER_MODEL_CALL * (self.limits.model_calls + 1),
                  "max_concurrency": 1}
        try:
            new = self._invoke(agent, messages, config, abandoned)[len(messages):]
            capped = False
        except (ModelCallLimitExceededError, GraphRecursionError):  # the model kept calling tools: stop with a reason
            new, capped = [], True
        turn_tools.note_unknown_tools(new)
        meta = {**meter.as_json(), "tool_calls": list(turn_tools.calls), "capped": capped}
        if turn_tools.pending is not None:
            answer = turn_tools.pending.readback
            deferred = [WRITE_NAMES.get(tool, tool.replace("_", " ")) for tool in dict.fromkeys(turn_tools.deferred)]
            if deferred:  # a second change in the same reply is not dropped in silence
                answer = f"{answer}\n{DEFERRED.format(what=' and '.join(deferred))}"
            answer = _with_refusals(answer, turn_tools)  # nor is one that was refused
            return Reply(answer, turn_tools.pending.tool, meta=meta), turn_tools.pending, [*new, AIMessage(answer)]
        if capped:  # writes only ever wait for a yes, so nothing was written
            answer = _with_refusals(CAPPED.format(calls=meter.calls), turn_tools)  # and the person hears what kept failing
            return Reply(answer, meta=meta), None, [AIMessage(answer)]
        answer = _final_text(new)
        if answer is None:
            answer = NO_ANSWER
            new.append(AIMessage(answer))
        elif new and new[-1].response_metadata.get("finish_reason") in CUT_OFF:
            answer = f"{answer}…\n{CUT_OFF[new[-1].response_metadata['finish_reason']]}"
        elif len(answer) > MAX_REPLY:  # a chat message is no place for a 50,000-character essay
            answer = f"{answer[:MAX_REPLY]}…\n{CUT_OFF['length']}"
        # the model may word a refused call as done ("Approved!", a balance it was not shown): the person hears the refusal
        return Reply(_with_refusals(answer, turn_tools), meta=meta), None, new

    def _invoke(self, agent: Any, messages: list[BaseMessage], config: dict[str, Any],
                abandoned: threading.Event) -> list[BaseMessage]:
        """Run the agent within the turn's time budget; a turn past it raises TurnTooSlow. The worker is told it was
        given up, so it makes no further model call (the one in flight ends at its timeout); writes only ever wait
        for a yes, so nothing it still does changes anything."""
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["messages"] = list(agent.invoke({"messages": messages}, config=config)["messages"])
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread below
                outcome["error"] = error

        worker = threading.Thread(target=work, name="llm-turn", daemon=True)
        worker.start()
        worker.join(self.limits.turn_seconds)
        if worker.is_alive():
            abandoned.set()
            raise TurnTooSlow(f"over {self.limits.turn_seconds:.0f} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["messages"]

    def _degraded(self, key: str, actor_id: int, text: str, now: datetime, said: HumanMessage, *, note: str | None,
                  pending: PendingWrite | None = None) -> tuple[Reply, PendingWrite | None, list[BaseMessage]]:
        reply = self.offline.handle(key=key, actor_id=actor_id, text=text, now=now)
        if note:
            reply.text = f"{reply.text}\n{render('degraded', reason=note)}"
        reply.meta["degraded"] = True
        if pending is not None:
            offline_open = run_in_transaction(self.session_factory, lambda s: self.offline.has_open_flow(
                s, key=key, actor_id=actor_id, now=now))
            if offline_open:
                pending = None  # the offline engine took the conversation on with its own read-back
            else:  # a change read back before the endpoint failed still waits for its yes
                reply.text = f"{reply.text}\n{words.STILL_WAITING}"
        return reply, pending, [said, AIMessage(reply.text)]

    def _system_prompt(self, person: _Person) -> str:
        return render("system", company="the company", name=person.name, email=person.email,
                      roles=", ".join(sorted(str(role) for role in person.roles)), timezone=person.timezone,
                      today=person.today.isoformat(), weekday=f"{person.today:%A}", policy_instructions=render("policy_answer"))


def _final_text(messages: list[BaseMessage]) -> str | None:
    """Return the last assistant text of the turn, if the model gave one."""
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            return None
        if isinstance(message, AIMessage) and not message.tool_calls and (text := message_text(message)):
            return text
    return None


def message_text(message: AIMessage) -> str:
    """Return what a model reply says to the person: its text, also when sent as a list of parts, without the
    <think> section of a reasoning model (Ollama's and vLLM's reasoning models put it in the content)."""
    content = message.content
    if isinstance(content, list):
        content = "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict)
                          and part.get("type", "text") == "text" else "" for part in content)
    return THINKING.sub("", content if isinstance(content, str) else "").strip()


def build_chat_model(settings: Settings, limits: AgentLimits) -> ChatOpenAI:
    """Return the chat model for any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp)."""
    # The client's own retries are off: RetryWithinTurn retries, and stops when the turn is given up.
    return ChatOpenAI(model=settings.llm_model or "gpt-4o-mini", base_url=settings.openai_base_url,
                      api_key=settings.openai_api_key or "not-needed", timeout=limits.timeout_seconds, max_retries=0)


def build_llm_engine(container: Container) -> LlmEngine:
    """Build the LLM engine from the container's settings, with its offline engine as the fallback."""
    settings = container.settings
    limits = AgentLimits(model_calls=settings.llm_max_model_calls, history_messages=settings.llm_history_messages,
                         timeout_seconds=settings.llm_timeout_seconds, max_retries=settings.llm_max_retries,
                         turn_seconds=settings.llm_turn_timeout_seconds)
    return LlmEngine(pipeline=container.pipeline, session_factory=container.session_factory,
                     model=build_chat_model(settings, limits), offline=container.offline_engine, limits=limits,
                     ttl=timedelta(minutes=settings.conversation_ttl_minutes))
