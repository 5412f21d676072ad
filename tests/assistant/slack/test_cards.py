"""Approval cards: the facts, the policy clause cited, the delegate's note; and the one error edge."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from waitress.server import create_server

from assistant.forms import FormField
from assistant.slack.app import build_app
from assistant.slack.ids import Callback
from assistant.slack.server import wsgi_application
from tests.assistant.slack.conftest import (RunningApp, card_for, confirmed_request, dm_event, leave_card, run_until_closed,
                                             wait_for)
from tests.assistant.slack.test_approval_flow import click
from tests.assistant.slack.test_forms import leave_values, submit, working_week


def test_the_card_cites_the_policy_clause_that_applies(slack_app: RunningApp, tmp_path: Path) -> None:
    policy = tmp_path / "leave.md"
    policy.write_text("# Leave\n\n## Approval\n\nAnnual leave requests are approved by your manager, who should answer "
                      "within two working days.\n", encoding="utf-8")
    slack_app.container.knowledge.base.add_file(policy, added_by="test")
    blocks = json.dumps(leave_card(slack_app, "7").args["blocks"])
    assert "approved by your manager" in blocks and "Leave &gt; Approval" in blocks
    assert "Working days" in blocks and "Balance after" in blocks


def test_a_card_routed_to_a_delegate_says_so(slack_app: RunningApp) -> None:
    company, pipeline = slack_app.company, slack_app.container.pipeline
    today = date.today()
    away = pipeline.run("request_leave", {"start_date": today.isoformat(), "end_date": (today + timedelta(days=7)).isoformat()},
                        actor_id=company.manager).data
    pipeline.run("decide_approval", {"approval_id": away["approval_id"], "decision": "approve"}, actor_id=company.ceo)
    confirmed_request(slack_app, "I need Jan 11 to Jan 12 off", "8")
    blocks = json.dumps(card_for(slack_app, "UCEO").args["blocks"])
    assert "Routed to you" in blocks and "on leave until" in blocks
    assert not [c for c in slack_app.slack.of("chat.postMessage") if c.args.get("channel") == "UMGR" and c.args.get("blocks")]


def test_an_expense_card_shows_the_amount_against_the_limit(slack_app: RunningApp) -> None:
    confirmed_request(slack_app, "claim $18.50 for lunch at Cafe Uno yesterday", "9")
    blocks = json.dumps(card_for(slack_app, "UMGR").args["blocks"])
    assert "18.50" in blocks and "Category limit" in blocks


class BrokenEngine:
    def handle(self, **_: Any) -> Any:
        raise RuntimeError("disk on fire")


def test_an_unexpected_fault_reaches_the_person_with_an_error_id(slack_app: RunningApp) -> None:
    app = build_app(slack_app.container, engine=BrokenEngine())
    server = create_server(wsgi_application(app, lambda: True), host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=run_until_closed, args=(server,), daemon=True).start()
    try:
        broken = RunningApp(f"http://127.0.0.1:{server.effective_port}", slack_app.slack, slack_app.container, slack_app.company)
        assert broken.event(dm_event("UREQ", "hello", "EvBroken"))[0] == 200
        update = wait_for(lambda: slack_app.slack.of("chat.update"))
        assert "error id" in update[0].args["text"] and "disk on fire" not in update[0].args["text"]
    finally:
        server.close()


def test_the_cards_notification_text_is_escaped_like_its_blocks(slack_app: RunningApp) -> None:
    values = {FormField.SYSTEM: "<!channel> <https://evil.example|GitHub> & co", FormField.ACCESS_LEVEL: ("select", "read"),
              FormField.JUSTIFICATION: "Code reviews"}
    assert submit(slack_app, Callback.ACCESS_FORM, values)[1] == {}
    text = card_for(slack_app, "UIT").args["text"]
    assert "<!channel>" not in text and "<https://" not in text and "&lt;!channel&gt;" in text and "&amp; co" in text


def test_a_card_closed_after_the_first_of_two_steps_says_who_approved_and_where_it_went(slack_app: RunningApp) -> None:
    start, _ = working_week()
    assert submit(slack_app, Callback.LEAVE_FORM, leave_values(start, start + timedelta(days=16)))[1] == {}  # HR as well
    card = card_for(slack_app, "UMGR")
    click(slack_app, card.args, "approval_approve", "UMGR")
    [closed] = wait_for(lambda: [c for c in slack_app.slack.of("chat.update") if c.args.get("text", "").startswith("Approval #")])
    assert "pending" not in closed.args["text"] and "approved for this step by Manager" in closed.args["text"]
    assert "next step is with" in closed.args["text"] and card_for(slack_app, "UHR")
