"""An approver with no Slack account gets no card; the requester is told once, and the card follows a later link."""

from __future__ import annotations

from slack_sdk import WebClient

from assistant.engines import select_engine
from assistant.slack.cards import deliver_cards
from assistant.slack.deps import SlackDeps
from tests.assistant.slack.conftest import RunningApp, card_for, confirmed_request, dm_event, wait_for
from tests.assistant.slack.test_approval_flow import approvals


def told(app: RunningApp, user: str = "UREQ") -> list:
    return [c for c in app.slack.of("chat.postMessage") if c.args.get("channel") == user and "waiting for" in c.args.get("text", "")]


def lookups(app: RunningApp, email: str) -> int:
    return len([c for c in app.slack.of("users.lookupByEmail") if c.args.get("email") == email])


def sweep(app: RunningApp) -> int:
    """One round of the card sweep that `backoffice serve` runs every half minute."""
    deps = SlackDeps(container=app.container, engine=select_engine(app.container))
    return deliver_cards(deps, WebClient(token="xoxb-test", base_url=app.slack.base_url))


def test_the_requester_learns_once_that_the_approver_has_no_slack_account(slack_app: RunningApp) -> None:
    manager_email = slack_app.company.email("manager")
    del slack_app.slack.emails["UMGR"]  # the manager is not in the workspace
    confirmed_request(slack_app, "I need Dec 14 to Dec 18 off", "31")
    [notice] = wait_for(lambda: told(slack_app))
    [approval] = approvals(slack_app)
    assert approval.status == "pending"  # the request stands; only the card could not go out
    assert f"approval #{approval.id}" in notice.args["text"] and "could not send them the approval card" in notice.args["text"]
    assert lookups(slack_app, manager_email) == 1

    for _ in range(3):  # later sweeps neither tell again nor look the manager up again
        assert sweep(slack_app) == 0
    assert len(told(slack_app)) == 1 and lookups(slack_app, manager_email) == 1

    slack_app.slack.emails["UMGR"] = manager_email  # the manager joins and writes to the bot: their account is linked
    slack_app.event(dm_event("UMGR", "hi", "EvStrandedHi", ts="31.9"))
    card = card_for(slack_app, "UMGR")
    assert str(approval.id) in str(card.args["blocks"]) and len(told(slack_app)) == 1


def test_a_lookup_slack_cannot_answer_is_not_taken_for_a_missing_account(slack_app: RunningApp) -> None:
    manager_email = slack_app.company.email("manager")
    slack_app.slack.failing.add("users.lookupByEmail")  # Slack answers an error that says nothing about the person
    confirmed_request(slack_app, "I need Dec 14 to Dec 18 off", "32")
    wait_for(lambda: lookups(slack_app, manager_email))
    assert sweep(slack_app) == 0 and not told(slack_app)  # no card, and no false "has no Slack account"

    slack_app.slack.failing.discard("users.lookupByEmail")
    sweep(slack_app)  # the next round finds the manager and sends the card
    assert card_for(slack_app, "UMGR") and not told(slack_app)
