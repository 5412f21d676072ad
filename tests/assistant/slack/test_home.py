"""The App Home over HTTP: published on app_home_opened with the person's own data, the approval queue and the policies."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.assistant.slack.conftest import RunningApp, wait_for
from tools.approvals.models import Approval
from tools.db import transaction

POLICY = """# Bicycle Policy

## Storage

Bicycles are stored in the basement bike room; the door code changes every quarter.
"""


def home_opened(user: str, event_id: str, *, tab: str = "home") -> dict[str, Any]:
    """Return an app_home_opened event in Slack's shape."""
    return {"token": "verification_token", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
            "event_id": event_id, "event_time": 1726133700,
            "authorizations": [{"team_id": "T111", "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
            "event": {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": tab,
                      "event_ts": "1726133700.000300"}}


def published_for(app: RunningApp, user: str) -> list[dict[str, Any]]:
    return [call.args["view"] for call in app.slack.of("views.publish") if call.args.get("user_id") == user]


def open_home(app: RunningApp, user: str, event_id: str) -> dict[str, Any]:
    """Open the Home tab as `user` and return the view published for them."""
    before = len(published_for(app, user))
    status, _ = app.event(home_opened(user, event_id))
    assert status == 200
    return wait_for(lambda: published_for(app, user)[before:])[0]


def request_leave(app: RunningApp) -> dict[str, Any]:
    """File a leave request as the requester, a few weeks ahead; return the pipeline's data (approval_id, working_days...)."""
    monday = date.today() + timedelta(days=28 - date.today().weekday())
    return app.container.pipeline.run("request_leave", {"start_date": monday.isoformat(),
                                                        "end_date": (monday + timedelta(days=2)).isoformat()},
                                      actor_id=app.company.requester).data


def approval_status(app: RunningApp, approval_id: int) -> str:
    with transaction(app.container.session_factory) as session:
        return session.get(Approval, approval_id).status  # type: ignore[union-attr]


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in view["blocks"] if block["type"] == "actions" for element in block["elements"]]


def test_the_requester_sees_their_balance_and_open_request(slack_app: RunningApp) -> None:
    app = slack_app
    request = request_leave(app)
    view = open_home(app, "UREQ", "EvH1")
    text = json.dumps(view)
    days, left = request["working_days"], request["balance_after"]
    assert view["type"] == "home" and "Hi Requester" in text
    assert "Leave balance" in text and f"*Annual*\\n{left} days available ({days} reserved)" in text
    line = f"#{request['request_id']} annual {request['start_date']} to {request['end_date']}, {days} working days"
    assert f"{line}: waiting for approval" in text
    assert "No open expense claims" in text and "No open tickets" in text
    assert buttons(view) == [] and "Knowledge base" not in text


def test_a_manager_decides_from_the_home_and_the_cards_listener_takes_the_click(slack_app: RunningApp) -> None:
    app = slack_app
    approval_id = request_leave(app)["approval_id"]
    view = open_home(app, "UMGR", "EvH2")
    approve, deny = buttons(view)
    assert (approve["action_id"], deny["action_id"]) == ("approval_approve", "approval_deny")
    assert json.loads(approve["value"]) == {"approval_id": approval_id, "step": 1} and deny["value"] == approve["value"]
    assert "Waiting for your decision (1)" in json.dumps(view) and "Requester" in json.dumps(view)
    assert "Who is off in the next two weeks" in json.dumps(view)  # a manager's section

    click = {"type": "block_actions", "user": {"id": "UMGR"}, "api_app_id": "A111", "token": "verification_token",
             "team": {"id": "T111"}, "trigger_id": "111.222.valid", "container": {"type": "view", "view_id": "V1"},
             "view": {"id": "V1", "type": "home"},
             "actions": [{"action_id": "approval_approve", "block_id": "b", "value": approve["value"], "type": "button"}]}
    published = len(app.slack.of("views.publish"))
    assert app.interaction(click)[0] == 200
    assert wait_for(lambda: approval_status(app, approval_id) == "approved")
    refreshed = wait_for(lambda: app.slack.of("views.publish")[published:])  # the Home refreshes after the click
    assert buttons(refreshed[-1].args["view"]) == []


def test_an_admin_sees_the_knowledge_base_status(slack_app: RunningApp, tmp_path: Path) -> None:
    app = slack_app
    empty = json.dumps(open_home(app, "UADM", "EvH4"))
    assert "Knowledge base" in empty and "0 documents" in empty and "No policy documents yet" in empty
    source = tmp_path / "bicycle-policy.md"
    source.write_text(POLICY, encoding="utf-8")
    app.container.knowledge.base.add_file(source, added_by="admin@example.com")
    text = json.dumps(open_home(app, "UADM", "EvH5"))
    assert "1 document, 1 passage, last updated" in text and "`bicycle-policy` Bicycle Policy" in text


def test_an_unknown_person_gets_a_home_saying_they_are_not_in_the_directory(slack_app: RunningApp) -> None:
    app = slack_app
    text = json.dumps(open_home(app, "UNOBODY", "EvH6"))
    assert "company directory" in text and "Leave balance" not in text


def test_the_messages_tab_publishes_nothing(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(home_opened("UREQ", "EvH7", tab="messages"))
    open_home(app, "UCOL", "EvH8")  # handled after the first event, so the first had its chance
    assert published_for(app, "UREQ") == []


def ticket_status(app: RunningApp, ticket_id: int) -> tuple[str, int | None]:
    from tools.helpdesk.models import Ticket

    with transaction(app.container.session_factory) as session:
        ticket = session.get(Ticket, ticket_id)
        return ticket.status, ticket.assignee_id  # type: ignore[union-attr]


def home_click(user: str, action_id: str, value: str) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": user}, "api_app_id": "A111", "token": "verification_token",
            "team": {"id": "T111"}, "trigger_id": "111.222.valid", "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home"},
            "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button"}]}


def test_it_takes_and_resolves_a_ticket_from_the_home_and_the_requester_is_told(slack_app: RunningApp) -> None:
    app = slack_app
    ticket = app.container.pipeline.run("create_ticket", {"summary": "Docking station dead", "priority": "high"},
                                        actor_id=app.company.requester).data["ticket_id"]
    view = open_home(app, "UIT", "EvH9")
    assert "IT queue (1 open)" in json.dumps(view)
    take, resolve = buttons(view)
    assert (take["action_id"], resolve["action_id"]) == ("ticket_take", "ticket_resolve")
    assert buttons(open_home(app, "UREQ", "EvH10")) == []  # the requester has no queue, and no buttons
    # someone who is not IT clicking a (replayed) Take changes nothing and is told why
    assert app.interaction(home_click("UFIN", "ticket_take", take["value"]))[0] == 200
    assert wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if "not allowed to see ticket" in c.args.get("text", "")])
    assert ticket_status(app, ticket) == ("new", None)

    assert app.interaction(home_click("UIT", "ticket_take", take["value"]))[0] == 200
    assert wait_for(lambda: ticket_status(app, ticket) == ("open", app.company.it))
    assert app.interaction(home_click("UIT", "ticket_resolve", resolve["value"]))[0] == 200
    assert wait_for(lambda: ticket_status(app, ticket)[0] == "resolved")
    told = wait_for(lambda: [c for c in app.slack.of("chat.postMessage")
                             if c.args.get("channel") == "UREQ" and f"ticket #{ticket}" in c.args.get("text", "")])
    assert "was resolved by It" in told[0].args["text"]
    assert app.interaction(home_click("UIT", "ticket_resolve", resolve["value"]))[0] == 200  # a second click: no change
    assert wait_for(lambda: [c for c in app.slack.of("chat.postMessage") if "already resolved" in c.args.get("text", "")])
    assert len([c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == "UREQ"
                and f"ticket #{ticket}" in c.args.get("text", "")]) == 1  # told once
