"""Recognising yes, no and cancel, and the assistant's fixed replies."""

from __future__ import annotations

import re
import unicodedata

_AGREE = (r"y|ya|yea|yeh|yes|yess|yep|yeah|yup|sure|sure thing|of course|ok|okay|ok fine|fine|k|confirm|confirmed|correct|"
          r"go ahead|go for it|do it|please do|submit(?: it)?|send(?: it)?|sounds good|looks good|that'?s fine|that'?s right|"
          r"that works|perfect|great|absolutely|definitely|right|👍|✅")
# words that may follow a yes without changing it: "yes, go ahead", "yes please, submit it!", "ok thanks"
_AGREE_MORE = (rf"{_AGREE}|please|pls|plz|thanks|thank you|thx|ty|book it|file it|open it|approve it|record it|that'?s (?:right|correct|fine|it)"
               r"|all good|let'?s do it|ship it")
YES = re.compile(rf"^\s*(?:{_AGREE})(?:[\s.,!]+(?:{_AGREE_MORE}))*[\s.,!]*$", re.IGNORECASE)
# A refusal, with the hedges people wrap it in ("hmm wait, no, not yet", "no actually nevermind"); "no, make it Friday"
# changes the request instead
_HEDGE = r"(?:hmm+|umm*|uh+|erm*|wait|oh|ah|actually|sorry|hold on|on second thought)"
NO = re.compile(rf"^\s*(?:{_HEDGE}[\s,.!]*)*(n|no|nope|nah|don'?t|do not|not now|not yet|wrong|no need)"
                rf"(?:[\s,.!]+(?:{_HEDGE}|never ?mind|nvm|not yet|not now|thanks|thank you|thx|forget it|leave it|cancel(?: it)?))*"
                r"[\s.!]*$", re.IGNORECASE)
CANCEL = re.compile(rf"^\s*(?:{_HEDGE}[\s,.!]*|ok(?:ay)?[\s,.!]+)*(cancel( that| it| this)?|stop|abort|quit|exit|never ?mind|nvm"
                    r"|forget (it|that|about it)|start over|reset|no,? cancel( it)?)[\s.!]*$", re.IGNORECASE)

HELP = (
    "I can help you with:\n"
    "• time off: \"I need next Monday to Wednesday off\", \"how many vacation days do I have left?\", \"cancel request #12\"\n"
    "• expenses: \"claim $45.20 for lunch at Cafe Uno yesterday\", \"status of my expense claims\"\n"
    "• IT: \"my laptop won't turn on\", \"I need read access to the finance drive for the audit\", "
    "\"what's the status of ticket 7?\", \"add to ticket 7: it happens on battery only\"\n"
    "• policies and holidays: \"what's the hotel budget per night?\", \"when is the next public holiday?\"\n"
    "• approvals and your team: \"what's waiting for my approval?\", \"approve 12\", \"deny 12 because the team is at the offsite\", "
    "\"who on my team is off next week?\"\n"
    "• a person: \"talk to someone in HR\"\n"
    "Say cancel at any point to stop."
)
OUT_OF_SCOPE = ("Sorry, that's outside what I can help with. I handle time off, expense claims, IT tickets and questions "
                "about company policies. Say \"help\" for examples, or \"talk to a human\" to reach HR.")
ENGLISH_ONLY = ("Sorry, I can only read English for now. Please write your request in English, or say \"talk to a human\" "
                "and I'll pass it to HR.")
EMPTY = "I didn't get any text. Tell me what you need, for example \"I need Friday off\", or say \"help\"."
CANCELLED = "OK, I've cancelled that. Nothing was submitted."
# A request replaced by another one before its yes is not dropped unsaid
NOT_SUBMITTED = "(The {what} you were making was not submitted; ask again if you still want it.)"
REQUEST_NOUNS = {"request_leave": "leave request", "submit_expense": "expense claim", "create_ticket": "ticket",
                 "request_system_access": "access request", "comment_on_ticket": "ticket comment",
                 "cancel_leave": "cancellation", "decide_approval": "approval decision", "request_human_handoff": "hand-over"}
# what "no" or "cancel" leaves as it was, where "nothing was submitted" would read as if something was undone
DROPPED = {"cancel_leave": "OK, I'll leave it as it is: your leave was not cancelled.",
           "decide_approval": "OK, no decision recorded: it's still waiting for you.",
           "update_ticket": "OK, the ticket stays as it is."}


def dropped(tool: str | None) -> str:
    """What saying no or cancel to a write in progress left undone (`tool`: the write, None when unknown)."""
    return DROPPED.get(tool or "", CANCELLED)
NOTHING_TO_CANCEL = "There's nothing in progress to cancel. What can I do for you?"
NOTHING_TO_CONFIRM = "There's nothing waiting for a yes or a no just now. What can I do for you?"
NO_HANDOFF = "OK, I won't pass it on. What else can I do for you?"
EXPIRED = "That earlier request timed out before you confirmed it, so nothing was submitted. Let's start again: what do you need?"
CHANGE_OR_CANCEL = "You can change the details, or say cancel."
RECEIPT_HINT = ("In Slack, send me the receipt (a photo or PDF) and I'll add it to this claim, or use the /backoffice expense "
                "form; in a terminal, `backoffice expenses submit --receipt FILE`.")
RECEIPT_RECEIVED = "Got your receipt."
RECEIPT_NOT_USED = ("(I didn't use the file you sent: to claim an expense with it, send it again with the amount and what it "
                    "was for.)")
TEAM_LEAVE_HIDDEN = ("I can only show your own leave (try \"what's the status of my leave?\"). Managers see who is off in "
                     "their team, and HR in the whole company.")
# Small talk that closes a conversation gets a short friendly answer instead of "that's outside what I can help with".
# "ok", "cool", "great": an acknowledgement, alone, repeated ("ok cool") or before a thank-you ("great, thanks!")
ACKNOWLEDGEMENT = (r"(ok|okay|k|kk|cool|nice|great|got it|noted|alright|all good|awesome|perfect|brilliant|lovely|excellent"
                   r"|sounds good|👍|👌|✅|🙂|😊)")
SOCIAL = (
    (re.compile(rf"^\s*({ACKNOWLEDGEMENT}[\s,.!]+)*(thanks?|thank (you|u)|thx|thnx|ty|tysm|cheers|ta|much appreciated"
                r"|appreciate it|🙏)([\s,.!]+(so much|a lot|very much|mate|again|for (the|your) help|for that))*[\s.!]*$",
                re.IGNORECASE),
     "You're welcome! Anything else I can do for you?"),
    (re.compile(r"^\s*(bye|bye bye|goodbye|see (ya|you)( later)?|cya|later|talk (to you )?later|good ?night|night|"
                r"have a (good|nice|great) (day|one|evening|weekend))[\s.!]*$", re.IGNORECASE),
     "Bye! Message me whenever you need something."),
    (re.compile(rf"^\s*{ACKNOWLEDGEMENT}([\s,.!]+{ACKNOWLEDGEMENT})*[\s.!]*$", re.IGNORECASE),
     "Anything else I can help with?"),
)
CONFIRM_HINT = "Please answer yes to submit or no to cancel, or tell me what to change."
STILL_WAITING = "Your request above is still waiting: answer yes to submit it or no to cancel."
BACK_TO_REQUEST = "Back to your request:"
# "help" or "what?" while a request waits on an answer: say what is being asked, never take the word as the answer
HELP_IN_REQUEST = re.compile(r"^\s*(?:help|help me|h[ea]lp\?*|\?+|what\?+|huh\??|i'?m (?:confused|lost|stuck)|what do you need(?: from me)?"
                             r"|what(?:'s| is| are) (?:this|that|the question)|i don'?t (?:understand|get it)|menu|options)\W*$",
                             re.IGNORECASE)
IN_THE_MIDDLE = "We're in the middle of a request."


def is_yes(text: str) -> bool:
    """Return True for a confirmation."""
    return bool(YES.match(text))


def is_no(text: str) -> bool:
    """Return True for a refusal."""
    return bool(NO.match(text))


def is_cancel(text: str) -> bool:
    """Return True when the person wants to stop what is in progress."""
    return bool(CANCEL.match(text))


def social_reply(text: str) -> str | None:
    """Return the answer to a thank-you, a goodbye or an acknowledgement, or None for anything else."""
    return next((reply for pattern, reply in SOCIAL if pattern.match(text)), None)


def is_in_another_script(text: str) -> bool:
    """Return True when most letters are not Latin ones (Cyrillic, CJK, Arabic...): a message the classifier cannot read."""
    letters = [character for character in text if character.isalpha()]
    latin = sum(1 for character in letters if "LATIN" in unicodedata.name(character, ""))
    return len(letters) >= 2 and latin < len(letters) / 2
