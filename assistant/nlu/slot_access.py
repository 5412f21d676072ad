"""A request for access to a system, read from a message: which system, what level, and why.

"I need admin access to the AWS console because I'm on call" is a request (IT approves it); "I can't access
the shared drive" is a problem (an ordinary ticket). Only requests are read here.
"""

from __future__ import annotations

import re

Slots = dict[str, str]

_ACCESS = re.compile(r"\b(access|permissions?|rights|privileges|licen[cs]es?|seats?|accounts?|add\s+me\s+to"
                     r"|(?:admin|administrator)\s+(?:on|to|in|for)\s+\w)", re.I)
_ASKING = re.compile(
    r"\b(need|needs|want|wanted|request(?:ing)?|get|give|grant|have|could\s+i|can\s+i|may\s+i|set\s+me\s+up|"
    r"would\s+like|i'?d\s+like|requires?|add\s+me|please)\b", re.I)
_PROBLEM = re.compile(
    r"\b(can'?t|cannot|can\s+not|could\s*n[o']t|unable|lost|no\s+longer|denied|isn'?t|aren'?t|doesn'?t|don'?t\s+have\s+to|"
    r"not\s+working|stopped|broken|revoked|expired|removed|locked|error|problem|issue|fails?|failing)\b", re.I)
# Where the name of a system ends: a reason, a politeness, a time, punctuation.
_END = (r"(?=\s+(?:because|since|as\s+(?:i|we)|so\s+(?:that\s+)?(?:i|we)|for\s+(?:the|my|our|a|an|this|work|project|my)\b|"
        r"for\s+\w+ing\b|"
        r"to\s+(?:do|work|help|review|fix|see|check|run|use|manage|support|deploy|edit|read|look|handle|prepare|update)\b|"
        r"in\s+order|please|pls|asap|thanks|thank|today|tomorrow|by\s+\w+day|as\s+soon|with\s+(?:admin|read|write|edit)|"
        r"(?:at|with)\s+(?:admin|read|write|edit|full)\s)|\s*[,.;:!?()\n]|\s*$)")
_PURPOSE = r"(?:do|work|help|review|fix|see|check|run|use|manage|support|deploy|edit|read|look|handle|prepare|update)\b"
_ARTICLE = r"(?:(?:the|our|a|an|my|some|company|company's|team's)\s+)?"
_SYSTEM_PATTERNS = (
    re.compile(r"\baccess\s+(?:to|on|in|into)\s+(?!" + _PURPOSE + r")" + _ARTICLE + r"(?P<system>.+?)" + _END, re.I),
    re.compile(r"\b(?:permissions?|rights|privileges|role)\s+(?:to|for|on|in)\s+" + _ARTICLE + r"(?P<system>.+?)" + _END, re.I),
    re.compile(r"\badd\s+me\s+to\s+" + _ARTICLE + r"(?P<system>.+?)" + _END, re.I),
    # "can I get admin on github?": a level on a system, without the word access
    re.compile(r"\b(?:admin|administrator)\s+(?:on|to|in|for)\s+" + _ARTICLE + r"(?P<system>.+?)" + _END, re.I),
    re.compile(r"(?P<system>(?:[\w][\w.+&'-]*\s+){1,4}?)(?:access|account|licen[cs]e|seat|login)\b", re.I),
)
# Words that never name a system on their own; the fourth pattern keeps only the words after the last of them.
_NOT_SYSTEM = frozenset(
    "i i'd id i'm im we you me us my our your a an the to some new more another please pls need needs want wanted get "
    "give grant have has request requesting could can may would like set up admin administrator read write edit "
    "readonly read-only full user standard viewer editor owner root access account accounts license licence seat login "
    "it this that something anything everything stuff things system systems app apps tool tools "
    # the words of a correction ("actually make it write access", "change that to read access instead")
    "actually make made change changed switch turn be is was should just only also instead rather no not but it's its "
    "wait sorry oops".split())
_LEVELS = (
    ("admin", re.compile(r"\b(admin(?:istrator)?|root|superuser|owner|sudo)\b", re.I)),
    ("read", re.compile(r"\b(read[- ]?only|read|view(?:er|[- ]only)?|viewing)\b", re.I)),
    ("write", re.compile(r"\b(write|edit(?:or|ing)?|contributor|push)\b", re.I)),
)
_WHY = re.compile(
    r"\b(?:because|since|as\s+(?:i|we)\b|so\s+(?:that\s+)?(?:i|we)\b|in\s+order\s+to|"
    r"for\s+(?:the|my|our|a|an|this)\s+\w+|for\s+\w+ing\s+\w+|"
    r"to\s+(?:do|work|help|review|fix|see|check|run|use|manage|support|deploy|edit|read|look|handle|prepare|update)\b"
    r"(?![\s-]+(?:access|only|rights|permissions?|level)\b)).*",  # "change it to read access" names a level, not a reason
    re.I | re.S)
# A reply that only agrees or refuses is no reason: the question is asked again.
_NO_REASON = re.compile(r"^\s*(?:y|yes|yeah|yep|yup|ok|okay|sure|fine|n|no|nope|idk|dunno|na|n/a|-|\?)\s*[.!]*\s*$", re.I)


def access_request(text: str) -> Slots | None:
    """Return the access request a message makes (system, access_level, justification where said), or None."""
    if not _ACCESS.search(text) or _PROBLEM.search(text) or not _ASKING.search(text):
        return None
    slots = read_access_slots(text)
    if "system" not in slots and not re.search(r"\baccess\b|\bpermissions?\b", text, re.I):  # a system, or the word
        return None  # "I need a new account" alone is not clearly an access request
    return slots


def read_access_slots(text: str, answering: str | None = None) -> Slots:
    """Read what a message says about an access request; a reply to a question fills the slot asked."""
    slots: Slots = {}
    level = next((name for name, pattern in _LEVELS if pattern.search(text)), None)
    if level is not None:
        slots["access_level"] = level
    system, system_end = _system(text)
    if system is not None:
        slots["system"] = system
    why = _WHY.search(text, system_end)  # the reason follows the system: "access to X for the audit"
    if why is not None and len(why.group().split()) >= 2:
        slots["justification"] = _tidy(why.group())[:2000]
    if answering == "system" and "system" not in slots:
        bare = _tidy(re.sub(r"^(?:the|our|a|an|my)\s+", "", text.strip(), flags=re.I))
        if bare and bare.lower() not in _NOT_SYSTEM:
            slots["system"] = bare[:100]
    if answering == "justification" and text.strip() and not _NO_REASON.match(text):
        slots["justification"] = _tidy(text)[:2000]
    return slots


def _system(text: str) -> tuple[str | None, int]:
    """Return the system's name and where it ends in the text (0 when no system is named)."""
    for pattern in _SYSTEM_PATTERNS:
        for match in pattern.finditer(text):
            words = match.group("system").split()
            while words and _plain(words[-1]) in _NOT_SYSTEM:  # "GitHub admin" -> "GitHub"
                words.pop()
            kept: list[str] = []
            for word in reversed(words):  # the name is the run of words after the last verb, article or pronoun
                if _plain(word) in _NOT_SYSTEM:
                    break
                kept.insert(0, word)
            name = _tidy(" ".join(kept))
            if name:
                return name[:100], match.end("system")
    return None, 0


def _plain(word: str) -> str:
    return word.lower().strip("'\".,;:!?")


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(" .,;:!?\"'")
