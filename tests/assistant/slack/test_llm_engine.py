"""The Slack App on the LLM engine: a DM answered by the model, a write read back and run on yes, then the card."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from waitress.server import create_server

from assistant.eval.scripted_server import ScriptedOpenAI, Text, ToolCalls
from assistant.slack.app import build_app
from assistant.slack.server import wsgi_application
from tests.assistant.agent.test_engine import engine_for
from tests.assistant.slack.conftest import RunningApp, dm_event, run_until_closed, wait_for


@pytest.fixture
def llm_app(slack_app: RunningApp) -> Iterator[tuple[RunningApp, ScriptedOpenAI]]:
    with ScriptedOpenAI() as model:
        app = build_app(slack_app.container, engine=engine_for(slack_app.container, model.base_url))
        server = create_server(wsgi_application(app, lambda: True), host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=run_until_closed, args=(server,), daemon=True).start()
        try:
            yield RunningApp(f"http://127.0.0.1:{server.effective_port}", slack_app.slack, slack_app.container,
                             slack_app.company), model
        finally:
            server.close()


def test_a_dm_through_the_llm_engine_to_the_approval_card(llm_app: tuple[RunningApp, ScriptedOpenAI]) -> None:
    app, model = llm_app
    model.queue(ToolCalls((("get_leave_balance", {}),)), Text("You have 25 days of annual leave."),
                ToolCalls((("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"}),)))
    app.event(dm_event("UREQ", "how many days off do I have?", "EvL1", ts="11.1"))
    assert "25 days of annual leave" in wait_for(lambda: app.slack.of("chat.update"))[0].args["text"]
    app.event(dm_event("UREQ", "book Dec 14-18 off please", "EvL2", ts="11.2"))
    confirm = wait_for(lambda: [c for c in app.slack.of("chat.update") if "Shall I submit" in c.args.get("text", "")])
    assert "5 working days" in confirm[0].args["text"]
    app.event(dm_event("UREQ", "yes", "EvL3", ts="11.3"))
    card = wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR"])
    assert card and len(model.requests) == 3  # the yes ran the stored call without the model
