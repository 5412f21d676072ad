"""What each transactional intent needs, how it asks, and how it reads the facts back before writing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.nlu.slot_access import access_request, read_access_slots
from assistant.nlu.slot_comment import comment_request, read_comment_slots
from assistant.nlu.slot_decision import decision_request, read_decision_slots
from tools.numbers import day_count

Slots = dict[str, str]


@dataclass(frozen=True)
class Pick:
    """How to fill a flow's first slot when the person did not give it: offer their candidates from a read tool."""

    tool: str
    # (tool data, today, slots said so far) -> (slot value, label); the slots narrow it down ("my sick day")
    candidates: Callable[[dict[str, Any], date, Slots], list[tuple[str, str]]]
    question: str  # asked before the listed candidates
    none: str  # said when there is nothing to choose from
    none_matching: str = ""  # said when there are candidates, but none fits what the person described


@dataclass(frozen=True)
class Flow:
    """A write that needs slots filled and a confirmation: the tool, its preview and the questions to ask."""

    intent: str
    tool: str
    required: tuple[str, ...]
    questions: dict[str, str]
    build_args: Callable[[Slots], dict[str, Any]]
    confirm_text: Callable[[Slots, dict[str, Any]], str]
    preview_tool: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    # A flow that serves only some messages of its intent (an access request among tickets) names itself and says
    # which messages it claims, and reads its own slots (text, slot being asked) instead of the router's.
    name: str = ""
    claims: Callable[[str], bool] | None = None
    read_slots: Callable[[str, str | None], Slots] | None = None
    more_required: Callable[[Slots], tuple[str, ...]] = lambda slots: ()  # e.g. a reason, but only for a denial
    pick: Pick | None = None
    # Check with the preview as soon as these slots are known, before asking for the rest (a duplicate access
    # request is refused before the person writes a justification for it).
    check_once_known: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The flow's name in FLOWS and in the stored conversation state."""
        return self.name or self.intent


def _day(iso: str) -> str:
    value = date.fromisoformat(iso)
    return f"{value:%a} {value.day} {value:%b %Y}"


def _approvers(preview: dict[str, Any]) -> str:
    names = [step.get("name") or step.get("approver") for step in preview.get("approvers", [])]
    notes = " ".join(step["note"] for step in preview.get("approvers", []) if step.get("note"))
    if not names:
        return "No approval is needed."
    return f"{' then '.join(names)} will approve it." + (f" ({notes})" if notes else "")


def _leave_args(slots: Slots) -> dict[str, Any]:
    args: dict[str, Any] = {"start_date": slots["start_date"], "end_date": slots.get("end_date", slots["start_date"]),
                            "leave_type": slots.get("leave_type", "annual")}
    if slots.get("half_day"):
        args["half_day"] = slots["half_day"]
    return args


def _leave_end_needed(slots: Slots) -> tuple[str, ...]:
    """A start with no end ("from Jan 18", "maternity leave starting 1 Feb") asks for the end instead of booking one day."""
    return ("end_date",) if slots.get("start_date") and not slots.get("end_date") and not slots.get("half_day") else ()


def _leave_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    period = _day(preview["start_date"]) if preview["start_date"] == preview["end_date"] else \
        f"{_day(preview['start_date'])} to {_day(preview['end_date'])}"
    half = f" ({preview['half_day']} only)" if preview.get("half_day") else ""
    after = "no cap on this type" if preview.get("balance_after") is None else f"{day_count(preview['balance_after'])} left afterwards"
    left_out = [_day(day) for day in slots.get("left_out_dates", "").split(",") if day]
    apart = (f" Not included: {' and '.join(left_out)} (not next to the days above); ask for "
             f"{'it' if len(left_out) == 1 else 'them'} in a separate request.") if left_out else ""
    return (f"{preview.get('leave_type_name', preview['leave_type'])}: {period}{half}, {day_count(preview['working_days'], 'working ')}; "
            f"{after}.{apart} {_approvers(preview)} Shall I submit it?")


def _expense_args(slots: Slots) -> dict[str, Any]:
    return {"amount": slots["amount"], "currency": slots["currency"], "category": slots["category"],
            "expense_date": slots["expense_date"], "merchant": slots["merchant"], "description": slots.get("description", ""),
            **({"receipt_path": slots["receipt_path"]} if slots.get("receipt_path") else {})}


def _expense_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    converted = "" if preview["currency"] == preview["company_currency"] else \
        f" (= {preview['amount_company']} {preview['company_currency']})"
    same, receipt_on = preview.get("same_as_claim"), preview.get("receipt_on_claims") or []
    twice = f"Note: you already claimed this (claim #{same}: same amount, date and merchant). " if same else ""
    if receipt_on and receipt_on != [same]:
        twice += f"Note: that receipt is already on your claim {', '.join(f'#{claim}' for claim in receipt_on)}. "
    if preview.get("receipt_on_others_claims"):
        twice += "Note: the same receipt file is on another employee's claim; your approver will see that. "
    return (f"{twice}Expense claim: {preview['amount']} {preview['currency']}{converted} for {preview['category']} at "
            f"{preview['merchant']} on {_day(preview['expense_date'])}; the {preview['category']} limit is "
            f"{preview['category_limit']} {preview['company_currency']} per claim"
            f"{', with the receipt you sent' if preview.get('receipt') else ''}. {_approvers(preview)} Shall I submit it?")


def _ticket_args(slots: Slots) -> dict[str, Any]:
    return {"summary": slots["summary"][:200], "description": slots.get("description", slots["summary"]),
            "category": slots.get("category", "other"), "priority": slots.get("priority", "normal")}


def _ticket_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    args = _ticket_args(slots)
    return f"New IT ticket: \"{args['summary']}\" ({args['category']}, {args['priority']} priority). Shall I open it?"


def _access_args(slots: Slots) -> dict[str, Any]:
    return {"system": slots["system"][:100], "access_level": slots.get("access_level", "user"),
            "justification": slots["justification"][:2000]}


def _access_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    args = _access_args(slots)
    return (f"Access request: {args['access_level']} access to {args['system']}; reason: \"{args['justification'][:200]}\". "
            f"{_approvers(preview)} Shall I submit it?")


def _upcoming_leave(data: dict[str, Any], today: date, slots: Slots) -> list[tuple[str, str]]:
    """The person's leave that can still be cancelled (pending, or approved and not started), soonest first,
    narrowed to the leave type and dates they named ("cancel my sick day", "cancel my leave next week")."""
    now = today.isoformat()
    start, end = slots.get("start_date"), slots.get("end_date") or slots.get("start_date")
    rows = sorted((row for row in data["requests"]
                   if (row["status"] == "pending" and row["end_date"] >= now or row["status"] == "approved" and row["start_date"] > now)
                   and slots.get("leave_type") in (None, row["leave_type"])
                   and (start is None or end is None or row["start_date"] <= end and row["end_date"] >= start)),
                  key=lambda row: row["start_date"])
    return [(str(row["request_id"]), f"#{row['request_id']} {row['leave_type']} {row['start_date']} to {row['end_date']} ({row['status']})")
            for row in rows]


def _waiting_approvals(data: dict[str, Any], today: date, slots: Slots) -> list[tuple[str, str]]:
    """The approvals waiting for the person, narrowed to the record they named ("approve leave request 2")."""
    return [(str(row["approval_id"]), f"#{row['approval_id']} {row['summary']}") for row in data["approvals"]
            if slots.get("record") in (None, row.get("subject"))]


def _decision_args(slots: Slots) -> dict[str, Any]:
    return {"approval_id": int(slots["approval_id"]), "decision": slots["decision"], "reason": slots.get("reason", "")[:1000]}


def _decision_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    args = _decision_args(slots)
    summary = str(preview.get("summary") or "").rstrip(". ")
    what = f"#{args['approval_id']}: {summary}" if summary else f"approval #{args['approval_id']}"
    if args["decision"] == "deny":
        return (f"Deny {what}, with the reason \"{args['reason'][:200]}\"? The requester will see it."
                f"{_one_at_a_time(slots, 'deny')} Shall I record it?")
    step = f" (step {preview['step']} of {preview['steps']})" if preview.get("steps", 1) > 1 else ""
    return f"Approve {what}{step}?{_one_at_a_time(slots, 'approve')} Shall I record it?"


def _one_at_a_time(slots: Slots, verb: str) -> str:
    """Name the other approvals a message asked about ("approve 6 and 8"): each is decided on its own."""
    others = [other for other in slots.get("also", "").split(",") if other]
    return f" (One at a time: after this, say \"{verb} {others[0]}\".)" if others else ""


def _open_tickets(data: dict[str, Any], today: date, slots: Slots) -> list[tuple[str, str]]:
    return [(str(row["ticket_id"]), f"#{row['ticket_id']} {row['summary']} ({row['status']})")
            for row in data["tickets"] if row["status"] not in ("resolved", "closed")]


def _comment_args(slots: Slots) -> dict[str, Any]:
    return {"ticket_id": int(slots["ticket_id"]), "body": slots["body"][:10_000]}


def _comment_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    args = _comment_args(slots)
    about = f" (\"{preview['summary']}\", {preview['status']})" if preview.get("summary") else ""
    return f"Add to ticket #{args['ticket_id']}{about}: \"{args['body'][:300]}\"? Shall I post it?"


def _cancel_args(slots: Slots) -> dict[str, Any]:
    return {"request_id": int(slots["request_id"])}


def _cancel_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    return (f"Cancel leave request #{preview['request_id']} ({preview['leave_type']}, {_day(preview['start_date'])} to "
            f"{_day(preview['end_date'])}, {preview['status']})? The days go back to your balance.")


def _handoff_args(slots: Slots) -> dict[str, Any]:
    return {"summary": slots["summary"][:2000], "team": slots.get("team", "hr")}


def _handoff_confirm(slots: Slots, preview: dict[str, Any]) -> str:
    team = "IT" if slots.get("team") == "it" else "HR"
    return f"I'll open a ticket for {team} so a person gets back to you about: \"{slots['summary'][:200]}\". OK?"


FLOWS: dict[str, Flow] = {
    flow.key: flow
    for flow in (
        Flow("request_leave", "request_leave", ("start_date",),
             {"start_date": "Which dates would you like off? (e.g. \"Dec 14-18\" or \"next Friday\")",
              "end_date": "Until when? Tell me your last day off (e.g. \"Jan 29\" or \"for a week\"), or say \"just that day\"."},
             _leave_args, _leave_confirm, preview_tool="preview_leave_request", defaults={"leave_type": "annual"},
             more_required=_leave_end_needed),
        Flow("submit_expense", "submit_expense", ("amount", "category", "merchant"),
             {"amount": "How much was it, and in which currency? (e.g. \"$45.20\" or \"30 EUR\")",
              "category": "What kind of expense is it? (meals, travel, lodging, equipment, software, training or other)",
              "merchant": "Where did you spend it (the shop, restaurant or company)?"},
             _expense_args, _expense_confirm, preview_tool="preview_expense"),
        Flow("create_ticket", "create_ticket", ("summary",), {"summary": "What's the problem? One sentence is enough."},
             _ticket_args, _ticket_confirm, defaults={"category": "other", "priority": "normal"}),
        Flow("create_ticket", "request_system_access", ("system", "justification"),
             {"system": "Which system or application do you need access to?",
              "justification": "What do you need it for? IT reads this when they decide."},
             _access_args, _access_confirm, preview_tool="preview_system_access", defaults={"access_level": "user"},
             name="request_access", claims=lambda text: access_request(text) is not None, read_slots=read_access_slots,
             check_once_known=("system",)),
        Flow("ticket_status", "comment_on_ticket", ("ticket_id", "body"),
             {"ticket_id": "Which ticket? (its number)", "body": "What should I add to the ticket?"},
             _comment_args, _comment_confirm, preview_tool="preview_comment", name="comment_on_ticket",
             claims=comment_request, read_slots=read_comment_slots,
             pick=Pick("list_my_tickets", _open_tickets, "Which ticket?", "You have no open tickets to add to.")),
        Flow("cancel_leave", "cancel_leave", ("request_id",), {"request_id": "Which leave request should I cancel? (its number)"},
             _cancel_args, _cancel_confirm, preview_tool="get_leave_request",
             pick=Pick("list_my_leave", _upcoming_leave, "Which one should I cancel?", "You have no upcoming leave to cancel.",
                       "None of your upcoming leave matches that. Give me the request number, or ask \"what's the status of my leave?\" "
                       "to see it all.")),
        Flow("pending_approvals", "decide_approval", ("approval_id", "decision"),
             {"approval_id": "Which one? (its number)", "decision": "Approve or deny it?",
              "reason": "Why do you deny it? The requester will see your reason."},
             _decision_args, _decision_confirm, preview_tool="preview_decision", name="decide_approval",
             claims=decision_request, read_slots=read_decision_slots,
             more_required=lambda slots: ("reason",) if slots.get("decision") == "deny" else (),
             pick=Pick("list_pending_approvals", _waiting_approvals, "Which one?", "Nothing is waiting for your decision.",
                       "Nothing waiting for your decision is about that request. Ask \"what needs my approval?\" to see "
                       "the list with the approval numbers.")),
        Flow("human_handoff", "request_human_handoff", ("summary",), {"summary": "What would you like to talk to a person about?"},
             _handoff_args, _handoff_confirm),
    )
}
