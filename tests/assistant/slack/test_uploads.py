"""Policy files sent to the bot in a DM, over HTTP: downloaded from the fake Slack, ingested for admins only, reported."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.assistant.slack.conftest import RunningApp, dm_event, wait_for
from tools.audit.models import AuditRecord
from tools.db import transaction
from tools.expenses.models import ExpenseClaim

POLICY = b"""# Bicycle Policy

## Storage

Bicycles are stored in the basement bike room; the door code changes every quarter.
"""


def file_share(user: str, text: str, files: list[dict[str, Any]], event_id: str, *, channel_type: str = "im") -> dict[str, Any]:
    """Return a message event with subtype file_share in Slack's shape (see ../shared/data/slack_payloads)."""
    payload = dm_event(user, text, event_id, ts="1726133800.000200")
    payload["event"].update({"subtype": "file_share", "files": files, "upload": False, "display_as_bot": False,
                             "channel_type": channel_type})
    return payload


class CountingFiles(dict[str, bytes]):
    """The fake's downloadable files, remembering which were downloaded."""

    def __init__(self) -> None:
        super().__init__()
        self.downloaded: list[str] = []

    def __getitem__(self, path: str) -> bytes:
        self.downloaded.append(path)
        return super().__getitem__(path)


def replies_to(app: RunningApp, channel: str) -> list[str]:
    return [call.args.get("text", "") for call in app.slack.of("chat.postMessage") if call.args.get("channel") == channel]


def audit_actions(app: RunningApp) -> list[str]:
    with transaction(app.container.session_factory) as session:
        return [record.action for record in session.scalars(select(AuditRecord))]


def test_an_admins_policy_file_is_downloaded_ingested_and_reported(slack_app: RunningApp) -> None:
    app = slack_app
    app.slack.files = files = CountingFiles()
    shared = app.slack.share_file("bicycle-policy.md", POLICY)
    status, _ = app.event(file_share("UADM", "please add this to the policies", [shared], "EvUp1"))
    assert status == 200
    [reply] = wait_for(lambda: replies_to(app, "DUADM"))
    assert "bicycle-policy.md: added as `bicycle-policy`" in reply and "Added 1, replaced 0, unchanged 0, failed 0." in reply
    hits = app.container.knowledge.base.search("where do I keep my bike?", k=1)
    assert hits[0].doc_id == "bicycle-policy" and "basement" in hits[0].text
    assert "knowledge.added" in audit_actions(app) and files.downloaded == ["/files-pri/T111-F111/download/bicycle-policy.md"]
    assert [doc.added_by for doc in app.container.knowledge.base.list_documents()] == ["admin@example.com"]


def test_the_same_file_again_is_unchanged_and_a_new_version_replaces_it(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(file_share("UADM", "add this", [app.slack.share_file("bicycle-policy.md", POLICY)], "EvUp2"))
    wait_for(lambda: replies_to(app, "DUADM"))
    app.event(file_share("UADM", "add this", [app.slack.share_file("bicycle-policy.md", POLICY, file_id="F112")], "EvUp3"))
    unchanged = wait_for(lambda: replies_to(app, "DUADM")[1:])[0]
    assert "bicycle-policy.md: unchanged" in unchanged and "unchanged 1, failed 0" in unchanged
    newer = POLICY.replace(b"basement bike room", b"courtyard shelter")
    newer_file = app.slack.share_file("bicycle-policy.md", newer, file_id="F113")
    app.event(file_share("UADM", "replace the bicycle policy", [newer_file], "EvUp4"))
    replaced = wait_for(lambda: replies_to(app, "DUADM")[2:])[0]
    assert "replaced as `bicycle-policy`" in replaced
    assert "courtyard" in app.container.knowledge.base.search("where are bicycles stored?", k=1)[0].text


def test_a_non_admin_is_refused_and_nothing_is_downloaded_or_ingested(slack_app: RunningApp) -> None:
    app = slack_app
    app.slack.files = files = CountingFiles()
    shared = app.slack.share_file("bicycle-policy.md", POLICY)
    app.event(file_share("UMGR", "please add this to the policies", [shared], "EvUp5"))
    [reply] = wait_for(lambda: replies_to(app, "DUMGR"))
    assert "Only admins can add or replace policy documents" in reply and "bicycle-policy.md" in reply
    assert app.container.knowledge.base.list_documents() == []
    assert files.downloaded == [] and "knowledge.added" not in audit_actions(app)


def test_an_unsupported_file_is_reported_per_file_while_the_others_go_in(slack_app: RunningApp) -> None:
    app = slack_app
    files = [app.slack.share_file("logo.png", b"\x89PNG\r\n\x1a\n....", file_id="F1", mimetype="image/png"),
             app.slack.share_file("bicycle-policy.md", POLICY, file_id="F2")]
    app.event(file_share("UADM", "ingest these please", files, "EvUp6"))
    [reply] = wait_for(lambda: replies_to(app, "DUADM"))
    assert "logo.png: failed. logo.png: '.png' files are not supported" in reply
    assert "/tmp" not in reply and "backoffice-upload" not in reply  # the reason names the file, not the temporary copy
    assert "Added 1, replaced 0, unchanged 0, failed 1." in reply
    assert [doc.doc_id for doc in app.container.knowledge.base.list_documents()] == ["bicycle-policy"]
    assert not [path for path in app.slack.downloads if "logo" in path]  # refused by its name, never downloaded


def test_a_file_over_the_size_limit_is_reported_too_large(slack_app: RunningApp) -> None:
    app = slack_app
    app.container.knowledge.base.max_file_bytes = 64
    app.event(file_share("UADM", "add this to the policies", [app.slack.share_file("bicycle-policy.md", POLICY)], "EvUp7"))
    [reply] = wait_for(lambda: replies_to(app, "DUADM"))
    assert "bicycle-policy.md: failed. bicycle-policy.md is over the 64-byte limit" in reply
    assert app.container.knowledge.base.list_documents() == []


def test_a_file_without_an_instruction_gets_a_hint(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(file_share("UADM", "", [app.slack.share_file("bicycle-policy.md", POLICY)], "EvUp8"))
    [reply] = wait_for(lambda: replies_to(app, "DUADM"))
    assert "not sure what to do with it" in reply and "add this to the policies" in reply
    assert app.container.knowledge.base.list_documents() == []


def test_a_file_shared_in_a_channel_is_not_taken_and_a_plain_dm_still_gets_an_answer(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(file_share("UADM", "add this to the policies", [app.slack.share_file("bicycle-policy.md", POLICY)], "EvUp9",
                         channel_type="channel"))
    app.event(dm_event("UADM", "what is my leave balance?", "EvUp10", ts="2.1"))
    wait_for(lambda: [c for c in app.slack.of("chat.update") if "available" in c.args.get("text", "").lower()])
    assert not [text for text in replies_to(app, "DUADM") if "Policy documents" in text]
    assert app.container.knowledge.base.list_documents() == []


def test_an_unknown_sender_is_told_they_are_not_in_the_directory(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(file_share("UNOBODY", "add this", [app.slack.share_file("bicycle-policy.md", POLICY)], "EvUp11"))
    [reply] = wait_for(lambda: replies_to(app, "DUNOBODY"))
    assert "company directory" in reply


def test_an_admins_people_csv_updates_the_directory(slack_app: RunningApp) -> None:
    csv = (b"email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days\n"
           b"new.hire@example.com,New Hire,UNEW,manager@example.com,Engineering,employee,US,2026-12-01,25\n")
    shared = slack_app.slack.share_file("people.csv", csv, mimetype="text/csv")
    slack_app.event(file_share("UADM", "please update the people directory", [shared], "EvPeople1"))
    [reply] = wait_for(lambda: replies_to(slack_app, "DUADM"))
    assert reply == "People directory, from people.csv: created 1, updated 0, unchanged 0."
    assert "people.created" in audit_actions(slack_app)
    slack_app.slack.emails["UNEW"] = "new.hire@example.com"
    slack_app.event(dm_event("UNEW", "how many vacation days do I have left?", "EvPeople2", channel="DUNEW"))
    assert "25" in wait_for(lambda: [c.args["text"] for c in slack_app.slack.of("chat.update") if c.args.get("channel") == "DUNEW"])[0]


PNG = b"\x89PNG\r\n\x1a\n receipt photo"


def updates_in(app: RunningApp, channel: str) -> list[str]:
    return [call.args.get("text", "") for call in app.slack.of("chat.update") if call.args.get("channel") == channel]


def test_a_receipt_photo_in_a_dm_becomes_the_claims_receipt(slack_app: RunningApp) -> None:
    app = slack_app
    shared = app.slack.share_file("taxi.png", PNG)
    app.event(file_share("UREQ", "taxi to the airport, 45 EUR yesterday at City Cabs", [shared], "EvRc1"))
    [confirm] = wait_for(lambda: [text for text in updates_in(app, "DUREQ") if "Shall I submit it?" in text])
    assert confirm.startswith("Got your receipt.") and "45.00 EUR" in confirm and "with the receipt you sent" in confirm
    app.event(dm_event("UREQ", "yes", "EvRc2", ts="1726133801.000100"))
    wait_for(lambda: [text for text in updates_in(app, "DUREQ") if text.startswith("Expense claim #")])
    with transaction(app.container.session_factory) as session:
        [claim] = session.scalars(select(ExpenseClaim)).all()
    assert claim.merchant == "City Cabs" and claim.status == "pending_approval"
    assert (app.container.settings.backoffice_home / str(claim.receipt_path)).read_bytes() == PNG


def test_a_receipt_sent_after_the_refusal_completes_the_claim(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(dm_event("UREQ", "claim 84.50 USD for a client lunch at Cafe Lisboa yesterday", "EvRc3"))
    wait_for(lambda: [text for text in updates_in(app, "DUREQ") if "A receipt is required" in text])
    app.event(file_share("UREQ", "", [app.slack.share_file("lunch.pdf", b"%PDF-1.4 lunch")], "EvRc4"))
    [confirm] = wait_for(lambda: [text for text in updates_in(app, "DUREQ") if "Shall I submit it?" in text])
    assert "84.50 USD" in confirm and "Cafe Lisboa" in confirm and "with the receipt you sent" in confirm


def test_a_file_that_cannot_be_a_receipt_or_a_policy_for_this_person_is_explained(slack_app: RunningApp) -> None:
    app = slack_app
    app.event(file_share("UREQ", "taxi 45 EUR", [app.slack.share_file("a.png", PNG), app.slack.share_file("b.png", PNG)], "EvRc5"))
    [reply] = wait_for(lambda: [text for text in updates_in(app, "DUREQ") if "one receipt per message" in text])
    assert "nothing was filed" in reply
    app.event(file_share("UREQ", "please add this to the policies", [app.slack.share_file("rules.pdf", b"%PDF-1.4")], "EvRc6"))
    wait_for(lambda: [text for text in replies_to(app, "DUREQ") if "Only admins can add or replace policy documents" in text])
    with transaction(app.container.session_factory) as session:
        assert session.scalars(select(ExpenseClaim)).all() == []


def test_a_file_share_without_its_files_is_answered_as_a_message(slack_app: RunningApp) -> None:
    app = slack_app
    event = file_share("UREQ", "what is my leave balance?", [], "EvUpNoFiles")
    event["event"]["files"] = None  # Slack left the files out
    app.event(event)
    wait_for(lambda: [c for c in app.slack.of("chat.update") if "available" in c.args.get("text", "").lower()])
    assert not [text for text in replies_to(app, "DUREQ") if "admins" in text.lower()]
