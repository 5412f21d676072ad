"""Money in expense claims: an amount with its currency, the expense category, the merchant and a description.

Amounts are read by price-parser (it settles "1.200,00" against "1,234.56": a separator followed by exactly
three digits groups thousands) and written with two decimals. Currencies come from symbols, ISO 4217 codes
(any code in capitals, common ones in any case) and words ("bucks", "quid", "euros"). "$", "dollars" and
"bucks" are the company currency when it is a dollar (CAD, AUD, ...), otherwise USD; "¥" is CNY for a CNY
company, otherwise JPY. A number without a currency is an amount only in an expense claim, and only when it
has cents ("4.50"), follows a money word ("paid 30") or is the only number left ("Taxi 25"); the dialogue then
asks for the currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from assistant.nlu.slot_text import Span

DOLLAR_CURRENCIES = frozenset({
    "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "ARS", "CLP", "COP", "BSD", "BBD", "JMD", "TTD", "FJD",
})
PESO_CURRENCIES = frozenset({"MXN", "ARS", "CLP", "COP", "PHP", "UYU", "DOP"})
KRONA_CURRENCIES = frozenset({"SEK", "NOK", "DKK", "ISK"})
RUPEE_CURRENCIES = frozenset({"INR", "PKR", "LKR", "NPR"})
# ISO codes accepted in lower or mixed case; in capitals any ISO 4217 code counts.
COMMON_CODES = frozenset({
    "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk", "huf", "inr",
    "cny", "rmb", "hkd", "sgd", "mxn", "brl", "zar", "krw", "try", "ils", "aed",
})
FIXED_SYMBOLS = {
    "€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS", "₱": "PHP", "฿": "THB",
    "₫": "VND", "₴": "UAH", "₦": "NGN", "zł": "PLN", "us$": "USD", "u$s": "USD", "c$": "CAD", "ca$": "CAD",
    "a$": "AUD", "au$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "r$": "BRL", "mx$": "MXN", "fr.": "CHF",
    "euro": "EUR", "euros": "EUR", "quid": "GBP", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "yen": "JPY",
    "franc": "CHF", "francs": "CHF", "swiss franc": "CHF", "swiss francs": "CHF", "yuan": "CNY", "rmb": "CNY",
    "renminbi": "CNY", "zloty": "PLN", "zlotys": "PLN", "rand": "ZAR", "canadian dollar": "CAD",
    "canadian dollars": "CAD", "australian dollar": "AUD", "australian dollars": "AUD", "us dollar": "USD",
    "us dollars": "USD", "american dollars": "USD", "singapore dollars": "SGD", "hong kong dollars": "HKD",
    "new zealand dollars": "NZD", "mexican pesos": "MXN", "kronor": "SEK", "krona": "SEK", "kroner": "NOK",
}
UNITS_AFTER_NUMBER = (r"(?:km|kms|kilomet(?:er|re)s?|mi|miles?|nights?|days?|hours?|hrs?|h|people|persons?|pax|guests?|"
                      r"%|x\b|pm|am)")
MONEY_WORDS = r"(?:for|of|cost|costs|costed|was|were|paid|pay|spent|total(?:ing|ling|led)?|came\s+to|amount(?:ing)?\s+to|=|:)"


@dataclass(frozen=True)
class Money:
    """An amount (two decimals) and, when written, its ISO 4217 currency."""

    amount: str
    currency: str | None
    span: Span


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    number = r"(?P<num>\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d{1,9}(?:[.,]\d{1,2})?)(?P<k>k\b)?"
    symbols = r"[$€£¥₹₩₽₺₪₱฿₫₴₦]"
    prefix = rf"(?P<pre>us\$|u\$s|ca\$|c\$|au\$|a\$|nz\$|hk\$|s\$|r\$|mx\$|{symbols}|rs\.?|fr\.|kr\.?|zł|[a-z]{{3}})"
    words = sorted((word for word in FIXED_SYMBOLS if word[0].isalpha()), key=len, reverse=True)
    suffix = (rf"(?P<suf>{symbols}|zł|kr\b\.?|rs\b\.?|dollars?|bucks|pesos?|rupees?|"
              + "|".join(re.escape(word) for word in words) + r"|[a-z]{3})")
    flags = re.IGNORECASE
    not_a_unit = rf"(?!\s*{UNITS_AFTER_NUMBER})"
    return {
        "prefixed": re.compile(rf"(?<![\w$€£¥]){prefix}\s?{number}(?![\d])", flags),
        # A symbol written against the next number is that number's prefix: "PyCon 2027 €350" costs 350.
        "suffixed": re.compile(rf"(?<![\w.,$€£¥]){number}\s?{suffix}(?![a-z])(?!\s?\d)", flags),
        "cents": re.compile(rf"(?<![\w.,/$€£¥:-])(?P<num>\d{{1,3}}(?:,\d{{3}})*[.,]\d{{2}}|\d+[.,]\d{{2}})"
                            rf"(?![\d%]|,\d|\.\d){not_a_unit}", flags),  # a full stop or comma may end it: "12.50, lunch"
        "integer": re.compile(rf"(?<![\w.,/$€£¥:#-])(?P<num>\d{{1,7}})(?![\w/%]|,\d|\.\d){not_a_unit}", flags),
        "after_word": re.compile(rf"\b{MONEY_WORDS}\s*(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d{{1,2}})?|\d{{1,7}}(?:[.,]\d{{1,2}})?)"
                                 rf"(?![\d.,/%]){not_a_unit}", flags),
    }


def _is_currency_code(token: str) -> bool:
    if token.isupper():
        import pycountry  # lazy: it loads its ISO 4217 table on first use

        return pycountry.currencies.get(alpha_3=token) is not None
    return token.lower() in COMMON_CODES


def currency_of(token: str, default_currency: str) -> str | None:
    """Return the ISO 4217 code a symbol, code or word stands for, or None."""
    lowered = " ".join(token.lower().split())
    if lowered in FIXED_SYMBOLS:
        return FIXED_SYMBOLS[lowered]
    if lowered in ("$", "dollar", "dollars", "bucks"):
        return default_currency if default_currency in DOLLAR_CURRENCIES else "USD"
    if lowered == "¥":
        return "CNY" if default_currency == "CNY" else "JPY"
    if lowered in ("kr", "kr."):
        return default_currency if default_currency in KRONA_CURRENCIES else "SEK"
    if lowered in ("peso", "pesos"):
        return default_currency if default_currency in PESO_CURRENCIES else "MXN"
    if lowered in ("rs", "rs.", "rupee", "rupees"):
        return default_currency if default_currency in RUPEE_CURRENCIES else "INR"
    if len(lowered) == 3 and lowered.isalpha() and _is_currency_code(token):
        return "CNY" if lowered == "rmb" else token.upper()
    return None


def _amount(number: str, thousands: bool) -> str | None:
    from price_parser import Price  # lazy, like every library the slot extractors use

    parsed = Price.fromstring(number).amount
    if parsed is None:
        return None
    try:
        value = parsed * 1000 if thousands else parsed
        return str(Decimal(value).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def find_money(text: str, *, default_currency: str, allow_bare: bool) -> Money | None:
    """Return the first amount with a currency in text (dates already masked), else a bare amount when allowed."""
    patterns = _patterns()
    found: list[Money] = []
    for name in ("prefixed", "suffixed"):
        for match in patterns[name].finditer(text):
            currency = currency_of(match[name[:3]], default_currency)
            amount = _amount(match["num"], bool(match["k"])) if currency else None
            if amount is not None:
                found.append(Money(amount, currency, match.span()))
    if found:
        return min(found, key=lambda money: money.span[0])
    if not allow_bare:
        return None
    for name in ("cents", "after_word"):
        bare = patterns[name].search(text)
        amount = _amount(bare["num"], False) if bare else None
        if bare and amount is not None:
            return Money(amount, None, bare.span("num"))
    lone = list(patterns["integer"].finditer(text))
    if len(lone) == 1 and not 1900 <= int(lone[0]["num"]) <= 2100:  # "Taxi 25"; a year is not a price
        return Money(str(Decimal(lone[0]["num"]).quantize(Decimal("0.01"))), None, lone[0].span("num"))
    return None
