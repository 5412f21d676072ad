"""Answers that only read: balances, statuses, the approval queue, policy questions, help."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from assistant.dialogue import words
from assistant.dialogue.holidays import answer_holiday_question, read_holiday_question, read_period
from assistant.dialogue.reply import Reply
from assistant.errors import error_text
from assistant.nlu.intents import NOT_NAMES, PERSON_VERBS
from assistant.nlu.router import Route
from assistant.nlu.slot_dates import find_dates
from assistant.nlu.slot_text import normalize
from tools.errors import ErrorCode, ToolError
from tools.numbers import day_count
from tools.pipeline import Pipeline

LIST_LIMIT = 5
TEAM_LIST_LIMIT = 15
# A message the classifier calls out of scope is still answered from the policies when a passage matches this well.
FALLBACK_SCORE = 0.5  # a statement the intents do not know is answered from the policies only on a strong match
# A question the intents do not know ("who will be my onboarding buddy?") is answered whenever the policies cover it
# (the answer threshold): the handbook knows topics no intent example names. Weather or pizza questions score far below.
ASKS = re.compile(r"\?\s*$|^\W*(?:who|what|when|where|why|how|which|can|could|do|does|did|is|are|am|will|would|should|may|"
                  r"must|have|has)\b", re.IGNORECASE)
FALLBACK_MIN_CHARS = 12
# "who on my team is off next week?", "is anyone out tomorrow?": a manager's (or HR's) view of other people's leave.
TEAM_LEAVE = re.compile(r"\b(?:my|our) (?:team|reports|direct reports|people|staff|department)\b|\bteam'?s?\b"
                        r"|\bwho(?:'s| is| are| will be)? (?:off|out|away|absent|on (?:leave|holiday|vacation|pto)|sick)\b"
                        r"|\b(?:anyone|anybody|someone)\b.*\b(?:off|out|away|absent|on leave)\b")
PERSONAL_READS = ("leave_balance", "leave_status", "expense_status", "ticket_status")
# "how many days does Tom Becker have left?", "Tom's leave balance": someone else's records, which nobody reads here.
SOMEONE_ELSE = re.compile(
    rf"\b(?:does|did|has|is)\s+(?!(?i:{NOT_NAMES})\b)([A-Za-z][\w'-]+(?:\s+(?!(?i:{PERSON_VERBS})\b)[A-Za-z][\w'-]+)?)"
    rf"\s+(?i:{PERSON_VERBS})\b"
    rf"|\b(?!(?i:{NOT_NAMES}|today|tomorrow|yesterday|this|next|last|week|month|year|everyone|anyone)\b)"
    r"([A-Za-z][a-z]+(?:\s+[A-Z][a-z]+)?)'s\s+(?:leave|balance|vacation|pto|days|time off|requests?|claims?|tickets?|expenses?)")


_YEAR = re.compile(r"\b(?:in|for|of|during)\s+(20\d\d)\b|\b(20\d\d)(?:'s)?\s+(?:balance|allowance|leave|holidays?|vacation)\b"
                   r"|\b(next|last|this)\s+year\b", re.IGNORECASE)


def asked_year(text: str, today: date | None) -> int | None:
    """The calendar year a balance question asks about ("in 2027", "next year"); None for this year."""
    match = _YEAR.search(text)
    if match is None:
        return None
    if match.group(1) or match.group(2):
        return int(match.group(1) or match.group(2))
    if today is None or match.group(3).lower() == "this":
        return None
    return today.year + (1 if match.group(3).lower() == "next" else -1)


def _lines(rows: list[dict[str, Any]], render: Any, empty: str, title: str, more: str = "") -> str:
    """List the first LIST_LIMIT rows; `more` says where the rest are when there are more ("" for the latest only)."""
    if not rows:
        return empty
    listed = title + "\n" + "\n".join(f"• {render(row)}" for row in rows[:LIST_LIMIT])
    return listed + (f"\n…and {len(rows) - LIST_LIMIT} more. {more}" if more and len(rows) > LIST_LIMIT else "")


def _balance(data: dict[str, Any], leave_type: str | None, owner: str | None = None) -> str:
    """Render a leave balance: the person's own (owner None) or someone else's they may see."""
    rows = [r for r in data["balances"] if not leave_type or r["leave_type"] == leave_type] or data["balances"]
    if not rows:
        return f"{'You have' if owner is None else owner + ' has'} no leave allowance set up for {data['year']} yet; HR can add it."
    parts = [f"{r['leave_type']}: " + ("no cap" if r["available"] is None else f"{day_count(r['available'])} available")
             + (f" ({r['reserved']} reserved by pending requests)" if r["reserved"] else "") for r in rows]
    whose = "Your" if owner is None else owner + "'s"
    return f"{whose} {data['year']} leave balance: " + "; ".join(parts) + "."


def _team_leave(run: Any, text: str, today: date | None) -> str:
    """Who is off in the period the question names (the next four weeks when it names none)."""
    args: dict[str, str] = {}
    if today is not None:
        lowered = normalize(text)
        found = find_dates(lowered, today=today, direction="future")
        period = (found.start, found.end or found.start) if found.start and not found.invalid else read_period(lowered, today)
        args = {"start_date": period[0].isoformat(), "end_date": period[1].isoformat()} if period else {}
    try:
        data = run("list_team_leave", args).data
    except ToolError as error:
        if error.code is ErrorCode.FORBIDDEN:
            return words.TEAM_LEAVE_HIDDEN
        raise
    period, rows = f"{data['start_date']} to {data['end_date']}", data["leave"]
    if not rows:
        return f"Nobody whose leave you can see is off from {period}."
    lines = [f"• {row['name']}: {row['leave_type']} {row['start_date']} to {row['end_date']} ({row['status']})"
             for row in rows[:TEAM_LIST_LIMIT]]
    more = [f"…and {len(rows) - TEAM_LIST_LIMIT} more."] if len(rows) > TEAM_LIST_LIMIT else []
    return "\n".join([f"Off from {period}:", *lines, *more])


def _leave(row: dict[str, Any]) -> str:
    return (f"#{row['request_id']} {row['leave_type']} {row['start_date']} to {row['end_date']} ({day_count(row['working_days'])}): "
            f"{row['status']}{_why_declined(row)}")


def _claim(row: dict[str, Any]) -> str:
    return f"#{row['claim_id']} {row['amount']} {row['currency']} at {row['merchant']} ({row['category']}): {row['status']}{_why_declined(row)}"


def _why_declined(row: dict[str, Any]) -> str:
    """The approver's reason, on a declined request or claim (" (reason: short-staffed that week)")."""
    return f" (reason: {row['note']})" if row.get("status") == "rejected" and row.get("note") else ""


def _ticket(row: dict[str, Any]) -> str:
    return f"#{row['ticket_id']} {row['summary']} ({row['priority']}): {row['status']}"


SHOWN_COMMENTS = 3


def _ticket_with_replies(row: dict[str, Any]) -> str:
    """One ticket, with its latest comments: what IT asked or answered is what the requester comes to see."""
    comments = row.get("comments") or []
    lines = [f"• {comment['author']} ({str(comment['at'])[:10]}): {comment['body']}" for comment in comments[-SHOWN_COMMENTS:]]
    earlier = len(comments) - len(lines)
    heading = f"Latest comments{f' ({earlier} earlier not shown)' if earlier else ''}:" if lines else "No comments yet."
    return "\n".join([_ticket(row), heading, *lines])


def _approval(row: dict[str, Any]) -> str:
    check = (row.get("facts") or {}).get("check")
    return f"#{row['approval_id']} {row['summary']} (step {row['step']} of {row['steps']})" + (f"; check: {check}" if check else "")


def _run(pipeline: Pipeline, actor_id: int, now: datetime, route: Route, text: str, today: date | None) -> Reply:
    slots = route.slots
    run = lambda tool, args: pipeline.run(tool, args, actor_id=actor_id, now=now)  # noqa: E731
    holidays = read_holiday_question(text, today) if today and route.intent in ("policy_question", "out_of_scope") else None
    if holidays is not None:  # "when is the next public holiday?": the calendar answers, not the policy text
        return Reply(answer_holiday_question(holidays, run), "policy_question")
    other = SOMEONE_ELSE.search(text) if route.intent in PERSONAL_READS else None
    if other:
        name = other.group(1) or other.group(2)
        name = name.title() if name.islower() else name  # "tom becker" is Tom Becker
        if route.intent == "leave_balance":  # a manager asking about their report, HR about anyone: the tool decides
            try:
                data = run("get_leave_balance", {"employee_name": name}).data
                return Reply(_balance(data, slots.get("leave_type"), data["name"]), route.intent, data)
            except ToolError as error:
                if error.code is not ErrorCode.FORBIDDEN:
                    return Reply(error.message, route.intent)
        return Reply(f"I can only show your own records, not {name}'s. {name} can ask me directly; their manager and HR see "
                     "their requests when they approve them.", route.intent)
    if route.intent == "leave_balance":
        year = asked_year(text, today)
        data = run("get_leave_balance", {"year": year} if year else {}).data
        return Reply(_balance(data, slots.get("leave_type")), route.intent)
    if route.intent == "leave_status" and TEAM_LEAVE.search(text.lower()):
        return Reply(_team_leave(run, text, today), route.intent)
    if route.intent == "leave_status":
        if "request_id" in slots:
            return Reply(_leave(run("get_leave_request", {"request_id": int(slots["request_id"])}).data), route.intent)
        rows = run("list_my_leave", {}).data["requests"]
        return Reply(_lines(rows, _leave, "You have no leave requests.", "Your latest leave requests:"), route.intent)
    if route.intent == "expense_status":
        if "claim_id" in slots:
            return Reply(_claim(run("get_expense", {"claim_id": int(slots["claim_id"])}).data), route.intent)
        rows = run("list_my_expenses", {}).data["claims"]
        return Reply(_lines(rows, _claim, "You have no expense claims.", "Your latest expense claims:"), route.intent)
    if route.intent == "ticket_status":
        if "ticket_id" in slots:
            return Reply(_ticket_with_replies(run("get_ticket", {"ticket_id": int(slots["ticket_id"])}).data), route.intent)
        rows = run("list_my_tickets", {}).data["tickets"]
        return Reply(_lines(rows, _ticket, "You have no tickets.", "Your latest tickets:"), route.intent)
    if route.intent == "pending_approvals":
        rows = run("list_pending_approvals", {}).data["approvals"]
        title = f"Waiting for your decision ({len(rows)}), oldest first:"
        return Reply(_lines(rows, _approval, "Nothing is waiting for your approval.", title,
                            "Decide these first, or see them all in your App Home or with /backoffice approvals."), route.intent)
    if route.intent == "policy_question":
        result = run("search_policies", {"query": text})
        return Reply(result.message, route.intent, result.data)
    if route.intent == "help":
        return Reply(words.HELP, route.intent)
    return _policy_fallback(run, text)


def _policy_fallback(run: Any, text: str) -> Reply:
    """Out of scope for the intents, but maybe a policy answers it: answer only when a passage is a strong match."""
    if (social := words.social_reply(text)) is not None:
        return Reply(social, "out_of_scope")
    if words.is_in_another_script(text):
        return Reply(words.ENGLISH_ONLY, "out_of_scope")
    if len(text) < FALLBACK_MIN_CHARS:
        return Reply(words.OUT_OF_SCOPE, "out_of_scope")
    result = run("search_policies", {"query": text})
    best = max((passage["score"] for passage in result.data.get("passages", [])), default=0.0)
    if result.data.get("covered") and (best >= FALLBACK_SCORE or ASKS.search(text)):
        return Reply(result.message, "policy_question", result.data)
    return Reply(words.OUT_OF_SCOPE, "out_of_scope")


def answer_read(pipeline: Pipeline, actor_id: int, route: Route, text: str, now: datetime, today: date | None = None) -> Reply:
    """Answer a read-only intent; refusals and faults become the reply. `today` is the person's own date."""
    try:
        return _run(pipeline, actor_id, now, route, text, today)
    except Exception as error:  # noqa: BLE001 - the person always gets an answer or a reason
        return Reply(error_text(error), route.intent)
