"""The offline engine: one turn = route the text, fill slots, confirm, and call tools through the pipeline."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assistant.dialogue import words
from assistant.dialogue.flows import FLOWS, Flow, Pick, Slots
from assistant.dialogue.reads import answer_read
from assistant.dialogue.reply import Reply
from assistant.errors import error_text, is_refusal
from assistant.nlu.router import Route, Router
from assistant.nlu.slot_dates import find_dates, last_day_of
from assistant.receipt_note import take_receipt_note
from knowledge.embeddings import encodable
from tools.conversations.service import get_conversation_state, record_conversation_state
from tools.db import run_in_transaction, utcnow
from tools.errors import ErrorCode
from tools.people.service import get_employee
from tools.pipeline import Pipeline, employee_today

MAX_TEXT = 2000
SWITCH_CONFIDENCE = 0.6
# A message that changes the request in progress rather than making a new one.
CORRECTION = re.compile(r"^\W*(?:no\b|nope\b|sorry\b|wait\b|oops\b|i meant\b|i mean\b|rather\b|make it\b|change\b|instead\b)"
                        r"|\b(?:actually|instead|rather|make it|change it|i meant)\b", re.IGNORECASE)
QUESTION = re.compile(r"^\W*(?:(?:btw|by the way|oh|also|and|quick question|one more thing)\W+)?"  # "btw, how ...?"
                      r"(?:(?:until|till|by|from|for|in|on|at|to|with|about|and|so)\s+)?"  # "until what time ...?"
                      r"(?:how|what|when|which|who|where|why|do|does|did|is|are|am|can|could|should|will|would|may|must|has|have)\b"
                      r".*\?\s*$", re.IGNORECASE)
# Requests that, written out in full, replace the one in progress (a question about a ticket is answered instead).
NEW_REQUESTS = frozenset({"request_leave", "submit_expense", "create_ticket", "cancel_leave"})
GUESSED_SLOTS = frozenset({"category"})  # a ticket's category is guessed from any IT word; a question never sets it
# Where numeric dates are written month first (12/7 is December 7); elsewhere day first, as in most of the world
MONTH_FIRST_COUNTRIES = frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"})
# Reads a short follow-up may ask again ("and sick days?", "and in boston?", "what about tom?")
FOLLOWED_READS = frozenset({"leave_balance", "policy_question", "leave_status", "expense_status", "ticket_status"})
FOLLOW_UP = re.compile(r"^\W*(?:and|also|what about|how about|and what about|and how about|same for|and for)\b(?P<rest>.*)$",
                       re.IGNORECASE)
MAX_FOLLOW_UP_WORDS = 4
NAME_ONLY = re.compile(r"^\s*[A-Za-z][\w'-]+(?:\s+[A-Za-z][\w'-]+)?\s*$")
LEAVE_TYPE_WORD = re.compile(r"\b(?:annual|sick|parental|unpaid|vacation|holiday|pto|days?|leave|me|mine|my|next|this|last)\b",
                             re.IGNORECASE)
# Refusals of a decision that no change to it can cure: not theirs to decide, already decided, no such approval
FINAL_FOR_DECISIONS = frozenset({ErrorCode.FORBIDDEN, ErrorCode.ALREADY_DECIDED, ErrorCode.NOT_FOUND})
STATUS_ASK = re.compile(r"\bstatus\b|\bany (?:news|update)\b|\?\s*$", re.IGNORECASE)  # a look at a ticket, not a change
# "what about friday?", "how about the 3rd?": an answer offered as a question
ALTERNATIVE = re.compile(r"^\W*(?:what|how) about\b|^\W*(?:or|maybe|perhaps)\b", re.IGNORECASE)
MIN_QUESTION_WORDS = 4  # "is that right?", "what?" ask about the read-back, not the policies
FREE_TEXT_SLOTS = ("summary", "merchant")  # questions whose answer is whatever the person writes
IT_WORDS = re.compile(r"\b(it|laptop|computer|vpn|password|wifi|network|email|software|printer|access|account|login)\b", re.I)
TEAM_WORDS = {"it": re.compile(r"\b(IT|I\.T\.?|(?i:tech support|helpdesk|help desk|service desk))\b"),  # not the pronoun
              "hr": re.compile(r"\b(hr|human resources|people team)\b", re.I)}
# Words of a bare "talk to a human": when nothing else is left, ask what it is about so the person gets context.
HANDOFF_FILLER = frozenset(
    "i i'd id i'm im we want wanna would like to talk speak chat with a an the real live actual human humans person people someone "
    "somebody anyone agent representative rep please pls plz can could may me us connect transfer hand pass over in from at "
    "hr it human resources team support desk helpdesk need let get just now right away someone's directly".split())


@dataclass
class Turn:
    """One incoming message with its context."""

    key: str
    actor_id: int
    text: str
    now: datetime
    today: date
    state: dict[str, Any]
    receipt: str | None = None  # the reference of a receipt sent with the message
    day_first: bool = True  # how the person writes numeric dates: 12/7 is 12 July, or December 7 in the US


def run_confirmed(pipeline: Pipeline, tool: str, args: dict[str, Any], *, actor_id: int, now: datetime, intent: str) -> Reply:
    """Run a write the person said yes to; a refusal or fault becomes the reply and nothing is written."""
    try:
        result = pipeline.run(tool, args, actor_id=actor_id, now=now)
    except Exception as error:  # noqa: BLE001 - the person gets the reason; nothing was written
        return Reply(error_text(error), intent)
    return Reply(result.message, intent, result.data, wrote=True)


class OfflineEngine:
    """Serves employees with no LLM: intents, slots, read-back confirmations, tools via the pipeline."""

    def __init__(self, *, pipeline: Pipeline, session_factory: sessionmaker[Session], router_factory: Callable[[], Router],
                 ttl: timedelta = timedelta(minutes=30), default_currency: str = "USD") -> None:
        self.pipeline = pipeline
        self.session_factory = session_factory
        self._router_factory = router_factory
        self._router: Router | None = None
        self.ttl = ttl
        self.default_currency = default_currency

    @property
    def router(self) -> Router:
        """Return the router, loading the model on first use."""
        if self._router is None:
            self._router = self._router_factory()
        return self._router

    def handle(self, *, key: str, actor_id: int, text: str, now: datetime | None = None) -> Reply:
        """Answer one message in conversation `key` as employee `actor_id`; the person always gets a reply."""
        moment = now or utcnow()
        clean, receipt = take_receipt_note(" ".join(encodable(text or "").split())[:MAX_TEXT])
        try:
            state, expired, today, day_first = run_in_transaction(self.session_factory,
                                                                  lambda s: self._load(s, key, actor_id, moment))
        except Exception as error:  # noqa: BLE001 - the turn's error edge: always answer
            return Reply(error_text(error))
        turn = Turn(key, actor_id, clean, moment, today, state, receipt, day_first)
        reply = self._respond(turn, expired)
        run_in_transaction(self.session_factory, lambda s: record_conversation_state(
            s, key=key, employee_id=actor_id, state=turn.state, now=moment))
        return reply

    def has_open_flow(self, session: Session, *, key: str, actor_id: int, now: datetime) -> bool:
        """Return True while conversation `key` is in the middle of collecting or confirming a request."""
        state, _ = get_conversation_state(session, key=key, employee_id=actor_id, now=now, ttl=self.ttl)
        return state.get("stage") in ("collect", "confirm")

    def _load(self, session: Session, key: str, actor_id: int, now: datetime) -> tuple[dict[str, Any], bool, date, bool]:
        employee = get_employee(session, employee_id=actor_id)
        state, expired = get_conversation_state(session, key=key, employee_id=actor_id, now=now, ttl=self.ttl)
        day_first = (employee.country or "").upper() not in MONTH_FIRST_COUNTRIES
        return state, expired, employee_today(employee, now, self.pipeline.default_timezone), day_first

    def _respond(self, turn: Turn, expired: bool) -> Reply:
        if turn.receipt is not None:
            return self._on_receipt(turn)
        if not turn.text:
            return Reply(words.EMPTY, "help")  # an empty message or a bare mention: what can I ask?
        if words.is_cancel(turn.text):
            had = bool(turn.state.get("stage"))
            flow = FLOWS.get(turn.state.get("intent", ""))
            turn.state = {}
            return Reply(words.dropped(flow.tool if flow is not None else None) if had else words.NOTHING_TO_CANCEL)
        if expired and (words.is_yes(turn.text) or words.is_no(turn.text)):
            return Reply(words.EXPIRED)
        if turn.state.get("offer") == "human_handoff":  # the policies did not cover a question; HR was offered
            question, turn.state = turn.state.get("question", ""), {}
            if words.is_yes(turn.text):  # "yes please": the hand-over, about the question asked
                turn.text = question
                return self._start(turn, Route(question, "human_handoff", 1.0))
            if words.is_no(turn.text):
                return Reply(words.NO_HANDOFF)
        if turn.state.get("stage") == "confirm":
            return self._on_confirm(turn)
        if turn.state.get("stage") == "collect":
            return self._on_collect(turn)
        follow_up = self._follow_up(turn)
        if follow_up is not None:
            return follow_up
        # a yes or a no to a request that was refused, done or never made ("ok" or a thumbs-up is an acknowledgement)
        if (words.is_yes(turn.text) or words.is_no(turn.text)) and words.social_reply(turn.text) is None:
            return Reply(words.NOTHING_TO_CONFIRM)
        return self._start(turn, self._route(turn))

    def _start(self, turn: Turn, route: Route) -> Reply:
        flow = next((f for f in FLOWS.values() if f.intent == route.intent and f.claims is not None and f.claims(turn.text)),
                    FLOWS.get(route.intent))
        if flow is None:
            turn.state = {}
            reply = self._read(turn, route)
            if reply.intent == "policy_question" and reply.data.get("covered") is False:
                turn.state = {"offer": "human_handoff", "question": turn.text}  # a "yes" takes up the offer of HR
            elif reply.intent in FOLLOWED_READS:  # "and sick days?", "and in boston?" may follow
                turn.state = {"last_read": {"intent": reply.intent, "text": turn.text}}
            return reply
        said = flow.read_slots(turn.text, None) if flow.read_slots is not None else route.slots
        slots = {**flow.defaults, **self._defaults(flow, turn), **said}
        if flow.intent == "human_handoff":
            if _has_topic(turn.text):
                slots.setdefault("summary", turn.text)
            slots.setdefault("team", "it" if IT_WORDS.search(turn.text) else "hr")
        turn.state = {"intent": flow.key, "slots": slots, "stage": "collect"}
        return self._advance(turn, flow)

    def _follow_up(self, turn: Turn) -> Reply | None:
        """Answer a short follow-up to the question just answered ("and sick days?" after a balance, "and in boston?"
        after the hotel cap in London, "what about tom?" after a balance) as that question again, with what it adds;
        None when the message is not one (a request or a question of its own, or nothing was just answered)."""
        last = turn.state.get("last_read")
        following = FOLLOW_UP.match(turn.text)
        if not last or following is None:
            return None
        rest, intent = following["rest"].strip(" ?.!,"), last["intent"]
        if not rest or len(rest.split()) > MAX_FOLLOW_UP_WORDS:
            return None  # "and what is the dress code for client visits?": a question of its own
        route = self._route(turn)
        if route.intent in NEW_REQUESTS and route.confidence >= SWITCH_CONFIDENCE:
            return None  # "and friday off too": a request of its own
        earlier = find_dates(last["text"].lower(), today=turn.today, direction="future").spans if intent == "policy_question" else ()
        if earlier and find_dates(rest.lower(), today=turn.today, direction="future").start:
            # "is dec 28 a holiday?" then "what about jan 4?": the same question about the new day, in the old one's place
            (begin, end), *_ = earlier
            text, asked = f"{last['text'][:begin]}{rest}{last['text'][end:]}", last["text"]
        elif intent == "policy_question":
            text = asked = f"{last['text'].rstrip(' ?.!')}, {rest}?"  # the question again, about what the follow-up adds
        elif intent == "leave_balance" and NAME_ONLY.match(rest) and not LEAVE_TYPE_WORD.search(rest):
            text = asked = f"how many days does {rest} have left?"  # "what about lena?": the same, for Lena
        else:
            text, asked = f"{last['text'].rstrip(' ?.!')}: {rest}", last["text"]  # "and sick days?": for the same person
        routed = self.router.route(rest, today=turn.today, default_currency=self.default_currency, intent=intent,
                                   day_first=turn.day_first)  # what the follow-up itself names (a leave type)
        reply = answer_read(self.pipeline, turn.actor_id, Route(text, intent, 1.0, routed.slots), text, turn.now, turn.today)
        turn.state = {"last_read": {"intent": intent, "text": asked}}
        return reply

    def _on_receipt(self, turn: Turn) -> Reply:
        """A receipt joins the expense claim in progress, or starts one; the words sent with it fill the claim too."""
        flow = FLOWS["submit_expense"]
        claiming = turn.state.get("intent") == flow.key and turn.state.get("stage") in ("collect", "confirm")
        route = self._route(turn, flow.intent) if turn.text else None
        if not claiming and route is not None and route.intent not in (flow.intent, "out_of_scope", "help"):
            # a question or another request sent with a file: answer it as if no file came
            reply = self._start(turn, self._route(turn))
            return Reply(f"{reply.text}\n{words.RECEIPT_NOT_USED}", reply.intent, reply.data)
        said = {k: v for k, v in (route.slots if route else {}).items() if k not in ("summary", "topic")}
        if claiming:
            slots = self._merge(turn.state["slots"], said, turn.text)
        else:
            slots = {**flow.defaults, **self._defaults(flow, turn), **said}
        turn.state = {"intent": flow.key, "slots": {**slots, "receipt_path": turn.receipt}, "stage": "collect"}
        reply = self._advance(turn, flow)
        return Reply(f"{words.RECEIPT_RECEIVED} {reply.text}", reply.intent, reply.data)

    def _route(self, turn: Turn, intent: str | None = None) -> Route:
        """Route the turn's message; with `intent`, read its slots as an answer within that request."""
        return self.router.route(turn.text, today=turn.today, default_currency=self.default_currency, intent=intent,
                                 day_first=turn.day_first)

    def _defaults(self, flow: Flow, turn: Turn) -> Slots:
        if flow.intent == "submit_expense":
            return {"currency": self.default_currency, "expense_date": turn.today.isoformat()}
        return {}

    def _read(self, turn: Turn, route: Route) -> Reply:
        return answer_read(self.pipeline, turn.actor_id, route, turn.text, turn.now, turn.today)

    def _advance(self, turn: Turn, flow: Flow) -> Reply:
        slots: Slots = turn.state["slots"]
        if "invalid_date" in slots:
            problem = slots.pop("invalid_date")
            turn.state.update(stage="collect", asking="start_date" if flow.intent == "request_leave" else "expense_date")
            return Reply(f"That date doesn't exist: {problem}. Which date did you mean?", flow.intent)
        missing = [name for name in (*flow.required, *flow.more_required(slots)) if not slots.get(name)]
        if flow.pick is not None and missing[:1] == [flow.required[0]]:
            choices, any_at_all = self._candidates(turn, flow.pick)
            if len(choices) == 1:  # only one it can be: read it back instead of asking for a number
                slots[flow.required[0]] = choices[0][0]
                missing = missing[1:]
            elif choices:
                turn.state.update(stage="collect", asking=flow.required[0])
                return Reply(f"{flow.pick.question} {'; '.join(label for _, label in choices[:5])}", flow.intent)
            else:
                turn.state = {}
                return Reply(flow.pick.none_matching if any_at_all and flow.pick.none_matching else flow.pick.none, flow.intent)
        if missing:
            if flow.check_once_known and all(slots.get(name) for name in flow.check_once_known):
                try:  # a refusal now spares the person the remaining questions
                    self._preview(turn, flow, {**slots, **dict.fromkeys(missing, "(not given yet)")})
                except Exception as error:  # noqa: BLE001 - refusals become the reply; the flow stays open for a correction
                    return self._refused(turn, flow, error)
            turn.state.update(stage="collect", asking=missing[0])
            return Reply(flow.questions[missing[0]], flow.intent)
        try:
            preview = self._preview(turn, flow, slots)
        except Exception as error:  # noqa: BLE001 - refusals become the reply; the flow stays open for a correction
            return self._refused(turn, flow, error)
        turn.state["stage"] = "confirm"
        turn.state.pop("refused", None)
        return Reply(flow.confirm_text(slots, preview), flow.intent, preview)

    def _preview(self, turn: Turn, flow: Flow, slots: Slots) -> dict[str, Any]:
        """Check the request with the flow's preview tool (who approves, is it allowed); {} for a flow without one."""
        if flow.preview_tool is None:
            return {}
        return self.pipeline.run(flow.preview_tool, flow.build_args(slots), actor_id=turn.actor_id, now=turn.now).data

    def _refused(self, turn: Turn, flow: Flow, error: Exception) -> Reply:
        if flow.key == "decide_approval" and getattr(error, "code", None) in FINAL_FOR_DECISIONS:
            turn.state = {}  # "approval #24 is not waiting for your decision": nothing to change, nothing left open
            return Reply(error_text(error), flow.intent)
        refusal = f"{error_text(error)} {words.RECEIPT_HINT if _needs_receipt(error) else ''}".rstrip()
        # no question is open now: the next message is a correction, a new request, or cancel
        turn.state = {**turn.state, "stage": "collect", "refused": refusal, "asking": None} if is_refusal(error) else {}
        return Reply(f"{refusal} {words.CHANGE_OR_CANCEL}", flow.intent)

    def _candidates(self, turn: Turn, pick: Pick) -> tuple[list[tuple[str, str]], bool]:
        """Return the (value, label) candidates that fit what the person said, e.g. their upcoming sick leave,
        and whether they have any candidates at all."""
        try:
            data = self.pipeline.run(pick.tool, {}, actor_id=turn.actor_id, now=turn.now).data
        except Exception:  # noqa: BLE001 - without the list, there is nothing to offer
            return [], False
        fitting = pick.candidates(data, turn.today, turn.state["slots"])
        return fitting, bool(fitting) or bool(pick.candidates(data, turn.today, {}))

    def _on_collect(self, turn: Turn) -> Reply:
        flow = FLOWS[turn.state["intent"]]
        if words.is_no(turn.text) and turn.state.get("asking") != "summary":
            turn.state = {}  # "no" to "which dates?" or after a refusal: the person does not want to go on
            return Reply(words.dropped(flow.tool), flow.intent)
        if words.is_yes(turn.text) and turn.state.get("refused"):
            return self._still_refused(turn, flow)
        asking = turn.state.get("asking")
        if words.HELP_IN_REQUEST.match(turn.text) and asking:  # "help" is no shop's name: say what is asked
            return Reply(f"{words.IN_THE_MIDDLE} {self._question_again(flow, asking)} Or say cancel to stop.", flow.intent)
        route = self._route(turn, flow.intent)
        read = flow.read_slots(turn.text, asking) if flow.read_slots is not None else None
        answered = read is not None and asking is not None and asking in read  # "too many people on leave" is a reason
        if not answered and asking != "summary":  # "a question about my payslip" is what a ticket is about; no shop is a question
            side = self._side_question(turn, flow, route)
            if side is not None:
                return side
        if (not answered and turn.state.get("refused") and route.intent not in FLOWS
                and route.intent not in ("out_of_scope", "help") and route.confidence >= SWITCH_CONFIDENCE):
            # "wait how many days do i have left" after a refusal: answered, and the request stays open for new details
            answer = self._read(turn, self._route(turn))
            return Reply(f"{answer.text}\n{words.BACK_TO_REQUEST} {words.CHANGE_OR_CANCEL}", answer.intent, answer.data)
        if not answered and self._is_switch(route, flow, asking):
            return self._switching(turn, flow, self._route(turn))
        other = None if answered else self._another_request(turn, flow, route)
        if other is not None:
            return self._replacing(turn, flow, other)
        if read is not None:
            new = read
            fresh = flow.required[0] in new and asking != flow.required[0] or turn.state.get("refused")
            if flow.claims is not None and flow.claims(turn.text) and fresh:
                return self._start(turn, route)  # a new request of the same kind ("and GitHub access too"): start over
        else:
            new = {k: v for k, v in route.slots.items() if k not in ("topic",)}
            if (turn.state.get("refused") and route.intent == flow.intent and route.confidence >= SWITCH_CONFIDENCE
                    and flow.required[0] in new and not CORRECTION.search(turn.text)):
                # after a refusal, "I need Dec 24 off" is a new request, not a change to the refused one: nothing of
                # the refused request (its leave type, a half day) carries over; "actually make it Dec 23" does change it
                return self._start(turn, route)
        if asking == "end_date" and turn.state["slots"].get("start_date"):  # "until when?": a day, a duration or "just that day"
            start = date.fromisoformat(turn.state["slots"]["start_date"])
            last = last_day_of(turn.text, start=start, day_first=turn.day_first)
            new = {"end_date": last.isoformat()} if last is not None else {k: v for k, v in new.items() if k != "start_date"}
        if asking in FREE_TEXT_SLOTS and asking not in new and read is None and not self._names_nothing(turn.text, new):
            new[asking] = merchant_named(turn.text) if asking == "merchant" else turn.text  # the answer to our question
        if asking == "merchant":
            new.pop("description", None)  # the shop's name says nothing about what the money was for
        if not new or set(new) <= {"summary", "description"} and asking not in FREE_TEXT_SLOTS and flow.read_slots is None:
            if turn.state.get("refused"):
                if route.intent in ("out_of_scope", "help"):  # "no receipt", "hmm": the refused request still stands
                    return self._still_refused(turn, flow)
                return self._start(turn, self._route(turn))
            if route.intent not in (flow.intent, "out_of_scope") and route.confidence >= SWITCH_CONFIDENCE:
                return self._switching(turn, flow, self._route(turn))
            # nothing of this request and nothing else we do ("blah", "what's the weather"): ask again, the request stays
            return Reply(f"Sorry, I didn't catch that. {self._question_again(flow, asking)}", flow.intent)
        turn.state["slots"] = self._merge(turn.state["slots"], new, turn.text)
        return self._advance(turn, flow)

    def _side_question(self, turn: Turn, flow: Flow, route: Route) -> Reply | None:
        """Answer a question asked while a request is being filled in ("btw, how many sick days do we get?"), and ask
        for what is missing again; the question's words ("sick") never change the request. None: not a side question."""
        asks = QUESTION.search(turn.text) is not None and len(turn.text.split()) >= MIN_QUESTION_WORDS
        if (not asks and turn.state.get("asking") != "merchant") or CORRECTION.search(turn.text):
            return None
        fresh = self._route(turn)
        # A question about something else altogether ("how do I get a parking spot?", "what's the weather tomorrow?")
        # is answered as a question (from the policies, or as outside what we do), never read as the answer we wait
        # for: not as the shop's name, and its "tomorrow" not as the request's date.
        elsewhere = asks and fresh.intent == "out_of_scope" and fresh.confidence >= SWITCH_CONFIDENCE \
            and not ALTERNATIVE.match(turn.text)
        if not elsewhere and (set(route.slots) & {turn.state.get("asking"), "start_date", "end_date", "amount", "expense_date"}
                              or fresh.intent in FLOWS or fresh.intent == "help" or (fresh.intent == "out_of_scope" and not asks)):
            return None
        if not asks and fresh.confidence < SWITCH_CONFIDENCE:  # a shop's name, unless clearly something else we answer
            return None
        answer = self._read(turn, fresh)
        return Reply(f"{answer.text}\n{words.BACK_TO_REQUEST} {self._question_again(flow, turn.state.get('asking'))}",
                     answer.intent, answer.data)

    @staticmethod
    def _question_again(flow: Flow, asking: str | None) -> str:
        """The question the request in progress waits on, to ask it again."""
        return flow.questions.get(asking or "", "Tell me what to change, or say cancel.")

    @staticmethod
    def _names_nothing(text: str, slots: Slots) -> bool:
        """Whether an answer to "where did you spend it?" or "what is it about?" is no name at all: a yes, a new
        amount ("expense 15 quid taxi on tuesday"), or only a date ("yesterday", which is taken as the date instead)."""
        if words.is_yes(text) or "amount" in slots:  # an amount makes it a change to the claim, not the shop's name
            return True
        return bool(set(slots) & {"expense_date", "start_date"}) and len(text.split()) <= 2

    @staticmethod
    def _still_refused(turn: Turn, flow: Flow) -> Reply:
        """Repeat why the request in progress cannot go in as it is; it stays open for a correction."""
        return Reply(f"I can't submit it as it is. {turn.state['refused']} {words.CHANGE_OR_CANCEL}", flow.intent)

    def _on_confirm(self, turn: Turn) -> Reply:
        flow = FLOWS[turn.state["intent"]]
        if words.is_yes(turn.text):
            return self._execute(turn, flow)
        if words.is_no(turn.text):
            turn.state = {}
            return Reply(words.dropped(flow.tool), flow.intent)
        route = self._route(turn, flow.intent)
        # Free text ("summary") is read from any message, so it says nothing about whether this one changes the request;
        # a question about something we only read ("how many sick days do I have?") is no change, however unsure.
        asks = (route.intent not in (flow.intent, "out_of_scope", "help") and route.intent not in FLOWS
                and QUESTION.search(turn.text) is not None and not CORRECTION.search(turn.text))
        other = self._another_request(turn, flow, route)
        if other is not None:
            return self._replacing(turn, flow, other)
        if (asks or self._is_switch(route, flow)) and not (set(route.slots) & (set(flow.required) - set(FREE_TEXT_SLOTS))):
            fresh = self._route(turn)
            if fresh.intent in FLOWS:
                return self._replacing(turn, flow, fresh)
            # A question in the middle ("is there a dress code?") is answered, and the request stays ready for its yes.
            answer = self._read(turn, fresh)
            return Reply(f"{answer.text}\n{words.STILL_WAITING}", answer.intent, answer.data)
        if (flow.name == "comment_on_ticket" and route.intent == flow.intent and flow.claims is not None
                and not flow.claims(turn.text) and STATUS_ASK.search(turn.text)):
            # "whats the status of ticket 6" while a comment on ticket 2 waits: a look at ticket 6, not a move of the comment
            answer = self._read(turn, self._route(turn))
            return Reply(f"{answer.text}\n{words.STILL_WAITING}", answer.intent, answer.data)
        if flow.read_slots is not None:
            changes = flow.read_slots(turn.text, None)
        else:
            changes = {k: v for k, v in route.slots.items() if k not in ("summary", "topic", "description")}
        if flow.intent == "human_handoff":
            changes = {"team": team for team, pattern in TEAM_WORDS.items() if pattern.search(turn.text)}
            changes = changes if len(changes) == 1 else {}
        if (QUESTION.search(turn.text) and not CORRECTION.search(turn.text) and set(changes) <= GUESSED_SLOTS
                and len(turn.text.split()) >= MIN_QUESTION_WORDS and route.intent != "help"):
            # "until what time can I log in on my last day?" while a ticket waits: its IT words would only re-guess the
            # ticket's category; the person asked something, so the policies answer and the request stays ready
            answer = self._read(turn, Route(turn.text, "policy_question", route.confidence, {"topic": turn.text}))
            return Reply(f"{answer.text}\n{words.STILL_WAITING}", answer.intent, answer.data)
        if not changes:
            return Reply(words.CONFIRM_HINT, flow.intent)
        turn.state["slots"] = self._merge(turn.state["slots"], changes, turn.text)
        return self._advance(turn, flow)

    def _execute(self, turn: Turn, flow: Flow) -> Reply:
        slots = turn.state["slots"]
        turn.state = {}
        return run_confirmed(self.pipeline, flow.tool, flow.build_args(slots), actor_id=turn.actor_id, now=turn.now,
                             intent=flow.intent)

    def _replacing(self, turn: Turn, flow: Flow, route: Route) -> Reply:
        """Start another request in place of the one in progress, and say the first was not submitted."""
        reply = self._start(turn, route)
        reply.text = f"{words.NOT_SUBMITTED.format(what=words.REQUEST_NOUNS.get(flow.tool, 'request'))}\n{reply.text}"
        return reply

    def _switching(self, turn: Turn, flow: Flow, route: Route) -> Reply:
        """Go where a message that is not about the request in progress leads: another request replaces it (and
        says so), anything else is started as usual."""
        return self._replacing(turn, flow, route) if route.intent in FLOWS else self._start(turn, route)

    def _another_request(self, turn: Turn, flow: Flow, route: Route) -> Route | None:
        """Return the route of a message that is confidently another kind of request, carrying what that request is
        made of ("expense 20 usd taxi on nov 20" while leave waits: its date must not become the leave's), unless it
        says it changes the request in progress ("actually ..."). None: the message belongs to the request."""
        if route.intent == flow.intent or route.intent not in NEW_REQUESTS or route.confidence < SWITCH_CONFIDENCE:
            return None
        if CORRECTION.search(turn.text):
            return None
        fresh = self._route(turn)
        own = FLOWS[fresh.intent].required[0] if fresh.intent in NEW_REQUESTS else None
        return fresh if own is not None and own in fresh.slots and own not in route.slots else None

    @staticmethod
    def _is_switch(route: Route, flow: Flow, asking: str | None = None) -> bool:
        """A confident request for something else (not an answer to our question) replaces the one in progress."""
        if route.intent in (flow.intent, "out_of_scope", "help") or route.confidence < SWITCH_CONFIDENCE:
            return False
        if asking in FREE_TEXT_SLOTS and route.intent not in FLOWS:
            return False  # "a question about my payslip" answers "what is it about?"; only another request replaces it
        return asking is None or asking not in route.slots

    @staticmethod
    def _merge(old: Slots, new: Slots, text: str) -> Slots:
        """Apply a correction: a single new date replaces the end ("until Friday", "to the 23rd"), the start ("from Monday")
        or both ("make it Friday")."""
        merged = dict(old)
        if old.get("description"):  # what the claim was for is said with it; a later "sorry it was 20" does not replace it
            new = {key: value for key, value in new.items() if key != "description"}
        if {"start_date", "end_date"} & set(new):
            merged.pop("left_out_dates", None)  # new dates: what the old list left out no longer applies
        if "start_date" in new and new.get("end_date", new["start_date"]) == new["start_date"] and old.get("start_date"):
            lowered = text.lower()
            if re.search(r"\b(until|till|til|through|thru|end|ending)\b|^\s*(?:and\s+|then\s+)?to\b", lowered):
                merged["end_date"] = new["start_date"]
                if merged["end_date"] < old["start_date"]:  # "until friday" for leave in three weeks: that week's Friday
                    later = last_day_of(text, start=date.fromisoformat(old["start_date"]))
                    merged["end_date"] = later.isoformat() if later is not None else merged["end_date"]
                new = {k: v for k, v in new.items() if k not in ("start_date", "end_date")}
            elif re.search(r"\b(from|start|starting)\b", lowered):
                merged["start_date"] = new["start_date"]
                if merged.get("end_date", "") < new["start_date"]:
                    merged["end_date"] = new["start_date"]
                new = {k: v for k, v in new.items() if k not in ("start_date", "end_date")}
            elif ADDING.search(lowered) and old.get("end_date"):
                merged.update(_with_day_added(old, date.fromisoformat(new["start_date"]), lowered))
                new = {k: v for k, v in new.items() if k not in ("start_date", "end_date")}
            else:
                merged.pop("half_day", None)
        if new.get("start_date") and new.get("end_date", new["start_date"]) != new["start_date"]:
            merged.pop("half_day", None)  # a range of days is never a half day
        merged.update(new)  # a start with no end is asked about ("until when?"), not booked as one day
        return merged


# What people put around a shop's name when asked for it: "it was at Taxi Berlin", "from Amazon"
_MERCHANT_LEAD = re.compile(r"^\s*(?:(?:it|that)(?:'s| was| is)|was|at|from|in|with|the (?:shop|store|restaurant|company|place)"
                            r"(?:'s| was| is)?(?: called)?|called)\s+", re.IGNORECASE)


def merchant_named(answer: str) -> str:
    """The shop's name in an answer to "where did you spend it?": "it was a normal taxi, Taxi Berlin" -> "Taxi Berlin"."""
    text = answer.strip().rstrip(".!")
    while (stripped := _MERCHANT_LEAD.sub("", text, count=1)) != text:
        text = stripped
    parts = [part.strip() for part in text.split(",") if part.strip()]
    named = [part for part in parts if any(character.isupper() for character in part)]
    return (named[-1] if len(parts) > 1 and named else text)[:100] or answer.strip()[:100]


# "and thursday too", "also the friday": a day added to the days asked for, not a new date for them
ADDING = re.compile(r"\b(?:too|also|as well|in addition|plus)\b|^\W*(?:and|\+)\s")
WEEKDAY_NAMED = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b")


def _with_day_added(old: Slots, day: date, lowered: str) -> Slots:
    """Extend the range by a day back to back with it; a day further away is left out, and the read-back says so.
    A weekday named alone ("thursday too") is the one next to the days asked for, not the next one from today."""
    start, end = date.fromisoformat(old["start_date"]), date.fromisoformat(old["end_date"])
    if WEEKDAY_NAMED.search(lowered) and not re.search(r"\d", lowered):
        def away(candidate: date) -> tuple[int, bool]:  # days from the range, and after it rather than before
            return (0 if start <= candidate <= end else min(abs((candidate - start).days), abs((candidate - end).days)),
                    candidate < start)
        candidates = [day + timedelta(weeks=weeks) for weeks in range(-3, 4)]
        if re.search(r"\b(?:after|following)\b", lowered):  # "the monday after"
            candidates = [candidate for candidate in candidates if candidate > end]
        elif re.search(r"\bbefore\b", lowered):
            candidates = [candidate for candidate in candidates if candidate < start]
        day = min(candidates, key=away)
    first, last = min(start, day), max(end, day)
    between = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    gap = any(d.weekday() < 5 and not (start <= d <= end) and d != day for d in between)
    if gap:  # "monday off, and friday too": not one range; the friday is asked for separately
        return {"left_out_dates": day.isoformat()}
    return {"start_date": first.isoformat(), "end_date": last.isoformat()}


def _needs_receipt(error: BaseException) -> bool:
    return getattr(error, "details", {}).get("needs") == "receipt"


def _has_topic(text: str) -> bool:
    """Return True when a hand-over request says what it is about (not only "talk to a human")."""
    return any(word not in HANDOFF_FILLER for word in re.findall(r"[\w']+", text.lower()))
