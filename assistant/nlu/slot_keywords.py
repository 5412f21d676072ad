"""Keyword tables for the slots that are a choice from a fixed list: first matching row wins, so order is precedence."""

from __future__ import annotations

import re
from functools import cache

# Leave types (tools/defaults.toml, plus "other"). Specific reasons beat "unpaid", which beats plain time off:
# "unpaid vacation" is unpaid, "sick day off" is sick.
LEAVE_TYPES = (
    ("parental", r"parental|maternity|paternity|baby|newborn|adoption|adopting|childbirth|birth\s+of"),
    ("other", r"bereavement|funeral|compassionate|jury\s+(?:duty|service)"),
    ("sick", r"sick|ill|illness|unwell|not\s+feeling\s+(?:well|great|good|myself)|doctor'?s?|dentist|dental|flu|fever|covid|"
             r"migraine|hospital|medical|surgery|gp|clinic|injur(?:y|ed)|under\s+the\s+weather|throwing\s+up|vomiting|"
             r"food\s+poisoning|feel(?:ing)?\s+(?:awful|terrible|rough|poorly|horrible|crap|lousy)"),
    ("unpaid", r"unpaid|without\s+pay|no\s+pay|loss\s+of\s+pay"),
    ("annual", r"vacation|vacay|holidays?|pto|time\s+off|days?\s+off|annual|personal\s+days?|"
               r"(?:casual|earned|privilege[d]?)\s+leaves?"),
)

# Expense category codes (tools/defaults.toml), read with head_match: the keyword that names the thing bought wins,
# and at one position the longest keyword ("Uber Eats" is a meal, "Uber" travel).
EXPENSE_CATEGORIES = (
    ("meals", r"uber\s+eats|deliveroo|doordash|grubhub|just\s+eat"),
    ("lodging", r"hotels?|motels?|airbnb|lodging|accommodations?|hostels?|b&b|bnb|overnight\s+stays?"
                r"|(?:\d{1,2}|one|two|three|four|five|six|seven|a\s+couple\s+of)\s+nights?(?!\s+(?:out|shift|ago))"),
    ("travel", r"taxis?|cabs?|uber|lyft|trains?|flights?|airfare|plane|airlines?|mileage|parking|bus|metro|subway|"
               r"tram|rail|fuel|gas|petrol|tolls?|car\s+rental|rental\s+car|ferry|tube|transit|baggage|luggage"),
    ("meals", r"lunch(?:es)?|dinners?|breakfasts?|brunch|coffees?|meals?|food|snacks?|drinks?|restaurant|catering|"
              r"croissants?|pizza|sandwich(?:es)?|per\s+diem"),
    ("software", r"licen[cs]es?|subscriptions?|saas|software|apps?|plugins?|plug-ins?|api\s+credits|cloud\s+credits|"
                 r"hosting|domain\s+names?"),
    ("equipment", r"monitors?|keyboards?|mouse|mice|laptops?|chairs?|desks?|headsets?|headphones|webcams?|printers?|ink|"
                  r"toner|cables?|adapters?|chargers?|docks?|docking\s+station|hardware|phones?|tablets?|ipads?|stand|hubs?|usb|"
                  r"ssd|hard\s+drive|speakers?|microphone"),
    # a phone or internet bill is a running cost, not the device: the catch-all category
    ("other", r"(?:mobile\s+|cell\s+|work\s+)?phone\s+bills?|(?:mobile|cell|internet|broadband|wi-?fi)\s+bills?"),
    ("training", r"courses?|conferences?|books?|training|workshops?|seminars?|certifications?|exams?|tuition|"
                 r"webinars?|udemy|coursera"),
)

# Ticket categories (tools/helpdesk/models.py). Who-may-do-what before how-it-connects before what-runs
# before the device: "admin rights on my laptop" is access, "Excel crashes on my laptop" is software.
TICKET_CATEGORIES = (
    ("account", r"passwords?|locked\s+out|lock(?:ed)?\s+me\s+out|log\s*-?in|logon|sign\s*-?in|mfa|2fa|two[- ]factor|"
                r"authenticator|accounts?|username|sso|deactivated"),
    ("access", r"access|permissions?|admin\s+rights|rights\s+to|grant|shared\s+(?:drive|folder)|entitlements?"),
    ("network", r"wi-?fi|vpn|internet|network|ethernet|connectivity|dns|proxy|firewall|bandwidth|router|lan"),
    ("software", r"install(?:ed|ing|ation)?|crash(?:es|ed|ing)?|freez(?:es|ing)|frozen|update|upgrade|software|apps?|"
                 r"application|licen[cs]e|excel|outlook|powerpoint|(?:ms|microsoft)\s+word|teams|zoom|slack|chrome|"
                 r"firefox|browser|photoshop|docker|jira|confluence|bug|error|sync(?:ing)?"),
    ("hardware", r"laptops?|computer|pc|desktop|monitors?|screens?|keyboards?|mouse|printers?|scanner|headsets?|"
                 r"headphones|microphone|mic|webcam|camera|charger|battery|dock|docking|cables?|phone|hardware|usb|"
                 r"trackpad|speakers?"),
)


def _level_named(level: str) -> str:
    """A priority level named as such: 'priority: high', or the whole message ('high', 'make it high please')."""
    return (rf"prio(?:rity)?\s*(?:is\s+|:\s*|=\s*|to\s+)?(?:{level})"
            rf"|^(?:(?:make|set|change|bump|raise|lower)\s+(?:it|the\s+priority|priority)\s+(?:up\s+|down\s+)?(?:to\s+)?)?"
            rf"(?:{level})(?=\s*(?:pls|please|priority)?[.!\s]*$)")


# Ticket priorities. Negations and explicit levels come first: "not urgent" is low.
PRIORITIES = (
    ("low", r"low\s+prio(?:rity)?|not\s+(?:urgent|important|a\s+priority)|no\s+rush|no\s+hurry|whenever|"
            r"when\s+you\s+(?:get|have)\s+(?:a\s+|the\s+)?(?:chance|time|moment|minute)|p4|" + _level_named("low")),
    ("normal", r"(?:normal|medium|regular)\s+prio(?:rity)?|p3|" + _level_named("normal|medium|regular")),
    ("urgent", r"urgent(?:ly)?|emergency|critical|blocker|blocking\s+(?:me|my\s+work|us|the\s+team)|"
               r"can'?t\s+work|cannot\s+work|unable\s+to\s+work|(?:production|prod|site)\s+is\s+down|outage|p1|sev\s?1|"
               # a security incident is urgent whoever reports it: a lost or stolen device, a phishing link followed
               r"(?:lost|stolen|left)\s+(?:my\s+|the\s+|a\s+|our\s+)?(?:work\s+|company\s+)?(?:phone|laptop|macbook|tablet|"
               r"ipad|yubikey|security\s+key|badge|device)|(?:phone|laptop|macbook|device)\s+(?:was|got|has\s+been)\s+stolen|"
               r"clicked\s+(?:on\s+)?(?:a|the|that)\s+(?:phishing\s+|suspicious\s+|dodgy\s+)?link|"
               r"(?:entered|typed|gave)\s+my\s+password\s+(?:in|into|on|to)"),
    ("high", r"asap|a\.s\.a\.p|as\s+soon\s+as\s+possible|high\s+prio(?:rity)?|important|p2|sev\s?2|" + _level_named("high")),
)

# Merchants recognised anywhere, with their usual spelling.
KNOWN_MERCHANTS = {
    "uber eats": "Uber Eats", "uber": "Uber", "lyft": "Lyft", "amazon": "Amazon", "starbucks": "Starbucks",
    "airbnb": "Airbnb", "booking.com": "Booking.com", "expedia": "Expedia", "zoom": "Zoom", "slack": "Slack",
    "udemy": "Udemy", "coursera": "Coursera", "ikea": "IKEA", "ryanair": "Ryanair", "easyjet": "easyJet",
    "lufthansa": "Lufthansa", "deliveroo": "Deliveroo", "doordash": "DoorDash", "grubhub": "Grubhub",
    "hertz": "Hertz", "avis": "Avis", "marriott": "Marriott", "hilton": "Hilton", "hyatt": "Hyatt",
    "best buy": "Best Buy", "staples": "Staples", "dropbox": "Dropbox", "github": "GitHub", "notion": "Notion",
    "figma": "Figma", "adobe": "Adobe", "apple store": "Apple Store", "mcdonald's": "McDonald's",
    "pret a manger": "Pret A Manger", "pret": "Pret", "amtrak": "Amtrak", "eurostar": "Eurostar",
}


@cache
def compiled(table: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compile a keyword table once, on first use."""
    return tuple((value, re.compile(rf"\b(?:{pattern})\b")) for value, pattern in table)


def first_match(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    """Return the value of the first row whose keywords occur in the (lowercase) text."""
    for value, pattern in compiled(table):
        if pattern.search(text):
            return value
    return None


def head_match(table: tuple[tuple[str, str], ...], text: str) -> str | None:
    """Return the value of the keyword that names the thing: the first one written, or the last of a compound.

    "Taxi from the hotel" is travel and "dinner at the hotel" a meal (the first keyword), but "conference
    hotel" is lodging and "hotel parking" travel (an English compound ends with its head noun).
    """
    found: list[tuple[int, int, str]] = []
    for value, pattern in compiled(table):
        found.extend((match.start(), -match.end(), value) for match in pattern.finditer(text))
    if not found:
        return None
    found.sort()  # by position, the longest keyword first at one position
    _, negative_end, value = found[0]
    for later_start, later_negative_end, later_value in found[1:]:
        if later_start < -negative_end:
            continue  # a shorter keyword inside the one already taken
        if text[-negative_end:later_start].strip():
            break
        negative_end, value = later_negative_end, later_value  # a compound: its last noun is the head
    return value


@cache
def merchant_pattern() -> re.Pattern[str]:
    """Return a pattern matching any known merchant, longest names first."""
    names = sorted(KNOWN_MERCHANTS, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(name) for name in names) + r")(?![\w])")
