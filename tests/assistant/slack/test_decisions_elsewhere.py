"""A decision made anywhere (the chat, the CLI, another worker) closes its card and tells the requester, once."""

from __future__ import annotations

from tests.assistant.slack.conftest import RunningApp, dm_event, leave_card, wait_for
from tests.assistant.slack.test_approval_flow import approvals, leave_requests
from tests.conftest import NOW


def closed_cards(app: RunningApp) -> list:
    return [c for c in app.slack.of("chat.update") if c.args.get("text", "").startswith("Approval #")]


def told(app: RunningApp, user: str = "UREQ") -> list:
    return [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == user]


def test_a_decision_in_the_managers_dm_closes_the_card_and_tells_the_requester(slack_app: RunningApp) -> None:
    leave_card(slack_app, "8")
    [approval] = approvals(slack_app)
    slack_app.event(dm_event("UMGR", f"approve {approval.id}", "EvDecide1", ts="8.5"))
    wait_for(lambda: [c for c in slack_app.slack.of("chat.update") if "Shall I record it?" in c.args.get("text", "")])
    assert approvals(slack_app)[0].status == "pending"  # nothing before the yes
    slack_app.event(dm_event("UMGR", "yes", "EvDecide2", ts="8.6"))
    assert "was approved" in wait_for(lambda: told(slack_app))[0].args["text"]
    [closed] = wait_for(lambda: closed_cards(slack_app))
    assert closed.args["channel"] == "DMGR"  # the card, where it was posted to the manager
    assert "approval_approve" not in str(closed.args["blocks"]) and leave_requests(slack_app)[0].status == "approved"


def test_a_decision_made_outside_slack_is_settled_once_however_many_sweeps_run(slack_app: RunningApp) -> None:
    from assistant.engines import select_engine
    from assistant.slack.cards import settle_decisions
    from assistant.slack.deps import SlackDeps
    from slack_sdk import WebClient

    leave_card(slack_app, "9")
    [approval] = approvals(slack_app)
    slack_app.container.pipeline.run("decide_approval", {"approval_id": approval.id, "decision": "deny", "reason": "release week"},
                                     actor_id=slack_app.company.manager, now=NOW)  # e.g. `backoffice approvals deny`
    deps = SlackDeps(container=slack_app.container, engine=select_engine(slack_app.container))
    client = WebClient(token="xoxb-test", base_url=slack_app.slack.base_url)
    for _ in range(3):  # the card sweep of three replicas
        settle_decisions(deps, client)
    # The app's own listener may still be between posting the card and recording where it is (a card is closed
    # only once its place is known) or may have claimed the notice itself: keep sweeping, as the 30 s sweep
    # would, until both are done, then check there is exactly one of each.
    wait_for(lambda: settle_decisions(deps, client) or (told(slack_app) and closed_cards(slack_app)))
    [notice] = told(slack_app)
    assert "was denied" in notice.args["text"] and "release week" in notice.args["text"]
    [closed] = closed_cards(slack_app)
    assert "Denied" in str(closed.args["blocks"]) and "approval_approve" not in str(closed.args["blocks"])


def test_a_requester_who_never_wrote_to_the_bot_is_found_by_email_and_told(slack_app: RunningApp) -> None:
    from assistant.engines import select_engine
    from assistant.slack.cards import settle_decisions
    from assistant.slack.deps import SlackDeps
    from slack_sdk import WebClient
    from tools.db import transaction
    from tools.people.service import get_employee

    container, company = slack_app.container, slack_app.company
    # filed from the CLI (`backoffice leave request --as ...`) and decided there: the bot has never seen either person
    request = container.pipeline.run("request_leave", {"start_date": "2026-12-14", "end_date": "2026-12-18"},
                                     actor_id=company.requester, now=NOW)
    container.pipeline.run("decide_approval", {"approval_id": request.data["approval_id"], "decision": "approve"},
                           actor_id=company.manager, now=NOW)
    deps = SlackDeps(container=container, engine=select_engine(container))
    client = WebClient(token="xoxb-test", base_url=slack_app.slack.base_url)

    settle_decisions(deps, client)
    settle_decisions(deps, client)

    [notice] = told(slack_app)
    assert "was approved" in notice.args["text"]
    assert [c.args["email"] for c in slack_app.slack.of("users.lookupByEmail")] == [company.email("requester")]
    with transaction(container.session_factory) as session:
        assert get_employee(session, employee_id=company.requester).slack_user_id == "UREQ"  # remembered for next time
