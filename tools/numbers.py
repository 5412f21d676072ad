"""Turning Decimals into JSON-friendly numbers."""

from __future__ import annotations

from decimal import Decimal


def days_number(value: Decimal | None) -> int | float | None:
    """Return a day count as an int when whole (5), else a float (2.5); None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def day_count(amount: object, kind: str = "") -> str:
    """Return "1 working day", "2.5 days": the count with its noun in the right number."""
    return f"{amount} {kind}{'day' if str(amount) in ('1', '1.0') else 'days'}"
