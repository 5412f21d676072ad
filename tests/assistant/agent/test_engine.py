"""The LLM engine over real HTTP: the real openai client and ChatOpenAI against a scripted local endpoint."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.agent.engine import AgentLimits, LlmEngine, build_chat_model, build_llm_engine
from assistant.container import Container, build_container
from assistant.dialogue import words
from assistant.dialogue.reply import Reply
from assistant.engines import select_engine
from assistant.eval.scripted_server import Hang, Raw, ScriptedOpenAI, Status, Text, ToolCalls
from tests.builders import Company, make_company
from tests.conftest import NOW, make_settings
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.leave.models import LeaveRequest

LEAVE_CALL = ToolCalls((("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18", "leave_type": "annual"}),))


def engine_for(container: Container, base_url: str, **limits: Any) -> LlmEngine:
    settings = container.settings.model_copy(update={"openai_base_url": base_url, "openai_api_key": "test", "llm_model": "scripted"})
    chosen = AgentLimits(**{"timeout_seconds": 2.0, "max_retries": 0, **limits})
    return LlmEngine(pipeline=container.pipeline, session_factory=container.session_factory,
                     model=build_chat_model(settings, chosen), offline=container.offline_engine, limits=chosen)


def say(engine: LlmEngine, actor: int, text: str, key: str = "test:llm") -> Reply:
    return engine.handle(key=key, actor_id=actor, text=text, now=NOW)


def leave_rows(container: Container) -> list[LeaveRequest]:
    with transaction(container.session_factory) as session:
        return list(session.scalars(select(LeaveRequest).order_by(LeaveRequest.id)))


def audit_count(container: Container) -> int:
    with transaction(container.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [message["content"] for message in request["messages"] if message["role"] == "tool"]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_auto_engine_is_the_llm_when_an_endpoint_is_configured(container: Container, server: ScriptedOpenAI) -> None:
    assert select_engine(container) is container.offline_engine
    configured = build_container(make_settings(container.settings.resolved_database_url, container.settings.backoffice_home,
                                               OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="k"))
    try:
        assert isinstance(select_engine(configured), LlmEngine)
        assert select_engine(configured, "offline") is configured.offline_engine
        assert isinstance(build_llm_engine(configured), LlmEngine)
    finally:
        configured.close()


def test_a_read_tool_runs_and_the_model_answers_with_it(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("get_leave_balance", {}),)), Text("You have 25 days of annual leave left."))
    reply = say(engine_for(container, server.base_url), company.requester, "how many days off do I have?")
    assert reply.text == "You have 25 days of annual leave left." and not reply.wrote
    [first, second] = server.requests
    assert "Requester" in first["messages"][0]["content"] and "2026-11-27" in first["messages"][0]["content"]
    assert "25" in tool_messages(second)[0]
    assert reply.meta["model_calls"] == 2 and reply.meta["prompt_tokens"] > 0 and reply.meta["completion_tokens"] > 0


def test_a_write_is_read_back_and_runs_only_after_yes(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL)
    before = audit_count(container)
    confirm = say(engine, company.requester, "book me Dec 14 to 18 off")
    assert "5 working days" in confirm.text and "20 days left" in confirm.text and "Manager" in confirm.text
    assert leave_rows(container) == [] and audit_count(container) == before and len(server.requests) == 1
    done = say(engine, company.requester, "yes")
    assert done.wrote and len(server.requests) == 1  # the yes runs the stored call without the model
    [request] = leave_rows(container)
    assert request.status == "pending" and request.employee_id == company.requester


def test_a_correction_replaces_the_pending_write(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL, ToolCalls((("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-16"}),)))
    say(engine, company.requester, "book me Dec 14 to 18 off")
    assert "3 working days" in say(engine, company.requester, "actually only until the 16th").text
    assert say(engine, company.requester, "yes").wrote
    [request] = leave_rows(container)
    assert request.end_date.isoformat() == "2026-12-16"
    assert any("NOT DONE YET" in content for content in tool_messages(server.requests[1]))  # the model saw the earlier read-back


@pytest.mark.parametrize("answer", ["no", "cancel"])
def test_no_or_cancel_drops_the_pending_write(container: Container, company: Company, server: ScriptedOpenAI, answer: str) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL)
    say(engine, company.requester, "book me Dec 14 to 18 off")
    assert "nothing was submitted" in say(engine, company.requester, answer).text.lower()
    assert leave_rows(container) == []


@pytest.mark.parametrize("answer", ["no", "no thanks", "never mind"])
def test_a_no_with_nothing_waiting_answers_the_models_own_question(container: Container, company: Company,
                                                                   server: ScriptedOpenAI, answer: str) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(Text("Sure. Is it a half day?"), Text("Then it's the whole day. Which date?"))
    say(engine, company.requester, "I want a day off")
    assert say(engine, company.requester, answer).text == "Then it's the whole day. Which date?"
    assert len(server.requests) == 2 and server.requests[1]["messages"][-1]["content"] == answer


@pytest.mark.parametrize("answer", ["yes, go ahead", "Yes please, submit it!", "ok thanks", "yes, thank you"])
def test_a_yes_with_a_few_more_words_is_a_yes(container: Container, company: Company, server: ScriptedOpenAI,
                                              answer: str) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL)
    say(engine, company.requester, "book me Dec 14 to 18 off")
    assert say(engine, company.requester, answer).wrote and len(server.requests) == 1


def test_a_question_while_a_write_waits_keeps_it_waiting(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL, Text("Done! It has been submitted."))  # a model that words a waiting change as done
    say(engine, company.requester, "book me Dec 14 to 18 off")
    answer = say(engine, company.requester, "and how many days will I have left after that?").text
    assert answer.endswith(words.STILL_WAITING) and leave_rows(container) == []
    assert say(engine, company.requester, "yes").wrote and len(leave_rows(container)) == 1


def test_a_write_read_back_before_the_endpoint_failed_still_waits_for_its_yes(container: Container, company: Company,
                                                                               server: ScriptedOpenAI) -> None:
    engine = engine_for(container, server.base_url)
    server.queue(LEAVE_CALL, Status(500))
    say(engine, company.requester, "book me Dec 14 to 18 off")
    degraded = say(engine, company.requester, "hmm, let me think")
    assert degraded.meta["degraded"] and degraded.text.endswith(words.STILL_WAITING)
    assert say(engine, company.requester, "yes").wrote
    [request] = leave_rows(container)
    assert request.end_date.isoformat() == "2026-12-18"


def test_a_turn_given_up_makes_no_further_call_to_the_endpoint(container: Container, company: Company,
                                                                server: ScriptedOpenAI) -> None:
    server.queue(Hang(2.0), Text("a retry of the abandoned turn would take this"))
    engine = engine_for(container, server.base_url, timeout_seconds=1.0, max_retries=2, turn_seconds=0.5)
    assert say(engine, company.requester, "how many vacation days do I have left?").meta["degraded"]
    time.sleep(2.5)  # past the hung call's timeout, when a retry would have gone out
    assert len(server.requests) == 1


def test_a_refused_preview_goes_back_to_the_model(container: Container, server: ScriptedOpenAI) -> None:
    from decimal import Decimal

    company = make_company(container, annual_leave_days=Decimal("2"))
    server.queue(LEAVE_CALL, Text("You don't have enough annual leave for that: 2 days are left."))
    reply = say(engine_for(container, server.base_url), company.requester, "book me Dec 14 to 18 off")
    assert "enough annual leave" in reply.text
    assert "REFUSED" in tool_messages(server.requests[1])[0] and leave_rows(container) == []


def test_memory_survives_a_restart_and_is_sent_to_the_model(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(Text("Hello! How can I help?"), Text("You asked about your days off."))
    say(engine_for(container, server.base_url), company.requester, "hi, I'm wondering about days off")
    restarted = build_container(container.settings)
    try:
        say(engine_for(restarted, server.base_url), company.requester, "what did I just ask?")
    finally:
        restarted.close()
    contents = [message.get("content") for message in server.requests[1]["messages"]]
    assert "hi, I'm wondering about days off" in contents and "Hello! How can I help?" in contents


def test_history_is_bounded(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    engine = engine_for(container, server.base_url, history_messages=4)
    for number in range(5):
        server.queue(Text(f"answer {number}"))
        say(engine, company.requester, f"question {number}")
    last = server.requests[-1]["messages"]
    assert len(last) <= 1 + 4 + 1 and "question 0" not in json.dumps(last)


def test_a_429_is_retried_with_backoff(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(Status(429, retry_after=0.0), Text("Hi there."))
    reply = say(engine_for(container, server.base_url, max_retries=2), company.requester, "hello")
    assert reply.text == "Hi there." and len(server.requests) == 2 and not reply.meta.get("degraded")


@pytest.mark.parametrize("failure", [Status(500), Status(429), Hang(3.0)], ids=["500", "429", "hang"])
def test_endpoint_failure_degrades_to_the_offline_engine(container: Container, company: Company, server: ScriptedOpenAI,
                                                         failure: Any) -> None:
    server.queue(failure)
    engine = engine_for(container, server.base_url, timeout_seconds=0.5)
    reply = say(engine, company.requester, "I need Dec 14 to Dec 18 off")
    assert reply.meta["degraded"] and "5 working days" in reply.text and "unavailable" in reply.text
    server.queue(Text("the model is back, but the offline flow finishes first"))
    assert say(engine, company.requester, "yes").wrote  # the open offline flow completes, whatever the endpoint does
    assert len(leave_rows(container)) == 1


def completion(message: dict[str, Any]) -> Raw:
    """A chat completion as an endpoint might send it, written out by hand."""
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
    return Raw(json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}))


@pytest.mark.parametrize("content", [
    "<think>The user greets me. I should greet back.</think>\n\nHello! How can I help?",  # a reasoning model's content
    [{"type": "text", "text": "Hello! "}, {"type": "text", "text": "How can I help?"}],  # content sent as parts
], ids=["think", "parts"])
def test_the_persons_answer_is_the_text_without_the_models_reasoning(container: Container, company: Company,
                                                                     server: ScriptedOpenAI, content: Any) -> None:
    server.queue(completion({"content": content}))
    reply = say(engine_for(container, server.base_url), company.requester, "hello")
    assert reply.text == "Hello! How can I help?" and not reply.meta.get("degraded")


BROKEN_ARGUMENTS = completion({"content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "request_leave", "arguments": '{"start_date": "2026-12-14", '}}]})


@pytest.mark.parametrize("unusable", [
    Raw("<html>not an API</html>"),  # a proxy's page, sent as 200
    Raw('{"object": "chat.completion"}'),  # no choices
    BROKEN_ARGUMENTS,  # tool-call arguments that are not JSON
    completion({"content": "  "}),  # nothing to say
])
def test_a_reply_that_cannot_be_used_is_answered_by_the_offline_engine(container: Container, company: Company,
                                                                        server: ScriptedOpenAI, unusable: Raw) -> None:
    server.queue(unusable)
    before = audit_count(container)
    reply = say(engine_for(container, server.base_url), company.requester, "how many vacation days do I have left?")
    assert reply.meta["degraded"] and "25 days available" in reply.text and "could not be used" in reply.text
    assert "error id" not in reply.text and audit_count(container) == before and len(server.requests) == 1


def test_a_reply_without_usage_still_answers(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(completion({"content": "You have 25 days left."}))
    reply = say(engine_for(container, server.base_url), company.requester, "how many vacation days do I have left?")
    assert reply.text == "You have 25 days left." and reply.meta["prompt_tokens"] == 0 and not reply.meta.get("degraded")


def test_endpoint_down_degrades(container: Container, company: Company) -> None:
    engine = engine_for(container, closed_port_url())
    reply = say(engine, company.requester, "how many vacation days do I have left?")
    assert reply.meta["degraded"] and "25 days available" in reply.text


@pytest.mark.parametrize("model_calls", [3, AgentLimits().model_calls])
def test_model_calls_per_turn_are_capped_with_a_reason(container: Container, company: Company, server: ScriptedOpenAI,
                                                       model_calls: int) -> None:
    server.queue(*[ToolCalls((("get_leave_balance", {}),))] * 20)
    before = audit_count(container)
    reply = say(engine_for(container, server.base_url, model_calls=model_calls), company.requester, "loop forever")
    assert len(server.requests) == model_calls and not reply.wrote and audit_count(container) == before
    assert reply.text.startswith(f"Sorry, I stopped after {model_calls} steps") and "nothing was changed" in reply.text
    assert reply.meta["capped"] is True and "error id" not in reply.text


def test_empty_message_needs_no_model(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    assert "didn't get any text" in say(engine_for(container, server.base_url), company.requester, "   ").text
    assert server.requests == []


def test_chat_uses_the_llm_engine_when_an_endpoint_is_configured(container: Container, company: Company, server: ScriptedOpenAI,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.chdir(container.settings.backoffice_home.parent)  # keep a developer's .env out of the settings
    server.queue(ToolCalls((("get_leave_balance", {}),)), Text("You have 25 days left, says the model."))
    env = {"BACKOFFICE_HOME": str(container.settings.backoffice_home), "DATABASE_URL": container.settings.resolved_database_url,
           "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k", "BACKOFFICE_LLM_MODEL": "scripted", "BACKOFFICE_ENGINE": None}
    result = CliRunner().invoke(app, ["chat", "--as", "requester@example.com", "--json"], env=env, input="how many days off?\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["reply"] == "You have 25 days left, says the model."
    server.queue(Text("\x1b[2J\x1b[31mYou have 25 days left.\x1b[0m"))  # the terminal is not the model's to clear or paint
    result = CliRunner().invoke(app, ["chat", "--as", "requester@example.com"], env=env, input="and now?\n")
    assert "You have 25 days left." in result.stdout and "\x1b" not in result.stdout


def test_tool_calls_without_ids_are_still_answered(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(completion({"content": None, "tool_calls": [
        {"type": "function", "function": {"name": "get_leave_balance", "arguments": "{}"}}]}),  # no "id", as some servers send
        Text("You have 25 days left."))
    reply = say(engine_for(container, server.base_url), company.requester, "how many vacation days do I have left?")
    assert reply.text == "You have 25 days left." and not reply.meta.get("degraded")
    call = server.requests[1]["messages"][-2]["tool_calls"][0]
    assert call["id"] and server.requests[1]["messages"][-1]["tool_call_id"] == call["id"]  # the result names its call


def test_two_tool_calls_with_one_id_get_an_id_each(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(completion({"content": None, "tool_calls": [
        {"id": "dup", "type": "function", "function": {"name": "get_leave_balance", "arguments": "{}"}},
        {"id": "dup", "type": "function", "function": {"name": "list_my_tickets", "arguments": "{}"}}]}),
        Text("Here you are."))
    reply = say(engine_for(container, server.base_url), company.requester, "my balance and my tickets please")
    assert reply.text == "Here you are."
    ids = [call["id"] for call in server.requests[1]["messages"][-3]["tool_calls"]]
    answered = [message["tool_call_id"] for message in server.requests[1]["messages"] if message["role"] == "tool"]
    assert len(set(ids)) == 2 and answered == ids  # each result names its own call


def test_a_turn_past_its_time_budget_is_answered_by_the_offline_engine(container: Container, company: Company,
                                                                       server: ScriptedOpenAI) -> None:
    server.queue(Hang(3.0))  # within the call's timeout (and its retries would go on), past the turn's budget
    engine = engine_for(container, server.base_url, timeout_seconds=5.0, max_retries=2, turn_seconds=1.0)
    started = time.perf_counter()
    reply = say(engine, company.requester, "how many vacation days do I have left?")
    assert time.perf_counter() - started < 2.5
    assert reply.meta["degraded"] and "25 days available" in reply.text and "took too long" in reply.text


def test_a_second_write_in_the_same_reply_is_named_not_dropped(container: Container, company: Company,
                                                               server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18", "leave_type": "annual"}),
                            ("create_ticket", {"summary": "Laptop fan is loud"}))))
    reply = say(engine_for(container, server.base_url), company.requester, "book dec 14-18 off and open a ticket for my fan")
    assert "5 working days" in reply.text and "after this, ask me again for the ticket" in reply.text
    assert say(engine_for(container, server.base_url), company.requester, "yes").wrote  # the leave waited for its yes
    assert len(leave_rows(container)) == 1


@pytest.mark.parametrize(("reason", "note"), [("length", "cut short"), ("content_filter", "content filter")])
def test_an_answer_cut_part_way_says_so(container: Container, company: Company, server: ScriptedOpenAI, reason: str,
                                        note: str) -> None:
    cut = {"index": 0, "message": {"role": "assistant", "content": "You can carry over up to"}, "finish_reason": reason}
    server.queue(Raw(json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": [cut]})))
    reply = say(engine_for(container, server.base_url), company.requester, "how much leave can I carry over?")
    assert reply.text.startswith("You can carry over up to…") and note in reply.text


def test_an_endless_answer_is_cut_to_a_chat_message(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    from assistant.agent.engine import MAX_REPLY

    server.queue(Text("Leave rules. " * 5000))
    reply = say(engine_for(container, server.base_url), company.requester, "tell me everything about leave")
    assert len(reply.text) < MAX_REPLY + 100 and "cut short" in reply.text


def test_a_refused_write_beside_a_parked_one_is_told(container: Container, company: Company, server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("request_leave", {"start_date": "2026-12-18", "end_date": "2026-12-14", "leave_type": "annual"}),
                            ("create_ticket", {"summary": "Laptop fan is loud"}))))
    reply = say(engine_for(container, server.base_url), company.requester, "book dec 18 to 14 off and open a ticket for my fan")
    assert "Shall I open it?" in reply.text and "(Not done:" in reply.text and "before" in reply.text


def test_a_write_that_would_wait_is_still_checked_so_its_refusal_is_told(container: Container, company: Company) -> None:
    from assistant.agent.tools import TurnTools
    from tools.people.models import Employee

    with transaction(container.session_factory) as session:
        roles = frozenset(session.get(Employee, company.requester).roles)
    turn = TurnTools(container.pipeline, company.requester, roles, NOW)
    registry = container.pipeline.registry
    assert turn.call(registry["create_ticket"], {"summary": "Laptop fan is loud"}).startswith("NOT DONE YET")
    refusal = turn.call(registry["request_leave"], {"start_date": "2026-12-18", "end_date": "2026-12-14", "leave_type": "annual"})
    assert refusal.startswith("REFUSED") and "before" in refusal  # why, not "one change at a time"
    assert turn.refused and not turn.deferred and turn.pending is not None and turn.pending.tool == "create_ticket"


def test_a_denial_without_a_reason_is_refused_to_the_model_with_the_reason_why(container: Container, company: Company,
                                                                               server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("decide_approval", {"approval_id": 1, "decision": "deny"}),)), Text("Why do you deny it?"))
    say(engine_for(container, server.base_url), company.manager, "deny approval 1")
    assert "reason is required when denying" in tool_messages(server.requests[1])[0]
